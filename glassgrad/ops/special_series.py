"""Special functions on raw float64 arrays, for ``unary_more.py``'s ops: erfc, erfinv, lgamma,
digamma, polygamma (trigamma and the Hurwitz zeta function) and the modified Bessel functions
I0 and I1.

SciPy is not a dependency, so each is evaluated here with vectorised NumPy (loops run over series
terms, never over elements), to about 1e-15 relative error in float64 (lgamma too near its zeros
at 1 and 2; near its negative zeros, where the reflection formula loses digits, 1e-16 absolute).
They take and return float64 arrays; the ops cast to and from float32.
Poles, infinities and NaN give what PyTorch gives (documented per function). NumPy's
floating-point warnings are the callers' to silence (``backend.quietly``).
"""

from __future__ import annotations

import math

from glassgrad.backend import array_module
from glassgrad.ops.bit_select import select, zero_where
from glassgrad.ops.special import _A, _B, _C, _D, _INV_SQRT_PI, _P, _Q, _horner, _ratio

__all__ = [
    "erfc_array", "erfinv_array", "lgamma_array", "digamma_array", "trigamma_array",
    "polygamma_array", "i0_array", "i1_array", "i0e_array", "i1e_array",
]  # fmt: skip

_PI = math.pi
# B_2k, the Bernoulli numbers B_2 ... B_24, for the asymptotic series below
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798,
              -174611 / 330, 854513 / 138, -236364091 / 2730)  # fmt: skip


def erfc_array(x):
    """1 - erf(x) without the cancellation: Cody's rational approximations (as ``erf_array``),
    with the exponential split for large x; underflows to 0 past x of about 27.3 (as PyTorch).

    Each of Cody's three ranges of |x| is evaluated on its own elements only, gathered by their
    flat positions (``take``, 5 times faster than a boolean mask), not all three everywhere and then
    chosen: the same formulas per element, a third of the work."""
    xp = array_module(x)
    flat = x.reshape(-1)
    y = xp.abs(flat)
    out = xp.empty_like(y)
    in_small = y <= 0.46875
    small, big = xp.flatnonzero(in_small), xp.flatnonzero(~in_small)  # NaN is big: the far range keeps it
    ys = y.take(small)
    out[small] = 1 - flat.take(small) * _ratio(ys * ys, _A, _B)
    xb = flat.take(big)
    z = xp.minimum(xp.abs(xb), 28.0)  # erfc(28) is below the smallest double
    in_far = ~(z <= 4.0)
    if in_far.any():
        near, far_at = xp.flatnonzero(~in_far), xp.flatnonzero(in_far)
        r = xp.empty_like(z)
        r[near] = _ratio(z.take(near), _C, _D)
        far = z.take(far_at)
        r[far_at] = (_INV_SQRT_PI - _ratio(1 / (far * far), _P, _Q) / (far * far)) / far
    else:  # the usual case: no |x| past 4
        r = _ratio(z, _C, _D)
    s = xp.trunc(z * 16) / 16  # e^(-z^2) as e^(-s^2) e^(-(z - s)(z + s)): z^2's rounding not magnified
    tail = xp.exp(-s * s) * xp.exp(-(z - s) * (z + s)) * r
    out[big] = xp.where(xb < 0, 2 - tail, tail)
    return out.reshape(x.shape)


# M. J. Wichura, "Algorithm AS 241: the percentage points of the normal distribution", Applied
# Statistics 37 (1988): Phi^-1(p) to about 1e-16 relative error by three rationals in r, each with
# numerator and denominator of degree 7 (coefficients from the constant term up).
_AS241_CENTRAL = (
    (3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3, 1.3731693765509461125e4,
     4.5921953931549871457e4, 6.7265770927008700853e4, 3.3430575583588128105e4, 2.5090809287301226727e3),
    (1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3, 2.1213794301586595867e4,
     3.9307895800092710610e4, 2.8729085735721942674e4, 5.2264952788528545610e3),
)  # fmt: skip
_AS241_TAIL = (
    (1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0, 3.64784832476320460504e0,
     1.27045825245236838258e0, 2.41780725177450611770e-1, 2.27238449892691845833e-2, 7.74545014278341407640e-4),
    (1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
     1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4, 1.05075007164441684324e-9),
)  # fmt: skip
_AS241_FAR = (
    (6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0, 2.96560571828504891230e-1,
     2.65321895265761230930e-2, 1.24266094738807843860e-3, 2.71155556874348757815e-5, 2.01033439929228813265e-7),
    (1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
     7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7, 2.04426310338993978564e-15),
)  # fmt: skip
_SQRT_HALF = math.sqrt(0.5)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2
_ERF_SMALL_UP_TO = 0.49  # erf(0.46875) = 0.4927: Cody's first range, x R1(x^2), covers |y| <= 0.49


