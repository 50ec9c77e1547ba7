"""The regularized incomplete gamma functions P(a, x) and Q(a, x) = 1 − P on float64 arrays, by the
method of Cephes' ``igam``/``igamc`` as PyTorch (and SciPy) use them: each element goes to the
expansion that converges fast at its (a, x), so every call is done in a bounded number of passes.

- a > 20 with x within 30 % of a (and, past a = 200, within 4.5/√a relative, PyTorch's band for
  large a): Temme's uniform asymptotic expansion (special_igamma_temme.py). PyTorch stops at that
  band for a > 200, where its series then needs about 5√a terms and is cut at 2000: P(1e6,
  995400) is 1e-5 off there (mpmath); the expansion is accurate on the wider band, so that series
  never runs long here.
- x <= 1.1 with a small (Cephes' tests): Q by its own series, no 1 − P cancellation.
- x > 1.1 and x >= a: Q by its continued fraction; otherwise P by its power series.
Whichever of P, Q a branch gives, the other is 1 minus it. The factor x^a e^−x / Γ(a) that both
the series and the continued fraction carry is taken in Lanczos' form near a = x, where
exp(a log x − x − lgamma(a)) would lose about a ε log a (7e-10 at a = 1e6)."""

from __future__ import annotations

import math

from glassgrad.backend import array_module, quietly
from glassgrad.ops.special import _horner
from glassgrad.ops.special_igamma_temme import temme_array
from glassgrad.ops.special_series import lgamma_array, zeta_array

__all__ = ["gammainc_array", "igamma_prefactor"]

_EPS = 1.11022302462515654042e-16  # Cephes' MACHEP: a term below it relative to the sum ends a series
_ULP = 2.0**-52  # float64's spacing at 1: |delta − 1| within it has converged
_MAX_TERMS = 2000  # as Cephes: outside Temme's band no series needs more than a few hundred
_MAXLOG = 7.09782712893383996843e2  # log of the largest double: e^−x below it is 0
_LANCZOS_G = 6.024680040776729583740234375
# Boost's lanczos13m53 sum, scaled by e^−g: numerator and denominator, constant term first
_LANCZOS_NUM = (56906521.91347156388090791033559122686859, 103794043.1163445451906271053616070238554,
                86363131.28813859145546927288977868422342, 43338889.32467613834773723740590533316085,
                14605578.08768506808414169982791359218571, 3481712.15498064590882071018964774556468,
                601859.6171681098786670226533699352302507, 75999.29304014542649875303443598909137092,
                6955.999602515376140356310115515198987526, 449.9445569063168119446858607650988409623,
                19.51992788247617482847860966235652136208, 0.5098416655656676188125178644804694509993,
                0.006061842346248906525783753964555936883222)  # fmt: skip
# a (a + 1) ... (a + 11), constant term first
_LANCZOS_DEN = (0.0, 39916800.0, 120543840.0, 150917976.0, 105258076.0, 45995730.0, 13339535.0,
                2637558.0, 357423.0, 32670.0, 1925.0, 66.0, 1.0)  # fmt: skip


def _lanczos_sum(xp, a):
    """Lanczos' rational sum at a > 0; past a = 1 as polynomials in 1/a (both have degree 12, so
    the ratio is unchanged) to keep the powers of a from overflowing."""
    big = a > 1
    t = xp.where(big, 1 / a, a)
    forward = _horner(t, _LANCZOS_NUM) / _horner(t, _LANCZOS_DEN)
    backward = _horner(t, _LANCZOS_NUM[::-1]) / _horner(t, _LANCZOS_DEN[::-1])
    return xp.where(big, backward, forward)


def igamma_prefactor(xp, a, x):
    """x^a e^−x / Γ(a) for a, x > 0 (arrays of one shape); 0 where its log is below −log(DBL_MAX).

    Within 40 % of a = x in Lanczos' form, (x / (a + g − ½))^a e^(a − x) √((a + g − ½) / e) / L(a),
    with the power as exp(a (log1p(t) − t) + ...) past 200: no large logs to cancel there."""
    log_direct = a * xp.log(x) - x - lgamma_array(a)
    direct = xp.where(log_direct < -_MAXLOG, 0.0, xp.exp(log_direct))
    fac = a + _LANCZOS_G - 0.5
    base = xp.sqrt(fac / math.e) / _lanczos_sum(xp, a)
    moderate = base * xp.exp(a - x) * (x / fac) ** a
    ratio = (x - a - _LANCZOS_G + 0.5) / fac
    large = base * xp.exp(a * (xp.log1p(ratio) - ratio) + x * (0.5 - _LANCZOS_G) / fac)
    near = xp.where((a < 200) & (x < 200), moderate, large)
    return xp.where(xp.abs(a - x) > 0.4 * a, direct, near)


def _lower_series(xp, a, x):
    """P = x^a e^−x / Γ(a + 1) · Σ_n x^n / ((a + 1) ··· (a + n))."""
    term = xp.ones_like(x)
    total = xp.ones_like(x)
    denom = a.copy()
    for _ in range(_MAX_TERMS):
        denom = denom + 1
        term = term * x / denom
        total = total + term
        if not xp.any(term > _EPS * total):
            break
    return igamma_prefactor(xp, a, x) * total / a


_ZETAS: list = []  # ζ(2) ... ζ(30), made on first use


