"""Convolutions on the input's own ``(N, C, ...)`` layout, for long rows: pointwise kernels (every
size 1, stride 1, no padding; any number of spatial dims) and 1-D convolutions (``F.conv1d``'s
height of 1).

``ops/conv.py`` moves the batch last (im2col into ``(C, *kernel, *windows, N)``) so that one
large product serves the whole batch and col2im's strided slices run over long stretches; that is
what small images need (LeNet's rows are 10 to 28 pixels). Over long rows it costs two transposing
copies per pass (im2col's and ``batch_first_nd``'s in forward, ``batch_last_nd``'s and col2im's in
backward), NumPy's slowest kind of copy. Here the windows of each image are copied contiguously
into ``(N, C*K, Lo)`` columns (for a pointwise kernel, x itself: no copy at all), and NumPy's
``matmul`` broadcasts W over the batch, one BLAS product per image and group (no Python loop),
writing ``(N, O, Lo)`` in its final layout. Forward + backward, float32, one thread, N = 8,
L = 2,500, same-load A/B (2026-12-04): Conv1d 128 -> 1024, kernel 1: 250 ms through im2col, 195
here (PyTorch 223); 64 -> 128, kernel 1: 20.8 against 14.9 ms (PyTorch 15.5); 64 -> 64, kernel 3,
padding 1: 26.6 against 24.7 ms (PyTorch 17.5; the three products are most of it). PointNet's
step at batch 32: 12.2 s before, 6.4 s with this and batch norm's changes (PyTorch 8.2 s).

Taken when the output rows have at least ``DIRECT_MIN_L`` positions, so that a product per image
runs at BLAS speed. The weight gradient ``dW = sum_n g[n] @ cols[n]^T`` is one batched product into
``(N, G, Og, Cg*K)`` summed over N (a cascade, as every batch sum) unless that is larger than
transposed copies of g and the columns, which then make it one product over the joint (N, L) axis.
Forward saves x (as PyTorch does, and as conv.py's "recompute" path, which the recorded rule reads):
backward makes the columns again, one contiguous copy.
"""

from __future__ import annotations

import math
from typing import Any

from glassgrad.backend import array_module, dense
from glassgrad.ops.cascade_sum import cascade_sum

__all__ = ["DIRECT_MIN_L", "direct_layout", "direct_forward", "direct_backward"]

# Shortest output row (flattened positions) for the per-image products: at 64 a (64, 64) @ (64, 64)
# product still runs at BLAS speed; LeNet's 5x5 layers never come here (height above 1).
DIRECT_MIN_L = 64


def direct_layout(x: Any, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple) -> str | None:
    """``"pointwise"``, ``"rows"`` (a 1-D convolution on a height of 1) or None (conv.py's path)."""
    if all(k == 1 for k in kernel) and all(s == 1 for s in stride) and not any(map(any, padding)):
        return "pointwise" if math.prod(x.shape[2:]) >= DIRECT_MIN_L else None
    if x.ndim != 4 or x.shape[2] != 1 or kernel[0] != 1 or any(padding[0]):
        return None
    return (
        "rows"
        if _out_len(x.shape[3], kernel[1], stride[1], dilation[1], padding[1]) >= DIRECT_MIN_L
        else None
    )


def _out_len(n: int, k: int, s: int, d: int, pad: tuple) -> int:
    return (n + pad[0] + pad[1] - d * (k - 1) - 1) // s + 1


def _columns(x: Any, layout: str, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple) -> Any:
    """``(N, C*K, Lo)`` columns, ``cols[n, (c, j), l] = xpad[n, c, l*s + j*d]``; for a pointwise
    kernel x itself, flattened (a view when x is dense)."""
    n, c = x.shape[:2]
    if layout == "pointwise":
        # dense: BLAS takes a transposed operand by another kernel, whose rounding differs; a
        # channels-last or transposed x is copied, so that the layout never changes a value
        return dense(x).reshape(n, c, math.prod(x.shape[2:]))  # (not -1: NumPy cannot infer it when N is 0)
    xp = array_module(x)
    k, s, d, (lo, hi) = kernel[1], stride[1], dilation[1], padding[1]
    length = x.shape[3]
    rows = x.reshape(n, c, length)
    if lo or hi:
        padded = xp.zeros((n, c, length + lo + hi), dtype=x.dtype)
        padded[:, :, lo : lo + length] = rows  # contiguous rows: a fast copy
        rows = padded
    out = _out_len(length, k, s, d, (lo, hi))
    sn, sc, sl = rows.strides
    windows = xp.lib.stride_tricks.as_strided(  # a view: (N, C, K, Lo)
        rows, shape=(n, c, k, out), strides=(sn, sc, sl * d, sl * s), writeable=False
    )
    return xp.ascontiguousarray(windows).reshape(n, c * k, out)


