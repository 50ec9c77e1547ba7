"""Fused smooth L1 and Huber losses: one node each, with PyTorch's kernels' roundings.

Both are quadratic near 0 and linear beyond a threshold (beta, delta) of |d|, d = x - y:

    smooth_l1:  0.5 |d|^2 / beta  where |d| < beta, else |d| - 0.5 beta
    huber:      0.5 |d|^2         where |d| < delta, else delta (|d| - 0.5 delta)   (= delta smooth_l1)

Composed from ``abs``, ``where`` and products they were eight nodes and eight passes each way;
here the forward is one expression per branch and the backward one selection, in the order of
operations of PyTorch's CPU kernels, so that float32 and float64 results are PyTorch's bits. A NaN
difference falls in the quadratic branch of the backward (NaN >= beta is false): its gradient is
NaN, as PyTorch's. Each op broadcasts x against y (``reduction='none'``; the engine sums the
gradients back to each input's shape) and reduces inside (``ops.loss._reduce``). Validation and
PyTorch's argument handling live in ``nn.functional.loss``.

float16, as PyTorch's kernels (each measured against them): smooth_l1's forward runs its
operations in float16, each rounded (PyTorch's vectorized Half arithmetic), its backward in
float32 rounded once; huber's forward runs in float32 rounded once (``x - y`` of +-6e4 stays
finite: the loss 0.3 (1.2e5 - 0.15) fits a float16), its backward in float16.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.ops.bit_select import select
from glassgrad.ops.half_precision import HALF
from glassgrad.ops.loss import _reduce
from glassgrad.tensor import Tensor

__all__ = ["SmoothL1Loss", "HuberLoss", "smooth_l1_loss", "huber_loss"]


def _norm(dtype: Any, reduction: str, count: int) -> Any:
    """PyTorch's ``norm`` of the loss backwards: 1 / numel for 'mean' (in the kernel's dtype), else None (1)."""
    if reduction != "mean":
        return None
    return dtype.type(1.0 / count) if count else dtype.type("nan")


def _scaled(deriv: Any, norm: Any, g: Any) -> Any:
    """deriv * norm * g, in that order (PyTorch's ``deriv_vec * norm_val_vec * grad_output``)."""
    return deriv * g if norm is None else deriv * norm * g


def _pair(ctx: Any, deriv: Any, count: int, g: Any, dtype: Any = None) -> tuple:
    """Both losses' (dx, dy): dx = deriv * norm * g (cast to ``dtype`` if given), dy = -dx."""
    dx = _scaled(deriv, _norm(deriv.dtype, ctx.attrs.get("reduction", "mean"), count), g)
    if dtype is not None:
        dx = dx.astype(dtype)
    need = ctx.needs_input_grad
    return (dx if need[0] else None), (-dx if need[1] else None)


class SmoothL1Loss(Function):
    """Smooth L1 of x - y with threshold ``beta`` > 0, reduced (beta = 0 is ``l1_loss``, a composite).

    VJP: dx = (sign(d) where |d| >= beta, else d / beta) * norm * g, dy = -dx; norm = 1/N for
    'mean', else 1 (PyTorch computes dy with x and y swapped: the same bits negated).
    """

    name = "smooth_l1_loss"

    @staticmethod
    def forward(ctx, x, y, reduction="mean", beta=1.0):
        xp = array_module(x, y)
        z = xp.abs(x - y)
        # (0.5 z) z / beta, as PyTorch's kernel; in float16 each step rounds, as its Half vectors
        quad = z * 0.5
        quad *= z
        quad /= beta
        loss = select(z < beta, quad, z - 0.5 * beta)  # NaN: z - 0.5 beta, NaN
        ctx.save_for_backward(x, y, loss.size)
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x, y, count = ctx.saved
        xp = array_module(x, y)
        beta, half = ctx.attrs.get("beta", 1.0), x.dtype is HALF
        if half:  # PyTorch's Half backward computes in float32 and rounds once
            x, y, g = x.astype(xp.float32), y.astype(xp.float32), g.astype(xp.float32)
        d = x - y
        deriv = select(xp.abs(d) >= beta, xp.sign(d), d / beta)
        return _pair(ctx, deriv, count, g, HALF if half else None)


class HuberLoss(Function):
    """Huber loss of x - y with threshold ``delta`` > 0, reduced.

    VJP: dx = (sign(d) delta where |d| >= delta, else d) * norm * g, dy = -dx; norm = 1/N for
    'mean', else 1.
    """

    name = "huber_loss"

    @staticmethod
    def forward(ctx, x, y, reduction="mean", delta=1.0):
        xp = array_module(x, y)
        half = x.dtype is HALF
        # PyTorch's Half kernel computes in float32, rounded once: x - y of +-6e4 stays finite
        z = xp.abs(x.astype(xp.float32) - y.astype(xp.float32)) if half else xp.abs(x - y)
        quad = z * 0.5  # (0.5 z) z
        quad *= z
        lin = z - 0.5 * delta  # delta (z - 0.5 delta)
        lin *= delta
        loss = select(z < delta, quad, lin)
        if half:
            loss = loss.astype(HALF)
        ctx.save_for_backward(x, y, loss.size)
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, g):
        # in x's dtype, float16 included (each step rounds there, as PyTorch's Half vectors)
        x, y, count = ctx.saved
        xp = array_module(x, y)
        delta = ctx.attrs.get("delta", 1.0)
        d = x - y
        deriv = select(xp.abs(d) >= delta, xp.sign(d) * delta, d)
        return _pair(ctx, deriv, count, g)


def smooth_l1_loss(x: Tensor, y: Tensor, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Fused smooth L1 (no validation; see ``F.smooth_l1_loss``); ``beta`` > 0.

    Shape:
        x, y: broadcastable, one floating dtype; returns their broadcast shape for 'none', else ().
    """
    return SmoothL1Loss.apply(x, y, reduction=reduction, beta=float(beta))


def huber_loss(x: Tensor, y: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """Fused Huber loss (no validation; see ``F.huber_loss``); ``delta`` > 0.

    Shape:
        x, y: broadcastable, one floating dtype; returns their broadcast shape for 'none', else ().
    """
    return HuberLoss.apply(x, y, reduction=reduction, delta=float(delta))