def _lgamma1p(xp, a):
    """log Γ(1 + a), for 0 < a <= 1.21 (where Q's own series runs). Below 0.2 by its Taylor series
    −γ a + Σ_k≥2 (−1)^k ζ(k) a^k / k: lgamma at 1 + a would lose the digits of a that rounding
    1 + a drops (Cephes' does: PyTorch's Q(1e-12, x) is 2e-4 off)."""
    if not _ZETAS:
        _ZETAS.extend(float(zeta_array(k, xp.ones(1))[0]) for k in range(2, 31))
    s = xp.minimum(a, 0.2)
    total = xp.zeros_like(s)
    power = -s  # (−s)^(k−1): the sign of (−1)^k s^k after the next product
    for k, z in enumerate(_ZETAS, 2):  # 0.2^30 / 30 is below float64's resolution of the sum
        power = power * -s
        total = total + z * power / k
    small = total - 0.5772156649015329 * s  # Euler's γ
    return xp.where(a <= 0.2, small, lgamma_array(1 + a))


def _upper_series(xp, a, x):
    """Q for x <= 1.1 and small a, where P is near 1 (Cephes' ``igamc`` series):
    Q = −expm1(a log x − log Γ(1 + a)) − x^a a / Γ(1 + a) Σ_n≥1 (−x)^n / (n! (a + n))."""
    fac = xp.ones_like(x)
    total = xp.zeros_like(x)
    for n in range(1, 200):  # x <= 1.1: the terms x^n / n! fall below ε after about 25
        fac = fac * (-x / n)
        term = fac / (a + n)
        total = total + term
        if not xp.any(xp.abs(term) > _EPS * xp.abs(total)):
            break
    log_lead = a * xp.log(x) - _lgamma1p(xp, a)
    return -xp.expm1(log_lead) - xp.exp(log_lead) * a * total


def _continued_fraction(xp, a, x):
    """Q by the continued fraction 1 / (x + 1 − a − 1(1 − a) / (x + 3 − a − 2(2 − a) / ...)),
    modified Lentz, for x > 1.1 and x >= a."""
    tiny = 1e-300
    b = x + 1 - a
    c = xp.full_like(x, 1 / tiny)
    d = 1 / b
    h = d
    done = xp.zeros(x.shape, dtype=bool)
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = xp.where(xp.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = xp.where(xp.abs(c) < tiny, tiny, c)
        d = 1 / d
        delta = d * c
        # a converged element is frozen: its later deltas are 1 give or take an ulp, and many of
        # them (while a slower element converges) would drift h by 1e-13
        h = xp.where(done, h, h * delta)
        done |= xp.abs(delta - 1) <= _ULP
        if done.all():
            break
    return igamma_prefactor(xp, a, x) * h


def _branches(xp, a, x, upper):
    """Boolean masks (temme, q_series, q_fraction) over finite a, x > 0 (NaN is in none); the rest
    take P's series. Cephes' choices, which differ for P and Q where x is near 1."""
    rel = xp.abs(x - a) / a
    temme = (a > 20) & ((rel < 0.3) | ((a > 200) & (rel < 4.5 / xp.sqrt(a))))
    if upper:
        fraction = (x > 1.1) & (x >= a)
        below = xp.where(x <= 0.5, a <= -0.4 / xp.log(x), x * 1.1 >= a)
        series = (x <= 1.1) & below
    else:
        fraction = (x > 1.1) & (x > a)
        series = (x > 1) & (x <= 1.1) & (x > a)
    return temme, series & ~temme, fraction & ~temme


def gammainc_array(a, x, upper=False):
    """P(a, x) (Q(a, x) = 1 − P when ``upper``) on float64 arrays (broadcast), with PyTorch's edges in
    its order: NaN for a < 0 or x < 0; at a = 0, P = 1 for x > 0 and NaN otherwise; at x = 0, P = 0;
    at a = ∞, P = 0 (NaN for x = ∞); at x = ∞, P = 1. So P(NaN, 0) = 0 and P(NaN, ∞) = 1, as PyTorch's.

    Shape: a and x broadcast; the result has the broadcast shape."""
    # every branch's formula runs on all of its elements, overflowing where another one is chosen
    return quietly(_gammainc, a, x, upper)


def _gammainc(a, x, upper):
    xp = array_module(a, x)
    a, x = xp.broadcast_arrays(xp.asarray(a, dtype=xp.float64), xp.asarray(x, dtype=xp.float64))
    out = xp.full(a.shape, xp.nan)
    ok = (a > 0) & (x > 0) & (a < xp.inf) & (x < xp.inf)
    if ok.any():
        idx = xp.flatnonzero(ok)
        av, xv = a.reshape(-1)[idx], x.reshape(-1)[idx]
        value = xp.empty_like(av)
        temme, q_series, q_fraction = _branches(xp, av, xv, upper)
        p_series = ~(temme | q_series | q_fraction)
        for mask, fn, gives_q in (
            (q_series, _upper_series, True),
            (q_fraction, _continued_fraction, True),
            (p_series, _lower_series, False),
        ):
            if mask.any():
                got = fn(xp, av[mask], xv[mask])
                value[mask] = 1 - got if gives_q != upper else got
        if temme.any():
            value[temme] = temme_array(xp, av[temme], xv[temme], upper)
        out.reshape(-1)[idx] = value
    lo, hi = (1.0, 0.0) if upper else (0.0, 1.0)  # P's value 0 is Q's 1, and the other way round
    out = xp.where(x == xp.inf, hi, out)
    out = xp.where(a == xp.inf, xp.where(x == xp.inf, xp.nan, lo), out)
    out = xp.where(x == 0, lo, out)
    out = xp.where(a == 0, xp.where(x > 0, hi, xp.nan), out)
    return xp.where((a < 0) | (x < 0), xp.nan, out)
