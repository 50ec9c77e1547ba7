"""Fused normalisation primitives: layer norm and batch norm (training mode).

Both are "subtract the mean, divide by the standard deviation, then scale and shift", over
different axes. Built from primitives, the graph would hold a dozen nodes and the backward would
re-derive the same sums several times; fused, the backward is the classic closed form, worth
reading once by hand. With ``xhat = (x - mean) * rstd`` over ``M`` normalised elements and
``gx = g * weight`` (the gradient arriving at ``xhat``)::

    dx = rstd * (gx - mean(gx) - xhat * mean(gx * xhat))
       = (1/M) * rstd * (M * gx - sum(gx) - xhat * sum(gx * xhat))

The two subtracted means are the paths through ``mean`` and through ``rstd``: shifting every
input together changes nothing, nor does scaling them together, so the gradient is projected off
both directions. Backward is first-order only.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, dense, quietly
from glassgrad.ops.cascade_sum import cascade_sum
from glassgrad.tensor import Tensor

__all__ = ["LayerNorm", "BatchNorm", "layer_norm", "batch_norm_train"]


def _mean(a: Any, axes: tuple[int, ...]) -> Any:
    """The mean over ``axes``, kept as size-1 dims.

    Over trailing axes (layer norm) of a float32/float64 array it is a matrix product with a
    column of 1/M: BLAS runs that about 4x faster than NumPy's reduction of many short rows (10
    against 44 us for (1024, 128) float32, one thread), and on every BLAS thread. With Linear's
    bias gradient done the same way, the ``gpt_sdpa`` benchmark step ran about 5% faster at two
    threads (interleaved A/B, median of 12). Other axes (batch norm) go through ``cascade_sum``
    in float32 (ops/cascade_sum.py); float16 (whose product would accumulate in float16), float64
    there and empty axes use ``mean``.
    """
    k = len(axes)
    m = math.prod(a.shape[a.ndim - k :])
    if axes != tuple(range(a.ndim - k, a.ndim)) or m == 0 or a.dtype.kind != "f" or a.dtype.itemsize < 4:
        count = math.prod(a.shape[ax] for ax in axes)
        if count and a.dtype.kind == "f" and a.dtype.itemsize == 4:  # batch norm's: a cascade
            return (cascade_sum(a, axes, keepdims=True) / count).astype(a.dtype, copy=False)
        if not count:  # nan, as PyTorch, without NumPy's "Mean of empty slice" (a warning errstate misses)
            shape = tuple(1 if d in axes else n for d, n in enumerate(a.shape))
            return array_module(a).full(shape, np.nan, dtype=a.dtype)
        return a.mean(axis=axes, keepdims=True)
    col = array_module(a).full((m, 1), 1.0 / m, dtype=a.dtype)
    lead = a.shape[: a.ndim - k]
    return (a.reshape(lead + (m,)) @ col).reshape(lead + (1,) * k)  # (..., M) @ (M, 1) -> (..., 1, ...)


def _normalize(x: Any, axes: tuple[int, ...], eps: float, stats: Any = None) -> tuple[Any, Any]:
    """``(xhat, rstd)`` with mean and biased variance taken over ``axes`` (kept as size-1 dims);
    ``stats(mean, var)`` is called with them first, when given (batch norm's running averages)."""
    return quietly(_centred_scaled, x, axes, eps, stats)  # (inf - inf: nan without a warning, as PyTorch)


def _centred_scaled(x: Any, axes: tuple[int, ...], eps: float, stats: Any = None) -> tuple[Any, Any]:
    xp = array_module(x)
    x = dense(x)  # means in C order whatever the layout: the rounding never depends on it
    mean = _mean(x, axes)
    centered = x - mean
    # Over every dim (axes from 0): the corrected two-pass algorithm, as batch norm's
    # (``_bn_statistics``). Layer norm's rows are short: it costs more than it gains there (+40%
    # on the forward).
    if x.dtype.itemsize < 8 and axes[:1] == (0,):
        shift = _mean(centered, axes)
        centered -= shift
        mean = mean + shift  # the corrected mean, for stats
    var = _mean(centered * centered, axes)
    if stats is not None:
        stats(mean, var)
    rstd = 1.0 / xp.sqrt(var + eps)  # eps is a Python float: float32 stays float32
    centered *= rstd  # in place: centered is our own temporary (x itself is untouched)
    return centered, rstd


# Batch norm's sums of products over rows of S >= 64 positions are BLAS dot products: no product
# array is made (on (8, 1024, 2500) float32, one thread: 2.4 ms against 18 ms for c * c and its
# sum). Past 8,192 positions the dot's own running sums (64 lanes) err more than NumPy's pairwise
# sum (measured against float64: 1.3x at 2,500, 2x at 8,192, 3.4x at 65,536), so those multiply.
_DOTS_MIN, _DOTS_MAX = 64, 8192

# The norms' computing dtype where it is not the input's (float16's: see ``BatchNorm.forward``).
_BN_COMPUTE = {np.dtype(np.float16): np.dtype(np.float32)}


def _bn_sum_products(a: Any, b: Any) -> Any:
    """``sum(a * b)`` over every axis but 1 of two dense ``(N, C, *S)`` arrays: ``(C,)``; per
    row of S a dot product, then a cascade over N (the product array when S is short or long)."""
    n, c = a.shape[:2]
    s = math.prod(a.shape[2:])
    if _DOTS_MIN <= s <= _DOTS_MAX and a.dtype == b.dtype and a.dtype.kind == "f" and a.dtype.itemsize >= 4:
        dots = a.reshape(n * c, 1, s) @ b.reshape(n * c, s, 1)  # (N*C, 1, 1): one dot per row
        return cascade_sum(dots.reshape(n, c), 0)
    return cascade_sum(a * b, (0, *range(2, a.ndim)))


def _bn_mean_products(a: Any, b: Any) -> Any:
    """``mean(a * b)`` over every axis but 1, kept as ``(1, C, 1, ...)`` (``_bn_sum_products``)."""
    count = a.size // a.shape[1]
    shape = (1, a.shape[1]) + (1,) * (a.ndim - 2)
    return (_bn_sum_products(a, b) / count).astype(a.dtype, copy=False).reshape(shape)


def _bn_statistics(x: Any, eps: float, stats: Any) -> tuple[Any, Any, Any]:
    """``(c, shift, rstd)`` of batch norm's dense input ``(N, C, *S)``: ``c = x - mean`` with
    float32's rounded mean, ``shift`` the mean of c (that rounding, measured: None for float64),
    so that ``xhat = (c - shift) * rstd``; ``stats(mean, var)`` gets the corrected statistics.

    The corrected two-pass algorithm: taking the rounding off matters because a shifted xhat
    sums into the weight gradient without cancelling (over a batch of 256, 10x PyTorch's error
    without it, whose CPU kernels accumulate in float64; 0.5x with it). ``var = mean(c^2) -
    shift^2`` is that algorithm's own form (Chan, Golub & LeVeque), read from c in place; the
    shift itself is applied per channel by the output's offset and backward's sums, never by
    another pass over c (forward + backward of BatchNorm1d on (8, 1024, 2500) float32, one
    thread, same-load A/B: 187 ms before, 97 ms now, PyTorch 131 ms; on (20000, 256): 32.5
    against 21.4 ms, PyTorch 17.9)."""
    xp = array_module(x)
    axes = (0, *range(2, x.ndim))
    mean = _mean(x, axes)
    c = x - mean
    var = _bn_mean_products(c, c)
    shift = None
    if x.dtype.itemsize < 8:
        shift = _mean(c, axes)
        # an overflowed var stays inf (rstd 0, as PyTorch's float sums give): minus an overflowed
        # shift^2 it would be inf - inf, a nan channel where PyTorch's output is 0
        var = xp.where(xp.isinf(var), var, xp.maximum(var - shift * shift, 0))
        mean = mean + shift  # the corrected mean, for stats
    if stats is not None:
        stats(mean, var)
    return c, shift, 1.0 / xp.sqrt(var + eps)  # eps is a Python float: float32 stays float32


def _bn_output(c: Any, shift: Any, rstd: Any, w: Any, b: Any) -> Any:
    """``xhat * w + b`` as ``c * k + (b - shift * k)``, ``k = rstd * w``: one product, one add."""
    k = rstd if w is None else rstd * w
    out = c * k
    offset = None if shift is None else -(shift * k)
    if b is not None:
        offset = b if offset is None else offset + b
    if offset is None:
        return out
    if array_module(out).result_type(out, offset) != out.dtype:
        return out + offset
    out += offset  # in place on our own product (a fresh array's pages cost as much as the add)
    return out


def _bn_input_grad(g: Any, c: Any, shift: Any, rstd: Any, w: Any, sum_g: Any, sum_gxhat: Any) -> Any:
    """Batch norm's dx: the closed form with gx = g * w, its two means taken as w times g's
    (``sum_g``, ``sum_gxhat`` are also dbias and dweight), ``xhat = (c - shift) * rstd``:
    ``dx = rstd * w * (g - mean(g) - xhat * mean(g * xhat))``
    ``   = rstd * w * (g + c * (-rstd * mean(g xhat)) - (mean(g) - shift * rstd * mean(g xhat)))``.
    Four passes, one fresh array (the general form: seven, five fresh)."""
    count = c.size // c.shape[1]
    shape = rstd.shape
    slope = rstd * (sum_gxhat.reshape(shape) / count)
    level = sum_g.reshape(shape) / count
    if shift is not None:
        level = level - shift * slope
    dx = c * -slope
    dx += g
    dx -= level
    dx *= rstd if w is None else rstd * w
    return dx


def _normalize_backward(gx: Any, xhat: Any, rstd: Any, axes: tuple[int, ...]) -> Any:
    """The closed-form VJP of ``xhat`` w.r.t. ``x`` (see the module docstring)."""
    gx = dense(gx)
    mean_gx = _mean(gx, axes)
    mean_gx_xhat = _mean(gx * xhat, axes)
    dx = gx - mean_gx  # then in place on this fresh array, in the formula's order
    dx -= xhat * mean_gx_xhat
    dx *= rstd
    return dx


class LayerNorm(Function):
    """y = xhat * weight + bias, with xhat = (x - mean) / sqrt(var + eps) over the last ``ndim`` dims.

    ``var`` is the biased variance (divide by M, the number of normalised elements). ``weight`` and
    ``bias`` (shape = the normalised shape) may be None.

    VJP, with gx = g * weight:
        dx = rstd * (gx - mean(gx) - xhat * mean(gx * xhat))   (means over the normalised dims)
        dweight = g * xhat, dbias = g   (the engine sums them over the leading dims they broadcast over)
    """

    name = "layer_norm"

    node_name = "NativeLayerNormBackward0"  # PyTorch's node name

    @staticmethod
    def forward(ctx, x, weight, bias, ndim=1, eps=1e-5):
        axes = tuple(range(x.ndim - ndim, x.ndim))
        # float16 in float32, as batch norm (``_BN_COMPUTE``): its squares overflow past |x - mean| = 256
        dt = _BN_COMPUTE.get(x.dtype, x.dtype)
        xhat, rstd = _normalize(x.astype(dt, copy=False), axes, eps)
        # x and bias kept too, unread: PyTorch's node saves them, so a write into either before
        # backward raises there and here
        ctx.save_for_backward(xhat, rstd, weight, x, bias)
        if weight is None:  # a copy when xhat would be the output: the caller may change the output
            # in place (relu_ after a non-affine norm), which must not touch what backward reads
            # (PyTorch saves the input and the statistics, never the output, so it computes there)
            out = xhat.copy() if bias is None else xhat + bias
            return out.astype(x.dtype, copy=False)
        out = xhat * weight
        if bias is not None:
            out += bias  # in place on the fresh product (its shape is x's: bias only broadcasts)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        xhat, rstd, weight = ctx.saved[:3]
        g, dt = dense(g).astype(xhat.dtype, copy=False), g.dtype  # (float16: in float32, as forward)
        need = ctx.needs_input_grad
        axes = tuple(range(xhat.ndim - ctx.attrs.get("ndim", 1), xhat.ndim))
        dx = None
        if need[0]:
            gx = g if weight is None else g * weight
            dx = _normalize_backward(gx, xhat, rstd, axes)
        dweight = g * xhat if need[1] else None
        dbias = g if need[2] else None
        return tuple(None if a is None else a.astype(dt, copy=False) for a in (dx, dweight, dbias))


class BatchNorm(Function):
    """y = xhat * weight + bias per channel, xhat normalised with the batch's own statistics.

    ``x`` is (N, C, *): the mean and biased variance of channel c are taken over N and every
    spatial position (all axes but 1); ``weight`` and ``bias`` have shape (C,) and may be None.
    This is the training-mode op; evaluation with running statistics is the affine map of
    ``ops/batch_norm_eval.py`` (one node of the same name, as PyTorch's).

    VJP, with gx = g * weight and means over the axes (0, 2, 3, ...):
        dx = rstd * (gx - mean(gx) - xhat * mean(gx * xhat))
        dweight = sum(g * xhat), dbias = sum(g)   (sums over the same axes, giving shape (C,))
    """

    name = "batch_norm"

    node_name = "NativeBatchNormBackward0"  # PyTorch's node name

    @staticmethod
    def forward(ctx, x, weight, bias, eps=1e-5, stats=None):
        param_shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)  # (C,) -> (1, C, 1, ...)
        # (stats: the caller's running averages take the batch's statistics from here, before
        # anything is saved, so that they are computed once and a checkpoint's rerun updates them)
        # dense: means in C order whatever the layout, the rounding never depends on it
        # float16 runs in float32, as PyTorch's CPU kernels: its squares and their sums overflow
        # past 65,504 (a batch's sum of c^2 at unit scale from 65,504 values per channel)
        dt = _BN_COMPUTE.get(x.dtype, x.dtype)
        c, shift, rstd = quietly(_bn_statistics, dense(x).astype(dt, copy=False), eps, stats)
        w = None if weight is None else weight.reshape(param_shape)
        # c, not xhat: xhat = (c - shift) * rstd; x kept too, unread: PyTorch's node saves it, so
        # a write into it before backward raises there and here
        ctx.save_for_backward(c, rstd, w, shift, x)
        b = None if bias is None else bias.reshape(param_shape).astype(dt, copy=False)
        w = None if w is None else w.astype(dt, copy=False)
        out = quietly(_bn_output, c, shift, rstd, w, b)  # a fresh array, never the saved c
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        c, rstd, w, shift = ctx.saved[:4]
        # a channels-last gradient: sums in C order, as for a contiguous one (float16: in float32)
        g, dt = dense(g).astype(c.dtype, copy=False), g.dtype
        w = None if w is None else w.astype(c.dtype, copy=False)
        need = ctx.needs_input_grad
        # Not broadcasting: the channel axis is not trailing, so these sums are the op's own; dx
        # reuses them (``_bn_input_grad``). sum(g xhat) = rstd (sum(g c) - shift sum(g)).
        sum_g = cascade_sum(g, (0, *range(2, c.ndim)))
        sum_gxhat = None
        if need[0] or need[1]:
            sum_gxhat = _bn_sum_products(g, c)
            if shift is not None:
                sum_gxhat -= shift.reshape(-1) * sum_g
            sum_gxhat *= rstd.reshape(-1)
        dx = _bn_input_grad(g, c, shift, rstd, w, sum_g, sum_gxhat) if need[0] else None
        dw, db = sum_gxhat if need[1] else None, sum_g if need[2] else None
        return tuple(None if a is None else a.astype(dt, copy=False) for a in (dx, dw, db))


def layer_norm(
    x: Tensor,
    normalized_ndim: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise ``x`` over its last ``normalized_ndim`` dims (no validation; see ``F.layer_norm``).

    Shape:
        x: (*, *S); weight, bias: S; returns x's shape.
    """
    return LayerNorm.apply(x, weight, bias, ndim=normalized_ndim, eps=float(eps))


def batch_norm_train(
    x: Tensor, weight: Tensor | None = None, bias: Tensor | None = None, eps: float = 1e-5, stats: Any = None
) -> Tensor:
    """Normalise each channel of ``x`` with the batch statistics (no validation; see ``F.batch_norm``);
    ``stats(mean, var)``, when given, receives them as ``(1, C, 1, ...)`` arrays, var biased.

    Shape:
        x: (N, C, *); weight, bias: (C,); returns x's shape.
    """
    if stats is None:
        return BatchNorm.apply(x, weight, bias, eps=float(eps))
    return BatchNorm.apply(x, weight, bias, eps=float(eps), stats=stats)