def _as241(t, coeffs):
    return _horner(t, coeffs[0]) / _horner(t, coeffs[1])


def erfinv_array(y):
    """The inverse of erf on [-1, 1], within 3 float64 ulps (PyTorch's kernel: 1): Wichura's
    Phi^-1 as erfinv(y) = Phi^-1((1 + y) / 2) / sqrt 2, then one Newton step, on |y|. For |y| <= 0.85
    Phi^-1's argument less 1/2 is |y| / 2, exact; beyond, its tail form takes 1 - |y|, exact there.
    The step solves erf(x) = |y| with Cody's x R1(x^2) for |y| <= 0.49, else erfc(x) = 1 - |y|,
    which keeps the tail accurate relative to 1 - |y|. Each range is evaluated on its own elements
    only (Giles' start and four Halley steps on every element, which this replaced, cost 60 times
    PyTorch). +-inf at +-1, NaN beyond and at NaN, as PyTorch."""
    xp = array_module(y)
    a = xp.abs(y)
    x = xp.where(a == 1, xp.inf, xp.nan)
    central = a <= 0.85
    half = 0.5 * a[central]
    x[central] = half * _as241(0.180625 - half * half, _AS241_CENTRAL)
    outer = (a > 0.85) & (a < 1)
    r = xp.sqrt(-xp.log(0.5 * (1 - a[outer])))
    far = r > 5  # 1 - |y| below 2.8e-11
    x_outer = xp.empty_like(r)
    x_outer[~far] = _as241(r[~far] - 1.6, _AS241_TAIL)
    x_outer[far] = _as241(r[far] - 5.0, _AS241_FAR)
    x[outer] = x_outer
    x *= _SQRT_HALF
    small = a <= _ERF_SMALL_UP_TO
    xs = x[small]
    x[small] = xs - (xs * _ratio(xs * xs, _A, _B) - a[small]) * _SQRT_PI_OVER_TWO * xp.exp(xs * xs)
    rest = (a > _ERF_SMALL_UP_TO) & (a < 1)
    xr, ar = x[rest], a[rest]
    e = erfc_array(xr)
    # erfc(x) - (1 - |y|) with one rounding: 1 - |y| is exact from |y| = 1/2, erfc(x) - 1 below
    gap = xp.where(ar < 0.5, (e - 1) + ar, e - (1 - ar))
    x[rest] = xr + gap * _SQRT_PI_OVER_TWO * xp.exp(xr * xr)
    return xp.copysign(x, y)


_HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)
_LOG_PI = math.log(math.pi)
_EULER_GAMMA = 0.57721566490153286
_STIRLING_FROM = 8.0  # lgamma's asymptotic series from here; the recurrence and the series at 2 below
# Stirling's series for ln Gamma: sum_k B_2k / (2k (2k - 1) x^(2k - 1)), as a polynomial in 1 / x^2
_STIRLING = tuple(b / (2 * k * (2 * k - 1)) for k, b in enumerate(_BERNOULLI, 1))
_AT_TWO: list = []  # the Taylor coefficients of ln Gamma(2 + t), made on first use


def _zeta_minus_one(k: int) -> float:
    """zeta(k) - 1 = sum_{n >= 2} n^-k for k >= 2, to float64's last bit (subtracting 1 from
    zeta(k) would lose the digits that make the series at 2 accurate): 62 terms plus the
    Euler-Maclaurin tail from n = 64."""
    n = 64
    tail = (n ** (1 - k) / (k - 1) + n**-k / 2 + k * n ** (-k - 1) / 12
            - k * (k + 1) * (k + 2) * n ** (-k - 3) / 720
            + k * (k + 1) * (k + 2) * (k + 3) * (k + 4) * n ** (-k - 5) / 30240)  # fmt: skip
    return math.fsum([m**-k for m in range(2, n)] + [tail])


