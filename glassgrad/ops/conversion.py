"""Conversions: ``cast`` (to another dtype) and ``clone`` (a C-contiguous copy), both differentiable."""

from __future__ import annotations

from typing import Any

from glassgrad import dtypes
from glassgrad.autograd.function import Function
from glassgrad.backend import array_module
from glassgrad.tensor import Tensor

__all__ = ["cast", "clone"]


class Cast(Function):
    """z = a converted to ``dtype``.   VJP: g converted back to a's dtype."""

    @staticmethod
    def forward(ctx, a, dtype=None):
        ctx.attrs["from_dtype"] = a.dtype  # a plain value: only arrays go through save_for_backward
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.attrs["from_dtype"])


class Clone(Function):
    """z = a copy of a (C-contiguous).   VJP: g."""

    @staticmethod
    def forward(ctx, a):
        return array_module(a).array(a, copy=True, order="C")

    @staticmethod
    def backward(ctx, g):
        return g


def cast(a: Tensor, dtype: Any) -> Tensor:
    """``a`` converted to ``dtype`` (a NumPy or glassgrad dtype)."""
    return Cast.apply(a, dtype=dtypes.to_np_dtype(dtype))


def clone(a: Tensor) -> Tensor:
    return Clone.apply(a)
