"""Recorded VJP rules (``autograd/recorded.py``) of the special functions (gamma family, Bessel,
error and normal-distribution functions, entr, xlog1py), float_power, the modulo ops, the order
statistics (median, kthvalue, mode) and SDPA's layout copy.

The special functions' first-order slopes are evaluated in float64 and rounded to the input's
dtype (``_in_float64``, ``ops/unary_more.py``); a slope that is a composition of functions is
written here in float64 too (``_wide`` casts, recorded, then ``_narrow`` back), so its values are
the plain backward's in every dtype. A slope that is itself one op (lgamma's digamma, i0's i1) is
that op on the input, equal as it stands. Masks and rounded quotients are constants.
"""

from __future__ import annotations

import math

import numpy as np

import glassgrad as gg
from glassgrad import special
from glassgrad.autograd.recorded import constant, operand, rule, saved
from glassgrad.autograd.recorded_rules_math import _maxmin_dim, _pow, _safe, _sel
from glassgrad.autograd.recorded_rules_math2 import xlog_shifted
from glassgrad.ops.elementwise import div
from glassgrad.ops.special_more import I1
from glassgrad.ops.zero_slope import FlatPair

__all__: list[str] = []

_SQRT_HALF = math.sqrt(0.5)
_SQRT_2PI = math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2


def _wide(x):
    """``x`` in float64, where ``_in_float64`` evaluates the first-order slopes."""
    return x if x._data.dtype == np.float64 else x.to(gg.float64)


def _narrow(t, dtype):
    """A float64 slope rounded to the input's dtype, as ``_in_float64`` rounds it."""
    return t if t._data.dtype == dtype else t.to(dtype)


def _input(ctx):
    (a,) = saved(ctx)
    return a, operand(ctx, 0, a)


# ------------------------------------------------------------------ gamma family
@rule("lgamma")
def _lgamma(ctx, g):
    """g digamma(a)."""
    _, x = _input(ctx)
    return g * gg.digamma(x)


@rule("gammainc")
def _gammainc(ctx, g):
    """d P(a, x) / dx = x^(a−1) e^−x / Γ(a) (minus for Q), evaluated in float64 as the op's backward;
    a gets none (refused, as in the plain backward)."""
    a, x = saved(ctx)
    if ctx.needs_input_grad[0]:
        raise NotImplementedError(
            "gammainc: the derivative with respect to a (the first operand) is not implemented"
        )
    xt = _wide(operand(ctx, 1, x))
    a64 = constant(a.astype(np.float64))
    dens = ((a64 - 1) * xt.log() - xt - gg.lgamma(a64)).exp()
    return None, g * _narrow(-dens if ctx.attrs.get("upper") else dens, x.dtype)


@rule("digamma")
def _digamma(ctx, g):
    """g polygamma(1, a)."""
    _, x = _input(ctx)
    return g * gg.polygamma(1, x)


@rule("polygamma")
def _polygamma(ctx, g):
    """g polygamma(n + 1, a)."""
    _, x = _input(ctx)
    return g * gg.polygamma(ctx.attrs["n"] + 1, x)


# ------------------------------------------------------------------ Bessel
@rule("i0")
def _i0(ctx, g):
    """g i1(a) (i1 overflows to inf where i0's first-order slope does)."""
    _, x = _input(ctx)
    return g * special.i1(x)


@rule("i0e")
def _i0e(ctx, g):
    """g (i1e(a) - sign(a) i0e(a)), sign(0) = 0."""
    a, x = _input(ctx)
    w = _wide(x)
    slope = special.i1e(w) - constant(np.sign(a).astype(np.float64)) * special.i0e(w)
    return g * _narrow(slope, a.dtype)


@rule("i1")
def _i1(ctx, g):
    """g (i0(a) - i1(a) / a); 1/2 unless |a| > eps (NaN too; its slope there is I1''(0) = 0, as PyTorch's
    i1_backward, whose mask this is: i1(a) / a differentiated at a = 1e-300 was inf), i0(a)
    where it overflows."""
    a, x = _input(ctx)
    first = I1._evaluate(I1.slope, a)  # the plain backward's numbers: only its edges are read
    # past the overflow the slope is I0's inf (its own slope I1's +-inf), as the first order has it;
    # at +-inf (and |a| <= eps) the first order's constant
    with np.errstate(invalid="ignore"):  # NaN is in the mask, as PyTorch's abs(a) > eps is False there
        fixed = ~(np.abs(a) > np.finfo(a.dtype).eps) | np.isinf(a)
    over = np.isinf(first) & ~fixed
    w = _wide(_safe(fixed | over, x))
    d = _narrow(special.i0(w) - special.i1(w) / w, a.dtype)
    d = _sel(over, gg.i0(_safe(~over, x)), d)  # i0 in a's dtype: it overflows where the slope does
    return g * _sel(fixed, constant(first), d)


