"""Special functions on raw arrays, for ops to use in forward and backward: ``erf_array``.

They take and return arrays (not Tensors) and record nothing; an op that needs one (exact
``gelu``) calls it inside its ``Function``.
"""

from __future__ import annotations

from glassgrad.backend import array_module

__all__ = ["erf_array"]


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
    """Cody's nested evaluation: (((n_last t + n_0) t + n_1) t ...) / (((t + d_0) t + d_1) t ...)."""
    n, d = num[-1] * t, t
    for a, b in zip(num[: len(den) - 1], den[:-1]):
        n, d = (n + a) * t, (d + b) * t
    return (n + num[len(den) - 1]) / (d + den[-1])


def erf_array(x):
    """The error function of a float array, elementwise, in the array's dtype.

    NumPy has no erf and ``math.erf`` takes one number, so this evaluates Cody's three rational
    approximations on the whole array (each on its range, clipped so the others cannot
    overflow) and picks per element: |x| <= 0.46875: x R1(x^2); |x| <= 4: 1 - e^-x^2 R2(|x|);
    else 1 - e^-x^2 (1/sqrt(pi) - R3(1/x^2)/x^2) / |x|. e^-x^2 is split as e^-s^2 e^-(|x|-s)(|x|+s)
    with s = |x| rounded down to 1/16, which keeps it accurate for large |x|.
    """
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
