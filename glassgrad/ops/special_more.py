"""The special functions ``torch.special`` has beyond the top-level ones: entr, erfcx, ndtr,
ndtri, log_ndtr, xlog1py and multigammaln, with their gradients.

Each one-input function is a float64 evaluation rounded to the input's dtype (``_InFloat64`` of
``unary_more.py``), built on Cody's rational approximations (``special.py``) so that the tails
keep their digits: ``erfcx(x) = e^(x^2) erfc(x)`` is Cody's rational itself for x > 0.47 (erfc is
that rational times e^(-x^2)), and ``log_ndtr`` of a negative x is ``log(erfcx(u) / 2) - u^2``
with u = -x / sqrt 2, finite where ndtr has long underflowed (log_ndtr(-40) = -804.6).
"""

from __future__ import annotations

import math

from glassgrad.backend import array_module
from glassgrad.errors import KernelDTypeError
from glassgrad.operand_errors import scalar_int
from glassgrad.ops.elementwise import floating
from glassgrad.ops.math_more import Xlogy, _promoted_operands
from glassgrad.ops.special import _A, _B, _C, _D, _INV_SQRT_PI, _P, _Q, _ratio
from glassgrad.ops.special_series import erfc_array, erfinv_array, i0_array, i0e_array, i1_array, i1e_array
from glassgrad.ops.unary_more import _in_float64, _InFloat64, _on_floating, _overflow_like_pytorch, lgamma
from glassgrad.tensor import Tensor

__all__ = [
    "entr", "erfcx", "ndtr", "ndtri", "log_ndtr", "xlog1py", "multigammaln", "mvlgamma", "i1", "i0e", "i1e",
]  # fmt: skip

_SQRT_HALF = math.sqrt(0.5)
_SQRT_2PI = math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_LOG_PI = math.log(math.pi)


def erfcx_array(x):
    """e^(x^2) erfc(x) on float64: Cody's rationals for x >= 0 (no exponential at all past 0.47),
    and 2 e^(x^2) - erfcx(-x) below 0, which overflows to inf below about -26.6, as PyTorch."""
    xp = array_module(x)
    y = xp.abs(x)
    small = xp.minimum(y, 0.46875)
    near = xp.clip(y, 0.46875, 4.0)
    far = xp.maximum(y, 4.0)
    r_small = xp.exp(small * small) * (1 - small * _ratio(small * small, _A, _B))
    r_far = (_INV_SQRT_PI - _ratio(1 / (far * far), _P, _Q) / (far * far)) / far
    r = xp.where(y <= 0.46875, r_small, xp.where(y <= 4.0, _ratio(near, _C, _D), r_far))
    return xp.where(x < 0, 2 * xp.exp(x * x) - r, r)


def ndtr_array(x):
    """Phi(x), the standard normal CDF, as erfc(-x / sqrt 2) / 2 (no cancellation in the left tail)."""
    return 0.5 * erfc_array(-x * _SQRT_HALF)


def log_ndtr_array(x):
    """log Phi(x): log(erfcx(u) / 2) - u^2 (u = -x / sqrt 2) for x < 0, log1p(-erfc(x / sqrt 2) / 2)
    for x >= 0, so that neither tail loses its digits."""
    xp = array_module(x)
    u = xp.maximum(-x, 0.0) * _SQRT_HALF
    left = xp.log(0.5 * erfcx_array(u)) - u * u
    right = xp.log1p(-0.5 * erfc_array(xp.maximum(x, 0.0) * _SQRT_HALF))
    return xp.where(x < 0, left, right)


def _log_ndtr_slope(x):
    """phi(x) / Phi(x): sqrt(2 / pi) / erfcx(-x / sqrt 2) for x < 0 (the e^(-x^2 / 2) cancel)."""
    xp = array_module(x)
    u = xp.maximum(-x, 0.0) * _SQRT_HALF
    right = xp.exp(-0.5 * x * x) / _SQRT_2PI / ndtr_array(xp.maximum(x, 0.0))
    return xp.where(x < 0, _SQRT_2_OVER_PI / erfcx_array(u), right)


