"""Special functions on raw arrays, for ops to use in forward and backward: ``erf_array``, and
exact GELU's two array kernels, ``gelu_exact`` and ``gelu_exact_grad``.

They take and return arrays (not Tensors) and record nothing; an op that needs one (exact
``gelu``) calls it inside its ``Function``. The float32 erf and both GELU kernels run their chain
of elementwise passes in cache-sized pieces (ops/blocks.py).

erf has two evaluations. float64 arrays get W. J. Cody's rational approximations (below 1e-16
relative error). float32 (and float16) arrays get one rational function fitted for float32, about
7 times faster (1.3 ms against 9.4 ms for 524,288 values on one thread): the exact GELU of a
Transformer MLP calls erf on every hidden activation, and with Cody's three ranges it took half of
a small GPT's training step. SciPy's ``special.erf`` (7.3 ms there) evaluates in double and is not
used.
"""

from __future__ import annotations

import functools
from typing import Any

from glassgrad.backend import array_module, ndarray
from glassgrad.ops.blocks import Blocks

__all__ = ["erf_array", "gelu_exact", "gelu_exact_grad"]


# W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969),
# as in his SPECFUN routine CALERF: relative error below 1e-16 on each of three ranges of |x|.
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
      1.85777706184603153e-1)  # fmt: skip
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
      8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
      2.15311535474403846e-8)  # fmt: skip
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
      3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)  # fmt: skip
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
      6.58749161529837803e-4, 1.63153871373020978e-2)  # fmt: skip
_Q = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
      2.33520497626869185e-3)  # fmt: skip
_INV_SQRT_PI = 5.6418958354775628695e-1


def _ratio(t, num: tuple, den: tuple):
    """Cody's nested evaluation: (((n_last t + n_0) t + n_1) t ...) / (((t + d_0) t + d_1) t ...).

    In place on two arrays (den of two or more terms, as Cody's): the same roundings as the
    expression, without a new array per term (erfc spent half its time allocating them)."""
    xp = array_module(t)
    n, d = xp.multiply(t, num[-1]), xp.add(t, den[0])
    n += num[0]
    n *= t
    d *= t
    for a, b in zip(num[1 : len(den) - 1], den[1:-1]):
        n += a
        n *= t
        d += b
        d *= t
    n += num[len(den) - 1]
    d += den[-1]
    return xp.divide(n, d, out=n) if isinstance(n, ndarray) else n / d


# erf(x) = x P(x^2) / Q(x^2) on |x| <= 4, with P of degree 6 and Q of degree 5 (Q(0) = 1), fitted
# for glassgrad by iteratively reweighted least squares on the relative error (max 2.1e-9 in exact
# arithmetic). Beyond |x| = 4, erf is 1 - 1.5e-8, which is 1 in float32. x is clipped at 4.5, where
# the rational has risen just above 1 (monotonically from 4), and the result at 1: so erf saturates
# to exactly +-1, and x Phi(x) of GELU is exactly 0 for very negative x, as in PyTorch.
_P32 = (1.1283791693824520e00, 1.8520256009957597e-01, 5.4316528141908540e-02, 3.8495464892649340e-03,
        3.7959538203006854e-04, 4.6844290423897480e-06, -1.3200354975761996e-08)  # fmt: skip
_Q32 = (1.0, 4.9746490927457330e-01, 1.1395788113497517e-01, 1.5461912060693474e-02,
        1.3075385943078209e-03, 6.3107291832537920e-05)  # fmt: skip


def _horner(t, coeffs: tuple, out=None):
    """sum_k coeffs[k] t^k, evaluated in place in t's dtype (one array, no temporaries per term);
    into ``out`` when given."""
    acc = array_module(t).multiply(t, coeffs[-1], out=out)
    for c in coeffs[-2:0:-1]:
        acc += c
        acc *= t
    acc += coeffs[0]
    return acc


@functools.lru_cache(maxsize=16)
def _typed(coeffs: tuple, dtype: Any) -> tuple:
    """The coefficients as scalars of ``dtype``: a Python float costs about 0.4 us more per call."""
    return tuple(dtype.type(c) for c in coeffs)


