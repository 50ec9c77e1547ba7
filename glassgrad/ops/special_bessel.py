"""``torch.special.spherical_bessel_j0``: j0(x) = sin(x) / x, the spherical Bessel function of the
first kind and order 0 (the radial part of a plane wave; e3nn/DimeNet-style radial bases).

Near 0 the quotient loses digits, so |x| < 0.5 takes the Taylor series 1 - x^2/6 + x^4/120 - ...
(to x^14, below float64's last bit there), as PyTorch's kernel does; j0(+-inf) = 0. No gradient,
as PyTorch's (its result never requires grad). Integers compute in the default float dtype.
"""

from __future__ import annotations

import math

from glassgrad.backend import array_module
from glassgrad.errors import DTypeError
from glassgrad.meta_array import MetaArray, meta_array
from glassgrad.ops.elementwise import floating
from glassgrad.tensor import Tensor

__all__ = ["spherical_bessel_j0"]

# (-1)^k / (2k + 1)!, the series' coefficients in x^2
_SERIES = tuple((-1) ** k / math.factorial(2 * k + 1) for k in range(8))


def spherical_bessel_j0(input: Tensor) -> Tensor:  # noqa: A002
    """sin(x) / x elementwise, 1 at 0 and 0 at +-inf; no gradient (see the module docstring).

    Shape:
        input ``(*)``; output ``(*)``, float (integers in the default float dtype).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"spherical_bessel_j0: expected a Tensor, got {type(input).__name__}")
    if input.dtype.is_complex or (input.dtype.is_floating_point and input._data.dtype.itemsize < 4):
        raise DTypeError(f"spherical_bessel_j0: expected a float32 or float64 tensor, got {input.dtype}")
    x = floating(input)._data if not input.dtype.is_floating_point else input._data
    xp = array_module(x)
    if isinstance(x, MetaArray):
        return Tensor(meta_array(x.shape, x.dtype), _wrap=True)
    with xp.errstate(all="ignore"):
        x2 = x * x
        series = xp.zeros_like(x)
        for c in reversed(_SERIES):
            series = series * x2 + x.dtype.type(c)
        quotient = xp.sin(x) / x
        out = xp.where(xp.abs(x) < 0.5, series, quotient)
        out = xp.where(xp.isinf(x), x.dtype.type(0), out)
    return Tensor(xp.asarray(out, dtype=x.dtype), _wrap=True)