def ndtri_array(p):
    """Phi^-1(p): on q = min(p, 1 - p) (1 - p is exact for p >= 0.5), Abramowitz and Stegun 26.2.23
    as the start (error below 4.5e-4), then Newton steps on log Phi(x) = log q, which the tail
    formula above keeps accurate down to the smallest q. -inf at 0, inf at 1, NaN outside [0, 1].
    For 0.25 <= p <= 0.75 it is sqrt(2) erfinv(2 p - 1) instead (2 p - 1 is exact there): log q
    carries p - 0.5 only to float64's resolution of log 0.5, so near p = 0.5, where Phi^-1 vanishes,
    the Newton steps were 250 ulps off (PyTorch's: 2)."""
    xp = array_module(p)
    upper = p > 0.5
    q = xp.where(upper, 1 - p, p)
    inside = (q > 0) & (q <= 0.5)
    q = xp.where(inside, q, 0.25)
    t = xp.sqrt(-2 * xp.log(q))
    x = -(
        t - (2.515517 + t * (0.802853 + t * 0.010328)) / (1 + t * (1.432788 + t * (0.189269 + t * 0.001308)))
    )
    log_q = xp.log(q)
    for _ in range(4):  # quadratic convergence: 4.5e-4, 1e-7, 1e-14, then rounding
        x = x - (log_ndtr_array(x) - log_q) / _log_ndtr_slope(x)
    x = xp.where(upper, -x, x)
    central = xp.abs(p - 0.5) <= 0.25
    x = xp.where(central, math.sqrt(2) * erfinv_array(xp.where(central, 2 * p - 1, 0.0)), x)
    edge = xp.where(p == 0, -xp.inf, xp.where(p == 1, xp.inf, xp.nan))
    return xp.where(inside, x, edge)


def _entr_value(x):
    xp = array_module(x)
    pos = xp.where(x > 0, x, 1.0)
    out = xp.where(x > 0, -pos * xp.log(pos), xp.where(x == 0, 0.0, -xp.inf))
    return xp.where(xp.isnan(x), xp.nan, out)


class Entr(_InFloat64):
    """z = -x ln x for x > 0, 0 at 0, -inf below.   VJP: -g (1 + ln x), everywhere, as PyTorch
    (so inf at 0 and NaN below 0)."""

    value = staticmethod(_entr_value)
    slope = staticmethod(lambda x: -(1 + array_module(x).log(x)))


class Erfcx(_InFloat64):
    """z = e^(x^2) erfc(x).   VJP: g (2 x z - 2 / sqrt(pi))."""

    value = staticmethod(erfcx_array)
    slope = staticmethod(lambda x: 2 * x * erfcx_array(x) - _TWO_OVER_SQRT_PI)


class Ndtr(_InFloat64):
    """z = Phi(x).   VJP: g phi(x), phi(x) = e^(-x^2 / 2) / sqrt(2 pi)."""

    value = staticmethod(ndtr_array)
    slope = staticmethod(lambda x: array_module(x).exp(-0.5 * x * x) / _SQRT_2PI)


class LogNdtr(_InFloat64):
    """z = log Phi(x).   VJP: g phi(x) / Phi(x)."""

    name = "log_ndtr"

    value = staticmethod(log_ndtr_array)
    slope = staticmethod(_log_ndtr_slope)


class Ndtri(_InFloat64):
    """z = Phi^-1(p).   VJP: g sqrt(2 pi) e^(z^2 / 2) (inf at 0 and 1), with z recomputed in float64
    from p: from the float32 z, e^(z^2 / 2) would carry z's rounding times z^2 (1e-5 at p = 1e-38)."""

    value = staticmethod(ndtri_array)
    slope = staticmethod(lambda p: _SQRT_2PI * array_module(p).exp(0.5 * ndtri_array(p) ** 2))


# PyTorch's i1 and i1e backward take the slope as 1/2 unless |a| > eps (so at NaN too): i1(a) / a
# is then 1/2 + O(a^2), already 1/2 in every dtype, and at a subnormal a it would be 0 or inf
_TINY = 2.0**-52


class I1(_InFloat64):
    """z = I1(a), the modified Bessel function of the first kind, order 1.   VJP: g (I0(a) - I1(a) / a),
    1/2 unless |a| > eps (NaN included, as PyTorch), and +inf where it overflows (it is positive):
    PyTorch's inf - inf gives NaN there."""

    value = staticmethod(i1_array)

    @staticmethod
    def slope(x):
        xp = array_module(x)
        tiny = ~(xp.abs(x) > _TINY)
        d = i0_array(x) - i1_array(x) / xp.where(tiny, 1.0, x)
        return xp.where(tiny, 0.5, xp.where(xp.isnan(d), xp.inf, d))

    @staticmethod
    def _evaluate(fn, a):
        """inf where PyTorch's e^|a| factor overflows in a's dtype (as ``I0``)."""
        return _overflow_like_pytorch(_in_float64(fn, a), a)


