"""Convolution primitives: im2col / col2im, conv2d, conv_transpose2d, unfold and fold.

The window functions (im2col, col2im) are written for 2-D images ``(N, C, H, W)``; the 1-D ops
in ``nn.functional`` add a height of 1. The convolutions' forward and backward bodies
(``conv_forward``, ``conv_backward``, ``conv_transpose_forward``, ``conv_transpose_backward``)
are written for any number of spatial dims and also serve ``ops/conv3d.py``, which passes them
its N-d window functions. A convolution (PyTorch's, i.e. a cross-correlation) is one matrix
product once the input is laid out as columns ("im2col"): every kernel-sized window, at every
output position of every image, becomes one column of length ``C * kh * kw``::

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
leading ``G`` axis. Backward is first-order only. Long rows (pointwise kernels, 1-D convolutions)
skip the batch-last layout and its transposing copies: ``ops/conv_direct.py``.
"""

from __future__ import annotations

import math
from typing import Any

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.ops.cascade_sum import cascade_sum
from glassgrad.ops.conv_depthwise import depthwise, depthwise_backward, depthwise_forward
from glassgrad.ops.conv_direct import direct_backward, direct_forward, direct_layout
from glassgrad.ops.conv_layout import batch_first_nd, batch_last_nd, padded_batch_last

__all__ = ["Conv2d", "ConvTranspose2d", "Unfold", "Fold", "im2col", "col2im", "out_size"]


def out_size(n: int, k: int, s: int, d: int) -> int:
    """Number of windows of ``k`` taps spaced ``d`` apart, stepping ``s``, along ``n`` (padded) items."""
    return (n - d * (k - 1) - 1) // s + 1


def conv_shape(x: Any, weight: Any, stride: tuple, padding: tuple, dilation: tuple) -> tuple:
    """``(shape, dtype)`` of a convolution's result, for meta tensors (nothing is computed):
    ``(N, O, *windows)`` with ``windows`` per spatial dim of the padded input."""
    spatial = x.shape[2:]
    windows = (
        out_size(n + lo + hi, k, s, d)
        for n, (lo, hi), k, s, d in zip(spatial, padding, weight.shape[2:], stride, dilation)
    )
    return (x.shape[0], weight.shape[0], *windows), array_module(x).result_type(x, weight)


def im2col(x: Any, kernel: tuple, stride: tuple, dilation: tuple, padding: tuple) -> Any:
    """Windows of ``x`` as columns, batch last, contiguous.

    Shape:
        x ``(N, C, H, W)`` -> ``(C, kh, kw, Ho, Wo, N)``; reshaping to ``(C*kh*kw, Ho*Wo*N)`` is free.
    """
    xp = array_module(x)
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    n, c = x.shape[:2]
    xt = padded_batch_last(x, padding)  # one copy pads and moves N last: (C, Hp, Wp, N)
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
    return batch_first_nd(out[:, pt : pt + h, pl : pl + w, :])  # (C, H, W, N) -> (N, C, H, W)


def _times_t(a: Any, b: Any) -> Any:
    """``a @ b^T`` over the last two axes, for the weight gradients ``(G, Og, L) x (G, K, L) -> (G, Og, K)``.

    Computed as ``(b @ a^T)^T``: with the long axis L (pixels times batch) as the inner dimension,
    OpenBLAS's AVX-512 kernels run the product with the larger output side first about twice as
    fast (measured for LeNet's layers: 560 against 1170 us for (6, 50176) x (25, 50176), 278
    against 609 us for (16, 6400) x (150, 6400)); with its AVX2 kernels both orders take the same.
    That order hands back a transposed view, copied here to C order: PyTorch's weight gradient is
    contiguous, and ``autograd.grad`` hands it to the caller as is (MAML and TRPO flatten such
    gradients with ``.view(-1)``), as a leaf's ``.grad`` must own C-contiguous memory anyway.
    NumPy's transposing copy is cache-unfriendly and, for a large ``Og x K`` (ResNet's 512 x 4608
    at 64 positions: 81 ms copy for an 18 ms product), costs more than the order saves. Past
    ``_TRANSPOSE_MAX`` outputs the product is taken as is.
    """
    if a.shape[-2] * b.shape[-2] > _TRANSPOSE_MAX:
        return a @ b.swapaxes(-1, -2)
    return array_module(a).ascontiguousarray((b @ a.swapaxes(-1, -2)).swapaxes(-1, -2))


