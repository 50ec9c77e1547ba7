"""Volumetric convolution primitives: conv3d and conv_transpose3d, on N-d im2col / col2im.

The same method as ``ops/conv.py`` (read that first), written for any number of spatial dims and
used for three: the padded input is copied once into a ``(C, *spatial, N)`` buffer (batch last),
a strided view exposes every window as ``(C, *kernel, *windows, N)``, one copy makes the columns
``(C*kd*kh*kw, Do*Ho*Wo*N)`` and ONE matmul does the whole batch::

    cols[(c, a, i, j), (do, ho, wo, n)] = xpad[n, c, do*sd + a*dd, ho*sh + i*dh, wo*sw + j*dw]
    out[o, (do, ho, wo, n)]             = sum_(c, a, i, j) W[o, (c, a, i, j)] * cols[...]

col2im (the adjoint) adds every column entry back onto its voxel with one strided-slice add per
kernel tap (``kd * kh * kw`` adds, each over the whole batch and all channels), as the 2-D code
loops over its ``kh * kw`` offsets. Transposed convolution is the mirror image, as in 2-D.
Backward is first-order only.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from glassgrad.autograd.function import Function
from glassgrad.backend import array_module
from glassgrad.ops.conv import _times_t, out_size

__all__ = ["Conv3d", "ConvTranspose3d", "im2col_nd", "col2im_nd", "batch_first_nd", "batch_last_nd"]


def im2col_nd(x: Any, kernel: tuple, stride: tuple, dilation: tuple, padding: tuple) -> Any:
    """Windows of ``x`` as columns, batch last, contiguous.

    Shape:
        x ``(N, C, *S)`` -> ``(C, *kernel, *windows, N)``; ``padding`` is ``((before, after), ...)``.
    """
    xp = array_module(x)
    n, c, *size = x.shape
    nd = len(size)
    xt = xp.zeros((c, *(s + lo + hi for s, (lo, hi) in zip(size, padding)), n), dtype=x.dtype)
    interior = (slice(None), *(slice(lo, lo + s) for s, (lo, _) in zip(size, padding)), slice(None))
    xt[interior].transpose(nd + 1, *range(nd + 1))[...] = x  # written through an (N, C, *S) view
    windows = tuple(out_size(p, k, s, d) for p, k, s, d in zip(xt.shape[1:-1], kernel, stride, dilation))
    s_c, *s_sp, s_n = xt.strides
    view = xp.lib.stride_tricks.as_strided(  # (C, *kernel, *windows, N), no copy
        xt,
        shape=(c, *kernel, *windows, n),
        strides=(
            s_c,
            *(s * d for s, d in zip(s_sp, dilation)),
            *(s * st for s, st in zip(s_sp, stride)),
            s_n,
        ),
        writeable=False,
    )
    return xp.ascontiguousarray(view)


def col2im_nd(cols: Any, size: tuple, stride: tuple, dilation: tuple, padding: tuple) -> Any:
    """The adjoint of ``im2col_nd``: one strided-slice add per kernel tap; overlapping windows add.

    Shape:
        cols ``(C, *kernel, *windows, N)``, size the unpadded ``S`` -> ``(N, C, *S)``, contiguous.
    """
    xp = array_module(cols)
    nd = len(size)
    c, kernel, windows, n = (
        cols.shape[0],
        cols.shape[1 : nd + 1],
        cols.shape[nd + 1 : 2 * nd + 1],
        cols.shape[-1],
    )
    out = xp.zeros((c, *(s + lo + hi for s, (lo, hi) in zip(size, padding)), n), dtype=cols.dtype)
    for tap in itertools.product(*(range(k) for k in kernel)):
        dst = tuple(
            slice(i * d, i * d + s * (o - 1) + 1, s) for i, d, s, o in zip(tap, dilation, stride, windows)
        )
        out[(slice(None), *dst)] += cols[(slice(None), *tap)]
    crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(size, padding))
    return batch_first_nd(out[(slice(None), *crop)])


def batch_first_nd(y: Any, bias: Any = None) -> Any:
    """``(C, *S, N) -> (N, C, *S)`` contiguous, adding ``bias`` per channel in the same pass."""
    xp = array_module(y)
    c, *size, n = y.shape
    nd = len(size)
    out = xp.empty((n, c, *size), dtype=y.dtype)
    dst = out.transpose(*range(1, nd + 2), 0)
    if bias is None:
        dst[...] = y
    else:
        xp.add(y, bias.reshape(c, *(1,) * (nd + 1)), out=dst)
    return out


def batch_last_nd(g: Any) -> Any:
    """``(N, C, *S) -> (C, *S, N)`` contiguous (the columns' layout)."""
    n, c, *size = g.shape
    out = array_module(g).empty((c, *size, n), dtype=g.dtype)
    out.transpose(len(size) + 1, *range(len(size) + 1))[...] = g
    return out


class Conv3d(Function):
    """out = W * x + b (cross-correlation) over volumes, through im2col and one matmul.

    With ``cols`` = im2col(x) laid out ``(G, Cg*K, L*N)`` (K = kd*kh*kw, L = Do*Ho*Wo) and ``W`` as
    ``(G, Og, Cg*K)``:
        out = W @ cols + b
    VJP:
        dW = g @ cols^T,   db = sum of g over (N, Do, Ho, Wo),   dx = col2im(W^T @ g)

    Shape:
        x ``(N, C, D, H, W)``, weight ``(O, C/G, kd, kh, kw)``, bias ``(O,)`` or None ->
        ``(N, O, Do, Ho, Wo)``.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride=(1, 1, 1), padding=((0, 0),) * 3, dilation=(1, 1, 1), groups=1):
        o, cg, *kernel = weight.shape
        k = math.prod(kernel)
        cols = im2col_nd(x, tuple(kernel), stride, dilation, padding)  # (C, kd, kh, kw, Do, Ho, Wo, N)
        windows, n = cols.shape[4:7], cols.shape[7]
        ctx.attrs["windows"], ctx.attrs["shapes"] = (
            windows,
            (x.shape, weight.shape),
        )  # shapes: for any input's VJP
        cols = cols.reshape(groups, cg * k, math.prod(windows) * n)  # -> (G, Cg*K, L*N)
        w = weight.reshape(groups, o // groups, cg * k)  # (O, Cg, kd, kh, kw) -> (G, Og, Cg*K)
        out = (w @ cols).reshape(o, *windows, n)  # (G, Og, L*N) -> (O, Do, Ho, Wo, N)
        ctx.save_for_backward(cols, w)
        return batch_first_nd(out, bias)  # -> (N, O, Do, Ho, Wo)

    @staticmethod
    def backward(ctx, g):
        cols, w = ctx.saved
        need = ctx.needs_input_grad
        groups, og = w.shape[:2]
        windows = ctx.attrs["windows"]
        n = g.shape[0]
        gt = batch_last_nd(g).reshape(groups, og, math.prod(windows) * n)  # -> (G, Og, L*N)
        dx = dw = db = None
        if need[0]:
            x_shape, w_shape = ctx.attrs["shapes"]
            c, *size = x_shape[1:]
            kernel = w_shape[2:]
            dcols = (w.swapaxes(1, 2) @ gt).reshape(c, *kernel, *windows, n)  # (G, Cg*K, L*N) -> cols layout
            a = ctx.attrs
            dx = col2im_nd(dcols, tuple(size), a["stride"], a["dilation"], a["padding"])
        if need[1]:
            dw = _times_t(gt, cols).reshape(ctx.attrs["shapes"][1])  # (G, Og, Cg*K) -> (O, Cg, kd, kh, kw)
        if need[2]:
            db = gt.sum(axis=(0, 2)) if groups == 1 else gt.sum(axis=2).reshape(-1)  # (O,)
        return dx, dw, db


class ConvTranspose3d(Function):
    """The adjoint of Conv3d in x: out = col2im(W^T @ x) + b, cropped by ``padding``.

    Each input voxel paints a kernel-sized block of the output; overlapping blocks add.
    ``output_padding`` adds planes at the far end of each axis. VJP (a convolution of g):
        gcols = im2col(g padded back),  dx = W @ gcols,  dW = x @ gcols^T,  db = sum of g

    Shape:
        x ``(N, Cin, D, H, W)``, weight ``(Cin, Cout/G, kd, kh, kw)``, bias ``(Cout,)`` or None ->
        ``(N, Cout, (D-1)*sd - 2*pd + dd*(kd-1) + opd + 1, ...)``.
    """

    name = "conv_transpose3d"

    @staticmethod
    def forward(
        ctx,
        x,
        weight,
        bias,
        stride=(1, 1, 1),
        padding=(0, 0, 0),
        output_padding=(0, 0, 0),
        dilation=(1, 1, 1),
        groups=1,
    ):
        n, cin, *size = x.shape
        _, og, *kernel = weight.shape
        k, length = math.prod(kernel), math.prod(size)
        w = weight.reshape(groups, cin // groups, og * k)  # (Cin, Og, *kernel) -> (G, Cg, Og*K)
        xt = batch_last_nd(x).reshape(groups, cin // groups, length * n)  # -> (G, Cg, L*N)
        cols = (w.swapaxes(1, 2) @ xt).reshape(groups * og, *kernel, *size, n)  # (Cout, *kernel, *S, N)
        out_sz = tuple(
            (s - 1) * st + d * (kk - 1) + 1 + op - 2 * p
            for s, st, d, kk, op, p in zip(size, stride, dilation, kernel, output_padding, padding)
        )
        crop = tuple((p, p) for p in padding)  # col2im's padding is our crop
        out = col2im_nd(cols, out_sz, stride, dilation, crop)  # (N, Cout, Do, Ho, Wo)
        if bias is not None:
            out += bias.reshape(1, -1, 1, 1, 1)
        ctx.attrs["shapes"] = (x.shape, weight.shape)  # for any input's VJP
        ctx.save_for_backward(xt, w)
        return out

    @staticmethod
    def backward(ctx, g):
        xt, w = ctx.saved
        need = ctx.needs_input_grad
        a = ctx.attrs
        x_shape, w_shape = a["shapes"]
        kernel = tuple(w_shape[2:])
        groups = w.shape[0]
        n, cin, *size = x_shape
        pads = tuple((p, p) for p in a["padding"])
        # pad g back to the uncropped canvas; the windows over it are the input's voxels
        gcols = im2col_nd(g, kernel, a["stride"], a["dilation"], pads)  # (Cout, *kernel, *windows, N)
        if tuple(gcols.shape[4:7]) != tuple(size):  # output_padding >= stride (allowed below dilation)
            gcols = gcols[(slice(None),) * 4 + tuple(slice(0, s) for s in size)].copy()
        og_k = gcols.shape[0] * math.prod(kernel) // groups  # not -1: NumPy cannot infer it when N is 0
        gcols = gcols.reshape(groups, og_k, math.prod(size) * n)  # -> (G, Og*K, L*N)
        dx = dw = db = None
        if need[0]:
            dx = batch_first_nd((w @ gcols).reshape(cin, *size, n))  # -> (N, Cin, D, H, W)
        if need[1]:
            dw = _times_t(xt, gcols).reshape(w_shape)  # (G, Cg, Og*K) -> (Cin, Og, kd, kh, kw)
        if need[2]:
            db = g.sum(axis=(0, 2, 3, 4))
        return dx, dw, db