def _without_zero_strides(x):
    """``x``, or for a broadcast view (a 0 stride) a copy laid out as NumPy's ufuncs (and PyTorch)
    lay out an elementwise result: the results below are ``empty_like`` their input, and
    ``empty_like`` of an expanded array puts its broadcast axes innermost (other strides)."""
    if x.__class__ is ndarray and x.size > 1 and 0 in x.strides:
        return array_module(x).positive(x)
    return x


def _erf32_piece(x, out, xc, t, q) -> None:
    """erf of one piece into ``out``: x P(x^2) / Q(x^2) on x clipped to [-4.5, 4.5], clipped to
    [-1, 1]. ``xc``, ``t``, ``q`` are scratch arrays of the piece's size."""
    xp = array_module(x)
    xp.clip(x, x.dtype.type(-4.5), x.dtype.type(4.5), out=xc)
    xp.multiply(xc, xc, out=t)
    _horner(t, _typed(_P32, x.dtype), out)
    out /= _horner(t, _typed(_Q32, x.dtype), q)
    out *= xc
    one = x.dtype.type(1)
    xp.clip(out, -one, one, out=out)  # rounding may overshoot 1 near |x| = 4


def _erf_float32(x):
    """erf for float32/float16 arrays, in cache-sized pieces (ops/blocks.py).

    Within 4e-7 of the exact value everywhere (a few float32 ulps; checked against ``math.erf``
    in the tests); NaN stays NaN. float16 is computed in float32 and rounded, as PyTorch does.
    """
    xp = array_module(x)
    x = _without_zero_strides(x)
    if x.dtype.itemsize < 4:
        return _erf_float32(x.astype(xp.float32)).astype(x.dtype)
    out = xp.empty_like(x)
    pieces = Blocks(x, out)
    work = pieces.work(3)
    for xs, ys in pieces:
        _erf32_piece(xs, ys, *(pieces.fit(w, xs) for w in work))
    return out


_SQRT_HALF = 0.7071067811865476  # 1 / sqrt(2)
_INV_SQRT_2PI = 0.3989422804014327  # 1 / sqrt(2 pi)

# Phi(x) = (1 + tanh(v)) / 2 with v = x R(x^2): since erf(u) = tanh(atanh(erf(u))), R is a degree-6
# polynomial fitted for glassgrad to atanh(erf(x / sqrt 2)) / x on |x| <= 4 sqrt 2 (weighted least
# squares, reweighted toward the smallest largest error of Phi): |Phi error| at most 2.9e-8 in exact
# arithmetic, 9.6e-8 evaluated in float32 (the tests check it). R(0) is sqrt(2 / pi), the same
# leading term as GELU's tanh approximation. One tanh and one polynomial make 19 passes where
# x P(x^2) / Q(x^2) for erf and the GELU arithmetic made 30. x is clipped at 6, where v = 11.8 and
# float32 tanh is exactly 1: Phi saturates to exactly 0 and 1, so GELU(-1e4) is -0 as in PyTorch.
_R_PHI = (7.978849414925138e-01, 3.633308439528447e-02, -3.259472769578045e-05, -5.530632473167470e-05,
          3.964774773383393e-06, -1.322664205452132e-07, 1.756281725075814e-09)  # fmt: skip
_PHI_CLIP = 6.0


def _gelu32_piece(x, y, cdf, xc, t) -> None:
    """x Phi(x) into ``y`` and Phi(x) into ``cdf`` for one float32 piece; ``xc``, ``t`` scratch."""
    xp = array_module(x)
    dt = x.dtype.type
    xp.clip(x, dt(-_PHI_CLIP), dt(_PHI_CLIP), out=xc)
    xp.multiply(xc, xc, out=t)
    _horner(t, _typed(_R_PHI, x.dtype), cdf)
    cdf *= xc  # v
    xp.tanh(cdf, out=cdf)
    cdf += dt(1)
    cdf *= dt(0.5)
    xp.multiply(x, cdf, out=y)


