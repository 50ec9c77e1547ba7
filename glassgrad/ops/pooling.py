"""Pooling primitives for any number of spatial dims: max pooling (routing the gradient to each
window's maximum), average pooling, and adaptive max pooling. The 2-D ops are here; the 3-D ones in
``ops/pool3d.py`` are the same classes with three spatial dims. Adaptive average pooling is a linear
map per axis and is built from matmuls in ``nn.functional.pooling``.

Tap ``(i, j)`` of every window at once is one strided view of the padded input,
``xpad[:, :, i*dh :: sh, j*dw :: sw]`` (cut to ``Ho x Wo``); the ``K = kh * kw`` taps (``kd * kh *
kw`` in 3-D) are gathered once into a contiguous ``(K, N, C, *windows)`` array, and the ops loop
over the kernel taps, never over pixels or batch items. A running maximum over the taps, with a
strict ``>``, keeps the FIRST maximum of each window on ties (NaN wins, as in PyTorch). Backward
writes ``g`` back through the same strided views, so where windows overlap a pixel collects the
gradient of every window whose maximum it is. 1-D pools are the 2-D ones with a height of 1.
Backward is first-order only.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.ops.conv import out_size
from glassgrad.ops.reduce import acc_dtype

__all__ = [
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveMaxPool2d",
    "max_pool_indices",
    "max_pool_indices_nd",
    "max_windows_nd",
    "adaptive_bins",
    "adaptive_max_windows",
]


def _padded_shape(shape: tuple, padding: tuple) -> tuple:
    """``(N, C, *spatial)`` grown by ``((before, after), ...)`` per spatial dim."""
    n, c, *size = shape
    return (n, c, *(s + lo + hi for s, (lo, hi) in zip(size, padding)))


def _pad(x: Any, padding: tuple, value: float) -> Any:
    """Pad the spatial dims by ``((before, after), ...)`` with ``value``; no copy when all are 0."""
    if not any(lo or hi for lo, hi in padding):
        return x
    out = array_module(x).full(_padded_shape(x.shape, padding), value, dtype=x.dtype)
    out[(slice(None), slice(None), *(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[2:], padding)))] = x
    return out


def _unpad(dx: Any, padding: tuple) -> Any:
    """Crop ``_pad``'s border off a gradient (a contiguous copy, so callers get a plain array)."""
    if not any(lo or hi for lo, hi in padding):
        return dx
    crop = tuple(slice(lo, n - hi) for n, (lo, hi) in zip(dx.shape[2:], padding))
    return array_module(dx).ascontiguousarray(dx[(slice(None), slice(None), *crop)])


def _tap_view(x: Any, kernel: tuple, stride: tuple, dilation: tuple, windows: tuple, writeable: bool) -> Any:
    """``(*kernel, N, C, *windows)`` strided view of padded ``x``: ``[i, j]`` is that tap of every window."""
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
    """Every window's taps, tap-major and contiguous: ``(K, N, C, *windows)`` (one copy).

    Elementwise loops over contiguous arrays are many times faster in NumPy than over the
    stride-2 slices of the input, so the taps are gathered once and the rest runs contiguous."""
    win = tuple(out_size(n, k, s, d) for n, k, s, d in zip(x.shape[2:], kernel, stride, dilation))
    taps = array_module(x).ascontiguousarray(_tap_view(x, kernel, stride, dilation, win, False))
    return taps.reshape(math.prod(kernel), *taps.shape[len(kernel) :])  # not -1: N may be 0


def _disjoint(kernel: tuple, stride: tuple, dilation: tuple) -> bool:
    """Whether no pixel is read by two windows (each window's span ends before the next begins)."""
    return all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))


def _kernel_taps(kernel: tuple) -> Any:
    """Each tap's offset tuple, in C order: tap ``k`` of the flat ``(K, ...)`` layout is the k-th."""
    return itertools.product(*(range(k) for k in kernel))