def _lgamma_near_two(t):
    """ln Gamma(2 + t) for |t| <= 0.5 by its Taylor series (1 - gamma) t + sum_k>=2 (-1)^k
    (zeta(k) - 1) t^k / k, whose terms fall as 4^-k there: accurate relative to the value, which
    vanishes at t = 0 (Lanczos' formula was 1e4 ulps off near the zeros of ln Gamma at 1 and 2,
    where PyTorch's libm is within one)."""
    if not _AT_TWO:
        _AT_TWO.extend((-1) ** k * _zeta_minus_one(k) / k for k in range(2, 30))
    acc = array_module(t).full_like(t, _AT_TWO[-1])
    for c in reversed(_AT_TWO[:-1]):
        acc = acc * t + c
    return t * (acc * t + (1 - _EULER_GAMMA))


def _lgamma_right(x):
    """ln Gamma(x) for x >= 0.5. Below 8 the recurrence Gamma(x) = (x - 1) ... (x - n) Gamma(x - n)
    brings x to y in [1.5, 2.5), taken by the series at 2; below 1.5 the step is up, ln Gamma(x) =
    ln Gamma(x + 1) - ln x. From 8 Stirling's series. Each part is evaluated on its own elements."""
    xp = array_module(x)
    small = x < _STIRLING_FROM
    if small.all():
        return _lgamma_recurrence(x)
    if not small.any():
        return _lgamma_stirling(x)
    out = xp.empty_like(x)
    out[small] = _lgamma_recurrence(x[small])
    out[~small] = _lgamma_stirling(x[~small])
    return out


def _lgamma_recurrence(x):
    """ln Gamma(x) for 0.5 <= x < 8 (see ``_lgamma_right``)."""
    xp = array_module(x)
    n = xp.floor(x - 1.5)  # -1 ... 6
    prod = xp.ones_like(x)
    one = _const(x, 1.0)
    for j in range(1, int(n.max(initial=0)) + 1):
        prod = prod * select(n >= j, x - j, one)
    log_steps = select(n < 0, -xp.log(x), xp.log(prod))
    return _lgamma_near_two(x - (n + 2)) + log_steps  # (x minus an integer is exact; x - n - 2 is not)


def _lgamma_stirling(x):
    """ln Gamma(x) for x >= 8: x (ln x - 1) - ln(x) / 2 + ln(2 pi) / 2 + Stirling's series, so that
    x up to 2.5e305 stays finite."""
    xp = array_module(x)
    inv = 1 / x  # (not 1 / x^2: x^2 overflows from 1.3e154)
    inv2 = inv * inv
    series = xp.full_like(x, _STIRLING[-1])
    for c in reversed(_STIRLING[:-1]):
        series = series * inv2 + c
    log_x = xp.log(x)
    return x * (log_x - 1) - 0.5 * log_x + _HALF_LOG_TWO_PI + series * inv


def lgamma_array(x):
    """ln |Gamma(x)|: ``_lgamma_right`` for x >= 0.5, the reflection formula below. +inf at the poles
    (0, -0 and the negative integers) and at +-inf, as PyTorch; NaN stays NaN."""
    xp = array_module(x)
    left = x < 0.5
    inf = _const(x, xp.inf)
    out = right = _lgamma_right(select(left, 1 - x, x))
    if left.any():  # (the reflection's passes only where some x needs it)
        finite = xp.isfinite(x)
        # sin(pi x) from x's distance to an integer: exact
        r = select(finite, x - xp.round(x), _const(x, 0.5))
        # log pi - log|sin|, not log(pi / |sin|): pi / sin(pi x) overflows for subnormal x; at the poles
        # (r = 0) +inf, not inf - inf where 1 - x is so large that lgamma(1 - x) is inf too
        reflected = select(r == 0, inf, _LOG_PI - xp.log(xp.abs(xp.sin(_PI * r))) - right)
        out = select(left, reflected, right)
    out = zero_where((x == 1) | (x == 2), out)  # exact zeros, as PyTorch
    tiny = xp.abs(x) < 1e-300  # -ln|x| - gamma x: sin(pi x) of a subnormal x has lost digits
    if tiny.any():
        out = select(tiny, -xp.log(select(tiny, xp.abs(x), _const(x, 1.0))), out)
    return select(xp.isinf(x), inf, out)


# digamma's asymptotic series: sum_k B_2k / (2k) z^k, z = 1 / x^2
_DIGAMMA_SERIES = tuple(b / (2 * k) for k, b in enumerate(_BERNOULLI[:7], 1))