@rule("i1e")
def _i1e(ctx, g):
    """g (i0e(a) - i1e(a) (sign(a) + 1 / a)), 1/2 unless |a| > eps (NaN too; there its slope is taken as 0,
    as PyTorch's i1e_backward, whose mask this is: at a = 1e-300 the formula's slope was inf)."""
    a, x = _input(ctx)
    with np.errstate(invalid="ignore"):
        zero = ~(np.abs(a) > np.finfo(a.dtype).eps)  # NaN too, as PyTorch's mask
    w = _wide(_safe(zero, x))
    d = special.i0e(w) - special.i1e(w) * (constant(np.sign(a).astype(np.float64)) + 1 / w)
    return g * _sel(zero, 0.5, _narrow(d, a.dtype))


# ------------------------------------------------------------------ error and normal-distribution functions
@rule("erfinv")
def _erfinv(ctx, g):
    """g sqrt(pi)/2 e^(z^2), z = erfinv(a) again (forward saves a, as PyTorch's)."""
    a, x = _input(ctx)
    z = _wide(gg.erfinv(x))
    return g * _narrow(_SQRT_PI_OVER_TWO * gg.exp(z * z), a.dtype)


@rule("erfcx")
def _erfcx(ctx, g):
    """g (2 a erfcx(a) - 2/sqrt(pi))."""
    a, x = _input(ctx)
    w = _wide(x)
    return g * _narrow(2 * w * special.erfcx(w) - _TWO_OVER_SQRT_PI, a.dtype)


@rule("entr")
def _entr(ctx, g):
    """-g (1 + ln a), everywhere (inf at 0, NaN below), as the first order and PyTorch."""
    a, x = _input(ctx)
    return g * _narrow(-(1 + gg.log(_wide(x))), a.dtype)


@rule("ndtr")
def _ndtr(ctx, g):
    """g e^(-a^2 / 2) / sqrt(2 pi)."""
    a, x = _input(ctx)
    w = _wide(x)
    return g * _narrow(gg.exp(-0.5 * w * w) / _SQRT_2PI, a.dtype)


@rule("ndtri")
def _ndtri(ctx, g):
    """g sqrt(2 pi) e^(z^2 / 2), z = ndtri(p) recomputed in float64 (as the first order)."""
    a, x = _input(ctx)
    z = special.ndtri(_wide(x))
    return g * _narrow(_SQRT_2PI * gg.exp(0.5 * z**2), a.dtype)


@rule("log_ndtr")
def _log_ndtr(ctx, g):
    """g phi(a) / Phi(a): sqrt(2/pi) / erfcx(-a / sqrt 2) for a < 0, e^(-a^2/2) / sqrt(2 pi) / ndtr(a) else."""
    a, x = _input(ctx)
    neg = a < 0
    w = _wide(x)
    # each branch on an operand that is harmless where the other is taken (erfcx(-a / sqrt 2)
    # overflows for large a, and its slope times where's 0 would be NaN)
    # a division, as the first order's (``number / t`` is ``t.reciprocal() * number``, PyTorch's)
    left = div(_SQRT_2_OVER_PI, special.erfcx(-_safe(~neg, w, 0.0) * _SQRT_HALF))
    r = _safe(neg, w, 0.0)
    right = gg.exp(-0.5 * r * r) / _SQRT_2PI / special.ndtr(r)
    return g * _narrow(_sel(neg, left, right), a.dtype)


@rule("xlog1py")
def _xlog1py(ctx, g):
    """(xlog1py(g, b), 0 where a == 0 and b <= -1; g a / (b + 1))."""
    return xlog_shifted(ctx, g, 1, special.xlog1py)


# ------------------------------------------------------------------ powers and modulo
# float_power is Pow's forward and backward on float64 operands (numbers as 0-d arrays)
rule("floatpower")(_pow)


def _modulo(ctx, g, mode):
    if not ctx.needs_input_grad[1]:  # (forward saved nothing then)
        return g, None
    a, b = saved(ctx)
    # the quotient stays in the graph with a zero gradient, as PyTorch's
    # -grad * self.div(other, rounding_mode=): a further grad through it alone gives zeros
    return g, -g * FlatPair.apply(operand(ctx, 0, a), operand(ctx, 1, b), op=mode)


@rule("fmod")
def _fmod(ctx, g):
    """(g, -g trunc(a / b))."""
    return _modulo(ctx, g, "trunc")


@rule("remainder")
def _remainder(ctx, g):
    """(g, -g (a // b)); the quotient is ``floor_divide``'s (1 // -inf = -1, as PyTorch's)."""
    return _modulo(ctx, g, "floor")


# ------------------------------------------------------------------ order statistics
@rule("median")
def _median(ctx, g):
    """g / (number of elements equal to z) at each of them (at each NaN when z is NaN), 0
    elsewhere (a select, as the op's backward)."""
    x, out = saved(ctx)
    mask = np.isnan(x) if np.isnan(out) else x == out
    return gg.where(constant(mask), g / float(mask.sum()), 0.0)


# gathers at the index the forward chose (``MaxMinDim`` subclasses): g placed back there
rule("median_dim", "kthvalue", "mode")(_maxmin_dim)


# ------------------------------------------------------------------ layout
@rule("querylayoutcopy")
def _query_layout_copy(ctx, g):
    """g."""
    return g
