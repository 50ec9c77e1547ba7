"""Matrix products of float16 arrays, and float16 arrays times or over a Python number, computed in float32.

NumPy has no half-precision BLAS: ``a @ b`` on float16 runs a generic loop, about 100 times
slower than the float32 BLAS call (1.0 s against 0.01 s for (256, 512) @ (512, 1536)). PyTorch's
CPU kernels accumulate float16 products in float32 and round the result once; multiplying the
float32 copies and rounding back does the same, so the results agree with PyTorch's to float16
rounding and are computed at BLAS speed. The float32 copies cost two conversions per product.
"""

from __future__ import annotations

from operator import mul
from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.errors import DTypeError

__all__ = ["HALF", "matmul_half", "by_number", "half_axpy", "axpy_half", "AddScaledHalf"]

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


def half_axpy(a: Any, b: Any, alpha: Any) -> bool:
    """Whether ``add``/``sub`` of the float16 tensor ``a`` and ``alpha * b`` takes ``AddScaledHalf``:
    ``b`` a float16 tensor too, neither sparse, ``alpha`` a real number other than 1. The callers
    test ``a``'s dtype first (an identity test: the float32 path of an optimizer's
    ``p.add_(g, alpha=-lr)`` pays only that)."""
    return (
        getattr(getattr(b, "_data", None), "dtype", None) is HALF
        and alpha.__class__ in _REAL
        and alpha != 1
        and not (a.is_sparse or b.is_sparse)
    )


def axpy_half(y: Any, x: Any, alpha: Any) -> Any:
    """``y + alpha * x`` for float16 arrays as PyTorch's Half ``add(y, x, alpha=alpha)``: alpha
    rounded to float16, the sum in float32, rounded once (also an optimizer's float16 step).

    Shape: y and x broadcast; returns their broadcast shape, float16."""
    scaled = np.float32(np.float16(alpha)) * x.astype(np.float32)
    return array_module(y).add(y, scaled, dtype=np.float32).astype(np.float16)  # (y read exactly)


class AddScaledHalf(Function):
    """z = a + alpha * b (``op="sub"``: a - alpha * b) for float16 ``a`` and ``b``, as PyTorch's CPU
    Half add kernel: ``alpha`` rounded to float16, then the whole sum in float32, rounded once.
    Scaling ``b`` to float16 first rounds twice (a fifth of ``a.add(b, alpha=0.3)`` one ulp off, and
    more where the sum cancels).   VJP: (g, ±alpha * g), the product ``by_number`` as PyTorch's."""

    node_name = "AddBackward0"
    register = False  # float16 only: the registry's gradcheck runs in float64 (its VJP: round62 tests)

    @staticmethod
    def forward(ctx, a, b, alpha=1.0, op="add"):
        half_alpha = np.float32(np.float16(alpha))
        if half_alpha in _INF and -_INF[0] < alpha < _INF[0]:  # PyTorch's checked Scalar conversion
            raise DTypeError(
                f"{op}: value cannot be converted to type float16 without overflow (got alpha={alpha!r})"
            )
        if op == "sub":
            ctx.attrs["node_name"] = "SubBackward0"
            half_alpha = -half_alpha
        return axpy_half(a, b, half_alpha)

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        alpha = -ctx.attrs["alpha"] if ctx.attrs.get("op") == "sub" else ctx.attrs["alpha"]
        return (g if need[0] else None), (by_number(mul, g, alpha) if need[1] else None)


_REAL = (float, int)
_INF = (np.float32(np.inf), np.float32(-np.inf))
