"""Clamping: ``clamp`` with number bounds (one primitive, bounds as attributes) and with tensor
bounds (``ClampBounds``, bounds as inputs that receive gradients), as PyTorch's ``clamp``.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.dtypes import complex_scalar, scalar_into
from glassgrad.errors import ArgumentError, kernel_dtype_error
from glassgrad.ops.elementwise import _CATEGORY, floating, operands
from glassgrad.tensor import Tensor

__all__ = ["clamp", "clamp_one_side", "scalar_into"]


def _in_float_range(dtype: np.dtype, *bounds: Any) -> None:
    for v in bounds:
        if isinstance(v, float) or v.__class__ is int:  # np.float64 is a float too
            complex_scalar("clamp", v, dtype)


class Clamp(Function):
    """z = min(max(a, lo), hi).   VJP: g where lo <= a <= hi, else 0 (selected, so a NaN in g does
    not leak to clamped places, as PyTorch). Saves a itself, as PyTorch, so that an in-place
    change of a before backward is caught by the version check (a mask would hide it)."""

    node_name = "ClampBackward1"  # PyTorch's node name

    @staticmethod
    def forward(ctx, a, lo=None, hi=None):
        ctx.save_for_backward(a)
        xp = array_module(a)
        # one bound: the bound first, as NumPy returns its second operand on a tie, so a keeps its
        # zero's sign (clamp_max(-0.0, 0) is -0.0, as PyTorch's; clip gives the bound's there)
        if lo is None and hi is not None:
            return xp.minimum(hi, a).astype(a.dtype, copy=False)
        if hi is None and lo is not None:
            return xp.maximum(lo, a).astype(a.dtype, copy=False)
        return xp.clip(a, lo, hi).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        lo, hi = ctx.attrs["lo"], ctx.attrs["hi"]
        mask = True if lo is None else a >= lo
        if hi is not None:
            mask = mask & (a <= hi)
        return array_module(g).where(mask, g, 0)


class ClampBounds(Function):
    """z = min(max(a, lo), hi) with tensor bounds (either may be None), all broadcast together.

    VJP, as PyTorch (ties go to ``a``; when lo > hi the output is hi):
    g to a where lo <= a <= hi; g to lo where a < lo < hi; g to hi where a > hi or lo > hi (so
    where a < lo = hi nothing gets it: PyTorch's strict ``min < max``).
    """

    name = "clamp_bounds"

    node_name = "ClampBackward0"  # PyTorch's node name

    @staticmethod
    def forward(ctx, a, lo, hi, single=False):
        # ``single``: called as clamp_min/clamp_max, whose forward-mode tangent differs at a tie
        # (``jvp_rules_ties``); the values and the VJP are clamp's
        xp = array_module(a)
        ctx.save_for_backward(a, lo, hi)
        out = a if lo is None else xp.maximum(a, lo)
        return out if hi is None else xp.minimum(out, hi)

    @staticmethod
    def backward(ctx, g):
        a, lo, hi = ctx.saved
        need = ctx.needs_input_grad
        xp = array_module(g)  # selected, not masked by multiplying: 0 * nan would leak a NaN in g
        inside = True if lo is None else a >= lo
        if hi is not None:
            inside = inside & (a <= hi)
        ga = xp.where(inside, g, 0) if need[0] else None
        glo = xp.where((a < lo) & (True if hi is None else lo < hi), g, 0) if need[1] else None
        ghi = xp.where((a > hi) | (False if lo is None else lo > hi), g, 0) if need[2] else None
        return ga, glo, ghi


def _result_dtype(*tensors: Any) -> Any:
    """PyTorch's result dtype of several tensors when they differ in category or dims: the highest
    category wins, then, within it, tensors with dims beat 0-d ones. None: NumPy's promotion is it."""
    ts = [t._data for t in tensors if isinstance(t, Tensor)]
    top = builtins.max(_CATEGORY[t.dtype.kind] for t in ts)
    ts = [t for t in ts if _CATEGORY[t.dtype.kind] == top]
    wide = [t for t in ts if t.ndim] or ts
    return np.result_type(*[t.dtype for t in wide]) if top == 2 else None


def _check_bounds(a: Tensor, min: Any, max: Any) -> None:  # noqa: A002 - PyTorch's names
    """A bound is a number, a Tensor or None, as PyTorch's parser: a list, tuple or NumPy array is a
    TypeError there (``y.clamp((-0.99, 0.99))``, a range given as one argument, was read here as a
    tensor and broadcast against ``a``)."""
    for name, v in (("min", min), ("max", max)):
        if v is not None and not isinstance(v, (Tensor, int, float, complex, np.number, np.bool_)):
            raise TypeError(
                f"clamp(): expected a number, a Tensor or None as argument {name!r}, got "
                f"{type(v).__name__} {v!r:.60} (input {tuple(a.shape)} {a.dtype}; a number is a bool, int, "
                "float or complex; a range is clamp(min, max), not one sequence)"
            )


def clamp(a: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - PyTorch's names
    """Clamp into [min, max]; either bound may be None. Tensor bounds broadcast."""
    return _clamp(a, min, max, False)


def clamp_one_side(a: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """``clamp_min(a, min)`` / ``clamp_max(a, max)``: clamp's values and gradients; with a tensor
    bound, PyTorch's ``clamp_min.Tensor`` forward-mode tangent (a tie takes a's)."""
    return _clamp(a, min, max, True)


def _clamp(a: Tensor, min: Any, max: Any, single: bool) -> Tensor:  # noqa: A002
    _check_bounds(a, min, max)
    x = a
    if complex in (min.__class__, max.__class__):  # a complex bound must be real valued, as PyTorch's
        min, max = (complex_scalar("clamp", v, a._data.dtype) for v in (min, max))  # noqa: A001
    elif a._data.dtype.kind == "f":  # a number past float16's or float32's range is refused, as PyTorch's
        _in_float_range(a._data.dtype, min, max)
    if min is None and max is None:
        raise ArgumentError(
            "clamp: At least one of 'min' or 'max' must not be None"
        )  # PyTorch's RuntimeError and words
    if isinstance(min, Tensor) != isinstance(max, Tensor) and None not in (min, max):
        # a tensor beside a number fits only PyTorch's clamp(Tensor, Scalar, Scalar), whose parser
        # reads a 0-d tensor that does not require grad as a number (a float16 x stays float16
        # beside a float32 0-d bound) and refuses any other tensor
        t = min if isinstance(min, Tensor) else max
        if t.ndim or t.requires_grad:
            raise TypeError(
                f"clamp(): got a Tensor of shape {tuple(t.shape)} (requires_grad={t.requires_grad}) "
                f"beside a number as the other bound (input {tuple(a.shape)} {a.dtype}); expected "
                "(Tensor input, Tensor min, Tensor max) or (Tensor input, Number min, Number max), "
                "where only a 0-d tensor that does not require grad counts as a number"
            )
        min, max = (v.item() if v is t else v for v in (min, max))  # noqa: A001
    bounds = isinstance(min, Tensor) or isinstance(max, Tensor)
    if a._data.dtype.kind in "iu" and not isinstance(min, float) and not isinstance(max, float):
        min, max = (None if v is None else scalar_into("clamp", v, a._data.dtype) for v in (min, max))  # noqa: A001 - uint8 -1: 255
    if a._data.dtype.kind != "f":
        if isinstance(min, float) or isinstance(max, float):
            a = floating(a)  # an integer tensor clamped to a float bound gives floats (as PyTorch)
            _in_float_range(a._data.dtype, min, max)  # and the bounds must fit those floats
        elif a._data.dtype == np.bool_ and not bounds:  # tensor bounds promote bool as any op does
            if all(v is None or isinstance(v, bool | np.bool_) for v in (min, max)):
                # bool bounds keep a bool result, for which PyTorch's clamp kernels have no code
                side = "" if None not in (min, max) else "_min" if max is None else "_max"
                raise kernel_dtype_error("clamp", f"clamp{side}_scalar_cpu", a._data.dtype)
            a = Tensor(a._data.astype(np.int64), _wrap=True)
    if bounds:
        lo, hi = min, max
        if lo is not None:
            a, lo = operands(a, lo)
        if hi is not None:
            a, hi = operands(a, hi)
            if isinstance(lo, Tensor) and lo._data.dtype != a._data.dtype:
                a, lo = operands(a, lo)  # hi widened a: bring lo along
        target = _result_dtype(x, min, max)  # the pairs above can disagree with the three at once
        if target is not None and a._data.dtype != target:
            a, lo, hi = (v.to(target) if isinstance(v, Tensor) else v for v in (a, lo, hi))
        if (
            lo is not None
            and hi is not None
            and a._data.dtype == lo._data.dtype == hi._data.dtype == np.bool_
        ):
            # (one bound alone is maximum/minimum in PyTorch, which take bool; both, its clamp kernel)
            raise kernel_dtype_error("clamp", "clamp_cpu", a._data.dtype)
        return ClampBounds.apply(a, lo, hi, single=True) if single else ClampBounds.apply(a, lo, hi)
    return Clamp.apply(a, lo=min, hi=max)