class I0e(_InFloat64):
    """z = e^-|a| I0(a).   VJP: g (i1e(a) - sign(a) z) (0 at 0)."""

    value = staticmethod(i0e_array)
    slope = staticmethod(lambda x: i1e_array(x) - array_module(x).sign(x) * i0e_array(x))


class I1e(_InFloat64):
    """z = e^-|a| I1(a).   VJP: g (i0e(a) - z (sign(a) + 1 / a)), 1/2 unless |a| > eps (NaN too)."""

    value = staticmethod(i1e_array)

    @staticmethod
    def slope(x):
        xp = array_module(x)
        tiny = ~(xp.abs(x) > _TINY)
        safe = xp.where(tiny, 1.0, x)
        return xp.where(tiny, 0.5, i0e_array(safe) - i1e_array(safe) * (xp.sign(safe) + 1 / safe))


class Xlog1py(Xlogy):
    """z = a ln(1 + b), 0 where a == 0 (NaN if b is).   VJP: (g ln(1 + b), taken as 0 where a == 0
    and b <= -1; g a / (1 + b)), as PyTorch: so NaN for b at a = 0, b = -1 (``Xlogy`` with 1 + b)."""

    shift = 1


# ------------------------------------------------------------------ tensor-level functions
entr = _on_floating(Entr, "entr", "Elementwise entropy -x ln x (0 at 0, -inf for negative x).")
erfcx = _on_floating(Erfcx, "erfcx", "The scaled complementary error function e^(x^2) erfc(x).")
ndtr = _on_floating(Ndtr, "ndtr", "The standard normal CDF Phi(x).")
ndtri = _on_floating(
    Ndtri, "ndtri", "The inverse standard normal CDF (-inf at 0, inf at 1, NaN outside [0, 1])."
)
log_ndtr = _on_floating(LogNdtr, "log_ndtr", "log Phi(x), accurate in both tails.")
i1 = _on_floating(I1, "i1", "I1(x), the first-order modified Bessel function of the first kind.")
i0e = _on_floating(I0e, "i0e", "e^-|x| I0(x), the exponentially scaled I0.")
i1e = _on_floating(I1e, "i1e", "e^-|x| I1(x), the exponentially scaled I1.")


def xlog1py(input, other) -> Tensor:  # noqa: A002
    """input * log1p(other), 0 where input is 0 (unless other is NaN); either may be a number,
    integers become floats."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):  # PyTorch's parser refuses it
        raise TypeError(f"xlog1py: expected a Tensor as input or other, got numbers {input!r} and {other!r}")
    return Xlog1py.apply(*_promoted_operands(input, other, "xlog1py"))


def multigammaln(input: Tensor, p: int) -> Tensor:  # noqa: A002
    """The multivariate log-gamma function of dimension ``p``:
    p (p - 1) / 4 ln(pi) + sum_{j < p} lgamma(input - j / 2). As PyTorch 2.13, no domain check:
    below (p - 1) / 2 it is the same sum of lgamma (inf at the poles)."""
    if (k := scalar_int(p)) is None:  # a NumPy or 0-d tensor int, as PyTorch's parser reads one
        raise TypeError(f"multigammaln: expected p to be an int, got {type(p).__name__}")
    p = k
    if p < 1:
        raise RuntimeError(f"multigammaln: expected p to be at least 1, got {p}")
    if isinstance(input, Tensor) and input._data.dtype.kind == "b":
        raise RuntimeError(
            "multigammaln: expected a non-boolean tensor, got a bool one (refused, as in PyTorch)"
        )
    x = floating(input)
    if x._data.dtype.kind != "f":
        # a complex one: PyTorch's arange has no kernel for it ("arange_cpu" not implemented)
        raise KernelDTypeError(f"multigammaln: expected a floating point tensor, got {x.dtype}")
    out = lgamma(x)
    for j in range(1, p):  # p terms: the dimension, not the elements
        out = out + lgamma(x - j / 2)
    return out + p * (p - 1) / 4 * _LOG_PI


def mvlgamma(input: Tensor, p: int) -> Tensor:  # noqa: A002
    """``torch.mvlgamma``: ``multigammaln`` under its top-level name."""
    return multigammaln(input, p)
