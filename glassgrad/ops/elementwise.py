"""Elementwise primitives: arithmetic, clamp, maximum/minimum, where, casts; and the operand
coercion every elementwise op shares (``operands``, ``floating``). The one-input math functions
(exp, log, sqrt, trig ...) are in ``unary.py``; comparisons, logical ops and rounding, which carry
no gradient, in ``compare.py``.

Every binary op broadcasts like NumPy; the engine undoes the broadcast in backward. Python scalars
do not change a tensor's dtype; an integer tensor meeting a float is promoted to that float dtype
(as in PyTorch, not NumPy's float64).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.autograd.function import Function
from glassgrad.backend import array_module
from glassgrad.errors import DTypeError
from glassgrad.tensor import Tensor, as_array

__all__ = [
    "add", "sub", "mul", "div", "pow", "neg", "clamp", "maximum", "minimum", "where", "cast", "clone",
    "operands", "floating",
]  # fmt: skip


# ------------------------------------------------------------------ operand coercion
def operands(a: Any, b: Any) -> tuple[Any, Any]:
    """Make a binary op's operands agree on dtype the PyTorch way.

    Tensors pass through; a Python scalar stays a scalar (NumPy treats it as weak, so float32
    stays float32) unless it is a float meeting an integer tensor, which then becomes float32.
    Lists/arrays become constant tensors. int/bool vs float tensors: the integer side is cast.
    """
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            ka, kb = a.data.dtype.kind, b.data.dtype.kind
            if ka != kb and "f" in (ka, kb):
                if ka != "f":
                    a = Tensor(a.data.astype(b.data.dtype), _wrap=True)
                else:
                    b = Tensor(b.data.astype(a.data.dtype), _wrap=True)
            return a, b
        return _with_scalar(a, b)
    if isinstance(b, Tensor):
        b2, a2 = _with_scalar(b, a)
        return a2, b2
    return Tensor(as_array(a), _wrap=True), Tensor(as_array(b), _wrap=True)


def _with_scalar(t: Tensor, s: Any) -> tuple[Tensor, Any]:
    if isinstance(s, bool | int | float):
        if isinstance(s, float) and t.data.dtype.kind != "f":
            t = Tensor(t.data.astype(dtypes.get_default_dtype().np), _wrap=True)
        return t, s
    other = Tensor(as_array(s), _wrap=True)
    return operands(t, other)


def floating(x: Tensor) -> Tensor:
    """``x`` itself if floating point, else a float copy (PyTorch promotes ints for exp, log ...)."""
    if x.data.dtype.kind == "f":
        return x
    if not isinstance(x, Tensor):
        raise DTypeError(f"expected a Tensor, got {type(x).__name__}")
    return Tensor(x.data.astype(dtypes.get_default_dtype().np), _wrap=True)


def _needs(ctx, i: int) -> bool:
    return ctx.needs_input_grad[i]


# ------------------------------------------------------------------ arithmetic
class Add(Function):
    """z = a + b.   VJP: (g, g)."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    """z = a - b.   VJP: (g, -g)."""

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = a * b.   VJP: (g * b, g * a)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        need = ctx.needs_input_grad
        return (g * b if need[0] else None), (g * a if need[1] else None)


class Div(Function):
    """z = a / b.   VJP: (g / b, -g * a / b^2)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        need = ctx.needs_input_grad
        ga = g / b if need[0] else None
        gb = -g * a / (b * b) if need[1] else None
        return ga, gb


class Pow(Function):
    """z = a ** b.   VJP: (g * b * a^(b-1), g * z * ln a), with d/db taken as 0 where a == 0."""

    @staticmethod
    def forward(ctx, a, b):
        out = a**b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved
        xp = array_module(a)
        need = ctx.needs_input_grad
        ga = g * b * a ** (b - 1) if need[0] else None
        gb = None
        if need[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = g * xp.where(a == 0, 0.0, out * xp.log(a))
        return ga, gb


class Neg(Function):
    """z = -a.   VJP: -g."""

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return -g


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


class Maximum(Function):
    """z = max(a, b) elementwise.   VJP: g to the larger; at ties g/2 to each (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return array_module(a).maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        share = (a > b) + 0.5 * (a == b)
        return g * share, g * (1 - share)


class Minimum(Function):
    """z = min(a, b) elementwise.   VJP: g to the smaller; at ties g/2 to each (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return array_module(a).minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        share = (a < b) + 0.5 * (a == b)
        return g * share, g * (1 - share)


class Where(Function):
    """z = a where cond else b.   VJP: (None, g * cond, g * ~cond); cond gets no gradient."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        return array_module(cond).where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved
        need = ctx.needs_input_grad
        return None, (g * cond if need[1] else None), (g * ~cond if need[2] else None)


class Cast(Function):
    """z = a converted to ``dtype``.   VJP: g converted back to a's dtype."""

    @staticmethod
    def forward(ctx, a, dtype=None):
        ctx.save_for_backward(a.dtype)
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        (dtype,) = ctx.saved
        return g.astype(dtype)


class Clone(Function):
    """z = a copy of a (C-contiguous).   VJP: g."""

    @staticmethod
    def forward(ctx, a):
        return array_module(a).array(a, copy=True, order="C")

    @staticmethod
    def backward(ctx, g):
        return g


# ------------------------------------------------------------------ tensor-level functions
def add(a: Any, b: Any) -> Tensor:
    """a + b, broadcasting."""
    return Add.apply(*operands(a, b))


def sub(a: Any, b: Any) -> Tensor:
    """a - b, broadcasting."""
    return Sub.apply(*operands(a, b))


def mul(a: Any, b: Any) -> Tensor:
    """a * b, broadcasting."""
    return Mul.apply(*operands(a, b))


def div(a: Any, b: Any) -> Tensor:
    """a / b, broadcasting; integer inputs give a float result (true division)."""
    a, b = operands(a, b)
    if not isinstance(a, Tensor) or a.data.dtype.kind != "f":
        if not isinstance(b, Tensor) or b.data.dtype.kind != "f":
            a = floating(a) if isinstance(a, Tensor) else a
            b = floating(b) if isinstance(b, Tensor) else b
    return Div.apply(a, b)


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """a ** b, broadcasting."""
    return Pow.apply(*operands(a, b))


def neg(a: Tensor) -> Tensor:
    return Neg.apply(a)


def clamp(a: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - PyTorch's names
    """Clamp into [min, max]; either bound may be None. Tensor bounds broadcast."""
    if min is None and max is None:
        raise ValueError("clamp: expected at least one of min or max, got neither")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = a
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    return Clamp.apply(a, lo=min, hi=max)


def maximum(a: Any, b: Any) -> Tensor:
    return Maximum.apply(*operands(a, b))


def minimum(a: Any, b: Any) -> Tensor:
    return Minimum.apply(*operands(a, b))


def where(condition: Any, input: Any, other: Any) -> Tensor:  # noqa: A002 - PyTorch's names
    """Elementwise choice: ``input`` where ``condition`` is true, else ``other`` (all broadcast)."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise DTypeError(f"where: expected a bool condition, got {cond.dtype}")
    a, b = operands(input, other)
    return Where.apply(cond, a, b)


def cast(a: Tensor, dtype: Any) -> Tensor:
    """``a`` converted to ``dtype`` (a NumPy or glassgrad dtype)."""
    return Cast.apply(a, dtype=dtypes.to_np_dtype(dtype))


def clone(a: Tensor) -> Tensor:
    return Clone.apply(a)
