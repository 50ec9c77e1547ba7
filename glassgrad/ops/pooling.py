"""Pooling primitives: max pooling (routing the gradient to each window's maximum), average
pooling, and adaptive max pooling. Adaptive average pooling is a linear map per axis and is built
from matmuls in ``nn.functional.pooling``.

Tap ``(i, j)`` of every window at once is one strided view of the padded input,
``xpad[:, :, i*dh :: sh, j*dw :: sw]`` (cut to ``Ho x Wo``); the ``kh * kw`` taps are gathered once
into a contiguous ``(kh*kw, N, C, Ho, Wo)`` array, and the ops loop over the kernel offsets, never
over pixels or batch items. A running maximum over the taps, with a strict ``>``, keeps the FIRST
maximum of each window on ties (NaN wins, as in PyTorch). Backward writes ``g`` back through the
same strided views, so where windows overlap a pixel collects the gradient of every window whose
maximum it is. 1-D pools are the 2-D ones with a height of 1. Backward is first-order only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.function import Function
from glassgrad.backend import array_module
from glassgrad.ops.conv import out_size

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveMaxPool2d", "max_pool_indices", "adaptive_bins"]


def _pad(x: Any, padding: tuple, value: float) -> Any:
    """Pad the last two dims by ``((top, bottom), (left, right))`` with ``value``; no copy when 0."""
    (pt, pb), (pl, pr) = padding
    if not (pt or pb or pl or pr):
        return x
    n, c, h, w = x.shape
    out = array_module(x).full((n, c, h + pt + pb, w + pl + pr), value, dtype=x.dtype)
    out[:, :, pt : pt + h, pl : pl + w] = x
    return out


def _windows(shape: tuple, kernel: tuple, stride: tuple, dilation: tuple) -> tuple[int, int]:
    """``(Ho, Wo)``: the number of windows over a padded ``(N, C, Hp, Wp)`` input."""
    return (
        out_size(shape[2], kernel[0], stride[0], dilation[0]),
        out_size(shape[3], kernel[1], stride[1], dilation[1]),
    )


def _tap_view(x: Any, kernel: tuple, stride: tuple, dilation: tuple, windows: tuple, writeable: bool) -> Any:
    """``(kh, kw, N, C, Ho, Wo)`` strided view of padded ``x``: ``[i, j]`` is tap ``(i, j)`` of every window."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    n, c = x.shape[:2]
    s_n, s_c, s_h, s_w = x.strides
    return array_module(x).lib.stride_tricks.as_strided(
        x,
        shape=(kh, kw, n, c, *windows),
        strides=(s_h * dh, s_w * dw, s_n, s_c, s_h * sh, s_w * sw),
        writeable=writeable,
    )


def _taps(x: Any, kernel: tuple, stride: tuple, dilation: tuple) -> Any:
    """Every window's taps, tap-major and contiguous: ``(kh*kw, N, C, Ho, Wo)`` (one copy).

    Elementwise loops over contiguous arrays are many times faster in NumPy than over the
    stride-2 slices of the input, so the taps are gathered once and the rest runs contiguous."""
    win = _windows(x.shape, kernel, stride, dilation)
    taps = array_module(x).ascontiguousarray(_tap_view(x, kernel, stride, dilation, win, False))
    k = taps.shape[0] * taps.shape[1]  # not -1: NumPy cannot infer it when N is 0
    return taps.reshape(k, *taps.shape[2:])  # (kh, kw, N, C, Ho, Wo) -> (K, N, C, Ho, Wo)


def _disjoint(kernel: tuple, stride: tuple, dilation: tuple) -> bool:
    """Whether no pixel is read by two windows (each window's span ends before the next begins)."""
    return all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))


def _unpad(dx: Any, padding: tuple) -> Any:
    (pt, pb), (pl, pr) = padding
    if not (pt or pb or pl or pr):
        return dx
    h, w = dx.shape[2] - pt - pb, dx.shape[3] - pl - pr
    return array_module(dx).ascontiguousarray(dx[:, :, pt : pt + h, pl : pl + w])


def _padded_zeros(shape: tuple, padding: tuple, dtype: Any, xp: Any) -> Any:
    (pt, pb), (pl, pr) = padding
    n, c, h, w = shape
    return xp.zeros((n, c, h + pt + pb, w + pl + pr), dtype=dtype)


