"""``interpolate`` of a uint8 image in bilinear or bicubic mode, in PyTorch's fixed-point arithmetic.

PyTorch's CPU kernels resize a uint8 ``(N, C, H, W)`` image without going through floats
(torchvision's ``Resize`` on uint8 tensors): one axis after the other (the width first; an axis
that keeps its size is skipped), each output pixel a sum of at most ``taps`` input pixels with
int16 weights, rounded and clamped back to uint8 between the two passes. Any other arithmetic
(float weights, rounding once at the end) lands one level off on many pixels, and up to about a
dozen levels for bicubic near the borders, so the weights and the rounding are PyTorch's:

    weights    double, then ``round(w * 2**p)`` with the largest precision p (< 22) that keeps
               ``2 * max(w) * 2**p`` below 2**15
    pixel      ``clamp((2**(p-1) + sum_j x[start + j] * w16[j]) >> p, 0, 255)``

With ``antialias=True`` the weights are PIL's (``image_aa.py``: the kernel widened by a
downscale, cut at the border and normalised); without, the plain kernel at the source coordinate
of ``interpolate``'s linear modes (cubic ``a = -0.75``), its weights past a border added onto the
border pixel.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassgrad.backend import array_module
from glassgrad.ops.layout import channels_last_if
from glassgrad.tensor import Tensor

__all__ = ["resize_uint8"]


def _filter(mode: str, antialias: bool) -> Any:
    """The interpolation kernel: the triangle (bilinear) or Keys' cubic (a -0.5 anti-aliased, as
    PIL, else -0.75 as PyTorch's float bicubic)."""
    if mode == "bilinear":
        return lambda x: max(1.0 - abs(x), 0.0)
    a = -0.5 if antialias else -0.75

    def cubic(x: float) -> float:
        x = abs(x)
        if x < 1.0:
            return ((a + 2) * x - (a + 3)) * x * x + 1
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a if x < 2.0 else 0.0

    return cubic


def _scale(n_in: int, n_out: int, factor: float | None, align_corners: bool) -> float:
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return 1.0 / factor if factor is not None and factor > 0 else n_in / n_out


def _aa_weights(n_in: int, n_out: int, scale: float, taps: int, filt: Any) -> tuple:
    """PIL's anti-aliased ranges and normalised weights: ``(starts, (n_out, width) weights, max)``."""
    wide = scale >= 1.0
    support = taps * 0.5 * (scale if wide else 1.0)
    inv = 1.0 / scale if wide else 1.0
    width = math.ceil(support) * 2 + 1
    starts, w, top = np.zeros(n_out, np.int64), np.zeros((n_out, width)), 0.0
    for i in range(n_out):
        center = scale * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        size = min(max(min(int(center + support + 0.5), n_in) - lo, 0), width)
        row = [filt((j + lo - center + 0.5) * inv) for j in range(size)]
        total = sum(row)
        if total != 0.0:
            row = [v / total for v in row]
            top = max([top, *row])
        starts[i], w[i, :size] = lo, row
    return starts, w, top


def _plain_weights(n_in: int, n_out: int, scale: float, align_corners: bool, taps: int, filt: Any) -> tuple:
    """The plain kernel's ``(starts, (n_out, taps) weights, max)``; weights that fall past a border
    are added onto the border pixel, as PyTorch's float kernels clamp the index there."""
    support = taps // 2
    starts, w, top = np.zeros(n_out, np.int64), np.zeros((n_out, taps)), 0.0
    for i in range(n_out):
        real = scale * i if align_corners else scale * (i + 0.5) - 0.5
        if not align_corners and taps == 2 and real < 0:
            real = 0.0
        index = min(math.floor(np.float32(real)), n_in - 1)  # PyTorch floors in float (floorf)
        lam = min(max(real - index, 0.0), 1.0)
        lo = index - support + 1
        size = min(max(min(index + support + 1, n_in) - max(lo, 0), 0), taps)
        k = 0
        for j in range(taps):
            k = 0 if lo + j <= 0 else size - 1 if lo + j >= n_in - 1 else k
            w[i, k] += filt(float(j + 1 - support) - lam)
            top = max(top, w[i, k])  # the running maximum, as PyTorch tracks it
            k += 1
        starts[i] = max(lo, 0)
    return starts, w, top


def _resample_axis(
    x: Any, axis: int, n_out: int, factor: float | None, align_corners: bool, mode: str, aa: bool
) -> Any:
    """One pass along ``axis`` of the uint8 array ``x`` (a 4-D image's H or W)."""
    n_in, taps, filt = x.shape[axis], 2 if mode == "bilinear" else 4, _filter(mode, aa)
    scale = _scale(n_in, n_out, factor, align_corners)
    if aa:
        starts, w, top = _aa_weights(n_in, n_out, scale, taps, filt)
    else:
        starts, w, top = _plain_weights(n_in, n_out, scale, align_corners, taps, filt)
    bits = 0
    while bits < 22 and int(0.5 + top * (1 << (bits + 1))) < (1 << 15):
        bits += 1
    v = w * (1 << bits)
    w16 = np.where(v < 0, np.trunc(v - 0.5), np.trunc(v + 0.5)).astype(np.int64)  # half away from 0
    xp = array_module(x)
    index = xp.asarray(np.minimum(starts[:, None] + np.arange(w.shape[1]), n_in - 1))  # zero weights past
    moved = xp.moveaxis(x, axis, -1).astype(np.int64)  # (..., n_in)
    total = (moved[..., index] * xp.asarray(w16)).sum(-1) + (1 << (bits - 1))
    return xp.ascontiguousarray(xp.moveaxis(xp.clip(total >> bits, 0, 255).astype(np.uint8), -1, axis))


def resize_uint8(
    input: Tensor,  # noqa: A002
    sizes: tuple,
    factors: tuple,
    align_corners: bool,
    mode: str,
    antialias: bool,
) -> Tensor:
    """A uint8 ``(N, C, H, W)`` image resized to ``sizes`` (``(Ho, Wo)``), the width first;
    ``factors`` are the given scale factors (None: the sizes' ratio). Returns ``(N, C, Ho, Wo)``."""
    out = input._data
    if out.shape[3] != sizes[1]:
        out = _resample_axis(out, 3, sizes[1], factors[1], align_corners, mode, antialias)
    if out.shape[2] != sizes[0]:
        out = _resample_axis(out, 2, sizes[0], factors[0], align_corners, mode, antialias)
    out = Tensor(out.copy() if out is input._data else out, _wrap=True)
    return channels_last_if(out, input)  # a channels-last image stays channels-last (PyTorch)
