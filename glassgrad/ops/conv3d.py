"""Volumetric convolution primitives: conv3d and conv_transpose3d, on N-d im2col / col2im.

The same method as ``ops/conv.py`` (read that first), whose forward and backward bodies
(``conv_forward`` ...) these ops share; this module supplies the window functions for any number
of spatial dims, used for three. The padded input is copied once into a ``(C, *spatial, N)``
buffer (batch last), a strided view exposes every window as ``(C, *kernel, *windows, N)``, one
copy makes the columns ``(C*kd*kh*kw, Do*Ho*Wo*N)`` and ONE matmul does the whole batch::

    cols[(c, a, i, j), (do, ho, wo, n)] = xpad[n, c, do*sd + a*dd, ho*sh + i*dh, wo*sw + j*dw]
    out[o, (do, ho, wo, n)]             = sum_(c, a, i, j) W[o, (c, a, i, j)] * cols[...]

col2im (the adjoint) adds every column entry back onto its voxel with one strided-slice add per
kernel tap (``kd * kh * kw`` adds, each over the whole batch and all channels), as the 2-D code
loops over its ``kh * kw`` offsets. Transposed convolution is the mirror image, as in 2-D.
Backward is first-order only. ``batch_first_nd`` / ``batch_last_nd`` live in ``ops/conv_layout.py``
(the 2-D ops use them too) and are re-exported here.
"""

from __future__ import annotations

import itertools
from typing import Any

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.ops.conv import (
    conv_backward,
    conv_forward,
    conv_shape,
    conv_transpose_backward,
    conv_transpose_forward,
    out_size,
)
from glassgrad.ops.conv_layout import batch_first_nd, batch_last_nd

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

    node_name = "ConvolutionBackward0"  # PyTorch's node name

    @staticmethod
    def forward(ctx, x, weight, bias, stride=(1, 1, 1), padding=((0, 0),) * 3, dilation=(1, 1, 1), groups=1):
        return conv_forward(ctx, x, weight, bias, stride, padding, dilation, groups, im2col_nd)

    @staticmethod
    def meta_shape(x, weight, bias, stride=(1, 1, 1), padding=((0, 0),) * 3, dilation=(1, 1, 1), groups=1):
        """The result's shape and dtype without computing (meta tensors; F.conv3d checked the shapes)."""
        return conv_shape(x, weight, stride, padding, dilation)

    @staticmethod
    def backward(ctx, g):
        return conv_backward(ctx, g, col2im_nd, im2col_nd)


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

    node_name = "ConvolutionBackward0"  # PyTorch's node name

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
        return conv_transpose_forward(
            ctx, x, weight, bias, stride, padding, output_padding, dilation, groups, col2im_nd
        )

    @staticmethod
    def backward(ctx, g):
        return conv_transpose_backward(ctx, g, im2col_nd)