def max_windows_nd(x: Any, kernel: tuple, stride: tuple, dilation: tuple, padding: tuple) -> tuple[Any, Any]:
    """``(max, arg)`` of every window; ``arg`` is the flat kernel tap (C order) of the first maximum.

    A running maximum over the taps; a tap replaces the current best only when strictly greater, so
    ties keep the first. ``arg`` is updated by arithmetic (``arg += take * (k - arg)``), which NumPy
    runs several times faster than ``where`` or a masked assignment. A NaN wins its window, as in
    PyTorch (its last NaN, like PyTorch's loop); that rare case is fixed up after the loop. An
    integer input is padded with its dtype's minimum instead of -inf (see ``_first_real_tap``).

    Shape:
        x ``(N, C, *spatial)`` -> both ``(N, C, *windows)``.
    """
    xp = array_module(x)
    integer = x.dtype.kind in "iu"
    fill = xp.iinfo(x.dtype).min if integer else -np.inf
    taps = _taps(_pad(x, padding, fill), kernel, stride, dilation)  # (K, N, C, *windows)
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
    if any(lo or hi for lo, hi in padding):  # a maximum equal to the fill ties with the padding
        _first_real_tap(arg, best == fill, x.shape, kernel, stride, dilation, padding)
    if not integer and xp.isnan(best).any():
        for k in range(len(taps)):
            xp.copyto(arg, itype(k), where=xp.isnan(taps[k]))
    return best, arg


def _first_real_tap(
    arg: Any, hit: Any, shape: tuple, kernel: tuple, stride: tuple, dilation: tuple, padding: tuple
) -> None:
    """Point ``arg`` at each ``hit`` window's first unpadded tap, in place.

    A maximum equal to the padding's fill (an integer dtype's minimum, or -inf) ties with it, so a
    padded tap before the first real one would win; PyTorch's loop never reads the padding and
    keeps the first real tap. (Every window holds one: padding is at most half the kernel.)"""
    xp = array_module(arg)
    if not any(lo or hi for lo, hi in padding) or not hit.any():
        return
    real = _taps(_pad(xp.ones((1, 1, *shape[2:]), dtype=bool), padding, False), kernel, stride, dilation)
    for k in reversed(range(len(real))):  # (K, 1, 1, *windows); the last write is the first real tap
        xp.copyto(arg, arg.dtype.type(k), where=hit & real[k])


def max_pool_indices_nd(
    arg: Any, kernel: tuple, stride: tuple, dilation: tuple, padding: tuple, size: tuple
) -> Any:
    """PyTorch's ``return_indices``: each maximum's flat position (C order) in its unpadded plane or
    volume of spatial ``size``, e.g. ``row * W + col``. ``arg`` ``(N, C, *windows)`` -> same shape."""
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


def max_pool_indices(
    arg: Any, kernel: tuple, stride: tuple, dilation: tuple, padding: tuple, width: int
) -> Any:
    """``max_pool_indices_nd`` of a 2-D pool: ``row * width + col`` (the height never enters it)."""
    return max_pool_indices_nd(arg, kernel, stride, dilation, padding, (0, width))


class _MaxPool(Function):
    """out = max over each window (first maximum on ties). VJP: g goes to that maximum only;
    where windows overlap, a pixel sums the gradients of all windows it is the maximum of.

    ``padding`` is ``((before, after), ...)`` per spatial dim of -inf (an integer dtype's minimum);
    ``ceil_mode`` is already folded in as extra padding after. Integer inputs run forward only.
    """

    register = False  # the shared body of MaxPool2d / MaxPool3d

    @staticmethod
    def forward(ctx, x, kernel, stride, dilation, padding):
        out, arg = max_windows_nd(x, kernel, stride, dilation, padding)
        ctx.save_for_backward(arg)
        return out

    @staticmethod
    def backward(ctx, g):
        (arg,) = ctx.saved
        a = ctx.attrs
        xp = array_module(g)
        kernel, stride, dilation, padding = a["kernel"], a["stride"], a["dilation"], a["padding"]
        dx = xp.zeros(_padded_shape(ctx.shapes[0], padding), dtype=g.dtype)
        view = _tap_view(dx, kernel, stride, dilation, g.shape[2:], True)  # (*kernel, N, C, *windows)
        finite = bool(xp.isfinite(g).all())
        if _disjoint(kernel, stride, dilation):
            # each pixel belongs to one window at most: write g where tap k held the maximum
            # straight into that tap's (zero) pixels, one pass per kernel offset. An inf or NaN g
            # is selected, not multiplied by the mask (it stays at the maximum, as PyTorch's
            # scatter); a finite g takes the product, the same values about 8x faster than where=
            for k, tap in enumerate(_kernel_taps(kernel)):
                if finite:
                    xp.multiply(g, arg == k, out=view[tap])
                else:
                    xp.copyto(view[tap], g, where=arg == k)
        else:  # overlapping windows: one accumulating pass per kernel offset
            for k, tap in enumerate(_kernel_taps(kernel)):
                if finite:
                    view[tap] += g * (arg == k)
                else:
                    xp.add(view[tap], g, out=view[tap], where=arg == k)
        return _unpad(dx, padding)


