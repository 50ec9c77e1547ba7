"""Convolution primitives: im2col / col2im, conv2d, conv_transpose2d, unfold and fold.

Everything is written for 2-D images ``(N, C, H, W)``; the 1-D ops in ``nn.functional`` add a
height of 1. A convolution (PyTorch's, i.e. a cross-correlation) is one matrix product once the
input is laid out as columns ("im2col"): every kernel-sized window, at every output position of
every image, becomes one column of length ``C * kh * kw``::

    cols[(c, i, j), (ho, wo, n)] = xpad[n, c, ho * sh + i * dh, wo * sw + j * dw]
    out[o, (ho, wo, n)]          = sum_(c, i, j) W[o, (c, i, j)] * cols[(c, i, j), (ho, wo, n)]

The windows are a strided view of the padded input (no copy); the reshape to columns is the one
copy, then ONE matmul for the whole batch. The batch index is the last, fastest axis of the
columns: then the matmul is a single large product instead of one per image, and every strided
slice below runs over contiguous stretches of ``N`` (or ``Wo * N``) numbers, which NumPy's loops
handle far faster than the 1-to-few-element rows of an ``(N, C, H, W)`` slice.

The backward of im2col is "col2im": every column entry is added back to the pixel it was read
from. Windows overlap when the stride is smaller than the kernel, so a pixel gets several
contributions; the scatter-add loops over the ``kh * kw`` kernel offsets (each a strided slice of
the whole batch), never over pixels or batch items.

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


def im2col(x: Any, kernel: tuple, stride: tuple, dilation: tuple, padding: tuple) -> Any:
    """Windows of ``x`` as columns, batch last, contiguous.

    Shape:
        x ``(N, C, H, W)`` -> ``(C, kh, kw, Ho, Wo, N)``; reshaping to ``(C*kh*kw, Ho*Wo*N)`` is free.
    """
    xp = array_module(x)
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    (pt, pb), (pl, pr) = padding
    n, c, h, w = x.shape
    xt = xp.zeros((c, h + pt + pb, w + pl + pr, n), dtype=x.dtype)  # one copy pads and moves N last
    # written through a (N, C, H, W) view of the interior: NumPy copies faster reading contiguously
    xt[:, pt : pt + h, pl : pl + w, :].transpose(3, 0, 1, 2)[...] = x  # (N, C, H, W) -> (C, H, W, N)
    ho, wo = out_size(xt.shape[1], kh, sh, dh), out_size(xt.shape[2], kw, sw, dw)
    s_c, s_h, s_w, s_n = xt.strides
    windows = xp.lib.stride_tricks.as_strided(  # a view: (C, kh, kw, Ho, Wo, N)
        xt,
        shape=(c, kh, kw, ho, wo, n),
        strides=(s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw, s_n),
        writeable=False,
    )
    return xp.ascontiguousarray(windows)


def col2im(cols: Any, size: tuple, stride: tuple, dilation: tuple, padding: tuple) -> Any:
    """The adjoint of ``im2col``: add every column entry back onto the pixel it came from.

    One strided-slice add per kernel offset ``(i, j)``; overlapping windows accumulate.

    Shape:
        cols ``(C, kh, kw, Ho, Wo, N)``, size ``(H, W)`` unpadded -> ``(N, C, H, W)``, contiguous.
    """
    xp = array_module(cols)
    c, kh, kw, ho, wo, n = cols.shape
    (sh, sw), (dh, dw) = stride, dilation
    (pt, pb), (pl, pr) = padding
    h, w = size
    out = xp.zeros((c, h + pt + pb, w + pl + pr, n), dtype=cols.dtype)  # (C, Hp, Wp, N)
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
        for j in range(kw):
            out[:, rows, j * dw : j * dw + sw * (wo - 1) + 1 : sw, :] += cols[:, i, j]
    return _batch_first(out[:, pt : pt + h, pl : pl + w, :])  # (C, H, W, N) -> (N, C, H, W)


def _batch_first(y: Any, bias: Any = None) -> Any:
    """``(C, H, W, N) -> (N, C, H, W)`` contiguous, adding ``bias`` per channel in the same pass.

    The result is written through its own ``(C, H, W, N)`` view: NumPy transposes about twice as
    fast reading contiguously and writing strided as the other way round."""
    xp = array_module(y)
    c, h, w, n = y.shape
    out = xp.empty((n, c, h, w), dtype=y.dtype)
    if bias is None:
        out.transpose(1, 2, 3, 0)[...] = y
    else:
        xp.add(y, bias.reshape(c, 1, 1, 1), out=out.transpose(1, 2, 3, 0))
    return out


def _batch_last(g: Any) -> Any:
    """``(N, C, H, W) -> (C, H, W, N)`` contiguous (the columns' layout), written as ``_batch_first``."""
    n, c, h, w = g.shape
    out = array_module(g).empty((c, h, w, n), dtype=g.dtype)
    out.transpose(3, 0, 1, 2)[...] = g
    return out


def _times_t(a: Any, b: Any) -> Any:
    """``a @ b^T`` over the last two axes, for the weight gradients ``(G, Og, L) x (G, K, L) -> (G, Og, K)``.

    Computed as ``(b @ a^T)^T``: with the long axis L (pixels times batch) as the inner dimension,
    OpenBLAS's AVX-512 kernels run the product with the larger output side first about twice as
    fast (measured for LeNet's layers: 560 against 1170 us for (6, 50176) x (25, 50176), 278
    against 609 us for (16, 6400) x (150, 6400)); with its AVX2 kernels both orders take the same.
    """
    return (b @ a.swapaxes(-1, -2)).swapaxes(-1, -2)


class Conv2d(Function):
    """out = W * x + b (cross-correlation), through im2col and one matmul.

    With ``cols`` = im2col(x) laid out ``(G, Cg*kh*kw, Ho*Wo*N)`` and ``W`` as ``(G, Og, Cg*kh*kw)``:
        out = W @ cols + b
    VJP:
        dW = g @ cols^T,   db = sum of g over (N, Ho, Wo),   dx = col2im(W^T @ g)

    Shape:
        x ``(N, C, H, W)``, weight ``(O, C/G, kh, kw)``, bias ``(O,)`` or None -> ``(N, O, Ho, Wo)``.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
        o, cg, kh, kw = weight.shape
        cols = im2col(x, (kh, kw), stride, dilation, padding)  # (C, kh, kw, Ho, Wo, N)
        ho, wo, n = cols.shape[3:]
        cols = cols.reshape(groups, cg * kh * kw, ho * wo * n)  # -> (G, Cg*K, L*N)
        w = weight.reshape(groups, o // groups, cg * kh * kw)  # (O, Cg, kh, kw) -> (G, Og, Cg*K)
        out = (w @ cols).reshape(o, ho, wo, n)  # (G, Og, L*N) -> (O, Ho, Wo, N)
        ctx.attrs["kernel"] = (kh, kw)  # ctx.shapes[1] is None when the weight needs no gradient
        ctx.save_for_backward(cols, w)
        return _batch_first(out, bias)  # -> (N, O, Ho, Wo)

    @staticmethod
    def backward(ctx, g):
        cols, w = ctx.saved
        need = ctx.needs_input_grad
        groups, og = w.shape[:2]
        n, _, ho, wo = g.shape
        gt = _batch_last(g).reshape(groups, og, ho * wo * n)  # (N, O, Ho, Wo) -> (G, Og, L*N)
        dx = dw = db = None
        if need[0]:
            c, h, wd = ctx.shapes[0][1:]
            kh, kw = ctx.attrs["kernel"]
            dcols = w.swapaxes(1, 2) @ gt  # (G, Cg*K, Og) @ (G, Og, L*N) -> (G, Cg*K, L*N)
            dcols = dcols.reshape(c, kh, kw, ho, wo, n)
            a = ctx.attrs
            dx = col2im(dcols, (h, wd), a["stride"], a["dilation"], a["padding"])
        if need[1]:
            dw = _times_t(gt, cols).reshape(ctx.shapes[1])  # (G, Og, Cg*K) -> (O, Cg, kh, kw)
        if need[2]:
            db = gt.sum(axis=(0, 2)) if groups == 1 else gt.sum(axis=2).reshape(-1)  # (O,)
        return dx, dw, db


class ConvTranspose2d(Function):
    """The adjoint of Conv2d in x: out = col2im(W^T @ x) + b, cropped by ``padding``.

    With x as ``(G, Cg, H*W*N)`` and W as ``(G, Cg, Og*kh*kw)``, each input pixel paints a
    kernel-sized patch of the output; overlapping patches add. ``output_padding`` adds rows/columns
    at the bottom/right. VJP (a convolution of g):
        gcols = im2col(g padded back),  dx = W @ gcols,  dW = x @ gcols^T,  db = sum of g

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
        xt = _batch_last(x).reshape(groups, cin // groups, h * w_ * n)  # (N, Cin, H, W) -> (G, Cg, L*N)
        cols = w.swapaxes(1, 2) @ xt  # (G, Og*K, Cg) @ (G, Cg, L*N) -> (G, Og*K, L*N)
        cols = cols.reshape(groups * og, kh, kw, h, w_, n)  # -> (Cout, kh, kw, H, W, N)
        size = (
            (h - 1) * sh + dh * (kh - 1) + 1 + output_padding[0] - 2 * padding[0],
            (w_ - 1) * sw + dw * (kw - 1) + 1 + output_padding[1] - 2 * padding[1],
        )
        crop = ((padding[0], padding[0]), (padding[1], padding[1]))  # col2im's padding is our crop
        out = col2im(cols, size, stride, dilation, crop)  # (N, Cout, Ho, Wo)
        if bias is not None:
            out += bias.reshape(1, -1, 1, 1)
        ctx.attrs["shapes"] = (x.shape, weight.shape)  # ctx.shapes holds None for inputs needing no gradient
        ctx.save_for_backward(xt, w)
        return out

    @staticmethod
    def backward(ctx, g):
        xt, w = ctx.saved
        need = ctx.needs_input_grad
        a = ctx.attrs
        x_shape, w_shape = a["shapes"]
        kh, kw = w_shape[2:]
        groups = w.shape[0]
        p = a["padding"]
        n, cin, h, w_ = x_shape
        # pad g back to the uncropped canvas; the windows over it are the input's pixels
        gcols = im2col(g, (kh, kw), a["stride"], a["dilation"], ((p[0], p[0]), (p[1], p[1])))
        if gcols.shape[3:5] != (h, w_):  # output_padding >= stride (allowed below dilation)
            gcols = gcols[:, :, :, :h, :w_, :].copy()
        og_k = gcols.shape[0] * kh * kw // groups  # not -1: NumPy cannot infer it when N is 0
        gcols = gcols.reshape(groups, og_k, h * w_ * n)  # (Cout, kh, kw, H, W, N) -> (G, Og*K, L*N)
        dx = dw = db = None
        if need[0]:
            dx = (w @ gcols).reshape(cin, h, w_, n)  # (G, Cg, Og*K) @ (G, Og*K, L*N) -> (Cin, H, W, N)
            dx = _batch_first(dx)  # -> (N, Cin, H, W)
        if need[1]:
            dw = _times_t(xt, gcols).reshape(w_shape)  # (G, Cg, Og*K) -> (Cin, Og, kh, kw)
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
        cols = im2col(x, kernel, stride, dilation, padding)  # (C, kh, kw, Ho, Wo, N)
        c, kh, kw, ho, wo, n = cols.shape
        ctx.attrs["windows"] = (ho, wo)
        cols = cols.reshape(c * kh * kw, ho * wo, n).transpose(2, 0, 1)  # -> (N, C*K, L)
        return array_module(cols).ascontiguousarray(cols)

    @staticmethod
    def backward(ctx, g):
        a = ctx.attrs
        n, c, h, w = ctx.shapes[0]
        g = g.transpose(1, 2, 0).reshape(c, *a["kernel"], *a["windows"], n)  # -> (C, kh, kw, Ho, Wo, N)
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
        cols = cols.transpose(1, 2, 0).reshape(
            ckk // (kh * kw), kh, kw, *windows, n
        )  # -> (C, kh, kw, Ho, Wo, N)
        return col2im(cols, size, stride, dilation, padding)

    @staticmethod
    def backward(ctx, g):
        a = ctx.attrs
        cols = im2col(g, a["kernel"], a["stride"], a["dilation"], a["padding"])  # (C, kh, kw, Ho, Wo, N)
        n, ckk, lo = ctx.shapes[0]
        cols = cols.reshape(ckk, lo, n).transpose(2, 0, 1)  # -> (N, C*K, L)
        return array_module(cols).ascontiguousarray(cols)