# Largest Og * K for the swapped order (measured: at 1,728 to 36,864 outputs the two orders, copy
# included, are within 10 %; at 147,456 and more the direct product is 1.7-6x faster).
_TRANSPOSE_MAX = 32768


# Columns larger than this are made again in backward instead of kept (see ``conv_forward``). None
# are kept: PyTorch's backward reads the input itself, so a change of its memory that autograd
# cannot see (Tacotron 2 masks its decoder output through ``.data`` after the postnet read it) gives
# PyTorch's weight gradient, and a seen in-place change raises, whatever the layer's size. The
# second im2col costs 0-10% of a small conv's forward + backward (LeNet's layers at batch 64).
COLS_KEPT_MAX = 0

# The four bodies below serve Conv2d / ConvTranspose2d here and Conv3d / ConvTranspose3d in
# ``ops/conv3d.py``: they are written for any number of spatial dims ``S`` and take the one
# window function they need, the 2-D ``im2col`` / ``col2im`` above or the N-d ones of conv3d
# (the 2-D pair stays separate because its unrolled loops are 1.1-1.6x faster on small images).
# K is the product of the kernel sizes, L the number of output (or input) positions.


def conv_forward(ctx, x, weight, bias, stride, padding, dilation, groups, im2col):
    """out = W @ cols + b; saves ``cols`` and ``W`` for the VJP.

    Shape:
        x ``(N, C, *S)``, weight ``(O, C/G, *kernel)``, bias ``(O,)`` or None -> ``(N, O, *windows)``.
    """
    o, cg = weight.shape[:2]
    kernel = weight.shape[2:]
    k = math.prod(kernel)
    w = weight.reshape(groups, o // groups, cg * k)  # (O, Cg, *kernel) -> (G, Og, Cg*K)
    ctx.attrs["kernel"] = kernel  # ctx.shapes[1] is None when the weight needs no gradient
    if groups > 1 and len(kernel) == 2 and depthwise(x, weight, groups):  # no columns (conv_depthwise.py)
        ctx.attrs.update(depthwise=True, recompute=ctx.needs_input_grad[1], size=x.shape[2:])
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, w)
        out = depthwise_forward(x, weight, ctx.attrs)
        if bias is not None:
            out += bias.reshape(-1, 1, 1)
        return out
    layout = direct_layout(x, kernel, stride, padding, dilation)
    if layout:  # long rows (1x1, or 1-D): on x's own layout, no transposing copies (conv_direct.py)
        # x is saved as the "recompute" path saves it, so the recorded rule reads it the same way
        ctx.attrs["direct"], ctx.attrs["recompute"] = layout, ctx.needs_input_grad[1]
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, w)
        return direct_forward(x, w, bias, layout, kernel, stride, padding, dilation)
    cols = im2col(x, kernel, stride, dilation, padding)  # (C, *kernel, *windows, N)
    windows, n = cols.shape[len(kernel) + 1 : -1], cols.shape[-1]
    cols = cols.reshape(groups, cg * k, math.prod(windows) * n)  # -> (G, Cg*K, L*N)
    out = (w @ cols).reshape(o, *windows, n)  # (G, Og, L*N) -> (O, *windows, N)
    # dW needs the columns, dx only W. The columns (K times the input: 9x for 3x3 kernels) are not
    # kept but made again from x in backward, as PyTorch keeps the input: a deep network's would
    # otherwise hold several times its activations (ESRGAN's test ran at 4.6x PyTorch's peak
    # memory), and a change of x's memory after the forward would not reach dW (COLS_KEPT_MAX).
    saved = None if not ctx.needs_input_grad[1] else cols if cols.nbytes <= COLS_KEPT_MAX else x
    ctx.attrs["recompute"] = saved is x
    ctx.save_for_backward(saved, w)
    return batch_first_nd(out, bias)  # -> (N, O, *windows)


