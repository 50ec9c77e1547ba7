"""More unary math primitives: tan, the inverse trigonometric and the hyperbolic functions,
atan2, erf and expm1. Integer inputs are promoted to the default float dtype first.

Domains follow NumPy/PyTorch (asin/acos outside [-1, 1] give NaN, without a warning:
``backend.quietly``, as in ``unary.py``).
"""

from __future__ import annotations

import math

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, quietly
from glassgrad.ops.elementwise import float_operands, floating
from glassgrad.ops.special import erf_array
from glassgrad.tensor import Tensor

__all__ = ["tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "erf", "expm1"]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


class Tan(Function):
    """z = tan a.   VJP: g (1 + z^2)."""

    @staticmethod
    def forward(ctx, a):
        out = array_module(a).tan(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved
        return g * (1 + out * out)


class Asin(Function):
    """z = arcsin a.   VJP: g / sqrt(1 - a^2)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return quietly(array_module(a).arcsin, a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        xp = array_module(a)
        return quietly(xp.divide, g, quietly(xp.sqrt, 1 - a * a))  # inf at |a| = 1, nan beyond


class Acos(Function):
    """z = arccos a.   VJP: -g / sqrt(1 - a^2)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return quietly(array_module(a).arccos, a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        xp = array_module(a)
        return quietly(xp.divide, -g, quietly(xp.sqrt, 1 - a * a))  # inf at |a| = 1, nan beyond


class Atan(Function):
    """z = arctan a.   VJP: g / (1 + a^2)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return array_module(a).arctan(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        return g / (1 + a * a)


class Atan2(Function):
    """z = atan2(a, b), the angle of the point (b, a).   VJP: (g b / r^2, -g a / r^2), r^2 = a^2 + b^2,
    and 0 where r^2 is 0 (the origin, or an underflow), as PyTorch: no direction to move in."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return array_module(a).arctan2(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        xp = array_module(a)
        r2 = a * a + b * b
        r2 = xp.where(r2 == 0, xp.inf, r2)  # g * 0 / inf = 0 at the origin
        return xp.divide(g * b, r2), xp.divide(-g * a, r2)


class Sinh(Function):
    """z = sinh a.   VJP: g cosh a."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return array_module(a).sinh(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        return g * array_module(a).cosh(a)


class Cosh(Function):
    """z = cosh a.   VJP: g sinh a."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return array_module(a).cosh(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        return g * array_module(a).sinh(a)


class Erf(Function):
    """z = erf a = 2/sqrt(pi) * integral_0^a e^(-t^2) dt.   VJP: g 2/sqrt(pi) e^(-a^2)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return erf_array(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved
        return g * (_TWO_OVER_SQRT_PI * array_module(a).exp(-a * a)).astype(g.dtype, copy=False)


class Expm1(Function):
    """z = e^a - 1 (exact for small a).   VJP: g (z + 1)."""

    @staticmethod
    def forward(ctx, a):
        out = array_module(a).expm1(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved
        return g * (out + 1)


def tan(a: Tensor) -> Tensor:
    return Tan.apply(floating(a))


def asin(a: Tensor) -> Tensor:
    return Asin.apply(floating(a))


def acos(a: Tensor) -> Tensor:
    return Acos.apply(floating(a))


def atan(a: Tensor) -> Tensor:
    return Atan.apply(floating(a))


def atan2(a: Tensor, b: Tensor) -> Tensor:
    """The angle of (b, a) in (-pi, pi] (``torch.atan2(input, other)``); a and b broadcast."""
    return Atan2.apply(*float_operands(a, b, "atan2"))  # a bool (2,) beside a float16 0-d is float16


def sinh(a: Tensor) -> Tensor:
    return Sinh.apply(floating(a))


def cosh(a: Tensor) -> Tensor:
    return Cosh.apply(floating(a))


def erf(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    return Erf.apply(floating(input))


def expm1(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    return Expm1.apply(floating(input))
