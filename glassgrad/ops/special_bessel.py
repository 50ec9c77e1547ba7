"""``torch.special``'s Bessel functions: ``bessel_j0``/``j1``, ``bessel_y0``/``y1``,
``modified_bessel_k0``/``k1`` (and ``scaled_modified_bessel_k0``/``k1``, e^x K(x)),
``spherical_bessel_j0`` = sin(x) / x, and ``modified_bessel_i0``/``i1`` (torch.i0/i1's values). Computed in float64 and rounded to the input's float dtype.

How each is computed (float64 error about 1e-15 against the true value; PyTorch's Cephes kernels
lose more where x is huge, since they reduce x - pi/4 themselves):

- J and Y, |x| <= 1: the power series (J0 = sum (-1)^k (x^2/4)^k / k!^2, J1 alike; Y0 and Y1 by
  their series with harmonic numbers). 1 < |x| < 20: Miller's backward recurrence
  J_(k-1) = (2k / x) J_k - J_(k+1) from k = 60, normalized by J0 + 2 sum J_2k = 1; then Neumann's
  series Y0 = (2/pi)(ln(x/2) + gamma) J0 - (4/pi) sum (-1)^k J_2k / k and its derivative for Y1.
  |x| >= 20: Hankel's asymptotic series (20 terms), the phase taken from NumPy's sin and cos of x.
- K, x <= 2: the series K0 = -(ln(x/2) + gamma) I0 + sum H_k (x^2/4)^k / k!^2 (K1 alike);
  2 < x < 20: the trapezoidal rule on K_nu(x) = int_0^inf e^(-x cosh t) cosh(nu t) dt (step 0.1,
  exact to the last bits: the integrand is analytic and dies double-exponentially); x >= 20: the
  asymptotic series of e^x K_nu(x).

Airy's Ai: for -14 <= x <= 1 the Taylor series of Ai'' = x Ai about the nearest point of a grid of
step 0.5 (40 terms; the grid's values stepped out from Ai(0) and Ai'(0) by the same series, once);
1 < x <= 10 Ai = sqrt(x / 3) K_(1/3)(z) / pi with z = 2 x^(3/2) / 3, by K's integral; beyond, the
asymptotic series in 1/z on either side. PyTorch 2.13's float64 Ai errs up to 3e-6 (near -2).

The edges as PyTorch's: J and Y are NaN at +-inf, Y is -inf at 0 and NaN below, K is inf at 0, 0
at inf and NaN below 0. No gradient, as PyTorch's (their results never require grad). Integers
compute in the default float dtype; float16 and complex are refused, as PyTorch's CPU kernels.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from glassgrad.backend import array_module
from glassgrad.errors import KernelDTypeError
from glassgrad.meta_array import MetaArray, meta_array
from glassgrad.ops.elementwise import floating
from glassgrad.ops.special_series import i0_array, i1_array
from glassgrad.ops.unary_more import _in_float64, _overflow_like_pytorch
from glassgrad.tensor import Tensor

__all__ = [
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1",
    "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
    "spherical_bessel_j0",
]  # fmt: skip

_GAMMA = 0.5772156649015329  # Euler's constant
_PI = math.pi
_LN2 = math.log(2)
_SERIES_TERMS = 20
_MILLER_START = 60  # J_60(x) is below 1e-30 of the largest J_k for x < 20: the start's error vanishes
_HANKEL_TERMS = 40  # the asymptotic series' terms (20 each for P and Q)


def _psi(n: int) -> float:
    """digamma at a positive integer: -gamma + H_(n-1)."""
    return -_GAMMA + sum(1.0 / i for i in range(1, n))


def _series_jy(xp, x):
    """J0, J1, Y0, Y1 by their power series (|x| <= 1: the terms fall by x^2 / 4k^2)."""
    t = x * x / 4
    j0, j1, y0s, y1s = (xp.zeros_like(x) for _ in range(4))
    power, harmonic = xp.ones_like(x), 0.0
    for k in range(_SERIES_TERMS):
        fk, fk1 = math.factorial(k), math.factorial(k + 1)
        sign = -1.0 if k % 2 else 1.0
        j0 += sign * power / (fk * fk)
        j1 += sign * power / (fk * fk1)
        if k:
            harmonic += 1.0 / k
            y0s -= sign * harmonic * power / (fk * fk)
        y1s += sign * (_psi(k + 1) + _psi(k + 2)) * power / (fk * fk1)
        power = power * t
    j1 = j1 * x / 2
    # not log(x / 2): halving the smallest subnormal gives 0, and Y0 -inf, Y1 NaN (PyTorch's take
    # log x: Y0(5e-324) = -474, Y1 -inf)
    log = xp.log(x) - _LN2
    y0 = (2 / _PI) * (log + _GAMMA) * j0 + (2 / _PI) * y0s
    y1 = -2 / (_PI * x) + (2 / _PI) * log * j1 - (1 / _PI) * (x / 2) * y1s
    return j0, j1, y0, y1


def _miller_jy(xp, x):
    """J0, J1, Y0, Y1 by Miller's backward recurrence and Neumann's series (1 < x < 20)."""
    upper, here = xp.zeros_like(x), xp.full_like(x, 1e-30)  # J_(k+1), J_k, unnormalized
    norm, y0s, y1s = xp.zeros_like(x), xp.zeros_like(x), xp.zeros_like(x)
    for k in range(_MILLER_START, 0, -1):
        lower = (2 * k / x) * here - upper  # J_(k-1)
        if k % 2 == 0:  # k = 2m: sum J_2m, (-1)^m J_2m / m and (-1)^m (J_(2m-1) - J_(2m+1)) / m
            m = k // 2
            c = (-1.0 if m % 2 else 1.0) / m
            norm += here
            y0s += c * here
            y1s += c * (lower - upper)
        upper, here = here, lower
    scale = here + 2 * norm  # J0 + 2 sum J_2m = 1
    j0, j1, y0s, y1s = here / scale, upper / scale, y0s / scale, y1s / scale
    log = xp.log(x / 2) + _GAMMA
    y0 = (2 / _PI) * log * j0 - (4 / _PI) * y0s
    y1 = -(2 / (_PI * x)) * j0 + (2 / _PI) * log * j1 + (2 / _PI) * y1s
    return j0, j1, y0, y1


def _hankel_jy(xp, x, nu: int):
    """J_nu and Y_nu for x >= 20 by Hankel's expansion sqrt(2 / (pi x)) (P cos chi - Q sin chi)."""
    mu, a = 4.0 * nu * nu, 1.0
    p, q = xp.ones_like(x), xp.zeros_like(x)
    for k in range(1, _HANKEL_TERMS):
        a = a * (mu - (2 * k - 1) ** 2) / (8 * k)
        term = a / x**k
        if k % 2:
            q += (-1.0 if (k // 2) % 2 else 1.0) * term
        else:
            p += (-1.0 if (k // 2) % 2 else 1.0) * term
    c, s, r = xp.cos(x), xp.sin(x), math.sqrt(0.5)
    cos_chi, sin_chi = ((c + s) * r, (s - c) * r) if nu == 0 else ((s - c) * r, -(s + c) * r)
    amp = xp.sqrt(2 / (_PI * x))
    return amp * (p * cos_chi - q * sin_chi), amp * (p * sin_chi + q * cos_chi)


def _jy(xp, x):
    """J0, J1, Y0, Y1 of the float64 array x >= 0 (finite), each region by its method."""
    out = [xp.zeros_like(x) for _ in range(4)]
    for where, method in (
        (x <= 1, lambda v: _series_jy(xp, v)),
        ((x > 1) & (x < 20), lambda v: _miller_jy(xp, v)),
        (x >= 20, lambda v: (*_hankel_pair(xp, v),)),
    ):
        if where.any():
            for o, r in zip(out, method(x[where])):
                o[where] = r
    return out


def _hankel_pair(xp, x):
    j0, y0 = _hankel_jy(xp, x, 0)
    j1, y1 = _hankel_jy(xp, x, 1)
    return j0, j1, y0, y1


def _series_k(xp, x):
    """K0, K1 by their series (0 < x <= 2)."""
    t = x * x / 4
    s0, s1 = xp.zeros_like(x), xp.zeros_like(x)
    power, harmonic = xp.ones_like(x), 0.0
    for k in range(25):
        fk, fk1 = math.factorial(k), math.factorial(k + 1)
        if k:
            harmonic += 1.0 / k
            s0 += harmonic * power / (fk * fk)
        s1 += (_psi(k + 1) + _psi(k + 2)) * power / (fk * fk1)
        power = power * t
    log = xp.log(x / 2)
    return -(log + _GAMMA) * i0_array(x) + s0, 1 / x + log * i1_array(x) - (x / 4) * s1


def _integral_k(xp, x, nu: float):
    """e^x K_nu(x) by the trapezoidal rule on int_0^inf e^(-x (cosh t - 1)) cosh(nu t) dt (2 < x < 20)."""
    t = xp.arange(0, 81) * 0.1  # to t = 8: e^(-2 (cosh 8 - 1)) underflows
    w = xp.full(t.shape, 0.1)
    w[0] = 0.05
    return (xp.exp(-x[:, None] * (xp.cosh(t) - 1)) * (xp.cosh(nu * t) * w)).sum(axis=1)


def _asymptotic_k(xp, x, nu: int):
    """e^x K_nu(x) for x >= 20: sqrt(pi / 2x) sum a_k(nu) / x^k."""
    mu, a, total = 4.0 * nu * nu, 1.0, xp.ones_like(x)
    for k in range(1, 25):
        a = a * (mu - (2 * k - 1) ** 2) / (8 * k)
        total += a / x**k
    return xp.sqrt(_PI / (2 * x)) * total


def _k(xp, x, nu: int, scaled: bool):
    """K_nu(x) (or e^x K_nu(x)) of the float64 array x > 0 (finite)."""
    out = xp.zeros_like(x)
    small, mid, large = x <= 2, (x > 2) & (x < 20), x >= 20
    if small.any():
        v = x[small]
        out[small] = _series_k(xp, v)[nu] * (xp.exp(v) if scaled else 1)
    for where, method in ((mid, _integral_k), (large, _asymptotic_k)):
        if where.any():
            v = x[where]
            out[where] = method(xp, v, nu) * (1 if scaled else xp.exp(-v))
    return out


def _make(name: str, compute: Callable, doc: str, first_kind: bool = False) -> Callable:
    """The tensor function ``name`` of ``compute(xp, float64 values)``; ``first_kind``: of
    ``compute(float64 values)`` with torch.i0/i1's overflow (their e^|x| factor's), as PyTorch's
    modified_bessel_i0/i1 give the values of its i0/i1."""

    def fn(input: Tensor) -> Tensor:  # noqa: A002
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor, got {type(input).__name__}")
        if input.dtype.is_complex or (input.dtype.is_floating_point and input._data.dtype.itemsize < 4):
            raise KernelDTypeError(  # a NotImplementedError too, as PyTorch's missing kernel
                f"{name}: expected a float32 or float64 tensor, got {input.dtype} (PyTorch has no kernel)"
            )
        x = input._data if input.dtype.is_floating_point else floating(input)._data
        xp = array_module(x)
        if isinstance(x, MetaArray):
            return Tensor(meta_array(x.shape, x.dtype), _wrap=True)
        if first_kind:
            return Tensor(_overflow_like_pytorch(_in_float64(compute, x), x), _wrap=True)
        with xp.errstate(all="ignore"):
            out = compute(xp, x.astype(xp.float64).reshape(-1))
        return Tensor(xp.asarray(out.reshape(x.shape), dtype=x.dtype), _wrap=True)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        doc + " Elementwise, ``(*)`` to ``(*)``; no gradient, as PyTorch's (see the module docstring)."
    )
    return fn


def _jy_at(index: int) -> Callable:
    """J0/J1 (index 0/1; J0 even, J1 odd in x) or Y0/Y1 (2/3: -inf at 0, NaN below); NaN at
    +-inf, as PyTorch's."""

    def compute(xp, x):
        out = xp.full(x.shape, xp.nan)
        if index < 2:
            fine = xp.isfinite(x) & (x != 0)
            value = _jy(xp, xp.abs(x[fine]))[index]
            out[fine] = value * xp.sign(x[fine]) if index == 1 else value
            zero = x == 0
            out[zero] = 1.0 if index == 0 else x[zero]  # J1(+-0) = +-0
        else:
            fine = xp.isfinite(x) & (x > 0)
            out[fine] = _jy(xp, x[fine])[index]
            out[x == 0] = -xp.inf
        return out

    return compute


def _k_at(nu: int, scaled: bool) -> Callable:
    def compute(xp, x):
        out = xp.full(x.shape, xp.nan)
        fine = xp.isfinite(x) & (x > 0)
        out[fine] = _k(xp, x[fine], nu, scaled)
        out = xp.where(x == 0, xp.inf, out)
        return xp.where(x == xp.inf, 0.0, out)

    return compute


def _j0_spherical(xp, x):
    """sin(x) / x; the Taylor series below |x| = 0.5 (to x^14), as PyTorch's kernel; 0 at +-inf."""
    x2, series = x * x, xp.zeros_like(x)
    for k in reversed(range(8)):
        series = series * x2 + (-1) ** k / math.factorial(2 * k + 1)
    out = xp.where(xp.abs(x) < 0.5, series, xp.sin(x) / x)
    return xp.where(xp.isinf(x), 0.0, out)


bessel_j0 = _make("bessel_j0", _jy_at(0), "J0(x), the Bessel function of the first kind and order 0.")
bessel_j1 = _make("bessel_j1", _jy_at(1), "J1(x), the Bessel function of the first kind and order 1.")
bessel_y0 = _make("bessel_y0", _jy_at(2), "Y0(x), the Bessel function of the second kind and order 0.")
bessel_y1 = _make("bessel_y1", _jy_at(3), "Y1(x), the Bessel function of the second kind and order 1.")
modified_bessel_k0 = _make(
    "modified_bessel_k0", _k_at(0, False), "K0(x), the modified Bessel function of the second kind."
)
modified_bessel_k1 = _make(
    "modified_bessel_k1", _k_at(1, False), "K1(x), the modified Bessel function of the second kind."
)
scaled_modified_bessel_k0 = _make("scaled_modified_bessel_k0", _k_at(0, True), "e^x K0(x).")
scaled_modified_bessel_k1 = _make("scaled_modified_bessel_k1", _k_at(1, True), "e^x K1(x).")
spherical_bessel_j0 = _make("spherical_bessel_j0", _j0_spherical, "j0(x) = sin(x) / x, 1 at 0.")
# torch.i0/special.i1's values, but no gradient and no float16 kernel (PyTorch's own kernels)
modified_bessel_i0 = _make("modified_bessel_i0", i0_array, "I0(x), the modified Bessel function.", True)
modified_bessel_i1 = _make("modified_bessel_i1", i1_array, "I1(x), the modified Bessel function.", True)


_AI0, _AIP0 = 0.3550280538878172, -0.2588194037928068  # Ai(0), Ai'(0)
_AIRY_STEP, _AIRY_LOW, _AIRY_HIGH, _AIRY_TERMS = 0.5, -14.0, 1.0, 40
_airy_grid: list = []  # [(x0, Ai(x0), Ai'(x0))], made on first use


def _airy_taylor(x0: float, a0: float, a1: float) -> list:
    """Taylor coefficients of Ai about x0 from Ai'' = x Ai: c_(k+2) = (x0 c_k + c_(k-1)) / ((k+2)(k+1))."""
    c = [a0, a1]
    for k in range(_AIRY_TERMS - 2):
        c.append((x0 * c[k] + (c[k - 1] if k else 0.0)) / ((k + 2) * (k + 1)))
    return c


def _airy_points() -> list:
    if not _airy_grid:
        points = {0.0: (_AI0, _AIP0)}
        for direction, end in ((-1, _AIRY_LOW), (1, _AIRY_HIGH)):  # step out from 0 both ways
            x0, (a0, a1) = 0.0, points[0.0]
            while abs(x0) < abs(end):
                c, d = _airy_taylor(x0, a0, a1), direction * _AIRY_STEP
                a0 = sum(ck * d**k for k, ck in enumerate(c))
                a1 = sum(k * ck * d ** (k - 1) for k, ck in enumerate(c) if k)
                x0 += d
                points[x0] = (a0, a1)
        _airy_grid.extend((x0, *v) for x0, v in sorted(points.items()))
    return _airy_grid


def _airy_series(xp, x, sign: int):
    """The asymptotic sums in 1/z of Ai: x > 0 (sign 1) sum (-1)^k u_k / z^k; x < 0 (sign -1) the
    pair P, Q of its oscillating form, u_k = u_(k-1) (6k-5)(6k-3)(6k-1) / ((2k-1) 216 k)."""
    z = (2 / 3) * xp.abs(x) ** 1.5
    u, p, q = 1.0, xp.ones_like(x), xp.zeros_like(x)
    for k in range(1, 30):
        u = u * (6 * k - 5) * (6 * k - 3) * (6 * k - 1) / ((2 * k - 1) * 216 * k)
        term = u / z**k
        if sign > 0:
            p += (-1.0 if k % 2 else 1.0) * term
        elif k % 2:
            q += (-1.0 if (k // 2) % 2 else 1.0) * term
        else:
            p += (-1.0 if (k // 2) % 2 else 1.0) * term
    return z, p, q


def _airy(xp, x):
    out = xp.full(x.shape, xp.nan)
    grid = _airy_points()
    near = (x >= _AIRY_LOW) & (x <= _AIRY_HIGH)
    if near.any():
        v = x[near]
        at = xp.round((v - _AIRY_LOW) / _AIRY_STEP).astype(int)
        value = xp.zeros_like(v)
        for i in xp.unique(at):
            here = at == i
            x0, a0, a1 = grid[int(i)]
            acc = xp.zeros_like(v[here])
            for ck in reversed(_airy_taylor(x0, a0, a1)):
                acc = acc * (v[here] - x0) + ck
            value[here] = acc
        out[near] = value
    mid = (x > _AIRY_HIGH) & (x <= 10)
    if mid.any():
        v = x[mid]
        z = (2 / 3) * v**1.5
        out[mid] = xp.sqrt(v / 3) / _PI * _integral_k(xp, z, 1 / 3) * xp.exp(-z)
    far = (x > 10) & xp.isfinite(x)
    if far.any():
        v = x[far]
        z, p, _ = _airy_series(xp, v, 1)
        out[far] = xp.exp(-z) / (2 * math.sqrt(_PI) * v**0.25) * p
    low = (x < _AIRY_LOW) & xp.isfinite(x)
    if low.any():
        v = x[low]
        z, p, q = _airy_series(xp, v, -1)
        phase = z + _PI / 4
        out[low] = (xp.sin(phase) * p - xp.cos(phase) * q) / (math.sqrt(_PI) * (-v) ** 0.25)
    return out


airy_ai = _make(
    "airy_ai",
    _airy,
    "Ai(x), Airy's function of the first kind (the solution of y'' = x y that decays as x grows).",
)
