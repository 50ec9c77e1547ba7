"""Complex convolutions (``conv1d``/``conv2d``/``conv3d`` and the transposed ones on complex64 or
complex128 input and weight, as PyTorch's), built from the real primitives.

``(xr + i xi) * (wr + i wi) = (xr * wr - xi * wi) + i (xr * wi + xi * wr)``: four real
convolutions of the parts, joined by ``complex``, the bias added after. Every step is complex-aware
(``real``, ``imag``, ``complex``, ``add``), so the gradients are PyTorch's complex ones
(``x.grad = conv_grad(g, conj(w))``) without a backward of their own. PyTorch computes the same
sum with three real products (Gauss's trick), so the last bits may differ.
"""

from __future__ import annotations

from typing import Any

from glassgrad.ops import complex as _cx
from glassgrad.tensor import Tensor

__all__ = ["complex_conv"]


def complex_conv(prim: Any, x: Tensor, weight: Tensor, bias: Tensor | None, **kw: Any) -> Tensor:
    """``prim`` (a real convolution primitive: ``Conv2d``, ``ConvTranspose2d``, the 3-D ones) on
    complex ``x`` and ``weight`` of one dtype (checked by the caller), plus the complex ``bias``
    over the channel dim. Shapes are the real primitive's."""
    xr, xi, wr, wi = _cx.real(x), _cx.imag(x), _cx.real(weight), _cx.imag(weight)
    re = prim.apply(xr, wr, None, **kw) - prim.apply(xi, wi, None, **kw)
    im = prim.apply(xr, wi, None, **kw) + prim.apply(xi, wr, None, **kw)
    out = _cx.complex(re, im)
    if bias is None:
        return out
    return out + bias.reshape(-1, *([1] * (out.ndim - 2)))
