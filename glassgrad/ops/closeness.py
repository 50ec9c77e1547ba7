"""``isclose``'s elementwise rule as PyTorch computes it (``isclose`` and ``allclose`` use it, and so
does ``testing.assert_close``, which marks its mismatches with ``isclose``).

NumPy's ``isclose`` differs in two ways that change answers: it casts integers to float64 first,
so ``2**53`` and ``2**53 + 1`` came out close even with ``rtol=atol=0``; and it computes the
allowed error as ``atol + rtol * |other|`` in float64 for every input, where PyTorch computes
``atol + |rtol * other|`` in the operands' own dtype (integers and booleans in the default float
dtype), so bounds that land exactly on the tolerance could differ.
"""

from __future__ import annotations

import numpy as np

from glassgrad import dtypes
from glassgrad.backend import array_module, quietly

__all__ = ["isclose_array"]


def isclose_array(a: np.ndarray, b: np.ndarray, rtol: float, atol: float, equal_nan: bool) -> np.ndarray:
    """Bool array of ``a``'s and ``b``'s broadcast shape: equal, or both NaN with ``equal_nan``, or
    ``|a - b| <= atol + |rtol * b|`` with a finite difference. ``a`` and ``b`` share one dtype."""
    xp = array_module(a)
    if a.dtype != b.dtype:  # (a Python number as ``other``: both in their common dtype)
        common = xp.result_type(a, b)
        a, b = a.astype(common), b.astype(common)
    close = xp.asarray(a == b)
    inexact = a.dtype.kind in "fc"
    if equal_nan and inexact:
        close = close | (xp.isnan(a) & xp.isnan(b))
    if rtol == 0 and atol == 0:  # an equality test, exact for integers of any size
        return xp.asarray(close)
    if not inexact:  # booleans and integers: the errors in the default float dtype, as PyTorch's
        a, b = (v.astype(dtypes.get_default_dtype().np) for v in (a, b))
    # the tolerances as weak scalars of the operands' (real) dtype: float32 stays float32
    real = a.real.dtype if a.dtype.kind == "c" else a.dtype
    allowed = quietly(lambda: real.type(atol) + xp.abs(real.type(rtol) * b))  # inf - inf: NaN, not close
    actual = quietly(lambda: xp.abs(a - b))
    return xp.asarray(close | (xp.isfinite(actual) & (actual <= allowed)))
