"""Volumetric pooling primitives: max_pool3d, avg_pool3d and adaptive_max_pool3d.

The method of ``ops/pooling.py``, for any number of spatial dims and used for three: tap
``(a, i, j)`` of every window at once is one strided view of the padded input; the
``kd * kh * kw`` taps are gathered once into a contiguous ``(K, N, C, Do, Ho, Wo)`` array, and the
ops loop over the kernel taps, never over voxels or batch items. Max pooling keeps a running
maximum with a strict ``>`` (first maximum on ties; a NaN wins, as in PyTorch) and routes the
gradient back through the same strided views. Adaptive average pooling is three matmuls (in
``nn.functional.pool3d``). Backward is first-order only.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from glassgrad.autograd.function import Function
from glassgrad.backend import array_module
from glassgrad.ops.conv import out_size
from glassgrad.ops.pooling import _bin_taps, _disjoint, _divisor

__all__ = ["MaxPool3d", "AvgPool3d", "AdaptiveMaxPool3d", "max_windows_nd", "max_pool_indices_nd"]


def _pad_nd(x: Any, padding: tuple, value: float) -> Any:
    """Pad the spatial dims by ``((before, after), ...)`` with ``value``; no copy when all are 0."""
    if not any(lo or hi for lo, hi in padding):
        return x
    n, c, *size = x.shape
    out = array_module(x).full(
        (n, c, *(s + lo + hi for s, (lo, hi) in zip(size, padding))), value, dtype=x.dtype
    )
    out[(slice(None), slice(None), *(slice(lo, lo + s) for s, (lo, _) in zip(size, padding)))] = x
    return out


def _unpad_nd(dx: Any, padding: tuple) -> Any:
    if not any(lo or hi for lo, hi in padding):
        return dx
    crop = tuple(slice(lo, n - hi) for n, (lo, hi) in zip(dx.shape[2:], padding))
    return array_module(dx).ascontiguousarray(dx[(slice(None), slice(None), *crop)])


def _tap_view(x: Any, kernel: tuple, stride: tuple, dilation: tuple, windows: tuple, writeable: bool) -> Any:
    """``(*kernel, N, C, *windows)`` strided view of padded ``x``: ``[a, i, j]`` is that tap of every window."""
    s_n, s_c, *s_sp = x.strides
    return array_module(x).lib.stride_tricks.as_strided(
        x,
        shape=(*kernel, *x.shape[:2], *windows),
        strides=(
            *(s * d for s, d in zip(s_sp, dilation)),
            s_n,
            s_c,
            *(s * st for s, st in zip(s_sp, stride)),
        ),
        writeable=writeable,
    )


def _taps(x: Any, kernel: tuple, stride: tuple, dilation: tuple) -> Any:
    """Every window's taps, tap-major and contiguous: ``(K, N, C, *windows)`` (one copy)."""
    win = tuple(out_size(n, k, s, d) for n, k, s, d in zip(x.shape[2:], kernel, stride, dilation))
    taps = array_module(x).ascontiguousarray(_tap_view(x, kernel, stride, dilation, win, False))
    return taps.reshape(math.prod(kernel), *taps.shape[len(kernel) :])  # not -1: N may be 0


def max_windows_nd(x: Any, kernel: tuple, stride: tuple, dilation: tuple, padding: tuple) -> tuple[Any, Any]:
    """``(max, arg)`` of every window; ``arg`` is the flat kernel tap (C order) of the first maximum."""
    xp = array_module(x)
    taps = _taps(_pad_nd(x, padding, -np.inf), kernel, stride, dilation)  # (K, N, C, *windows)
    best = taps[0].copy()
    itype = np.int8 if len(taps) < 128 else np.int32
    arg = xp.zeros(best.shape, dtype=itype)
    take = xp.empty(best.shape, dtype=bool)
    step = xp.empty(best.shape, dtype=itype)
    for k in range(1, len(taps)):  # arg += take * (k - arg): see ops/pooling._max_windows
        v = taps[k]
        xp.greater(v, best, out=take)
        xp.maximum(best, v, out=best)  # NaN-propagating
        xp.subtract(itype(k), arg, out=step)
        xp.multiply(step, take, out=step)
        arg += step
    if xp.isnan(best).any():
        for k in range(len(taps)):
            xp.copyto(arg, itype(k), where=xp.isnan(taps[k]))
    return best, arg


