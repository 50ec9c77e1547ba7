"""The trapezoidal rule along one dim: ``trapezoid`` (alias ``trapz``) and ``cumulative_trapezoid``.

Compositions of the primitives (slices, add, multiply, sum/cumsum), so gradients flow to ``y``
and to ``x``. The formulas are PyTorch's (``aten/native/Integration.cpp``), term for term, so
float results round alike: with sample points ``x``, ``((y[:-1] + y[1:]) * diff(x)).sum() / 2``;
with a spacing ``dx``, ``(y.sum() - (y[0] + y[-1]) * 0.5) * dx``. Integer ``y`` gives the
default float dtype, as PyTorch's.
"""

from __future__ import annotations

import numbers
from typing import Any

from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, IndexOutOfRangeError, ShapeError
from glassgrad.ops.reduce_more import _dim
from glassgrad.tensor import Tensor

__all__ = ["trapezoid", "trapz", "cumulative_trapezoid"]


def _checked(op: str, y: Any, x: Any, dx: Any, dim: Any) -> tuple[int, Any]:
    """The axis, and the spacing: ``x`` viewed to broadcast along the axis, or the number ``dx``."""
    if not isinstance(y, Tensor):
        raise TypeError(f"{op}: expected y to be a Tensor, got {type(y).__name__}")
    if y.ndim == 0:  # (``_dim`` takes 0 and -1 for a 0-d tensor; PyTorch's trapezoid does not)
        raise IndexOutOfRangeError(f"{op}: expected y with at least one dimension, got a 0-d tensor")
    a = _dim(op, y, dim)
    if x is not None and dx is not None:
        raise TypeError(f"{op}: give the sample points x or the spacing dx, not both")
    if x is None:
        if dx is None:
            dx = 1
        if isinstance(dx, bool) or not isinstance(dx, numbers.Real):
            raise TypeError(f"{op}: expected dx to be a real number, got {type(dx).__name__}")
        return a, dx
    if not isinstance(x, Tensor):  # PyTorch: a number goes by dx=, not in x's place
        raise TypeError(f"{op}: expected x to be a Tensor (for a spacing, pass dx=), got {type(x).__name__}")
    if x.ndim == 1:  # one point per sample along the axis, broadcast over the others
        if x.shape[0] != y.shape[a]:
            raise ShapeError(
                f"{op}: there must be one x value for each sample point, got {x.shape[0]} x values "
                f"for {y.shape[a]} samples along dim {a}"
            )
        x = x.reshape([-1 if i == a else 1 for i in range(y.ndim)])
    ax = a - y.ndim  # counted from the end: x may have fewer dims than y and broadcasts
    if -ax > x.ndim:
        raise ShapeError(f"{op}: x with shape {tuple(x.shape)} has no dim {a} of y's shape {tuple(y.shape)}")
    left, right = _pair(x, ax)
    return a, right - left


def _no_bool(op: str, y: Tensor, x: Any) -> None:
    """PyTorch's RuntimeError for a bool ``y`` or ``x`` (NumPy would integrate the bools as 0 and 1)."""
    for t in (y, x):
        if isinstance(t, Tensor) and t._data.dtype.kind == "b":
            raise DTypeError(f"{op}: received a bool input for `x` or `y`, but bool is not supported")


def _pair(t: Tensor, axis: int) -> tuple[Tensor, Tensor]:
    """``t`` without its last and without its first element along ``axis``."""
    head = (slice(None),) * (axis % t.ndim)
    return t[(*head, slice(None, -1))], t[(*head, slice(1, None))]


def trapezoid(y: Tensor, x: Tensor | None = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """Integral of ``y`` along ``dim`` by the trapezoidal rule, at sample points ``x`` (1-D, one per
    sample, or broadcastable to ``y``) or with the constant spacing ``dx`` (default 1).

    Shape:
        ``y.shape`` without ``dim``.

    >>> import glassgrad as gg
    >>> gg.trapezoid(gg.tensor([1.0, 2.0, 4.0]), gg.tensor([0.0, 1.0, 3.0]))
    tensor(7.5000)
    """
    a, step = _checked("trapezoid", y, x, dx, dim)
    if y.shape[a] == 0:  # PyTorch's zeros of y's dtype (an int64 y too), outside the graph
        shape = tuple(n for k, n in enumerate(y.shape) if k != a)
        return Tensor(array_module(y._data).zeros(shape, dtype=y._data.dtype), _wrap=True)
    _no_bool("trapezoid", y, x)  # (after the empty dim's zeros: PyTorch's bool zeros come first)
    if isinstance(step, Tensor):
        left, right = _pair(y, a)
        return ((left + right) * step).sum(a) / 2.0
    return (y.sum(a) - (y.select(a, 0) + y.select(a, -1)) * 0.5) * step


trapz = trapezoid


def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """The running trapezoidal integral of ``y`` along ``dim`` (see :func:`trapezoid`): element i is
    the integral from the first sample to sample i + 1.

    Shape:
        ``y.shape`` with ``dim`` one shorter.
    """
    a, step = _checked("cumulative_trapezoid", y, x, dx, dim)
    _no_bool("cumulative_trapezoid", y, x)
    left, right = _pair(y, a)
    if isinstance(step, Tensor):
        return ((left + right) * step).cumsum(a) / 2.0
    return (step / 2.0 * (left + right)).cumsum(a)