class MaxPool2d(_MaxPool):
    """Max pooling over ``(N, C, H, W)`` (see ``_MaxPool``).

    Shape:
        x ``(N, C, H, W)`` -> ``(N, C, Ho, Wo)``.
    """

    name = "max_pool2d"
    node_name = "MaxPool2DWithIndicesBackward0"  # PyTorch's


def _divisor(xp: Any, size: int, k: int, s: int, p: int, windows: int, include_pad: bool) -> Any:
    """Per window along one axis: how many of its taps average (the padded ones too if ``include_pad``).

    Windows that reach into the ceil_mode overhang never count the overhang."""
    start = xp.arange(windows) * s - p
    end = xp.minimum(start + k, size + p)
    if not include_pad:
        start, end = xp.maximum(start, 0), xp.minimum(end, size)
    return end - start


class _AvgPool(Function):
    """out = sum over each window / divisor (per window). VJP: g / divisor spread evenly over each
    window's taps (overlaps add).

    ``padding`` is the symmetric zero padding per spatial dim; ``extra`` is ceil_mode's overhang
    past the far end of each axis (zeros that never count). An int64 input is averaged as PyTorch's
    CPU kernel does: the exact integer sum divided with truncation toward zero (no gradient).
    """

    register = False  # the shared body of AvgPool2d / AvgPool3d

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, extra, count_include_pad, divisor):
        xp = array_module(x)
        pads = tuple((p, p + e) for p, e in zip(padding, extra))
        taps = _taps(_pad(x, pads, 0), kernel, stride, (1,) * len(kernel))  # (K, N, C, *windows)
        if divisor is None:
            counts = [
                _divisor(xp, n, k, s, p, o, count_include_pad)
                for n, k, s, p, o in zip(x.shape[2:], kernel, stride, padding, taps.shape[3:])
            ]
            divisor = counts[0]
            for c in counts[1:]:  # outer product of the per-axis counts: (*windows,)
                divisor = divisor[..., None] * c
        # (K, N, C, *windows) -> (N, C, *windows); float16 in float32, as PyTorch's kernel, rounded
        # once after the division: summed in float16, three pixels of 3e4 overflow to inf
        out = taps.sum(axis=0, dtype=acc_dtype(x))
        if x.dtype.kind == "i":
            # C's integer division, as PyTorch: the floor, one up where a remainder is left and the
            # sum and the divisor (a negative divisor_override) differ in sign (no abs(), which wraps
            # a sum of exactly -2**63)
            return out // divisor + ((out % divisor != 0) & ((out < 0) != (divisor < 0)))
        # a division, as PyTorch's kernels (a product with 1/divisor is one rounding off in float32)
        div = xp.asarray(divisor, dtype=x.dtype)
        ctx.save_for_backward(div)
        if out.dtype != x.dtype:
            return (out / xp.asarray(divisor, dtype=out.dtype)).astype(x.dtype)
        out /= div
        return out

    @staticmethod
    def backward(ctx, g):
        (div,) = ctx.saved
        a = ctx.attrs
        xp = array_module(g)
        kernel, stride = a["kernel"], a["stride"]
        pads = tuple((p, p + e) for p, e in zip(a["padding"], a["extra"]))
        gs = g / div  # every tap of a window receives its window's g / divisor
        dx = xp.zeros(_padded_shape(ctx.shapes[0], pads), dtype=g.dtype)
        ones = (1,) * len(kernel)
        view = _tap_view(dx, kernel, stride, ones, g.shape[2:], True)  # (*kernel, N, C, *windows)
        if _disjoint(kernel, stride, ones):
            view[...] = gs
        else:
            # the last tap first: each input then sums its windows in their order, as PyTorch's
            # kernel (window by window), so overlapping windows add up to PyTorch's float32 values
            for tap in reversed(list(_kernel_taps(kernel))):
                view[tap] += gs
        return _unpad(dx, pads)