def direct_forward(x: Any, w: Any, bias: Any, layout: str, kernel, stride, padding, dilation) -> Any:
    """``out[n] = W @ cols[n] + b``; x ``(N, C, *S)``, w ``(G, Og, Cg*K)``, bias ``(O,)`` or None ->
    ``(N, O, *windows)`` C-contiguous."""
    cols = _columns(x, layout, kernel, stride, padding, dilation)
    n, length = cols.shape[0], cols.shape[2]
    groups, og, cgk = w.shape
    out = w @ cols.reshape(n, groups, cgk, length)  # (G, Og, Cg*K) @ (N, G, Cg*K, Lo) -> (N, G, Og, Lo)
    out = out.reshape(n, groups * og, *(x.shape[2:] if layout == "pointwise" else (1, length)))
    if bias is not None:
        out += bias.reshape(groups * og, *(1,) * (out.ndim - 2))  # in place: out is our own
    return out


def direct_backward(g: Any, x: Any, w: Any, need: tuple, attrs: dict, x_shape: tuple) -> tuple:
    """``(dx, dW as (G*Og, Cg*K), db)`` of ``direct_forward`` (None where ``need`` says no); ``x``
    is the saved input (None when the weight needs no gradient)."""
    xp = array_module(g)
    layout, kernel = attrs["direct"], attrs["kernel"]
    stride, padding, dilation = attrs["stride"], attrs["padding"], attrs["dilation"]
    n, o = g.shape[:2]
    groups, og, cgk = w.shape
    length = math.prod(g.shape[2:])
    gs = dense(g).reshape(n, groups, og, length)  # (dense: as x in ``_columns``)
    dx = dw = db = None
    if need[0]:
        dcols = w.swapaxes(1, 2) @ gs  # (G, Cg*K, Og) @ (N, G, Og, Lo) -> (N, G, Cg*K, Lo)
        dx = _uncolumns(dcols, layout, x_shape, kernel, stride, padding, dilation)
    if need[1]:
        cols = _columns(x, layout, kernel, stride, padding, dilation).reshape(n, groups, cgk, length)
        if og * cgk <= (og + cgk) * length:  # (N, G, Og, Cg*K) is the smaller intermediate
            dw = cascade_sum(gs @ cols.swapaxes(-1, -2), 0)  # (N, G, Og, Lo) @ (N, G, Lo, Cg*K)
        else:  # one product over (N, Lo): g and the columns moved to (G, ., N, Lo) first
            gt = xp.ascontiguousarray(gs.transpose(1, 2, 0, 3)).reshape(groups, og, n * length)
            ct = xp.ascontiguousarray(cols.transpose(1, 2, 0, 3)).reshape(groups, cgk, n * length)
            dw = gt @ ct.swapaxes(1, 2)
        dw = dw.reshape(groups * og, cgk)
    if need[2]:
        db = cascade_sum(gs.reshape(n, o, length), (0, 2))  # (O,): pairwise over Lo, a cascade over N
    return dx, dw, db


def _uncolumns(dcols: Any, layout: str, x_shape: tuple, kernel, stride, padding, dilation) -> Any:
    """The adjoint of ``_columns``: every column entry added back onto the input position it was
    read from, one strided-slice add per kernel tap (overlapping windows accumulate)."""
    n, c = x_shape[:2]
    if layout == "pointwise":
        return dcols.reshape(x_shape)
    xp = array_module(dcols)
    k, s, d, (lo, hi) = kernel[1], stride[1], dilation[1], padding[1]
    length, out = x_shape[3], dcols.shape[-1]
    dcols = dcols.reshape(n, c, k, out)
    rows = xp.zeros((n, c, length + lo + hi), dtype=dcols.dtype)
    for j in range(k):  # kernel taps, each over the whole batch and every channel
        rows[:, :, j * d : j * d + s * (out - 1) + 1 : s] += dcols[:, :, j]
    if lo or hi:
        rows = xp.ascontiguousarray(rows[:, :, lo : lo + length])
    return rows.reshape(x_shape)
