"""``y.fill_(v)``, ``y.copy_(v)``, ``y.zero_()``, the random fills and ``y[:] = v`` while recording:
in-place writes of every element of ``y`` that never read its old values.

``Tensor._set`` and ``ops/setitem.py`` (a key PyTorch applies as ``y`` itself) record them as one
``Overwrite`` node, as PyTorch records ``FillBackward``/``CopyBackwards``/``NormalBackward0``: y's
old values get zeros that have no graph behind them, also under ``create_graph=True``, so a second
backward reaches nothing through them (``y = x * 1.5; y.fill_(0.25)``: the gradient of x is a
constant zero, and a backward through it raises, as PyTorch's "does not require grad"). A write
through a view or into shared memory goes through ``view_rebase`` as every recorded in-place op.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import Primitive, named
from glassgrad.backend import array_module
from glassgrad.errors import ShapeError
from glassgrad.half_rounding import half_source
from glassgrad.tensor import Tensor

__all__ = ["Overwrite", "overwrite"]

#: PyTorch's node for each write (``fill_`` of a tensor: ``FillBackward3``; of a number: 2)
_NODE = {
    "fill_": "FillBackward2",
    "zero_": "ZeroBackward0",
    "normal_": "NormalBackward0",
    "uniform_": "UniformBackward0",
    "bernoulli_": "BernoulliBackward2",
    "exponential_": "ExponentialBackward0",
    "log_normal_": "LogNormalBackward0",
    "cauchy_": "CauchyBackward0",
    "geometric_": "GeometricBackward0",
    "random_": "RandomBackward0",
}


class Overwrite(Primitive):
    """z = v broadcast to x's shape and cast to x's dtype; x's values are not read. ``v`` is the
    second input when it is a tensor, else the ``value`` attr (a number, a drawn array).

    VJP: (zeros of x's shape, g) (the engine sums a broadcast v back to its shape); under
    ``create_graph`` x's zeros are a constant (``recorded_rules_movement``), as PyTorch's
    ``zeros_like(grad)``.
    """

    name = "overwrite"
    node_name = "CopyBackwards"
    complex_ok = True  # (x and v are of one kind: Tensor._set casts a complex v first)

    @staticmethod
    def forward(ctx, x, v=None, *, value=None, op="copy_"):
        src = value if v is None else v
        xp = array_module(x)
        out = xp.empty_like(x)  # (x's layout)
        # the assignment broadcasts v to x's shape, as PyTorch's copy_, once v has no more dims
        # than x (NumPy would drop v's leading ones: copy_ of a (1, 4) value into (4,) is refused)
        shape = xp.shape(src)
        if len(shape) <= x.ndim:
            try:
                out[...] = half_source(src, x.dtype)
                return out
            except ValueError:
                pass
        raise ShapeError(f"{op}: expected a value broadcastable to {tuple(x.shape)}, got shape {shape}")

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        gx = array_module(g).zeros_like(g) if need[0] else None
        if len(need) == 1:
            return gx
        return gx, (g if need[1] else None)


def overwrite(x: Tensor, value: Any, op: str, node: str | None = None) -> Tensor:
    """``x`` overwritten by ``value`` (a Tensor, a number or an array), recorded as op ``op``'s
    node (``node``: PyTorch's name for it; by default that of ``op``)."""
    if isinstance(value, Tensor):
        out = Overwrite.apply(x, value, op=op)
        name = node or ("FillBackward3" if op == "fill_" else None)
    else:
        out = Overwrite.apply(x, value=value, op=op)
        name = node or _NODE.get(op)
    return named(out, name) if name is not None else out