def max_pool_indices_nd(
    arg: Any, kernel: tuple, stride: tuple, dilation: tuple, padding: tuple, size: tuple
) -> Any:
    """PyTorch's ``return_indices``: each maximum's flat position in its unpadded volume (C order)."""
    xp = array_module(arg)
    nd = len(kernel)
    taps = xp.unravel_index(arg.astype(np.int64), kernel)
    flat = 0
    for axis in range(nd):
        shape = [1] * nd
        shape[axis] = arg.shape[2 + axis]
        start = xp.arange(shape[axis]).reshape(shape) * stride[axis] - padding[axis][0]
        flat = flat * size[axis] + start + taps[axis] * dilation[axis]
    return flat


class MaxPool3d(Function):
    """out = max over each window (first maximum on ties). VJP: g goes to that maximum only;
    where windows overlap, a voxel sums the gradients of all windows it is the maximum of.

    ``padding`` is ``((before, after), ...)`` of -inf, ceil_mode's overhang already folded in.

    Shape:
        x ``(N, C, D, H, W)`` -> ``(N, C, Do, Ho, Wo)``.
    """

    name = "max_pool3d"

    @staticmethod
    def forward(ctx, x, kernel=(1, 1, 1), stride=(1, 1, 1), dilation=(1, 1, 1), padding=((0, 0),) * 3):
        out, arg = max_windows_nd(x, kernel, stride, dilation, padding)
        ctx.save_for_backward(arg)
        return out

    @staticmethod
    def backward(ctx, g):
        (arg,) = ctx.saved
        a = ctx.attrs
        xp = array_module(g)
        kernel, stride, dilation, padding = a["kernel"], a["stride"], a["dilation"], a["padding"]
        n, c, *size = ctx.shapes[0]
        dx = xp.zeros((n, c, *(s + lo + hi for s, (lo, hi) in zip(size, padding))), dtype=g.dtype)
        view = _tap_view(dx, kernel, stride, dilation, g.shape[2:], True)  # (*kernel, N, C, *windows)
        disjoint = _disjoint(kernel, stride, dilation)
        for k, tap in enumerate(itertools.product(*(range(kk) for kk in kernel))):
            if disjoint:  # each voxel is in one window at most: write straight into the tap's voxels
                xp.multiply(g, arg == k, out=view[tap])
            else:  # overlapping windows: accumulate
                view[tap] += g * (arg == k)
        return _unpad_nd(dx, padding)


