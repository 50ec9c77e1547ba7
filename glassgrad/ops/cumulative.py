"""Scans along one dim: ``cumprod`` (exact gradient with zeros), ``cummax``/``cummin`` (values
and indices), the stable ``logcumsumexp``, and ``msort``, which shares their gather.

``cummax``/``cummin`` move the index to the later element on ties and keep a NaN once seen, as
PyTorch; their values are an :class:`IndexAlong` gather, whose backward adds up the gradients of
repeated indices. Kept apart from ``reduce_more.py`` for size; the dim check is its ``_dim``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassgrad.autograd.complex_gate import refuse_unordered
from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, c_layout, quietly
from glassgrad.ops import conversion as _K
from glassgrad.ops.grid_positions import grid_positions, read_positions
from glassgrad.ops.operands import float_kernel
from glassgrad.ops.reduce import refuse_bool_scan, scan_acc_dtype
from glassgrad.ops.reduce_more import _dim, _scalar_result, _with_dtype
from glassgrad.ops.sorting import like_input
from glassgrad.return_types import return_type
from glassgrad.tensor import Tensor

__all__ = ["cumprod", "cummax", "cummin", "logcumsumexp", "msort"]

CumMaxResult = return_type("cummax", ["values", "indices"])
CumMinResult = return_type("cummin", ["values", "indices"])


# ------------------------------------------------------------------ primitives
class IndexAlong(Function):
    """z = x gathered at ``idx`` (same shape as z) along ``axis``.   VJP: g added up at idx.

    The gradient of repeated indices (a running maximum that stays) is summed with one
    ``bincount`` over (row, index) pairs.
    """

    name = "index_along"

    @staticmethod
    def forward(ctx, x, idx, axis=0, self_saved=False):
        # self_saved (cummax, cummin): x kept too, unread, as PyTorch's node saves self, so that a
        # write into it before backward raises there and here (msort's, a sort's, saves less)
        ctx.save_for_backward(*((idx, x) if self_saved else (idx,)))
        # through flat positions: take_along_axis's open-grid indexing is twice as slow (row-major out)
        return read_positions(x, grid_positions(idx, axis, x.shape))

    @staticmethod
    def backward(ctx, g):
        idx = ctx.saved[0]
        xp, axis, shape = array_module(g), ctx.attrs["axis"], ctx.shapes[0]
        gm, im = xp.moveaxis(g, axis, -1), xp.moveaxis(idx, axis, -1)  # (rows..., n_out)
        rows, n_in = math.prod(gm.shape[:-1]), shape[axis]
        # im's shape spelled out: with no rows, reshape(0, -1) cannot infer the -1
        flat = (xp.arange(rows).reshape(-1, 1) * n_in + im.reshape(rows, im.shape[-1])).reshape(-1)
        gx = xp.bincount(flat, weights=gm.reshape(-1), minlength=rows * n_in).astype(g.dtype)
        return xp.moveaxis(gx.reshape(gm.shape[:-1] + (n_in,)), -1, axis), None


class CumProd(Function):
    """z_i = x_0 * ... * x_i along ``axis``.

    VJP (exact with zeros, PyTorch's rule): before a slice's first zero z1, dx_j = (sum over
    j <= i < z1 of g_i z_i) / x_j; at z1, dx = z_{z1-1} * sum over z1 <= i < z2 of g_i x_{z1+1}
    ... x_i (z2 the second zero); 0 after z1. Terms that are 0 on paper are left out, not summed
    as 0 * inf.
    """

    node_name = "CumprodBackward0"  # PyTorch's node name

    @staticmethod
    def forward(ctx, x, axis=0):
        out = quietly(array_module(x).cumprod, x, axis, scan_acc_dtype(x)).astype(
            x.dtype, copy=False
        )  # 0 * inf: nan
        out = c_layout(out)  # row-major, as PyTorch's scans (NumPy's keeps a permuted x's order)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        xp, axis = array_module(g), ctx.attrs["axis"]
        if x.shape[axis] == 1:  # z = x: g itself, also at NaN and inf (as PyTorch)
            return g
        x, out, g = (xp.moveaxis(a, axis, -1) for a in (x, out, g))  # the scanned axis last
        rsum = lambda a: xp.flip(xp.cumsum(xp.flip(a, -1), -1), -1)  # noqa: E731 - sum over i >= j
        zero = x == 0
        if not zero.any():
            return xp.moveaxis(quietly(lambda: rsum(out * g) / x), -1, axis)
        seen = xp.cumsum(zero, -1)  # zeros up to here: 0 before z1, 1 on [z1, z2)
        before, first = seen == 0, zero & (seen == 1)
        gx = quietly(lambda: xp.where(before, rsum(xp.where(before, out * g, 0)) / xp.where(before, x, 1), 0))
        z1 = xp.argmax(first, -1)[..., None]
        head = xp.where(z1 > 0, xp.take_along_axis(out, xp.maximum(z1 - 1, 0), -1), 1)  # z_{z1-1}
        tail = quietly(xp.cumprod, xp.where((seen == 1) & ~zero, x, 1), -1)  # x_{z1+1} ... x_i on [z1, z2)
        at_z1 = quietly(lambda: head * xp.sum(xp.where(seen == 1, g * tail, 0), -1, keepdims=True))
        return xp.moveaxis(xp.where(first, at_z1, gx), -1, axis)


class LogCumSumExp(Function):
    """z_i = log(exp(x_0) + ... + exp(x_i)), one stable ``logaddexp`` step at a time.

    VJP: dx_j = sum_{i >= j} g_i exp(x_j - z_i), summed in log space separately for g > 0 and
    g < 0 (PyTorch's formula), so nothing overflows.
    """

    node_name = "LogcumsumexpBackward0"  # PyTorch's node name

    @staticmethod
    def forward(ctx, x, axis=0):
        xp = array_module(x)
        # float32 accumulates in float64, float16 in float32 (PyTorch's CPU scans); inf - inf: nan quietly
        out = quietly(xp.logaddexp.accumulate, x, axis, scan_acc_dtype(x)).astype(x.dtype, copy=False)
        out = c_layout(out)  # row-major, as PyTorch's scans
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        xp, axis = array_module(g), ctx.attrs["axis"]
        lowest = xp.finfo(g.dtype).min

        def part(mask):  # log(sum_{i >= j} |g_i| exp(-z_i)) + x_j, exponentiated
            log_g = xp.where(mask, xp.log(xp.abs(g)), lowest) - out
            # the reversed scan carried as the forward's (float16 in float32, rounded per prefix)
            rev = xp.logaddexp.accumulate(xp.flip(log_g, axis), axis=axis, dtype=scan_acc_dtype(g))
            return xp.exp(xp.flip(rev.astype(g.dtype, copy=False), axis) + x)

        return quietly(lambda: part(g > 0) - part(g < 0))


# ------------------------------------------------------------------ tensor-level functions
def cumprod(x: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running product along ``dim``; integer and bool inputs give int64 (no gradient); the
    gradient is exact where the input holds zeros.

    Shape:
        ``x.shape``.
    """
    a = _dim("cumprod", x, dim)
    refuse_bool_scan("cumprod", x._data, dtype)
    x = _with_dtype(x, dtype)
    if x._data.dtype.kind not in "fc":  # (complex: to the op, which the complex gate judges)
        dt, data = x._data.dtype if dtype is not None else np.int64, x._data
        out = data.astype(dt) if x.ndim == 0 else array_module(data).cumprod(data, axis=a, dtype=dt)
        return Tensor(c_layout(out), _wrap=True)
    if x.ndim == 0:
        return _K.clone(x)
    return CumProd.apply(x, axis=a)


def _running(ufunc: Any, data: Any, axis: int) -> Any:
    """``ufunc.accumulate(data, axis)`` for maximum / minimum (exact, associative). Along a
    non-last axis by doubling, log2(n) whole-array steps, where accumulate walks the axis one
    strided element at a time, 3 to 8 times slower (0.7 ms for 256 x 256 along dim 0); the last
    axis and long axes keep accumulate. Values only: which of -0.0 and 0.0, or which NaN, a step
    keeps may differ (the callers read the values at the indices)."""
    n = data.shape[axis]
    if axis == data.ndim - 1 or n > 4096 or data.__class__ is not np.ndarray:
        return ufunc.accumulate(data, axis=axis)
    out, k, head = data.copy(), 1, (slice(None),) * axis
    while k < n:
        ufunc(out[(*head, slice(k, None))], out[(*head, slice(0, n - k))], out=out[(*head, slice(k, None))])
        k *= 2
    return out


def _cumulative_extreme(op: str, x: Tensor, dim: int) -> Any:
    a, result = _dim(op, x, dim), CumMaxResult if op == "cummax" else CumMinResult
    if x.ndim == 0:
        return _scalar_result(result, x)
    xp, data = array_module(x._data), x._data
    run = _running(xp.maximum if op == "cummax" else xp.minimum, data, a)  # NaN stays
    hit = data == run  # a new extreme or a tie: PyTorch moves the index to the later one
    if data.dtype.kind == "f":
        hit |= xp.isnan(data)
    pos = xp.arange(x.shape[a]).reshape((-1,) + (1,) * (x.ndim - a - 1))
    idx = c_layout(_running(xp.maximum, xp.where(hit, pos, 0), a))  # row-major, as PyTorch's
    return result(IndexAlong.apply(x, idx, axis=a, self_saved=True), Tensor(idx.astype(np.int64), _wrap=True))


def cummax(x: Tensor, dim: int) -> Any:
    """``(values, indices)``: the running maximum along ``dim`` and where it was last reached (a
    NaN, once seen, stays); the gradient goes to the index.

    Shape:
        ``x.shape`` for both.

    >>> import glassgrad as gg
    >>> gg.tensor([1.0, 3.0, 3.0, 2.0]).cummax(0).indices
    tensor([0, 1, 2, 2])
    """
    refuse_unordered("cummax", x)
    return _cumulative_extreme("cummax", x, dim)


def cummin(x: Tensor, dim: int) -> Any:
    """``(values, indices)``: the running minimum; see :func:`cummax`.

    Shape:
        ``x.shape`` for both.
    """
    refuse_unordered("cummin", x)
    return _cumulative_extreme("cummin", x, dim)


def logcumsumexp(x: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(x))) along ``dim``, stable at any magnitude; floating inputs only.

    Shape:
        ``x.shape``.
    """
    x = float_kernel(x, "logcumsumexp", "logcumsumexp_out_cpu")  # PyTorch's has no integer kernel
    a = _dim("logcumsumexp", x, dim)
    return _K.clone(x) if x.ndim == 0 else LogCumSumExp.apply(x, axis=a)


def msort(x: Tensor) -> Tensor:
    """``x`` sorted along dim 0 (stable; NaN last), differentiable: ``sort(x, 0).values``.

    Shape:
        ``x.shape``.
    """
    refuse_unordered("msort", x, kernel=False)
    if x.ndim == 0:
        return _K.clone(x)
    values = IndexAlong.apply(x, array_module(x._data).argsort(x._data, axis=0, kind="stable"), axis=0)
    return like_input(values, x)  # x's layout, as PyTorch's sort