def conv_backward(ctx, g, col2im, im2col):
    """dW = g @ cols^T,  db = sum of g over (N, *windows),  dx = col2im(W^T @ g); the columns are
    made again from the saved input when the forward did not keep them (``conv_forward``)."""
    if ctx.attrs.get("direct"):
        dx, dw, db = direct_backward(g, *ctx.saved, ctx.needs_input_grad, ctx.attrs, ctx.shapes[0])
        return dx, None if dw is None else dw.reshape(ctx.shapes[1]), db
    cols, w = ctx.saved
    if ctx.attrs.get("depthwise"):
        dx, dw = depthwise_backward(cols, w, g, ctx.needs_input_grad, ctx.attrs)
        return dx, dw, cascade_sum(g, (0, 2, 3)) if ctx.needs_input_grad[2] else None
    if ctx.attrs.get("recompute"):
        a = ctx.attrs
        cols = im2col(cols, a["kernel"], a["stride"], a["dilation"], a["padding"])
        cols = cols.reshape(w.shape[0], w.shape[2], -1)  # (C, *kernel, *windows, N) -> (G, Cg*K, L*N)
    need = ctx.needs_input_grad
    groups, og = w.shape[:2]
    n, windows = g.shape[0], g.shape[2:]
    gt = batch_last_nd(g).reshape(groups, og, math.prod(windows) * n)  # (N, O, *windows) -> (G, Og, L*N)
    dx = dw = db = None
    if need[0]:
        c, size = ctx.shapes[0][1], ctx.shapes[0][2:]
        a = ctx.attrs
        # Og = 1 (depthwise): the product of one term is the broadcast multiply, bit for bit, 8x
        # faster than NumPy's stacked matmul, which runs such outer products element by element
        dcols = w.swapaxes(1, 2) * gt if og == 1 else w.swapaxes(1, 2) @ gt  # -> (G, Cg*K, L*N)
        dcols = dcols.reshape(c, *a["kernel"], *windows, n)  # -> (C, *kernel, *windows, N)
        dx = col2im(dcols, size, a["stride"], a["dilation"], a["padding"])
    if need[1]:
        dw = _times_t(gt, cols).reshape(ctx.shapes[1])  # (G, Og, Cg*K) -> (O, Cg, *kernel)
    if need[2]:
        db = gt.sum(axis=(0, 2)) if groups == 1 else gt.sum(axis=2).reshape(-1)  # (O,)
    return dx, dw, db