class AvgPool3d(Function):
    """out = sum over each window * scale, scale = 1 / divisor per window. VJP: g * scale spread
    evenly over each window's taps (overlaps add).

    ``extra`` is ceil_mode's overhang past the far end of each axis (zeros that never count).

    Shape:
        x ``(N, C, D, H, W)`` -> ``(N, C, Do, Ho, Wo)``.
    """

    name = "avg_pool3d"

    @staticmethod
    def forward(
        ctx,
        x,
        kernel=(1, 1, 1),
        stride=(1, 1, 1),
        padding=(0, 0, 0),
        extra=(0, 0, 0),
        count_include_pad=True,
        divisor=None,
    ):
        xp = array_module(x)
        pads = tuple((p, p + e) for p, e in zip(padding, extra))
        taps = _taps(_pad_nd(x, pads, 0.0), kernel, stride, (1,) * len(kernel))  # (K, N, C, *windows)
        win = taps.shape[3:]
        if divisor is not None:
            scale = xp.asarray(1.0 / divisor, dtype=x.dtype)
        else:
            counts = [
                _divisor(xp, n, k, s, p, o, count_include_pad)
                for n, k, s, p, o in zip(x.shape[2:], kernel, stride, padding, win)
            ]
            total = counts[0][:, None, None] * counts[1][None, :, None] * counts[2][None, None, :]
            scale = xp.asarray(1.0 / total, dtype=x.dtype)  # (Do, Ho, Wo)
        ctx.save_for_backward(scale)
        out = taps.sum(axis=0)
        out *= scale
        return out

    @staticmethod
    def backward(ctx, g):
        (scale,) = ctx.saved
        a = ctx.attrs
        xp = array_module(g)
        kernel, stride = a["kernel"], a["stride"]
        pads = tuple((p, p + e) for p, e in zip(a["padding"], a["extra"]))
        gs = g * scale  # every tap of a window receives its window's g / divisor
        n, c, *size = ctx.shapes[0]
        dx = xp.zeros((n, c, *(s + lo + hi for s, (lo, hi) in zip(size, pads))), dtype=g.dtype)
        ones = (1,) * len(kernel)
        view = _tap_view(dx, kernel, stride, ones, g.shape[2:], True)
        if _disjoint(kernel, stride, ones):
            view[...] = gs
        else:
            for tap in itertools.product(*(range(k) for k in kernel)):
                view[tap] += gs
        return _unpad_nd(dx, pads)


def adaptive_max_windows_nd(x: Any, output_size: tuple) -> tuple[Any, Any]:
    """``(max, flat index d*H*W + h*W + w of the first maximum)`` per adaptive bin of a volume."""
    xp = array_module(x)
    n, c, d, h, w = x.shape
    bins = [_bin_taps(s, o) for s, o in zip((d, h, w), output_size)]  # (o, k) each
    (do, kd), (ho, kh), (wo, kw) = (b.shape for b in bins)
    dd = bins[0][:, :, None, None, None, None]
    hh = bins[1][None, None, :, :, None, None]
    ww = bins[2][None, None, None, None, :, :]
    win = x[:, :, dd, hh, ww]  # (N, C, Do, kd, Ho, kh, Wo, kw)
    win = win.transpose(0, 1, 2, 4, 6, 3, 5, 7).reshape(n, c, do, ho, wo, kd * kh * kw)
    arg = win.argmax(axis=-1)  # first maximum (and first NaN)
    out = xp.take_along_axis(win, arg[..., None], axis=-1)[..., 0]
    ad, ah, aw = xp.unravel_index(arg, (kd, kh, kw))
    pd = bins[0][xp.arange(do)[:, None, None], ad]
    ph = bins[1][xp.arange(ho)[:, None], ah]
    pw = bins[2][xp.arange(wo), aw]
    return out, (pd * h + ph) * w + pw


class AdaptiveMaxPool3d(Function):
    """out = max over each adaptive bin (first maximum on ties). VJP: g to that maximum, summed
    where neighbouring bins share a voxel.

    Shape:
        x ``(N, C, D, H, W)`` -> ``(N, C, *output_size)``.
    """

    name = "adaptive_max_pool3d"

    @staticmethod
    def forward(ctx, x, output_size=(1, 1, 1)):
        out, flat = adaptive_max_windows_nd(x, output_size)
        ctx.save_for_backward(flat)
        return out

    @staticmethod
    def backward(ctx, g):
        (flat,) = ctx.saved
        xp = array_module(g)
        n, c, *size = ctx.shapes[0]
        planes, vol = n * c, math.prod(size)
        dx = xp.zeros((planes, vol), dtype=g.dtype)
        per = g.size // planes if planes else 0
        xp.add.at(dx, (xp.arange(planes)[:, None], flat.reshape(planes, per)), g.reshape(planes, per))
        return dx.reshape(n, c, *size)
