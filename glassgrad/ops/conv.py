"""Convolution primitives: im2col / col2im, conv2d, conv_transpose2d, unfold and fold.

Everything is written for 2-D images ``(N, C, H, W)``; the 1-D ops in ``nn.functional`` add a
height of 1. A convolution (PyTorch's, i.e. a cross-correlation) is one matrix product once the
input is laid out as columns ("im2col"): every kernel-sized window, at every output position,
becomes one column of length ``C * kh * kw``::

    cols[n, (c, i, j), (ho, wo)] = xpad[n, c, ho * sh + i * dh, wo * sw + j * dw]
    out[n, o, (ho, wo)]          = sum_(c, i, j) W[o, (c, i, j)] * cols[n, (c, i, j), (ho, wo)]

The windows are a strided view of the padded input (no copy); the reshape to columns is the one
copy, then one matmul. The backward of im2col is "col2im": every column entry is added back to the
pixel it was read from. Windows overlap when the stride is smaller than the kernel, so a pixel
gets several contributions; the scatter-add loops over the ``kh * kw`` kernel offsets (each a
strided slice of the whole batch), never over pixels or batch items.

A transposed convolution is the backward-data pass of a convolution run forward (matmul, then
col2im), and its backward is a convolution (im2col, then matmul): the two ops are mirror images.
Groups split the channels into ``G`` independent convolutions, done as one batched matmul over a
leading ``G`` axis. Backward is first-order only.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import Function
from glassgrad.backend import array_module

__all__ = ["Conv2d", "ConvTranspose2d", "Unfold", "Fold", "im2col", "col2im", "out_size"]


def out_size(n: int, k: int, s: int, d: int) -> int:
    """Number of windows of ``k`` taps spaced ``d`` apart, stepping ``s``, along ``n`` (padded) items."""
    return (n - d * (k - 1) - 1) // s + 1


def _pad(x: Any, padding: tuple) -> Any:
    """Zero-pad the last two dims by ``((top, bottom), (left, right))``; no copy when all are 0."""
    (pt, pb), (pl, pr) = padding
    if not (pt or pb or pl or pr):
        return x
    n, c, h, w = x.shape
    out = array_module(x).zeros((n, c, h + pt + pb, w + pl + pr), dtype=x.dtype)
    out[:, :, pt : pt + h, pl : pl + w] = x
    return out


def _crop(x: Any, padding: tuple) -> Any:
    """Undo ``_pad``: the interior of the last two dims (a view)."""
    (pt, pb), (pl, pr) = padding
    h, w = x.shape[-2:]
    return x[..., pt : h - pb, pl : w - pr]


def im2col(x: Any, kernel: tuple, stride: tuple, dilation: tuple, padding: tuple) -> Any:
    """Windows of ``x`` as columns, contiguous.

    Shape:
        x ``(N, C, H, W)`` -> ``(N, C, kh, kw, Ho, Wo)``; reshaping it to ``(N, C*kh*kw, Ho*Wo)`` is free.
    """
    xp = array_module(x)
    x = _pad(x, padding)
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    n, c, h, w = x.shape
    ho, wo = out_size(h, kh, sh, dh), out_size(w, kw, sw, dw)
    s_n, s_c, s_h, s_w = x.strides
    windows = xp.lib.stride_tricks.as_strided(  # a view: (N, C, kh, kw, Ho, Wo)
        x,
        shape=(n, c, kh, kw, ho, wo),
        strides=(s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw),
        writeable=False,
    )
    return xp.ascontiguousarray(windows)


def col2im(cols: Any, size: tuple, stride: tuple, dilation: tuple, padding: tuple) -> Any:
    """The adjoint of ``im2col``: add every column entry back onto the pixel it came from.

    One strided-slice add per kernel offset ``(i, j)``; overlapping windows accumulate.

    Shape:
        cols ``(N, C, kh, kw, Ho, Wo)``, size ``(H, W)`` unpadded -> ``(N, C, H, W)``.
    """
    xp = array_module(cols)
    n, c, kh, kw, ho, wo = cols.shape
    (sh, sw), (dh, dw) = stride, dilation
    (pt, pb), (pl, pr) = padding
    out = xp.zeros((n, c, size[0] + pt + pb, size[1] + pl + pr), dtype=cols.dtype)
    for i in range(kh):
        top = i * dh
        for j in range(kw):
            left = j * dw
            out[:, :, top : top + sh * (ho - 1) + 1 : sh, left : left + sw * (wo - 1) + 1 : sw] += cols[
                :, :, i, j
            ]
    return _crop(out, padding)


class Conv2d(Function):
    """out = W * x + b (cross-correlation), through im2col and one batched matmul.

    With ``cols`` = im2col(x) laid out ``(N, G, Cg*kh*kw, L)`` and ``W`` as ``(G, Og, Cg*kh*kw)``:
        out = W @ cols + b
    VJP:
        dW = sum_n g @ cols^T,   db = sum of g over (N, Ho, Wo),   dx = col2im(W^T @ g)

    Shape:
        x ``(N, C, H, W)``, weight ``(O, C/G, kh, kw)``, bias ``(O,)`` or None -> ``(N, O, Ho, Wo)``.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
        n = x.shape[0]
        o, cg, kh, kw = weight.shape
        cols = im2col(x, (kh, kw), stride, dilation, padding)  # (N, C, kh, kw, Ho, Wo)
        ho, wo = cols.shape[-2:]
        cols = cols.reshape(n, groups, cg * kh * kw, ho * wo)  # (N, C, kh, kw, Ho, Wo) -> (N, G, Cg*K, L)
        w = weight.reshape(groups, o // groups, cg * kh * kw)  # (O, Cg, kh, kw) -> (G, Og, Cg*K)
        out = (w @ cols).reshape(n, o, ho, wo)  # (N, G, Og, L) -> (N, O, Ho, Wo)
        if bias is not None:
            out += bias.reshape(1, o, 1, 1)
        ctx.save_for_backward(cols, w)
        return out

    @staticmethod
    def backward(ctx, g):
        cols, w = ctx.saved
        need = ctx.needs_input_grad
        n, groups, _, lo = cols.shape
        g2 = g.reshape(n, groups, w.shape[1], lo)  # (N, O, Ho, Wo) -> (N, G, Og, L)
        dx = dw = db = None
        if need[0]:
            c, h, wd = ctx.shapes[0][1:]
            kh, kw = ctx.shapes[1][2:]
            dcols = w.swapaxes(1, 2) @ g2  # (G, Cg*K, Og) @ (N, G, Og, L) -> (N, G, Cg*K, L)
            dcols = dcols.reshape(n, c, kh, kw, *g.shape[2:])  # -> (N, C, kh, kw, Ho, Wo)
            a = ctx.attrs
            dx = col2im(dcols, (h, wd), a["stride"], a["dilation"], a["padding"])
        if need[1]:
            dw = (g2 @ cols.swapaxes(2, 3)).sum(axis=0)  # (N, G, Og, Cg*K) summed over N
            dw = dw.reshape(ctx.shapes[1])  # (G, Og, Cg*K) -> (O, Cg, kh, kw)
        if need[2]:
            db = g.sum(axis=(0, 2, 3))
        return dx, dw, db


class ConvTranspose2d(Function):
    """The adjoint of Conv2d in x: out = col2im(W^T @ x) + b, cropped by ``padding``.

    With x as ``(N, G, Cg, H*W)`` and W as ``(G, Cg, Og*kh*kw)``, each input pixel paints a
    kernel-sized patch of the output; overlapping patches add. ``output_padding`` adds rows/columns
    at the bottom/right. VJP (a convolution of g):
        gcols = im2col(g padded back),  dx = W @ gcols,  dW = sum_n x @ gcols^T,  db = sum of g

    Shape:
        x ``(N, Cin, H, W)``, weight ``(Cin, Cout/G, kh, kw)``, bias ``(Cout,)`` or None ->
        ``(N, Cout, (H-1)*sh - 2*ph + dh*(kh-1) + oph + 1, ...)``.
    """

    name = "conv_transpose2d"

    @staticmethod
    def forward(
        ctx, x, weight, bias, stride=(1, 1), padding=(0, 0), output_padding=(0, 0), dilation=(1, 1), groups=1
    ):
        n, cin, h, w_ = x.shape
        _, og, kh, kw = weight.shape
        (sh, sw), (dh, dw) = stride, dilation
        w = weight.reshape(groups, cin // groups, og * kh * kw)  # (Cin, Og, kh, kw) -> (G, Cg, Og*K)
        x2 = x.reshape(n, groups, cin // groups, h * w_)  # (N, Cin, H, W) -> (N, G, Cg, L)
        cols = w.swapaxes(1, 2) @ x2  # (G, Og*K, Cg) @ (N, G, Cg, L) -> (N, G, Og*K, L)
        cols = cols.reshape(n, groups * og, kh, kw, h, w_)  # -> (N, Cout, kh, kw, H, W)
        full = (
            (h - 1) * sh + dh * (kh - 1) + 1 + output_padding[0],
            (w_ - 1) * sw + dw * (kw - 1) + 1 + output_padding[1],
        )
        crop = ((padding[0], padding[0]), (padding[1], padding[1]))
        out = col2im(cols, (full[0] - 2 * padding[0], full[1] - 2 * padding[1]), stride, dilation, crop)
        out = array_module(out).ascontiguousarray(out)
        if bias is not None:
            out += bias.reshape(1, -1, 1, 1)
        ctx.save_for_backward(x2, w)
        return out

    @staticmethod
    def backward(ctx, g):
        x2, w = ctx.saved
        need = ctx.needs_input_grad
        a = ctx.attrs
        kh, kw = ctx.shapes[1][2:]
        n, groups, _, lin = x2.shape
        p = a["padding"]
        h, w_ = ctx.shapes[0][2:]
        # pad g back to the uncropped canvas; the windows over it are the input's pixels
        gcols = im2col(g, (kh, kw), a["stride"], a["dilation"], ((p[0], p[0]), (p[1], p[1])))
        if gcols.shape[-2:] != (h, w_):  # output_padding >= stride (allowed below dilation)
            gcols = gcols[..., :h, :w_].copy()
        gcols = gcols.reshape(n, groups, -1, lin)  # (N, Cout, kh, kw, H, W) -> (N, G, Og*K, L)
        dx = dw = db = None
        if need[0]:
            dx = (w @ gcols).reshape(ctx.shapes[0])  # (G, Cg, Og*K) @ (N, G, Og*K, L) -> (N, Cin, H, W)
        if need[1]:
            dw = (x2 @ gcols.swapaxes(2, 3)).sum(axis=0).reshape(ctx.shapes[1])  # (G, Cg, Og*K) -> weight
        if need[2]:
            db = g.sum(axis=(0, 2, 3))
        return dx, dw, db


class Unfold(Function):
    """cols = im2col(x), exposed (``F.unfold``). VJP: col2im(g).

    Shape:
        x ``(N, C, H, W)`` -> ``(N, C*kh*kw, Ho*Wo)``.
    """

    @staticmethod
    def forward(ctx, x, kernel=(1, 1), stride=(1, 1), dilation=(1, 1), padding=((0, 0), (0, 0))):
        cols = im2col(x, kernel, stride, dilation, padding)  # (N, C, kh, kw, Ho, Wo)
        ctx.attrs["windows"] = cols.shape[-2:]
        n, c = x.shape[:2]
        return cols.reshape(n, c * kernel[0] * kernel[1], -1)  # -> (N, C*K, L)

    @staticmethod
    def backward(ctx, g):
        a = ctx.attrs
        n, c, h, w = ctx.shapes[0]
        g = g.reshape(n, c, *a["kernel"], *a["windows"])  # (N, C*K, L) -> (N, C, kh, kw, Ho, Wo)
        return col2im(g, (h, w), a["stride"], a["dilation"], a["padding"])


class Fold(Function):
    """x = col2im(cols) onto an ``output_size`` image (``F.fold``): overlapping entries add.
    VJP: im2col(g).

    Shape:
        cols ``(N, C*kh*kw, L)`` with L = Ho*Wo -> ``(N, C, *output_size)``.
    """

    @staticmethod
    def forward(
        ctx,
        cols,
        size=(1, 1),
        kernel=(1, 1),
        stride=(1, 1),
        dilation=(1, 1),
        padding=((0, 0), (0, 0)),
        windows=(1, 1),
    ):
        n, ckk, _ = cols.shape
        kh, kw = kernel
        cols = cols.reshape(n, ckk // (kh * kw), kh, kw, *windows)  # (N, C*K, L) -> (N, C, kh, kw, Ho, Wo)
        return array_module(cols).ascontiguousarray(col2im(cols, size, stride, dilation, padding))

    @staticmethod
    def backward(ctx, g):
        a = ctx.attrs
        cols = im2col(g, a["kernel"], a["stride"], a["dilation"], a["padding"])
        return cols.reshape(ctx.shapes[0])  # (N, C, kh, kw, Ho, Wo) -> (N, C*K, L)