class AvgPool2d(_AvgPool):
    """Average pooling over ``(N, C, H, W)`` (see ``_AvgPool``).

    Shape:
        x ``(N, C, H, W)`` -> ``(N, C, Ho, Wo)``.
    """

    name = "avg_pool2d"
    node_name = "AvgPool2DBackward0"  # PyTorch's


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
    """``(max, flat index of the first maximum, or of the last NaN)`` per adaptive bin; the index is
    C order in the unpadded plane or volume (``row * W + col``, ``(d * H + h) * W + w``).

    Shape:
        x ``(N, C, *spatial)`` -> both ``(N, C, *output_size)``.
    """
    xp = array_module(x)
    n, c, *size = x.shape
    nd = len(size)
    bins = [_bin_taps(s, o) for s, o in zip(size, output_size)]  # (o, k) positions per axis
    # axis i's bins index dims (2i, 2i+1) of an (o0, k0, o1, k1, ...) grid
    grid = tuple(b.reshape((1,) * (2 * i) + b.shape + (1,) * (2 * (nd - 1 - i))) for i, b in enumerate(bins))
    win = x[(slice(None), slice(None), *grid)]  # (N, C, o0, k0, o1, k1, ...)
    outs, widths = [b.shape[0] for b in bins], [b.shape[1] for b in bins]
    order = (0, 1, *range(2, 2 + 2 * nd, 2), *range(3, 3 + 2 * nd, 2))
    win = win.transpose(order).reshape(n, c, *outs, math.prod(widths))  # -> (N, C, *outs, K)
    arg = win.argmax(axis=-1)  # first maximum
    if win.dtype.kind == "f" and (nan := xp.isnan(win)).any():
        # a NaN wins its bin, its LAST one, as PyTorch's loop (``val > max || isnan(val)``): the
        # gradient goes there (a padding repeat sits beside its tap, so it names the same pixel)
        last = win.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
        arg = xp.where(nan.any(axis=-1), last, arg)
    out = xp.take_along_axis(win, arg[..., None], axis=-1)[..., 0]
    flat = 0
    for i, (b, t) in enumerate(zip(bins, xp.unravel_index(arg, widths))):
        o = xp.arange(b.shape[0]).reshape((-1,) + (1,) * (nd - 1 - i))  # bin number along axis i
        flat = flat * size[i] + b[o, t]
    return out, flat


class _AdaptiveMaxPool(Function):
    """out = max over each adaptive bin (first maximum on ties, last NaN). VJP: g to that maximum,
    summed where neighbouring bins share a pixel.
    """

    register = False  # the shared body of AdaptiveMaxPool2d / AdaptiveMaxPool3d

    @staticmethod
    def forward(ctx, x, output_size):
        out, flat = adaptive_max_windows(x, output_size)
        ctx.save_for_backward(flat)
        return out

    @staticmethod
    def backward(ctx, g):
        (flat,) = ctx.saved
        xp = array_module(g)
        n, c, *size = ctx.shapes[0]
        planes = n * c  # one plane (or volume) per (n, c)
        dx = xp.zeros((planes, math.prod(size)), dtype=g.dtype)
        per = g.size // planes if planes else 0  # not -1: NumPy cannot infer it when N is 0
        xp.add.at(dx, (xp.arange(planes)[:, None], flat.reshape(planes, per)), g.reshape(planes, per))
        return dx.reshape(n, c, *size)


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """Adaptive max pooling over ``(N, C, H, W)`` (see ``_AdaptiveMaxPool``).

    Shape:
        x ``(N, C, H, W)`` -> ``(N, C, *output_size)``.
    """

    name = "adaptive_max_pool2d"
    node_name = "AdaptiveMaxPool2DBackward0"  # PyTorch's