def gelu_exact(x):
    """``(x Phi(x), Phi(x))`` with Phi(x) = (1 + erf(x / sqrt 2)) / 2, the exact GELU and the
    normal CDF its backward reuses.

    float64 takes Phi from Cody's erf. float32 takes it from the tanh form above, piece by piece
    so that each piece's 19 passes stay in cache (ops/blocks.py; on a GPT's (16, 64, 512) MLP
    activations about 3.3 ms, where erf's rational on whole arrays took 6.8 ms). float16 is computed in
    float32 and rounded, as PyTorch does.
    """
    xp = array_module(x)
    if x.dtype.itemsize > 4:
        cdf = erf_array(x * _SQRT_HALF)
        cdf += 1.0
        cdf *= 0.5
        return x * cdf, cdf
    x = _without_zero_strides(x)
    if x.dtype.itemsize < 4:
        y, cdf = gelu_exact(x.astype(xp.float32))
        return y.astype(x.dtype), cdf.astype(x.dtype)
    y, cdf = xp.empty_like(x), xp.empty_like(x)
    pieces = Blocks(x, y, cdf)
    work = pieces.work(2)
    for xs, ys, cs in pieces:
        _gelu32_piece(xs, ys, cs, *(pieces.fit(w, xs) for w in work))
    return y, cdf


def gelu_exact_grad(x, cdf, g):
    """g (Phi(x) + x phi(x)), phi(x) = e^(-x^2 / 2) / sqrt(2 pi): exact GELU's VJP, piece by piece.
    float16 is computed in float32 from x (Phi again, not the rounded ``cdf``) and rounded, as PyTorch."""
    xp = array_module(x, g)
    if x.dtype.itemsize < 4:
        x32 = x.astype(xp.float32)
        return gelu_exact_grad(x32, gelu_exact(x32)[1], g.astype(xp.float32)).astype(x.dtype)
    d = xp.empty_like(x)
    dt = d.dtype.type
    neg_half, inv = dt(-0.5), dt(_INV_SQRT_2PI)
    for xs, cs, gs, ds in Blocks(x, cdf, g, d):
        xp.multiply(xs, xs, out=ds)
        ds *= neg_half
        xp.exp(ds, out=ds)
        ds *= xs
        ds *= inv
        ds += cs
        ds *= gs
    return d


def erf_array(x):
    """The error function of a float array, elementwise, in the array's dtype.

    float32 and float16 use ``_erf_float32``; float64 uses Cody's approximations, as follows.
    NumPy has no erf and ``math.erf`` takes one number, so this evaluates Cody's three rational
    approximations on the whole array (each on its range, clipped so the others cannot
    overflow) and picks per element: |x| <= 0.46875: x R1(x^2); |x| <= 4: 1 - e^-x^2 R2(|x|);
    else 1 - e^-x^2 (1/sqrt(pi) - R3(1/x^2)/x^2) / |x|. e^-x^2 is split as e^-s^2 e^-(|x|-s)(|x|+s)
    with s = |x| rounded down to 1/16, which keeps it accurate for large |x|.
    """
    if x.dtype.itemsize <= 4:
        return _erf_float32(x)
    xp = array_module(x)
    y = xp.abs(x)
    small = xp.minimum(y, 0.46875)
    near = xp.clip(y, 0.46875, 4.0)
    far = xp.clip(y, 4.0, 27.0)  # erfc(27) is below the smallest double: erf is 1 from there on
    r_small = x * _ratio(small * small, _A, _B)
    erfc_near = _ratio(near, _C, _D)
    erfc_far = (_INV_SQRT_PI - _ratio(1 / (far * far), _P, _Q) / (far * far)) / far
    z = xp.where(y <= 4.0, near, far)
    s = xp.trunc(z * 16) / 16
    erfc = xp.exp(-s * s) * xp.exp(-(z - s) * (z + s)) * xp.where(y <= 4.0, erfc_near, erfc_far)
    return xp.where(y <= 0.46875, r_small, xp.sign(x) * (1 - erfc))
