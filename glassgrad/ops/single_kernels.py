"""PyTorch's single-precision kernels where its float32 values are not glassgrad's float64 values
rounded, nor NumPy's float32 ones: I0 (``calc_i0<float>``: Cephes' Chebyshev series for e^-x I0(x)
on [0, 8] and for e^-x sqrt(x) I0(x) beyond, times e^x), ``kaiser_window`` built on it, and sinc
(its sin rounded once: NumPy's float32 sin is up to 2 ulps off on 14 % of inputs, PyTorch's on 1 %).

Why not float64 rounded to float32, as the other special functions here: the float32 kernel is
several ulps off the true I0 (up to 4 ulps on torch.i0, and its rounding compounds in
``kaiser_window`` to 17 ulps on a 1000-point window), and a program that builds a float32 window
or filter (BigVGAN's Kaiser-sinc anti-aliasing filters) and casts it to float64 then carries
PyTorch's float32 values into every result. PyTorch's CPU build fuses ``x * b1 - b2`` in the
Chebyshev recurrence and ``1 - t * t`` in the window into fused multiply-adds; they are evaluated
here exactly in float64 (a float32 product is exact there) and rounded once to float32. ``exp`` is
the correctly rounded float32 value (float64 exp rounded), as glibc's ``expf`` gives in all but rare
ties. The result matches PyTorch's bit for bit on about 99.9 % of inputs, 1 ulp off elsewhere.
"""

from __future__ import annotations

from glassgrad.backend import array_module

__all__ = ["i0_single", "kaiser_single", "sinc_single"]

# Cephes' coefficients (PyTorch's chebyshev_coefficients_i0e_A/B), rounded to float32 as its
# float instantiation rounds them
_A = (-4.41534164647933937950e-18, 3.33079451882223809783e-17, -2.43127984654795469359e-16,
      1.71539128555513303061e-15, -1.16853328779934516808e-14, 7.67618549860493561688e-14,
      -4.85644678311192946090e-13, 2.95505266312963983461e-12, -1.72682629144155570723e-11,
      9.67580903537323691224e-11, -5.18979560163526290666e-10, 2.65982372468238665035e-9,
      -1.30002500998624804212e-8, 6.04699502254191894932e-8, -2.67079385394061173391e-7,
      1.11738753912010371815e-6, -4.41673835845875056359e-6, 1.64484480707288970893e-5,
      -5.75419501008210370398e-5, 1.88502885095841655729e-4, -5.76375574538582365885e-4,
      1.63947561694133579842e-3, -4.32430999505057594430e-3, 1.05464603945949983183e-2,
      -2.37374148058994688156e-2, 4.93052842396707084878e-2, -9.49010970480476444210e-2,
      1.71620901522208775349e-1, -3.04682672343198398683e-1, 6.76795274409476084995e-1)  # fmt: skip
_B = (-7.23318048787475395456e-18, -4.83050448594418207126e-18, 4.46562142029675999901e-17,
      3.46122286769746109310e-17, -2.82762398051658348494e-16, -3.42548561967721913462e-16,
      1.77256013305652638360e-15, 3.81168066935262242075e-15, -9.55484669882830764870e-15,
      -4.15056934728722208663e-14, 1.54008621752140982691e-14, 3.85277838274214270114e-13,
      7.18012445138366623367e-13, -1.79417853150680611778e-12, -1.32158118404477131188e-11,
      -3.14991652796324136454e-11, 1.18891471078464383424e-11, 4.94060238822496958910e-10,
      3.39623202570838634515e-9, 2.26666899049817806459e-8, 2.04891858946906374183e-7,
      2.89137052083475648297e-6, 6.88975834691682398426e-5, 3.36911647825569408990e-3,
      8.04490411014108831608e-1)  # fmt: skip


def _chbevl(xp, x, coeffs):
    """Cephes' Clenshaw recurrence b0 = x b1 - b2 + c in float32, ``x b1 - b2`` fused."""
    f32, f64 = xp.float32, xp.float64
    b0, b1, b2 = xp.full_like(x, coeffs[0]), xp.zeros_like(x), xp.zeros_like(x)
    x64 = x.astype(f64)
    for c in coeffs[1:]:
        b2, b1 = b1, b0
        b0 = (x64 * b1 - b2).astype(f32) + f32(c)
    return f32(0.5) * (b0 - b2)


def i0_single(x):
    """I0 of a float32 array as PyTorch's float kernel computes it (same shape, float32); callers
    silence NumPy's overflow warnings (e^x past 88.7 is inf, inf / inf at +-inf is NaN, as PyTorch)."""
    xp = array_module(x)
    f32 = xp.float32
    x = xp.abs(x.astype(f32, copy=False))
    e = xp.exp(x.astype(xp.float64)).astype(f32)
    small = x <= f32(8)
    near = e * _chbevl(xp, x / f32(2) - f32(2), _A)
    big = xp.where(small, f32(8), x)  # the far branch where it is taken; 8 elsewhere (no 32 / 0)
    far = e * _chbevl(xp, f32(32) / big - f32(2), _B) / xp.sqrt(big)
    return xp.where(small, near, far)


def kaiser_single(xp, m: int, beta: float):
    """PyTorch's ``kaiser_window`` kernel in float32 at k = 0 .. m - 1 (m > 1):
    I0(beta sqrt(|1 - t^2|)) / I0(beta), t = (k - a) / a, a = (m - 1) / 2, with ``1 - t^2`` fused."""
    f32 = xp.float32
    alpha, b = f32((m - 1) / 2.0), f32(beta)
    t = (xp.arange(m, dtype=f32) - alpha) / alpha
    root = xp.sqrt(xp.abs((1.0 - t.astype(xp.float64) * t).astype(f32)))
    return i0_single(b * root) / i0_single(xp.asarray([b], dtype=f32))


def sinc_single(a):
    """sin(pi a) / (pi a) of a float32 or float16 array in float32 (PyTorch's opmath), the product
    rounded to float32 first, as PyTorch's kernel; 1 at 0. Same shape, a's dtype."""
    xp = array_module(a)
    w = a.astype(xp.float32)
    y = xp.float32(3.141592653589793) * w
    out = xp.sin(y.astype(xp.float64)).astype(xp.float32) / y
    return xp.where(w == 0, xp.float32(1), out).astype(a.dtype, copy=False)