def conv_transpose_forward(ctx, x, weight, bias, stride, padding, output_padding, dilation, groups, col2im):
    """out = col2im(W^T @ x) + b, cropped by ``padding``; saves ``x`` and ``W`` for the VJP.

    Shape:
        x ``(N, Cin, *S)``, weight ``(Cin, Cout/G, *kernel)``, bias ``(Cout,)`` or None ->
        ``(N, Cout, *So)``, ``So = (S-1)*s - 2*p + d*(k-1) + output_padding + 1`` per dim.
    """
    n, cin, size = x.shape[0], x.shape[1], x.shape[2:]
    og, kernel = weight.shape[1], weight.shape[2:]
    w = weight.reshape(groups, cin // groups, og * math.prod(kernel))  # (Cin, Og, *kernel) -> (G, Cg, Og*K)
    xt = batch_last_nd(x).reshape(groups, cin // groups, math.prod(size) * n)  # -> (G, Cg, L*N)
    cols = w.swapaxes(1, 2) * xt if cin == groups else w.swapaxes(1, 2) @ xt  # (Cg = 1: as conv_backward's)
    cols = cols.reshape(groups * og, *kernel, *size, n)  # -> (Cout, *kernel, *S, N)
    out_sz = tuple(
        [
            (s - 1) * st + d * (kk - 1) + 1 + op - 2 * p
            for s, st, d, kk, op, p in zip(size, stride, dilation, kernel, output_padding, padding)
        ]
    )
    crop = tuple([(p, p) for p in padding])  # col2im's padding is our crop
    out = col2im(cols, out_sz, stride, dilation, crop)  # (N, Cout, *So)
    if bias is not None:
        out += bias.reshape(1, -1, *(1,) * len(size))
    ctx.attrs["shapes"] = (x.shape, weight.shape)  # ctx.shapes holds None for inputs needing no gradient
    ctx.save_for_backward(xt, w)
    return out


def conv_transpose_backward(ctx, g, im2col):
    """The VJP, a convolution of g: gcols = im2col(g padded back),  dx = W @ gcols,  dW = x @ gcols^T,
    db = sum of g."""
    xt, w = ctx.saved
    need = ctx.needs_input_grad
    a = ctx.attrs
    x_shape, w_shape = a["shapes"]
    kernel, size = w_shape[2:], x_shape[2:]
    n, cin = x_shape[:2]
    groups = w.shape[0]
    # pad g back to the uncropped canvas; the windows over it are the input's pixels
    gcols = im2col(g, kernel, a["stride"], a["dilation"], tuple([(p, p) for p in a["padding"]]))
    if gcols.shape[len(size) + 1 : -1] != size:  # output_padding >= stride (allowed below dilation)
        gcols = gcols[(slice(None),) * (len(size) + 1) + tuple(slice(0, s) for s in size)].copy()
    og_k = gcols.shape[0] * math.prod(kernel) // groups  # not -1: NumPy cannot infer it when N is 0
    gcols = gcols.reshape(groups, og_k, math.prod(size) * n)  # (Cout, *kernel, *S, N) -> (G, Og*K, L*N)
    dx = dw = db = None
    if need[0]:
        dx = (w @ gcols).reshape(cin, *size, n)  # (G, Cg, Og*K) @ (G, Og*K, L*N) -> (Cin, *S, N)
        dx = batch_first_nd(dx)  # -> (N, Cin, *S)
    if need[1]:
        dw = _times_t(xt, gcols).reshape(w_shape)  # (G, Cg, Og*K) -> (Cin, Og, *kernel)
    if need[2]:
        db = cascade_sum(g, (0, *range(2, g.ndim)))  # (the batch's rows as a cascade, as PyTorch)
    return dx, dw, db


class Conv2d(Function):
    """out = W * x + b (cross-correlation), through im2col and one matmul (``conv_forward``).

    With ``cols`` = im2col(x) laid out ``(G, Cg*kh*kw, Ho*Wo*N)`` and ``W`` as ``(G, Og, Cg*kh*kw)``:
        out = W @ cols + b
    VJP:
        dW = g @ cols^T,   db = sum of g over (N, Ho, Wo),   dx = col2im(W^T @ g)

    Shape:
        x ``(N, C, H, W)``, weight ``(O, C/G, kh, kw)``, bias ``(O,)`` or None -> ``(N, O, Ho, Wo)``.
    """

    node_name = "ConvolutionBackward0"  # PyTorch's node name

    @staticmethod
    def forward(ctx, x, weight, bias, stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
        return conv_forward(ctx, x, weight, bias, stride, padding, dilation, groups, im2col)

    @staticmethod
    def meta_shape(x, weight, bias, stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
        """The result's shape and dtype without computing (meta tensors; F.conv2d checked the shapes)."""
        return conv_shape(x, weight, stride, padding, dilation)

    @staticmethod
    def backward(ctx, g):
        return conv_backward(ctx, g, col2im, im2col)


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

    node_name = "ConvolutionBackward0"  # PyTorch's node name

    @staticmethod
    def forward(
        ctx, x, weight, bias, stride=(1, 1), padding=(0, 0), output_padding=(0, 0), dilation=(1, 1), groups=1
    ):
        return conv_transpose_forward(
            ctx, x, weight, bias, stride, padding, output_padding, dilation, groups, col2im
        )

    @staticmethod
    def backward(ctx, g):
        return conv_transpose_backward(ctx, g, im2col)


class Unfold(Function):
    """cols = im2col(x), exposed (``F.unfold``). VJP: col2im(g).

    Shape:
        x ``(N, C, H, W)`` -> ``(N, C*kh*kw, Ho*Wo)``.
    """

    node_name = "Im2ColBackward0"  # PyTorch's node name

    @staticmethod
    def forward(ctx, x, kernel=(1, 1), stride=(1, 1), dilation=(1, 1), padding=((0, 0), (0, 0))):
        cols = im2col(x, kernel, stride, dilation, padding)  # (C, kh, kw, Ho, Wo, N)
        c, kh, kw, ho, wo, n = cols.shape
        ctx.attrs["windows"] = (ho, wo)
        cols = cols.reshape(c * kh * kw, ho * wo, n).transpose(2, 0, 1)  # -> (N, C*K, L)
        out = array_module(cols).ascontiguousarray(cols)
        # a 1x1 window at stride 1 leaves im2col's read-only strided view contiguous, returned
        # as is: PyTorch's result is a tensor of its own, which an in-place op (relu_) may write
        return out if out.flags.writeable else out.copy()

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
