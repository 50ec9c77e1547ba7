"""More one-input elementwise math, as PyTorch has it: the inverse hyperbolic functions, sinc,
deg2rad/rad2deg and frac; the special functions erfc, erfinv, lgamma, digamma, polygamma and i0
(its gradient is I1); and, without a gradient (like floor and sign; PyTorch records a zero one),
signbit, trunc/fix and sgn. Integer inputs are promoted to the default float dtype, as in
``unary.py``, except for frac (floating only, as PyTorch) and trunc/sgn/signbit (kept).

The special functions are evaluated on float64 arrays by ``special_series.py`` (vectorised NumPy;
SciPy is not a dependency) and rounded to the input's dtype: float32 results are the float64 values
rounded, so they can differ from PyTorch's float32 kernels by an ulp or so. Poles and infinities give
PyTorch's values: lgamma is +inf at 0 and the negative integers, digamma is -inf at 0, +inf at -0
and NaN at the negative integers, erfinv is +-inf at +-1 and NaN beyond; i0 overflows to inf where
PyTorch's e^x does (|x| above about 709.78 in float64, 88.72 in float32).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

import numpy as np

from glassgrad.autograd.complex_gate import refuse_unordered
from glassgrad.autograd.function import Primitive as Function
from glassgrad.autograd.function import named
from glassgrad.backend import array_module, quietly
from glassgrad.errors import DTypeError, KernelDTypeError
from glassgrad.operand_errors import scalar_int
from glassgrad.ops import compare, elementwise
from glassgrad.ops.blocks import Blocks
from glassgrad.ops.elementwise import floating
from glassgrad.ops.nonfinite import isneginf, isposinf, nan_to_num  # re-exported: their old home
from glassgrad.ops.single_kernels import i0_single, sinc_single
from glassgrad.ops.special_series import (
    digamma_array,
    erfc_array,
    erfinv_array,
    i0_array,
    i1_array,
    lgamma_array,
    polygamma_array,
)
from glassgrad.ops.zero_slope import recorded_step
from glassgrad.tensor import Tensor

__all__ = [
    "asinh", "acosh", "atanh", "sinc", "deg2rad", "rad2deg", "frac", "signbit", "isposinf", "isneginf", "trunc",
    "fix", "sgn", "nan_to_num",
    "erfc", "erfinv", "lgamma", "digamma", "polygamma", "i0",
]  # fmt: skip

_PI = math.pi
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0


def _in_float64(fn, a):
    """fn (elementwise) on a's values in float64, rounded back to a's dtype, without NumPy's
    warnings. A large contiguous array goes in cache-sized pieces (ops/blocks.py): the functions'
    dozens of float64 temporaries then stay in L2 instead of streaming through memory."""

    def run():
        pieces = Blocks(a, out := array_module(a).empty_like(a)) if a.dtype.kind == "f" else None
        if pieces is None or not pieces.cut:
            return array_module(a).asarray(fn(a.astype(np.float64, copy=False))).astype(a.dtype, copy=False)
        for piece, into in pieces:
            into[...] = fn(piece.astype(np.float64, copy=False))
        return out

    return quietly(run)


def _overflow_like_pytorch(out, a):
    """inf where PyTorch's e^|a| overflows in a's dtype (its i0/i1 multiply by e^|a|)."""
    xp = array_module(a)
    if a.dtype.itemsize < 4:
        return out  # float16 rounds an overflowing float64 value to inf by itself
    limit = math.log(float(np.finfo(a.dtype).max))
    over = (xp.abs(a) > limit) & xp.isfinite(a)  # I0(+-inf) stays NaN (inf / inf), as PyTorch
    return xp.where(over, xp.copysign(xp.inf, out), out).astype(a.dtype, copy=False)


# ------------------------------------------------------------------ elementary primitives
class Asinh(Function):
    """z = asinh a.   VJP: g / sqrt(a^2 + 1)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return array_module(a).arcsinh(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        xp = array_module(a)
        return quietly(lambda: g / xp.sqrt(a * a + 1))


class Acosh(Function):
    """z = acosh a (NaN below 1).   VJP: g / sqrt(a^2 - 1): inf at 1, NaN below."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return quietly(array_module(a).arccosh, a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        xp = array_module(a)
        return quietly(lambda: g / xp.sqrt(a * a - 1))


class Atanh(Function):
    """z = atanh a (+-inf at +-1, NaN beyond).   VJP: g / (1 - a^2)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return quietly(array_module(a).arctanh, a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        return quietly(lambda: g / (1 - a * a))


class Sinc(Function):
    """z = sin(pi a) / (pi a), 1 at 0.   VJP: g (pi a cos(pi a) - sin(pi a)) / (pi a^2), +0 where pi a^2
    is 0 (as PyTorch's ``sinc_backward``, a select after the product: also where it underflows, and
    for a negative, inf or NaN g there)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        xp = array_module(a)
        if a.dtype in (xp.float32, xp.float16):  # in float32 with sin rounded once, as PyTorch's
            return quietly(sinc_single, a)
        y = _PI * a
        return xp.where(a == 0, 1.0, quietly(lambda: xp.sin(y) / y)).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        xp = array_module(a)
        y = _PI * a
        y2 = y * a
        d = quietly(lambda: (y * xp.cos(y) - xp.sin(y)) / y2)
        return xp.where(y2 == 0, 0.0, g * d.astype(g.dtype, copy=False)).astype(g.dtype, copy=False)


class Frac(Function):
    """z = a - trunc(a), with a's sign.   VJP: g."""

    @staticmethod
    def forward(ctx, a):
        return quietly(lambda: a - array_module(a).trunc(a))  # inf - inf = nan, as PyTorch

    @staticmethod
    def backward(ctx, g):
        return g


# ------------------------------------------------------------------ special functions
class _InFloat64(Function):
    """z = value(a) evaluated in float64 and rounded to a's dtype.   VJP: g slope(a), likewise.

    What the special functions below share: each subclass names its float64 array functions
    ``value`` and ``slope`` (the derivative); ``slope_of_output`` says the derivative is written in
    terms of z rather than a (erfinv): backward evaluates z again from the saved a, as PyTorch's
    formula does, so that an in-place change of z leaves the gradient alone (saving z made backward
    raise there, and computed where a changed in place and PyTorch raises).
    """

    register = False
    value: ClassVar[Callable]
    slope: ClassVar[Callable]
    slope_of_output: ClassVar[bool] = False

    @staticmethod
    def _evaluate(fn, a):
        return _in_float64(fn, a)

    @classmethod
    def forward(cls, ctx, a):
        ctx.save_for_backward(a)
        return cls._evaluate(cls.value, a)

    @classmethod
    def backward(cls, ctx, g):
        (x,) = ctx.saved
        if cls.slope_of_output:
            x = cls._evaluate(cls.value, x)
        return quietly(array_module(g).multiply, g, cls._evaluate(cls.slope, x))  # 0 * inf: nan, silently


class Erfc(_InFloat64):
    """z = 1 - erf a, accurate for large a.   VJP: -g 2/sqrt(pi) e^(-a^2)."""

    value = staticmethod(erfc_array)
    slope = staticmethod(lambda x: -_TWO_OVER_SQRT_PI * array_module(x).exp(-x * x))


class Erfinv(_InFloat64):
    """z = erf^-1(a) on [-1, 1].   VJP: g sqrt(pi)/2 e^(z^2) (inf at +-1, NaN beyond)."""

    value = staticmethod(erfinv_array)
    slope = staticmethod(lambda z: _SQRT_PI_OVER_TWO * array_module(z).exp(z * z))
    slope_of_output = True


class Lgamma(_InFloat64):
    """z = ln |Gamma(a)|.   VJP: g digamma(a)."""

    value = staticmethod(lgamma_array)
    slope = staticmethod(digamma_array)


class Digamma(_InFloat64):
    """z = psi(a) = d/da ln Gamma(a).   VJP: g polygamma(1, a)."""

    value = staticmethod(digamma_array)
    slope = staticmethod(lambda x: polygamma_array(1, x))


class Polygamma(Function):
    """z = psi^(n)(a), the n-th derivative of digamma (attribute n >= 0).   VJP: g psi^(n+1)(a)."""

    @staticmethod
    def forward(ctx, a, n):
        ctx.save_for_backward(a)
        return _in_float64(lambda x: polygamma_array(n, x), a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        n = ctx.attrs["n"]
        return g * _in_float64(lambda x: polygamma_array(n + 1, x), a)


class I0(_InFloat64):
    """z = I0(a), the modified Bessel function of the first kind, order 0.   VJP: g I1(a)."""

    value = staticmethod(i0_array)
    slope = staticmethod(i1_array)

    @staticmethod
    def _evaluate(fn, a):
        """I0 and I1 both overflow to inf where PyTorch's e^|a| factor does; I0 below float64 is
        PyTorch's float kernel, rounding as it does (``single_kernels``)."""
        if fn is i0_array and a.dtype.itemsize < 8:
            return quietly(lambda: i0_single(a).astype(a.dtype, copy=False))
        return _overflow_like_pytorch(_in_float64(fn, a), a)


# ------------------------------------------------------------------ tensor-level functions
def _floating_input(name: str, a: Tensor) -> Tensor:
    if a._data.dtype.kind != "f":  # PyTorch: NotImplementedError, "frac_cpu" not implemented for 'Long'
        raise KernelDTypeError(f"{name}: expected a floating point tensor, got {a.dtype}")
    return a


def _on_floating(function: type[Function], name: str, doc: str) -> Callable[[Tensor], Tensor]:
    """The tensor-level form of a one-input op whose integer inputs are promoted to the default
    float dtype first (``floating``), as PyTorch does for these functions."""

    def op(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        return function.apply(floating(input))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


asinh = _on_floating(Asinh, "asinh", "The inverse hyperbolic sine.")
acosh = _on_floating(Acosh, "acosh", "The inverse hyperbolic cosine (NaN below 1).")
atanh = _on_floating(Atanh, "atanh", "The inverse hyperbolic tangent (+-inf at +-1, NaN beyond).")
sinc = _on_floating(Sinc, "sinc", "The normalised sinc, sin(pi x) / (pi x), 1 at 0.")
erfc = _on_floating(
    Erfc, "erfc", "The complementary error function 1 - erf(x), without cancellation for large x."
)
erfinv = _on_floating(
    Erfinv, "erfinv", "The inverse error function: erfinv(erf(x)) = x; +-inf at +-1, NaN outside [-1, 1]."
)
lgamma = _on_floating(Lgamma, "lgamma", "ln |Gamma(x)|; +inf at the poles (0 and the negative integers).")
digamma = _on_floating(
    Digamma, "digamma", "psi(x), the derivative of lgamma; -inf at 0, NaN at the negative integers."
)
i0 = _on_floating(I0, "i0", "I0(x), the zeroth-order modified Bessel function of the first kind.")


def _refuse_complex(op: str, x: Tensor) -> None:
    # the multiply would accept a complex tensor (a complex-aware op), where PyTorch refuses
    if x._data.dtype.kind == "c":
        raise DTypeError(f"{op}: {op} is not supported for complex tensors (got {x._data.dtype})")


def deg2rad(input: Tensor) -> Tensor:  # noqa: A002
    """Degrees to radians: input * pi / 180 (real tensors only, as PyTorch)."""
    _refuse_complex("deg2rad", input)
    return named(elementwise.mul(floating(input), _PI / 180), "Deg2RadBackward0")  # PyTorch's node


def rad2deg(input: Tensor) -> Tensor:  # noqa: A002
    """Radians to degrees: input * 180 / pi (real tensors only, as PyTorch)."""
    _refuse_complex("rad2deg", input)
    return named(elementwise.mul(floating(input), 180 / _PI), "Rad2DegBackward0")


def frac(input: Tensor) -> Tensor:  # noqa: A002
    """The fractional part, input - trunc(input) (floating tensors only, as PyTorch)."""
    return Frac.apply(_floating_input("frac", input))


def signbit(input: Tensor) -> Tensor:  # noqa: A002
    """True where the sign bit is set (-0.0 and negative NaN included); a bool tensor, no gradient."""
    x = input._data
    xp = array_module(x)
    refuse_unordered("signbit", x)
    if x.dtype.kind == "b":
        return Tensor(xp.zeros(x.shape, bool), _wrap=True)
    return Tensor(xp.asarray(xp.signbit(x)), _wrap=True)


def trunc(input: Tensor) -> Tensor:  # noqa: A002
    """Rounded toward zero; integers are returned as they are (copied); a zero gradient, as ``floor``."""
    x = input._data
    refuse_unordered("trunc", x)  # (it would be returned as it is: PyTorch refuses)
    if x.dtype.kind == "b":
        raise KernelDTypeError("trunc: expected a numeric tensor, got bool")  # PyTorch: "not implemented"
    if (node := recorded_step(input, "trunc")) is not None:
        return node
    return Tensor(array_module(x).trunc(x) if x.dtype.kind == "f" else x.copy(), _wrap=True)


fix = trunc


def sgn(input: Tensor) -> Tensor:  # noqa: A002
    """The sign: ``sign`` for real tensors (a zero gradient); for complex ones z / |z|, 0 at 0, as PyTorch
    (the complex update of SignSGD, Tiger, Yogi), with its gradient (0 at 0)."""
    if input._data.dtype.kind != "c":
        node = recorded_step(input, "sgn")
        return node if node is not None else compare.sign(input)
    from glassgrad.ops.unary import abs as _abs

    size = _abs(input)
    zero = compare.eq(size, 0.0)
    return elementwise.where(zero, 0.0, elementwise.div(input, elementwise.where(zero, 1.0, size)))


class _NegativeOrderError(ValueError, RuntimeError):
    """polygamma of a negative order: PyTorch's RuntimeError, and the ValueError glassgrad raised."""


def polygamma(n: int, input: Tensor) -> Tensor:  # noqa: A002
    """psi^(n)(x), the n-th derivative of digamma (n = 0 is digamma itself)."""
    if (k := scalar_int(n)) is None:  # a NumPy or 0-d tensor int too
        raise TypeError(f"polygamma: expected an int n, got {type(n).__name__}")
    n = k
    if n < 0:
        raise _NegativeOrderError(f"polygamma: expected n >= 0, got {n} (it does not support negative n)")
    return Polygamma.apply(floating(input), n=n)
