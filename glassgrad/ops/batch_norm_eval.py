"""Evaluation-mode batch norm as one op: ``y = (x - mean) * rstd * weight + bias`` per channel,
``mean``/``rstd`` from the given (running) statistics.

Built from primitives, the graph was ``AddBackward0 <- MulBackward0 <- SubBackward0`` with a
``ViewBackward0`` of the weight; PyTorch records one ``NativeBatchNormBackward0(input, weight,
bias)`` in eval mode too, and tools that walk the graph read it so: Torch-Pruning (which traces a
model in ``eval()``) grouped a 1-channel conv -> BatchNorm with the weight's reshape and the
arithmetic nodes (8 dependencies where PyTorch has 3). The arithmetic is the composite's own, in
its order, so the values and gradients are unchanged.

The statistics are inputs (as PyTorch's ``native_batch_norm`` has them) that get no gradient:
``F.batch_norm`` passes them detached (sharing their version counters). As PyTorch's, backward
reads them as they are then: a train-mode batch norm that updated them in between (without a
version bump, as PyTorch's kernel) changes this gradient; a user's in-place change raises.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.forward_ad import _tangents, is_dual
from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.errors import GraphError
from glassgrad.tensor import Tensor

__all__ = ["BatchNormEval", "batch_norm_eval"]


def _param_shape(x: Any) -> tuple:
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)  # (C,) -> (1, C, 1, ...)


class BatchNormEval(Function):
    """y = (x - mean) * rstd * weight + bias, rstd = 1 / sqrt(var + eps), per channel (dim 1).

    VJP (mean and var get none): dx = (g * weight) * rstd; dweight = sum(g * (x - mean) * rstd),
    dbias = sum(g), the sums over every dim but 1, with mean and rstd from the statistics' values
    at backward (PyTorch's ``native_batch_norm_backward`` in eval mode).
    """

    name = "batch_norm_eval"

    node_name = "NativeBatchNormBackward0"  # PyTorch's node name (eval mode too)
    shown_inputs = 3  # next_functions: input, weight, bias, as PyTorch's (the statistics get no gradient)

    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, eps=1e-5):
        shape = _param_shape(x)
        rstd = (1.0 / array_module(var).sqrt(var + eps)).reshape(shape)
        m = mean.reshape(shape)
        w = None if weight is None else weight.reshape(shape)
        # x and the statistics' own memory, as PyTorch's: a later in-place change is caught
        ctx.save_for_backward(x, m, var.reshape(shape), w)
        out = (x - m) * rstd
        if w is not None:
            out = out * w
        if bias is not None:
            out = out + bias.reshape(shape)
        return out

    @staticmethod
    def backward(ctx, g):
        x, m, var, w = ctx.saved
        rstd = 1.0 / array_module(var).sqrt(var + ctx.attrs["eps"])
        need = ctx.needs_input_grad
        axes = (0, *range(2, g.ndim))
        dx = dw = db = None
        if need[0]:
            dx = (g if w is None else g * w) * rstd
        if need[1]:
            dw = (g * ((x - m) * rstd)).sum(axis=axes)
        if need[2]:
            db = g.sum(axis=axes)
        return dx, dw, db, None, None


def batch_norm_eval(
    x: Tensor, mean: Tensor, var: Tensor, weight: Tensor | None, bias: Tensor | None, eps: float
) -> Tensor:
    """Normalise ``x`` (N, C, *) with the given per-channel statistics (no validation; see
    ``F.batch_norm``); they get no gradient."""
    if _tangents and (is_dual(mean) or is_dual(var)) and any(is_dual(t) for t in (x, weight, bias)):
        # PyTorch's refusal: detached, their tangents were dropped from t_y without an error
        raise GraphError(
            "batch_norm: batch_norm is not differentiable wrt running_mean and running_var, they cannot "
            f"have forward grad defined (input {x.shape}; pass fwAD.unpack_dual(stat).primal)"
        )
    return BatchNormEval.apply(x, weight, bias, mean.detach(), var.detach(), eps=float(eps))
