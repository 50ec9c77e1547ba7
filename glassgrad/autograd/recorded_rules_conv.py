"""Recorded VJP rules (``autograd/recorded.py``) of the convolution, pooling and resampling ops.

Each rule is its op's ``backward`` written again with differentiable ops, mostly the conv ops
themselves: a convolution's input gradient is a transposed convolution of g with the same weight
(and the reverse), its weight gradient a convolution of the input by g (batch and channels
swapped, groups kept), and every window op's gradient (max / average pooling, unfold) is g
scattered onto the window taps by ``fold`` (``conv_transpose3d`` with one-hot kernels in 3-D).
So the rules of these ops call one another, and orders past the second need nothing else.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

import glassgrad as gg
from glassgrad.autograd.recorded import constant, operand, rule, saved
from glassgrad.ops import conv as _C
from glassgrad.ops import conv3d as _C3

__all__: list[str] = []


def _conv_op(nd: int):
    return _C3.Conv3d if nd == 3 else _C.Conv2d


def _convt_op(nd: int):
    return _C3.ConvTranspose3d if nd == 3 else _C.ConvTranspose2d


def _crop(t, spans: tuple):
    """Tensor ``t`` cut to ``[lo, hi)`` per spatial dim (none cut when it already fits)."""
    if all(lo == 0 and hi == n for (lo, hi), n in zip(spans, t.shape[2:])):
        return t
    return t[(slice(None), slice(None), *(slice(lo, hi) for lo, hi in spans))]


def _used(windows: tuple, kernel: tuple, stride: tuple, dilation: tuple) -> list:
    """Length of the padded input the windows read, per spatial dim."""
    return [(o - 1) * s + d * (k - 1) + 1 for o, k, s, d in zip(windows, kernel, stride, dilation)]


def _weight_grad(x, g, pads: tuple, stride: tuple, dilation: tuple, groups: int, kernel: tuple):
    """dW[o, c, tap] = sum over (n, l) of g[n, o, l] * xpad[n, group(o)*Cg + c, l*stride + tap*dilation]:
    a convolution of x (batch as channels, grouped as the op's groups) by g (batch as in-channels),
    with stride and dilation swapped. x ``(N, C, *S)``, g ``(N, O, *So)`` -> ``(O, C/G, *kernel)``."""
    n, c, *size = x.shape
    cg, nd = c // groups, len(kernel)
    xi = x.reshape(n, groups, cg, *size).permute(2, 1, 0, *range(3, 3 + nd)).reshape(cg, groups * n, *size)
    wt = g.transpose(0, 1)  # (O, N, *So)
    out = _conv_op(nd).apply(xi, wt, None, stride=dilation, padding=pads, dilation=stride, groups=groups)
    # (Cg, O, *k') -> (O, Cg, *kernel), contiguous as PyTorch's (HVP code flattens the gradients
    # of ``autograd.grad(..., create_graph=True)`` with ``.view(-1)``)
    return _crop(out, tuple((0, k) for k in kernel)).transpose(0, 1).contiguous()


def _uncols(cols, kernel: tuple, stride: tuple, dilation: tuple, windows: tuple, nc: tuple, canvas: tuple):
    """The padded input ``(N, C, *canvas)`` that ``im2col`` read ``cols`` from (exact: each pixel is
    copied back, not summed); pixels no window reads stay 0 and enter no weight gradient."""
    n, c = nc
    cols = cols.reshape(c, *kernel, *windows, n)
    out = np.zeros((c, *canvas, n), dtype=cols.dtype)
    for tap in itertools.product(*(range(k) for k in kernel)):
        dst = tuple(
            slice(i * d, i * d + s * (o - 1) + 1, s) for i, d, s, o in zip(tap, dilation, stride, windows)
        )
        out[(slice(None), *dst)] = cols[(slice(None), *tap)]
    return np.moveaxis(out, -1, 0)


@rule("conv2d", "conv3d")
def _conv(ctx, g):
    """dx = conv_transpose(g, W) cropped by the padding;  dW = conv(x by g);  db = sum of g."""
    held, w = saved(ctx)
    a, need = ctx.attrs, ctx.needs_input_grad
    stride, pads, dil, groups, kernel = a["stride"], a["padding"], a["dilation"], a["groups"], a["kernel"]
    nd, windows, n = len(kernel), tuple(g.shape[2:]), g.shape[0]
    c = groups * (w.shape[2] // math.prod(kernel))  # the input's channels
    weight = operand(ctx, 1, w.reshape(w.shape[0] * w.shape[1], c // groups, *kernel))
    dx = dw = db = None
    if need[0]:
        size = ctx.shapes[0][2:]
        padded = [s + lo + hi for s, (lo, hi) in zip(size, pads)]
        extra = [p - u for p, u in zip(padded, _used(windows, kernel, stride, dil))]  # rows no window reads
        if all(lo == hi for lo, hi in pads):  # conv_transpose crops its padding from both ends
            crop = tuple(lo for lo, _ in pads)
            spans = tuple((0, s) for s in size)
        else:
            crop, spans = (0,) * nd, tuple((lo, lo + s) for s, (lo, _) in zip(size, pads))
        dx = _convt_op(nd).apply(
            g,
            weight,
            None,
            stride=stride,
            padding=crop,
            output_padding=tuple(extra),
            dilation=dil,
            groups=groups,
        )
        dx = _crop(dx, spans)
    if need[1]:
        if a.get("recompute"):  # forward kept the input itself
            x = operand(ctx, 0, held)
        elif ctx.shapes[0] is not None:  # the input from its columns, as a Tensor of the graph
            size = ctx.shapes[0][2:]
            canvas = tuple(s + lo + hi for s, (lo, hi) in zip(size, pads))
            xpad = _uncols(held, kernel, stride, dil, windows, (n, c), canvas)
            inner = (slice(None), slice(None), *(slice(lo, lo + s) for s, (lo, _) in zip(size, pads)))
            x = operand(ctx, 0, np.ascontiguousarray(xpad[inner]))
        else:  # no gradient to x: the padded canvas the windows read will do, as a constant
            canvas = tuple(_used(windows, kernel, stride, dil))
            x = constant(np.ascontiguousarray(_uncols(held, kernel, stride, dil, windows, (n, c), canvas)))
            pads = ((0, 0),) * nd
        dw = _weight_grad(x, g, pads, stride, dil, groups, kernel)
    if need[2]:
        db = g.sum(dim=(0, *range(2, g.dim())))
    return dx, dw, db


@rule("conv_transpose2d", "conv_transpose3d")
def _conv_transpose(ctx, g):
    """dx = conv(g, W) over g padded back;  dW = conv(g by x);  db = sum of g."""
    xt, w = saved(ctx)
    a, need = ctx.attrs, ctx.needs_input_grad
    x_shape, w_shape = a["shapes"]
    stride, padding, out_pad, dil, groups = (
        a[k] for k in ("stride", "padding", "output_padding", "dilation", "groups")
    )
    n, cin, size = x_shape[0], x_shape[1], tuple(x_shape[2:])
    kernel, nd = tuple(w_shape[2:]), len(stride)
    # read g's canvas without output_padding's rows where the padding allows (then the windows
    # number exactly the input's size), else read them and crop the surplus windows off
    pads = tuple((p, max(0, p - op)) for p, op in zip(padding, out_pad))
    weight = operand(ctx, 1, w.reshape(w_shape))
    dx = dw = db = None
    if need[0]:
        dx = _conv_op(nd).apply(g, weight, None, stride=stride, padding=pads, dilation=dil, groups=groups)
        dx = _crop(dx, tuple((0, s) for s in size))
    if need[1]:
        x = operand(ctx, 0, np.moveaxis(xt.reshape(cin, *size, n), -1, 0))
        dw = _weight_grad(g, x, pads, stride, dil, groups, kernel)
    if need[2]:
        db = g.sum(dim=(0, *range(2, g.dim())))
    return dx, dw, db


def _scatter_taps(cols, shape: tuple, kernel: tuple, stride: tuple, dilation: tuple, pads: tuple):
    """Sum ``cols`` ``(N, C, K, *windows)`` onto the pixels each window tap read: ``(N, C, *S)``
    (the adjoint of gathering the taps of ``(N, C, *S)`` padded by ``pads``)."""
    n, c, k, *windows = cols.shape
    size, nd = tuple(shape[2:]), len(kernel)
    if nd == 2:  # fold is col2im, exactly the first-order backward's scatter
        flat = cols.reshape(n, c * k, math.prod(windows))
        return _C.Fold.apply(
            flat,
            size=size,
            kernel=kernel,
            stride=stride,
            dilation=dilation,
            padding=pads,
            windows=tuple(windows),
        )
    # a transposed convolution per channel whose kernel for input tap t is one-hot at t
    onehot = np.tile(np.eye(k, dtype=cols._data.dtype), (c, 1)).reshape(c * k, 1, *kernel)
    extra = [s + lo + hi - u for s, (lo, hi), u in zip(size, pads, _used(windows, kernel, stride, dilation))]
    out = _C3.ConvTranspose3d.apply(
        cols.reshape(n, c * k, *windows),
        constant(onehot),
        None,
        stride=stride,
        padding=(0,) * nd,
        output_padding=tuple(extra),
        dilation=dilation,
        groups=c,
    )
    return _crop(out, tuple((lo, lo + s) for s, (lo, _) in zip(size, pads)))


@rule("max_pool2d", "max_pool3d")
def _max_pool(ctx, g):
    """dx = scatter of g where argmax == tap (0 elsewhere: a select, so an inf or NaN g stays at
    the maximum, as the op's backward) onto each window's taps (a constant mask: linear in g)."""
    (arg,) = saved(ctx)
    a = ctx.attrs
    kernel = a["kernel"]
    k, nd = math.prod(kernel), len(kernel)
    taps = np.arange(k).reshape(1, 1, k, *(1,) * nd)
    mask = arg[:, :, None] == taps  # (N, C, K, *windows)
    cols = gg.where(constant(mask), g.reshape(g.shape[0], g.shape[1], 1, *g.shape[2:]), 0.0)
    return _scatter_taps(cols, ctx.shapes[0], kernel, a["stride"], a["dilation"], a["padding"])


@rule("avg_pool2d", "avg_pool3d")
def _avg_pool(ctx, g):
    """dx = scatter of g / divisor onto every tap of its window (the divisor a constant)."""
    (div,) = saved(ctx)
    a = ctx.attrs
    kernel = a["kernel"]
    k, nd = math.prod(kernel), len(kernel)
    pads = tuple((p, p + e) for p, e in zip(a["padding"], a["extra"]))
    gs = (g / constant(div)).reshape(g.shape[0], g.shape[1], 1, *g.shape[2:])
    cols = gs * constant(np.ones((1, 1, k, *(1,) * nd), dtype=g._data.dtype))
    return _scatter_taps(cols, ctx.shapes[0], kernel, a["stride"], (1,) * nd, pads)


@rule("adaptive_max_pool2d", "adaptive_max_pool3d")
def _adaptive_max_pool(ctx, g):
    """dx[flat] += g per plane: a scatter-add (linear in g), as the op's backward, so an inf or
    NaN g stays at its maximum (a product by one-hot matrices would spread NaN over the plane)."""
    (flat,) = saved(ctx)
    n, c, *size = ctx.shapes[0]
    planes, per = n * c, math.prod(g.shape[2:])
    dx = gg.zeros((planes, math.prod(size)), dtype=g.dtype)
    dx = dx.scatter_add(1, constant(flat.reshape(planes, per)), g.reshape(planes, per))
    return dx.reshape(n, c, *size)


@rule("unfold")
def _unfold(ctx, g):
    """dx = fold(g) (col2im)."""
    a = ctx.attrs
    return _C.Fold.apply(
        g,
        size=tuple(ctx.shapes[0][2:]),
        kernel=a["kernel"],
        stride=a["stride"],
        dilation=a["dilation"],
        padding=a["padding"],
        windows=a["windows"],
    )


@rule("fold")
def _fold(ctx, g):
    """dcols = unfold(g) (im2col)."""
    a = ctx.attrs
    return _C.Unfold.apply(
        g, kernel=a["kernel"], stride=a["stride"], dilation=a["dilation"], padding=a["padding"]
    )


@rule("resample")
def _resample(ctx, g):
    """dx = M^T g along the axis, M[i] = (1 - w[i]) at lo[i] + w[i] at hi[i] (a constant)."""
    a = ctx.attrs
    lo, hi, w = a["lo"], a["hi"], a["w"]
    axis = a["axis"] % g.dim()
    n_in, n_out = ctx.shapes[0][axis], len(lo)
    mt = np.zeros((n_in, n_out), dtype=g._data.dtype)
    out = np.arange(n_out)
    if w is None:
        mt[lo, out] = 1
    else:
        np.add.at(mt, (lo, out), 1 - w)
        np.add.at(mt, (hi, out), w)
    shape = tuple(g.shape)
    g3 = g.reshape(math.prod(shape[:axis]), n_out, math.prod(shape[axis + 1 :]))
    return (constant(mt) @ g3).reshape(*shape[:axis], n_in, *shape[axis + 1 :])
