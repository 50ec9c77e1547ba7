"""``renorm``: each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled down to it, as one
op with PyTorch's backward (``RenormBackward0``).

Built from primitives the gradient would be the chain rule's, in float32 for float32: a slice whose
norm overflows (inf) then gave 0 * inf = NaN, and huge float64 slices lost the norm's term to
underflow (``factor * (1 / N) * ...``). PyTorch's ``renorm_backward`` takes the norm and the
slice sums ``sum(x g)`` in the CPU accumulation dtype (float64 for float32, float32 for float16)::

    gx = where(N > maxnorm, (maxnorm / (N + 1e-7)) * (g - nb / (N + 1e-7)), g)

with ``nb`` the norm's VJP of ``sum(x g)``; the forward's norm is in the input's dtype, as there.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, quietly
from glassgrad.ops.statistics import vector_norm_array
from glassgrad.tensor import Tensor

__all__ = ["Renorm", "renorm_array_grad", "slice_axes"]

# PyTorch's CPU accumulation dtypes, which its backward's norm and sums use
_ACC = {np.dtype(np.float16): np.dtype(np.float32), np.dtype(np.float32): np.dtype(np.float64)}


def slice_axes(ndim: int, dim: int) -> tuple[int, ...]:
    """Every axis but ``dim``: the ones a slice's norm reduces."""
    return tuple(k for k in range(ndim) if k != dim)


def _sgn(xp: Any, x: Any) -> Any:
    return xp.where(xp.isnan(x), 0, xp.sign(x))  # PyTorch's sgn of a real NaN: 0


def _norm_vjp(xp: Any, s: Any, x: Any, p: float, n: Any, axes: tuple) -> Any:
    """PyTorch's ``norm_backward(s, x, p, n)`` with x's dtype and s, n's (wider) one, in its order."""
    if p == 1:
        return _sgn(xp, x) * s
    if p == 2:
        return s * xp.where(n == 0, 0, x / n)
    if math.isinf(p):
        ax = xp.abs(x)
        mask = (ax == n) | xp.isnan(ax)
        return _sgn(xp, x) * ((s / mask.sum(axis=axes, keepdims=True)) * mask)
    ax = xp.abs(x)
    if p < 1:
        scaled = _sgn(xp, x) * xp.where(x == 0, 0, ax ** (p - 1))
        return scaled * s * n ** (1 - p)
    scaled = _sgn(xp, x) * ax ** (p - 1) if p < 2 else x * ax ** (p - 2)
    return scaled * xp.where(n == 0, 0, s / n ** (p - 1))


def renorm_array_grad(g: Any, x: Any, p: float, axes: tuple, maxnorm: float) -> Any:
    """PyTorch's ``renorm_backward`` on arrays (see the module docstring); g has x's dtype."""
    xp = array_module(x)
    acc = _ACC.get(x.dtype, x.dtype)
    n = vector_norm_array(x.astype(acc), p, axes, True)
    s = (x * g).astype(acc).sum(axis=axes, keepdims=True)  # the product in x's dtype, as there
    nb = _norm_vjp(xp, s, x, p, n, axes)
    inv = 1 / (n + 1e-7)
    scaled = (maxnorm * inv) * (g - inv * nb)
    return xp.where(n > maxnorm, scaled.astype(g.dtype, copy=False), g)


class Renorm(Function):
    """z = x * maxnorm / (N + 1e-7) on the slices along ``dim`` whose p-norm N exceeds ``maxnorm``,
    x elsewhere (N over the other ``axes``, in x's dtype: float16 in float32, as PyTorch's).

    VJP: PyTorch's ``renorm_backward`` (``renorm_array_grad``, the module docstring).
    """

    name = "renorm"
    node_name = "RenormBackward0"

    @staticmethod
    def forward(ctx, x, p=2.0, axes=(), maxnorm=1.0):
        xp = array_module(x)
        w = x.astype(xp.float32) if x.dtype == xp.float16 else x
        n = vector_norm_array(w, p, axes, True)
        # the factor in x's dtype before the product, as PyTorch's (float16's rounds twice there)
        factor = xp.where(n > maxnorm, maxnorm / (n + 1e-7), 1.0).astype(x.dtype, copy=False)
        ctx.save_for_backward(x)
        return xp.ascontiguousarray((x * factor).astype(x.dtype, copy=False))  # row-major, as PyTorch's

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        a = ctx.attrs
        return quietly(renorm_array_grad, g, x, a.get("p", 2.0), a.get("axes", ()), a.get("maxnorm", 1.0))


def renorm(x: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """The op on a real floating ``x`` (checked by the caller); ``dim`` non-negative. Shape: x's."""
    return Renorm.apply(x, p=float(p), axes=slice_axes(x.ndim, dim), maxnorm=float(maxnorm))
