"""Clamping: ``clamp`` with number bounds (one primitive, bounds as attributes) and with tensor
bounds (``ClampBounds``, bounds as inputs that receive gradients), as PyTorch's ``clamp``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.function import Function
from glassgrad.backend import array_module
from glassgrad.ops.elementwise import floating, operands
from glassgrad.tensor import Tensor

__all__ = ["clamp"]


class Clamp(Function):
    """z = min(max(a, lo), hi).   VJP: g where lo <= a <= hi, else 0 (the bounds pass gradient)."""

    @staticmethod
    def forward(ctx, a, lo=None, hi=None):
        xp = array_module(a)
        mask = xp.ones(a.shape, dtype=bool)
        if lo is not None:
            mask &= a >= lo
        if hi is not None:
            mask &= a <= hi
        ctx.save_for_backward(mask)
        return xp.clip(a, lo, hi).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved
        return g * mask


class ClampBounds(Function):
    """z = min(max(a, lo), hi) with tensor bounds (either may be None), all broadcast together.

    VJP, as PyTorch (ties go to ``a``; when lo > hi the output is hi):
    g to a where lo <= a <= hi; g to lo where a < lo <= hi; g to hi where a > hi or lo > hi.
    """

    name = "clamp_bounds"

    @staticmethod
    def forward(ctx, a, lo, hi):
        xp = array_module(a)
        ctx.save_for_backward(a, lo, hi)
        out = a if lo is None else xp.maximum(a, lo)
        return out if hi is None else xp.minimum(out, hi)

    @staticmethod
    def backward(ctx, g):
        a, lo, hi = ctx.saved
        need = ctx.needs_input_grad
        inside = True if lo is None else a >= lo
        if hi is not None:
            inside = inside & (a <= hi)
        ga = g * inside if need[0] else None
        glo = g * ((a < lo) & (True if hi is None else lo <= hi)) if need[1] else None
        ghi = g * ((a > hi) | (False if lo is None else lo > hi)) if need[2] else None
        return ga, glo, ghi


def clamp(a: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - PyTorch's names
    """Clamp into [min, max]; either bound may be None. Tensor bounds broadcast."""
    if min is None and max is None:
        raise ValueError("clamp: expected at least one of min or max, got neither")
    if a._data.dtype.kind != "f":
        if isinstance(min, float) or isinstance(max, float):
            a = floating(a)  # an integer tensor clamped to a float bound gives floats (as PyTorch)
        elif a._data.dtype == np.bool_:
            a = Tensor(a._data.astype(np.int64), _wrap=True)
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        lo, hi = min, max
        if lo is not None:
            a, lo = operands(a, lo)
        if hi is not None:
            a, hi = operands(a, hi)
            if isinstance(lo, Tensor) and lo._data.dtype != a._data.dtype:
                a, lo = operands(a, lo)  # hi widened a: bring lo along
        return ClampBounds.apply(a, lo, hi)
    return Clamp.apply(a, lo=min, hi=max)
