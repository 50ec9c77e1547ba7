"""Matrix products of float16 arrays, and float16 arrays times or over a Python number, computed in float32.

NumPy has no half-precision BLAS: ``a @ b`` on float16 runs a generic loop, about 100 times
slower than the float32 BLAS call (1.0 s against 0.01 s for (256, 512) @ (512, 1536)). PyTorch's
CPU kernels accumulate float16 products in float32 and round the result once; multiplying the
float32 copies and rounding back does the same, so the results agree with PyTorch's to float16
rounding and are computed at BLAS speed. The float32 copies cost two conversions per product.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.backend import array_module

__all__ = ["HALF", "matmul_half", "by_number"]

# NumPy's float16 dtype is a singleton: callers on the hot path test `a.dtype is HALF` (about 15 ns).
HALF = np.dtype(np.float16)


def matmul_half(a: Any, b: Any, bias: Any = None) -> Any:
    """``a @ b`` (+ ``bias``) for float16 operands: the product of their float32 copies, rounded
    to float16. A ``bias`` (broadcastable to the product) is added before that one rounding, as
    PyTorch's addmm does: adding it to the rounded product would round twice (one ulp off)."""
    xp = array_module(a)
    y = xp.matmul(a.astype(np.float32), b.astype(np.float32))
    if bias is not None:
        y += bias
    return y.astype(np.float16)


def by_number(op: Any, x: Any, s: Any) -> Any:
    """``op(x, s)`` for ``mul`` or ``truediv``. A float16 array by a (nonzero) Python number is
    computed as PyTorch's CPU Half kernels compute it: in float32, with the number as float32,
    rounded to float16 once. NumPy would round the number to float16 first, which moves about a
    third of ``x * 0.1`` by one float16 ulp."""
    if s.__class__ in _NUMBERS and getattr(x, "dtype", None) is HALF and s:
        return op(x.astype(np.float32), np.float32(s)).astype(np.float16)
    return op(x, s)


_NUMBERS = (float, int, bool)