def _const(x, value):
    """``value`` as a 0-d array of x's dtype: what ``select``'s fast path takes for a constant."""
    return array_module(x).asarray(value, dtype=x.dtype)


def _shift_up(x, fn):
    """(x shifted up by 1 while x < 10, at most ten times; the sum of fn(x) over the steps taken).
    x >= 0 here."""
    xp = array_module(x)
    acc = xp.zeros_like(x)
    for _ in range(10):
        m = x < 10
        if not m.any():
            break
        # selections through the bits (bit_select), not np.where, which branches per element: 5
        # times faster, the same values (fn of an x past 10, or NaN, is computed and zeroed)
        acc = acc + zero_where(~m, fn(x))
        x = select(m, x + 1, x)
    return x, acc


def digamma_array(x):
    """psi(x) = d/dx ln Gamma(x), as PyTorch computes it: reflection for x < 0 (from x's fractional
    part), recurrence up to x >= 10, then the asymptotic series. -inf at 0, +inf at -0, NaN at the
    negative integers and -inf."""
    xp = array_module(x)
    neg = x < 0
    pos = select(neg, 1 - x, x)
    pos = select(pos == 0, _const(x, 1.0), pos)
    y, acc = _shift_up(pos, lambda v: -1 / v)
    z = 1 / (y * y)
    out = acc + xp.log(y) - 0.5 / y - z * _horner(z, _DIGAMMA_SERIES)
    if neg.any():  # (the reflection's passes only where some x needs it)
        frac = x - xp.trunc(zero_where(~xp.isfinite(x), x))
        out = select(neg, out - _PI / xp.tan(_PI * frac), out)
        out = select(neg & (x == xp.trunc(x)), _const(x, xp.nan), out)
    return select(x == 0, xp.copysign(xp.inf, -x), out)


def trigamma_array(x):
    """psi'(x): pi^2 / sin^2(pi x) - psi'(1 - x) for x < 0.5 (sin(pi x) taken as PyTorch takes it,
    so the poles give what PyTorch gives: inf at 0, huge values at the negative integers),
    recurrence up to x >= 10 and the asymptotic series 1/x + 1/(2x^2) + sum B_2k / x^(2k+1)."""
    xp = array_module(x)
    left = x < 0.5
    pos = select(left, 1 - x, x)
    y, acc = _shift_up(pos, lambda v: 1 / (v * v))
    z = 1 / (y * y)
    out = acc + 1 / y + 0.5 * z + z / y * _horner(z, _BERNOULLI[:8])
    s = xp.sin(_PI * x)
    return select(left, _PI * _PI / (s * s) - out, out)


# Euler-Maclaurin coefficients of the Hurwitz zeta function: (2j)! / B_2j, as Cephes' zeta
_ZETA_A = tuple(math.factorial(2 * j) / b for j, b in enumerate(_BERNOULLI, 1))
_EPS = 2.0**-53


def zeta_direct(q, s):
    """Cephes' first part of sum_k (q + k)^-s: the terms to q + k > 9 (at least ten), summed, and
    that first left-out q + k. ``s``: a number, or an array of q's shape (``special_zeta.py``)."""
    xp = array_module(q)
    need = xp.maximum(9, xp.floor(9 - xp.minimum(q, 9)) + 1)  # Cephes: while (i < 9 || a <= 9)
    need = xp.where(xp.isnan(q), 9, need)
    total = q**-s
    for i in range(1, 10):  # every element takes nine more terms
        total = total + (q + i) ** -s
    (rest,) = xp.nonzero(need > 9)  # q < 0 takes more, summed in blocks of terms
    for lo in range(0, rest.size, 256):  # 256 elements by 4096 terms: 8 MB at a time, not rows x 32 KB
        part = rest[lo : lo + 256]
        qr, nr = q[part, None], need[part, None]
        sr = s[part, None] if xp.ndim(s) else s
        last = int(nr.max())
        for start in range(10, last + 1, 4096):
            k = xp.arange(start, min(start + 4096, last + 1))
            total[part] += xp.where(k <= nr, (qr + k) ** -sr, 0.0).sum(axis=1)
    return total, q + need