def _max_windows(x: Any, kernel: tuple, stride: tuple, dilation: tuple, padding: tuple) -> tuple[Any, Any]:
    """``(max, arg)`` of every window; ``arg`` is the kernel offset ``i * kw + j`` of the first maximum.

    A running maximum over the taps; a tap replaces the current best only when strictly greater, so
    ties keep the first. ``arg`` is updated by arithmetic (``arg += take * (k - arg)``), which NumPy
    runs several times faster than ``where`` or a masked assignment. A NaN wins its window, as in
    PyTorch (its last NaN, like PyTorch's loop); that rare case is fixed up after the loop."""
    xp = array_module(x)
    taps = _taps(_pad(x, padding, -np.inf), kernel, stride, dilation)  # (K, N, C, Ho, Wo)
    best = taps[0].copy()
    itype = np.int8 if len(taps) < 128 else np.int32
    arg = xp.zeros(best.shape, dtype=itype)
    take = xp.empty(best.shape, dtype=bool)
    step = xp.empty(best.shape, dtype=itype)
    for k in range(1, len(taps)):
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


def max_pool_indices(
    arg: Any, kernel: tuple, stride: tuple, dilation: tuple, padding: tuple, width: int
) -> Any:
    """PyTorch's ``return_indices``: each maximum's flat position ``row * W + col`` in its unpadded plane."""
    xp = array_module(arg)
    ho, wo = arg.shape[-2:]
    kw = kernel[1]
    a = arg.astype(np.int64)
    rows = xp.arange(ho).reshape(ho, 1) * stride[0] + (a // kw) * dilation[0] - padding[0][0]
    cols = xp.arange(wo) * stride[1] + (a % kw) * dilation[1] - padding[1][0]
    return rows * width + cols


class MaxPool2d(Function):
    """out = max over each window (first maximum on ties). VJP: g goes to that maximum only;
    where windows overlap, a pixel sums the gradients of all windows it is the maximum of.

    ``padding`` is ``((top, bottom), (left, right))`` of -inf; ``ceil_mode`` is already folded in
    as extra bottom/right padding.

    Shape:
        x ``(N, C, H, W)`` -> ``(N, C, Ho, Wo)``.
    """

    name = "max_pool2d"

    @staticmethod
    def forward(ctx, x, kernel=(1, 1), stride=(1, 1), dilation=(1, 1), padding=((0, 0), (0, 0))):
        out, arg = _max_windows(x, kernel, stride, dilation, padding)
        ctx.save_for_backward(arg)
        return out

    @staticmethod
    def backward(ctx, g):
        (arg,) = ctx.saved
        a = ctx.attrs
        xp = array_module(g)
        kernel, stride, dilation = a["kernel"], a["stride"], a["dilation"]
        kh, kw = kernel
        dx = _padded_zeros(ctx.shapes[0], a["padding"], g.dtype, xp)
        view = _tap_view(dx, kernel, stride, dilation, g.shape[2:], True)  # (kh, kw, N, C, Ho, Wo)
        if _disjoint(kernel, stride, dilation):
            # each pixel belongs to one window at most: write g where tap i * kw + j held the
            # maximum (else 0) straight into that tap's pixels, one pass per kernel offset
            for i in range(kh):
                for j in range(kw):
                    xp.multiply(g, arg == i * kw + j, out=view[i, j])
        else:  # overlapping windows: one accumulating pass per kernel offset
            for i in range(kh):
                for j in range(kw):
                    view[i, j] += g * (arg == i * kw + j)
        return _unpad(dx, a["padding"])


def _divisor(xp: Any, size: int, k: int, s: int, p: int, windows: int, include_pad: bool) -> Any:
    """Per window along one axis: how many of its taps average (the padded ones too if ``include_pad``).

    Windows that reach into the ceil_mode overhang never count the overhang."""
    start = xp.arange(windows) * s - p
    end = xp.minimum(start + k, size + p)
    if not include_pad:
        start, end = xp.maximum(start, 0), xp.minimum(end, size)
    return end - start


class AvgPool2d(Function):
    """out = sum over each window * scale, scale = 1 / divisor per window. VJP: g * scale spread
    evenly over each window's taps (overlaps add).

    Shape:
        x ``(N, C, H, W)`` -> ``(N, C, Ho, Wo)``.
    """

    name = "avg_pool2d"

    @staticmethod
    def forward(
        ctx,
        x,
        kernel=(1, 1),
        stride=(1, 1),
        padding=(0, 0),
        extra=(0, 0),
        count_include_pad=True,
        divisor=None,
    ):
        xp = array_module(x)
        (ph, pw), (kh, kw) = padding, kernel
        taps = _taps(_pad(x, ((ph, ph + extra[0]), (pw, pw + extra[1])), 0.0), kernel, stride, (1, 1))
        win = taps.shape[-2:]
        if divisor is not None:
            scale = xp.asarray(1.0 / divisor, dtype=x.dtype)
        else:
            h, w = x.shape[2:]
            dh = _divisor(xp, h, kh, stride[0], ph, win[0], count_include_pad)
            dw = _divisor(xp, w, kw, stride[1], pw, win[1], count_include_pad)
            scale = xp.asarray(1.0 / (dh[:, None] * dw[None, :]), dtype=x.dtype)  # (Ho, Wo)
        ctx.save_for_backward(scale)
        out = taps.sum(axis=0)  # (K, N, C, Ho, Wo) -> (N, C, Ho, Wo)
        out *= scale
        return out

    @staticmethod
    def backward(ctx, g):
        (scale,) = ctx.saved
        a = ctx.attrs
        xp = array_module(g)
        (ph, pw), extra = a["padding"], a["extra"]
        kernel, stride = a["kernel"], a["stride"]
        pads = ((ph, ph + extra[0]), (pw, pw + extra[1]))
        gs = g * scale  # every tap of a window receives its window's g / divisor
        dx = _padded_zeros(ctx.shapes[0], pads, g.dtype, xp)
        view = _tap_view(dx, kernel, stride, (1, 1), g.shape[2:], True)  # (kh, kw, N, C, Ho, Wo)
        if _disjoint(kernel, stride, (1, 1)):
            view[...] = gs
        else:
            for i in range(kernel[0]):
                for j in range(kernel[1]):
                    view[i, j] += gs
        return _unpad(dx, pads)


def adaptive_bins(size: int, windows: int) -> tuple[Any, Any]:
    """Bin ``i`` covers ``[floor(i*size/windows), ceil((i+1)*size/windows))``: ``(start, end)`` arrays."""
    i = np.arange(windows)
    return (i * size) // windows, -((-(i + 1) * size) // windows)


def _bin_taps(size: int, windows: int) -> Any:
    """``(windows, widest)`` positions of each bin, the short bins padded by repeating their last tap
    (a repeat never changes a maximum, and argmax keeps the first copy)."""
    start, end = adaptive_bins(size, windows)
    taps = start[:, None] + np.arange(int((end - start).max()))
    return np.minimum(taps, end[:, None] - 1)


def adaptive_max_windows(x: Any, output_size: tuple) -> tuple[Any, Any]:
    """``(max, flat index row * W + col of the first maximum)`` per adaptive bin."""
    xp = array_module(x)
    n, c, h, w = x.shape
    rows, cols = _bin_taps(h, output_size[0]), _bin_taps(w, output_size[1])
    ho, kh = rows.shape
    wo, kw = cols.shape
    win = x[:, :, rows[:, :, None, None], cols[None, None, :, :]]  # (N, C, Ho, kh, Wo, kw)
    win = win.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, ho, wo, kh * kw)  # -> (N, C, Ho, Wo, kh*kw)
    arg = win.argmax(axis=-1)  # first maximum (and first NaN)
    out = xp.take_along_axis(win, arg[..., None], axis=-1)[..., 0]
    flat = rows[xp.arange(ho)[:, None], arg // kw] * w + cols[xp.arange(wo), arg % kw]
    return out, flat


class AdaptiveMaxPool2d(Function):
    """out = max over each adaptive bin (first maximum on ties). VJP: g to that maximum, summed
    where neighbouring bins share a pixel.

    Shape:
        x ``(N, C, H, W)`` -> ``(N, C, *output_size)``.
    """

    name = "adaptive_max_pool2d"

    @staticmethod
    def forward(ctx, x, output_size=(1, 1)):
        out, flat = adaptive_max_windows(x, output_size)
        ctx.save_for_backward(flat)
        return out

    @staticmethod
    def backward(ctx, g):
        (flat,) = ctx.saved
        xp = array_module(g)
        n, c, h, w = ctx.shapes[0]
        dx = xp.zeros((n * c, h * w), dtype=g.dtype)
        rows = xp.arange(n * c)[:, None]  # (N*C, 1): one plane per (n, c)
        plane = g.size // (n * c) if n * c else 0  # not -1: NumPy cannot infer it when N is 0
        xp.add.at(dx, (rows, flat.reshape(n * c, plane)), g.reshape(n * c, plane))
        return dx.reshape(n, c, h, w)
