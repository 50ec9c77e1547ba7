"""The fused affine map y = x W^T + b (what ``nn.Linear`` computes).

One node instead of three (transpose, matmul, add): the most common layer pays the Python cost of
one op, and a trace shows it as one step. Backward is the classic pair of matrix products plus a
column sum for the bias. Tested against its composite ``x @ W.t() + b``.
"""

from __future__ import annotations

import math

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.ops.cascade_sum import cascade_sum, partial_rows
from glassgrad.ops.half_precision import HALF, matmul_half

__all__ = ["Linear"]


# PyTorch's node for F.linear by the input's rank (1, 2, more) and whether there is a bias
_NODES = {1: ("ViewBackward0", "SqueezeBackward4"), 2: ("AddmmBackward0", "MmBackward0")}
_NODES[3] = ("ViewBackward0", "UnsafeViewBackward0")


class Linear(Function):
    """y = x W^T + b:  x (*, in), W (out, in), b (out,) or None  ->  y (*, out).

    VJP: gx = g W,  gW = g^T x  (summed over all leading dims),  gb = sum of g over leading dims.
    Leading dims are flattened so each product is one BLAS call.
    """

    @staticmethod
    def leaf_order(node) -> tuple:
        """Per input (x, W, b), its place in the order PyTorch's graph, addmm(b, x, W.t()), makes
        hooked leaves ready (the engine asks): b first; W through TBackward0; x next to b when 2-d,
        else through a view, after W. (Parameters' ``register_hook``s fire bias before weight.)"""
        return node.attrs.get("leaf_rank", (0, 1, 2))

    @staticmethod
    def forward(ctx, x, w, b=None):
        need = ctx.needs_input_grad
        # what PyTorch saves: x only for W's gradient, W only for x's (so a step that changes W in
        # place does not stale a graph that never needed it: the first layer's, x a constant)
        ctx.save_for_backward(x if len(need) > 1 and need[1] else None, w if need[0] else None)
        ctx.attrs["node_name"] = _NODES[min(x.ndim, 3)][b is None]  # PyTorch's, which has no one op
        ctx.attrs["leaf_rank"] = (0, 1, 2) if b is None else (1, 2, 0) if x.ndim == 2 else (2, 1, 0)
        # N spelled out, not -1: reshape(-1, 0) is ambiguous for an empty x (in_features 0)
        x2 = x.reshape(math.prod(x.shape[:-1]), x.shape[-1])  # (*, in) -> (N, in)
        if x2.dtype is HALF:  # product and bias in float32, rounded once (ops/half_precision.py)
            return matmul_half(x2, w.T, b).reshape(x.shape[:-1] + (w.shape[0],))
        y = x2 @ w.T  # (N, in) @ (in, out) -> (N, out)
        if b is not None:
            y += b
        return y.reshape(x.shape[:-1] + (w.shape[0],))  # (N, out) -> (*, out)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved
        need = ctx.needs_input_grad
        n = math.prod(g.shape[:-1])
        g2 = g.reshape(n, g.shape[-1])  # (*, out) -> (N, out)
        x_shape = ctx.shapes[0]
        if g2.dtype is not HALF:
            gx = (g2 @ w).reshape(x_shape) if need[0] else None  # (N, out) @ (out, in) -> (*, in)
            gw = g2.T @ x.reshape(n, x.shape[-1]) if need[1] else None  # (out, N) @ (N, in)
        else:  # float16: multiplied in float32 (ops/half_precision.py)
            gx = matmul_half(g2, w).reshape(x_shape) if need[0] else None
            gw = matmul_half(g2.T, x.reshape(n, x.shape[-1])) if need[1] else None
        # The bias gradient as ones^T g: BLAS runs this column sum about twice as fast as NumPy's
        # sum over axis 0 at a GPT's shapes (0.14 against 0.32 ms for its nine layers). float16
        # is summed in float32, as PyTorch does: a float16 running sum stalls (1024 + 0.5 = 1024).
        gb = None
        if len(need) > 2 and need[2]:
            xp = array_module(g2)
            if g2.dtype.itemsize >= 4:
                # (more than 256 rows: first added in blocks of 16, as ops/cascade_sum.py, so that
                # the rounding error grows as PyTorch's cascade, not with the number of rows)
                rows = partial_rows(g2, 0, 256) if n > 256 and g2.dtype.itemsize == 4 else g2
                gb = xp.ones(rows.shape[0], dtype=g2.dtype) @ rows  # (N,) @ (N, out) -> (out,)
            else:
                gb = cascade_sum(g2, 0)  # float16: in float32, as PyTorch
        return gx, gw, gb