def zeta_tail(total, w, s, done):
    """``total`` plus the Euler-Maclaurin tail from the first left-out term w:
    w^(1-s) / (s - 1) - w^-s / 2 + sum_j B_2j s (s+1) ... (s+2j-2) w^(-s-2j+1) / (2j)!, each term
    until it is below the sum's last bit; nothing where ``done`` (Cephes' stop in the direct part)."""
    xp = array_module(total)
    b = w**-s
    total = xp.where(done, total, total + b * w / (s - 1) - 0.5 * b)
    fac = xp.ones_like(total)
    for j, coeff in enumerate(_ZETA_A):
        fac = fac * (s + 2 * j)
        b = b / w
        t = fac * b / coeff
        total = total + xp.where(done, 0.0, t)
        done = done | (xp.abs(t) < _EPS * xp.abs(total))
        fac = fac * (s + 2 * j + 1)
        b = b / w
    return total


def zeta_array(s: int, q):
    """The Hurwitz zeta function sum_k (q + k)^-s for an integer s >= 2, as Cephes' ``zeta``
    (PyTorch's): direct sum to q + N > 9 with N >= 9, then Euler-Maclaurin. inf at the
    non-positive integers (and -inf), NaN at +inf, as PyTorch."""
    xp = array_module(q)
    shape = q.shape
    q = q.reshape(-1)  # flat, for the index arithmetic of the direct part
    pole = (q <= 0) & (q == xp.floor(q))
    q = xp.where(pole, 1.0, q)
    total, w = zeta_direct(q, s)
    total = zeta_tail(total, w, s, xp.zeros(q.shape, bool))
    return xp.where(pole, xp.inf, total).reshape(shape)


def polygamma_array(n: int, x):
    """psi^(n)(x), the n-th derivative of digamma: digamma for n = 0, trigamma for n = 1, else
    (-1)^(n+1) n! zeta(n + 1, x), as PyTorch."""
    if n == 0:
        return digamma_array(x)
    if n == 1:
        return trigamma_array(x)
    fact = math.factorial(n)
    fact = float(fact) if n < 171 else math.inf  # 171! is past the largest double: inf, as PyTorch
    return (-1.0) ** (n + 1) * fact * zeta_array(n + 1, x)


def _bessel(x, nu: int, scaled: bool = False):
    """I_nu(|x|) for nu in (0, 1): the power series to |x| = 30, the asymptotic series beyond;
    ``scaled``: e^-|x| I_nu(|x|) (i0e, i1e), which the asymptotic series gives without e^|x|."""
    xp = array_module(x)
    ax = xp.abs(x)
    small = xp.minimum(ax, 30.0)
    t = small * small / 4
    if nu == 0:
        term = xp.ones_like(t)
    else:  # I1 is above |x|/2: where a subnormal x's half is a tie, it rounds away from 0
        term = small / 2
        term = xp.where(term * 2 < small, xp.nextafter(term, xp.inf), term)
    total = term
    for k in range(1, 60):
        term = term * t / (k * (k + nu))
        total = total + term
    big = xp.maximum(ax, 30.0)
    term, series = xp.ones_like(big), xp.ones_like(big)
    for k in range(1, 30):
        term = term * -(4 * nu * nu - (2 * k - 1) ** 2) / (8 * k * big)
        series = series + term
    # overflows as PyTorch's e^x * chbevl(..); sqrt(2 pi) sqrt(x), as 2 pi x is inf past 2.9e307
    asym = series / (math.sqrt(2 * _PI) * xp.sqrt(big))
    if scaled:  # 0 at +-inf, as PyTorch
        return xp.where(ax <= 30.0, total * xp.exp(-small), asym)
    asym = xp.exp(big) * asym
    return xp.where(ax <= 30.0, total, xp.where(ax == xp.inf, xp.nan, asym))  # inf / inf, as PyTorch


def i0_array(x):
    """I0(x), the modified Bessel function of the first kind of order 0 (even)."""
    return _bessel(x, 0)


def i1_array(x, scaled=False):
    """I1(x), of order 1 (odd): i0's derivative; +0 at -0.0, as PyTorch's ``x < 0`` test (not copysign)."""
    v = _bessel(x, 1, scaled=scaled)
    return array_module(x).where(x < 0, -v, v)


def i0e_array(x):
    """e^-|x| I0(x), exponentially scaled (finite everywhere; 0 at +-inf)."""
    return _bessel(x, 0, scaled=True)


def i1e_array(x):
    """e^-|x| I1(x), exponentially scaled (odd); +0 at -0.0, as ``i1_array``."""
    return i1_array(x, scaled=True)
