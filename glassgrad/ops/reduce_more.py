"""More reductions and statistics, with PyTorch's signatures: ``median``/``nanmedian``, ``mode``,
``kthvalue``, ``nansum``/``nanmean``, ``var_mean``/``std_mean`` and ``aminmax``. The scans
(``cumprod``, ``cummax``/``cummin``, ``logcumsumexp``) and ``msort`` are in ``cumulative.py``.

Order statistics along a dim come from one stable ``argsort`` (NaN sorts last, i.e. largest, as in
PyTorch), so among equal values the index is the one a stable sort puts at that place: PyTorch's
``median``/``nanmedian`` agree; ``mode`` returns the last occurrence of the smallest most frequent
value, as PyTorch does up to 16 elements. Their values are ``extremes.MaxMinDim`` gathers
(subclassed for their names), so the gradient goes to the returned index. The full ``median()``
splits its gradient evenly among the elements equal to it (among the NaNs when it is NaN), and
``aminmax`` is ``amin`` and ``amax``, whose ties share the gradient evenly, as PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, c_layout, quietly
from glassgrad.errors import DTypeError, IndexOutOfRangeError, KernelDTypeError, ShapeError
from glassgrad.operand_errors import size_int
from glassgrad.ops import conversion as _K
from glassgrad.ops.cascade_sum import sum_over
from glassgrad.ops.extremes import Amax, Amin, MaxMinDim
from glassgrad.ops.reduce import (
    Mean,
    _expand,
    _floating_only,
    _nonempty,
    _unsqueeze,
    acc_dtype,
    normalize_dims,
)
from glassgrad.ops.statistics import Std, Var, _correction, _float_or_complex, warn_few_dof
from glassgrad.return_types import return_type
from glassgrad.tensor import Tensor

__all__ = [
    "median", "nanmedian", "mode", "kthvalue", "nansum", "nanmean", "var_mean", "std_mean", "aminmax",
]  # fmt: skip

#: Named results, read as ``values, indices = ...`` or by field, like ``torch.return_types``.
MedianResult = return_type("median", ["values", "indices"])
NanMedianResult = return_type("nanmedian", ["values", "indices"])
ModeResult = return_type("mode", ["values", "indices"])
KthValueResult = return_type("kthvalue", ["values", "indices"])
AminmaxResult = return_type("aminmax", ["min", "max"])


# ------------------------------------------------------------------ primitives
class Median(Function):
    """z = the lower median of all of x: the ((N - 1) // 2)-th smallest; NaN if x holds a NaN (or
    is empty). ``ignore_nan`` (nanmedian): of the non-NaN elements, NaN only if there are none.

    VJP: g / (number of elements equal to z) to each of them (to each NaN when z is NaN).
    """

    @staticmethod
    def forward(ctx, x, ignore_nan=False):
        xp, flat = array_module(x), x.reshape(-1)
        n = flat.size
        if x.dtype.kind == "f":
            nans = int(xp.isnan(flat).sum())
            n = n - nans if ignore_nan else (0 if nans else n)
        out = xp.full((), xp.nan, dtype=x.dtype) if n == 0 else xp.partition(flat, (n - 1) // 2)[(n - 1) // 2]
        out = xp.asarray(out, dtype=x.dtype)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        xp = array_module(x)
        mask = xp.isnan(x) if xp.isnan(out) else x == out
        if xp.isfinite(g).all():  # (the product: the same values as the select, faster)
            return g * mask / mask.sum(dtype=g.dtype)
        # a select, as PyTorch's evenly_distribute_backward: an inf or NaN g stays at the median
        return xp.where(mask, g / mask.sum(dtype=g.dtype), 0).astype(g.dtype, copy=False)


class MedianDim(MaxMinDim):
    """z = x at the median's index along ``axis`` (median/nanmedian with a dim).   VJP: g at idx."""

    name = "median_dim"


class KthValue(MaxMinDim):
    """z = x at the k-th smallest's index along ``axis``.   VJP: g at idx."""

    name = "kthvalue"


class Mode(MaxMinDim):
    """z = x at the mode's index along ``axis``.   VJP: g at idx."""

    name = "mode"


def _nan_as_zero(x):
    """(where x is not NaN, x with its NaNs set to 0)."""
    xp = array_module(x)
    keep = ~xp.isnan(x)
    return keep, xp.where(keep, x, 0)


class NanSum(Function):
    """z = sum of x over ``axis``, NaN counted as 0.   VJP: g broadcast back, 0 at the NaNs."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        keep, zeroed = _nan_as_zero(x)
        ctx.save_for_backward(keep)
        # inf - inf gives nan and a float16 sum past 65504 inf, quietly, as in PyTorch; many rows
        # are added as a cascade (ops/cascade_sum.py), not into one running row
        out = sum_over(zeroed, axis, keepdims)
        return c_layout(out)  # row-major whatever x's layout, as PyTorch allocates a reduction's result

    @staticmethod
    def backward(ctx, g):
        (keep,) = ctx.saved
        return _expand(_unsqueeze(g, ctx.attrs["axis"], ctx.attrs["keepdims"]), ctx.shapes[0]) * keep


class NanMean(Function):
    """z = nansum(x) / (number of non-NaN x) over ``axis`` (NaN when there are none).

    VJP: g / count at the non-NaN x, 0 at the NaNs (NaN in a slice with no number, as PyTorch).
    """

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        keep, zeroed = _nan_as_zero(x)
        count = keep.sum(axis=axis, keepdims=True).astype(acc_dtype(x) or x.dtype)  # float16: float32
        ctx.save_for_backward(keep, count)
        total = sum_over(zeroed.astype(acc_dtype(x) or x.dtype, copy=False), axis, keepdims=True)
        out = quietly(lambda: (total / count).astype(x.dtype))
        out = c_layout(out)  # row-major, as PyTorch's reductions
        return out if keepdims else (out.reshape(()) if axis is None else out.squeeze(axis))

    @staticmethod
    def backward(ctx, g):
        keep, count = ctx.saved
        g = _unsqueeze(g, ctx.attrs["axis"], ctx.attrs["keepdims"])
        return quietly(lambda: (g / count * keep).astype(g.dtype, copy=False))


# ------------------------------------------------------------------ tensor-level functions
def _dim(op: str, x: Tensor, dim: Any) -> int:
    """One dim as a non-negative axis (0 for a 0-d tensor, which takes 0 and -1)."""
    if (d := size_int(dim)) is None:  # (an integer 0-d tensor passes, as PyTorch's parser takes it)
        raise DTypeError(f"{op}: expected dim to be an int, got {dim!r}")
    dim, n = d, max(x.ndim, 1)
    if not -n <= dim < n:
        raise IndexOutOfRangeError(
            f"{op}: expected dim in range [{-n}, {n - 1}] for shape {x.shape}, got {dim}"
        )
    return int(dim) % n


def _with_dtype(x: Tensor, dtype: Any) -> Tensor:
    """``x`` cast (recorded) to the ``dtype`` argument of a reduction, when one is given and differs."""
    if dtype is not None and dtypes.to_np_dtype(dtype) != x._data.dtype:
        return _K.cast(x, dtypes.to_np_dtype(dtype))
    return x


def _not_bool(op: str, x: Tensor) -> None:
    if x._data.dtype == np.bool_:  # PyTorch: NotImplementedError, "median_cpu" not implemented for 'Bool'
        raise KernelDTypeError(f"{op}: expected a numeric dtype, got bool")


def _at_index(op: str, cls: Any, result: Any, x: Tensor, a: int, pos: Any, order: Any, keepdim: bool) -> Any:
    """(values, indices) for the sorted position ``pos`` (size 1 along ``a``) of ``order``."""
    xp = array_module(x._data)
    idx = xp.take_along_axis(order, pos, axis=a)
    values = cls.apply(x, idx, axis=a, keepdims=keepdim)
    idx = c_layout(idx.astype(np.int64))  # a copy: the op saved idx, and the user may change the indices
    return result(values, Tensor(idx if keepdim else idx.squeeze(a), _wrap=True))


def _scalar_result(result: Any, x: Tensor) -> Any:
    """A 0-d tensor's order statistic along dim 0 or -1: itself, at index 0."""
    return result(_K.clone(x), Tensor(array_module(x._data).zeros((), dtype=np.int64), _wrap=True))


def _median(op: str, x: Tensor, dim: Any, keepdim: bool) -> Any:
    ignore_nan, result = op == "nanmedian", NanMedianResult if op == "nanmedian" else MedianResult
    if dim is None:
        _not_bool(op, x)
        if keepdim:
            raise TypeError(f"{op}() got keepdim without dim: PyTorch's {op} takes keepdim with a dim")
        if x._data.size == 0 and x._data.dtype.kind != "f":
            raise ShapeError(f"{op}: expected a non-empty tensor for an integer dtype, got shape {x.shape}")
        return Median.apply(x, ignore_nan=ignore_nan)
    a = _dim(op, x, dim)
    if x.ndim:
        _nonempty(op, x, (a,))  # before the dtype, as PyTorch's checks run
    _not_bool(op, x)
    if x.ndim == 0:
        return _scalar_result(result, x)
    xp, data, n = array_module(x._data), x._data, x.shape[a]
    order = xp.argsort(data, axis=a, kind="stable")  # NaN last
    nans = xp.isnan(data).sum(axis=a, keepdims=True) if data.dtype.kind == "f" else xp.zeros((), int)
    if ignore_nan:
        pos = xp.maximum(n - nans - 1, 0) // 2  # an all-NaN slice: its first NaN
    else:
        pos = xp.where(nans > 0, n - nans, (n - 1) // 2)  # a slice with a NaN: its first NaN
    pos = xp.broadcast_to(pos, tuple(1 if i == a else s for i, s in enumerate(x.shape)))
    return _at_index(op, MedianDim, result, x, a, pos, order, keepdim)


def median(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The lower median: of every element (dim None: 0-d, NaN if any is NaN, gradient shared
    evenly among the elements equal to it), or ``(values, indices)`` along ``dim`` (a slice with a
    NaN gives its first NaN; the gradient goes to the returned index).

    Shape:
        dim None: ``()``; else ``x.shape`` without ``dim`` (kept as 1 with ``keepdim``).

    >>> import glassgrad as gg
    >>> gg.tensor([[1.0, 5.0, 2.0, 4.0], [3.0, 3.0, 0.0, 9.0]]).median(1)
    glassgrad.return_types.median(
    values=tensor([2., 3.]),
    indices=tensor([2, 0]))
    """
    return _median("median", x, dim, keepdim)


def nanmedian(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """:func:`median` ignoring NaN: NaN only where every element is NaN.

    Shape:
        dim None: ``()``; else ``x.shape`` without ``dim`` (kept as 1 with ``keepdim``).
    """
    return _median("nanmedian", x, dim, keepdim)


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    """``(values, indices)`` of the k-th smallest element along ``dim`` (k from 1; NaN counts as
    the largest); the gradient goes to the returned index. A 0-d tensor is one element (also a
    bool one, which PyTorch takes there and refuses with dims).

    Shape:
        ``x.shape`` without ``dim`` (kept as 1 with ``keepdim``).
    """
    if isinstance(k, Tensor) and k._data.dtype.kind in "iu" and k.numel() == 1:
        k = int(k.item())  # PyTorch's int parser takes a one-element integer tensor (Captum's KernelShap)
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise DTypeError(f"kthvalue: expected k to be an int, got {k!r}")
    a = _dim("kthvalue", x, dim)
    if x.ndim:
        _nonempty("kthvalue", x, (a,))  # before the dtype, as PyTorch's checks run
        _not_bool("kthvalue", x)
    n = x.shape[a] if x.ndim else 1
    if not 1 <= k <= n:
        raise ShapeError(
            f"kthvalue: expected 1 <= k <= {n} (the size of dim {dim} of shape {x.shape}), got k={k}"
        )
    if x.ndim == 0:
        return _scalar_result(KthValueResult, x)
    xp = array_module(x._data)
    order = xp.argsort(x._data, axis=a, kind="stable")
    pos = xp.full(tuple(1 if i == a else s for i, s in enumerate(x.shape)), k - 1)
    return _at_index("kthvalue", KthValue, KthValueResult, x, a, pos, order, keepdim)


def mode(x: Tensor, dim: int = -1, keepdim: bool = False) -> Any:
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest among equally
    frequent ones) and the index of its last occurrence; the gradient goes to that index.

    Shape:
        ``x.shape`` without ``dim`` (kept as 1 with ``keepdim``).

    >>> import glassgrad as gg
    >>> gg.tensor([5, 1, 5, 1, 1, 5]).mode()
    glassgrad.return_types.mode(
    values=tensor(1),
    indices=tensor(4))
    """
    a = _dim("mode", x, dim)
    if x.ndim == 0:
        return _scalar_result(ModeResult, x)
    _nonempty("mode", x, (a,))
    xp, n = array_module(x._data), x.shape[a]
    order = xp.argsort(x._data, axis=a, kind="stable")
    s = xp.moveaxis(xp.take_along_axis(x._data, order, axis=a), a, -1)  # sorted runs, along the end
    pos = xp.arange(n)
    new = xp.ones(s.shape, dtype=bool)
    new[..., 1:] = s[..., 1:] != s[..., :-1]  # a run of equal values starts here
    last = xp.ones(s.shape, dtype=bool)
    last[..., :-1] = new[..., 1:]  # a run ends here
    start = xp.maximum.accumulate(xp.where(new, pos, 0), axis=-1)
    end = xp.flip(xp.minimum.accumulate(xp.flip(xp.where(last, pos, n), -1), axis=-1), -1)
    best = xp.argmax(end - start, axis=-1)[..., None]  # the first longest run: the smallest value
    at = xp.moveaxis(xp.take_along_axis(end, best, axis=-1), -1, a)  # its last place, in stable order
    return _at_index("mode", Mode, ModeResult, x, a, at, order, keepdim)


def nansum(x: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Sum over ``dim`` with NaN counted as 0 (their gradient is 0); integers give int64.

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).
    """
    axis = normalize_dims("nansum", x._data.ndim, dim)
    x = _with_dtype(x, dtype)
    if x._data.dtype.kind not in "fc":  # (complex: to the op, which the complex gate judges)
        dt = x._data.dtype if dtype is not None else np.int64
        xp = array_module(x._data)
        return Tensor(c_layout(xp.asarray(x._data.sum(axis=axis, keepdims=keepdim, dtype=dt))), _wrap=True)
    return NanSum.apply(x, axis=axis, keepdims=keepdim)


def nanmean(x: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Mean of the non-NaN elements over ``dim`` (NaN where there are none); floating inputs only.

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).
    """
    _floating_only("nanmean", x)
    axis = normalize_dims("nanmean", x._data.ndim, dim)
    x = _with_dtype(x, dtype)
    return NanMean.apply(x, axis=axis, keepdims=keepdim)


def _moments(op: str, cls: Any, x: Tensor, dim: Any, unbiased: Any, keepdim: bool, correction: Any) -> tuple:
    if isinstance(dim, bool):  # the (x, unbiased) overload
        dim, unbiased = None, dim
    _float_or_complex(op, x)
    axis = normalize_dims(op, x._data.ndim, dim)
    c = _correction(op, unbiased, correction)
    warn_few_dof(op, x, axis, c)
    # quietly: the mean of inf and -inf is nan without NumPy's warning, as the var beside it (and PyTorch)
    mean = quietly(lambda: Mean.apply(x, axis=axis, keepdims=keepdim))
    return cls.apply(x, axis=axis, keepdims=keepdim, correction=c), mean


def var_mean(
    x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: Any = None
) -> tuple[Tensor, Tensor]:
    """``(var, mean)`` over ``dim``, with :func:`var`'s ``correction``/``unbiased`` (a plain tuple).

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``), for both.
    """
    return _moments("var_mean", Var, x, dim, unbiased, keepdim, correction)


def std_mean(
    x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: Any = None
) -> tuple[Tensor, Tensor]:
    """``(std, mean)`` over ``dim``; see :func:`var_mean`.

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``), for both.
    """
    return _moments("std_mean", Std, x, dim, unbiased, keepdim, correction)


def aminmax(x: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Any:
    """``(min, max)`` over every element or one int ``dim``; ties share the gradient evenly.

    Shape:
        dim None: ``()`` (every dim kept as 1 with ``keepdim``); else ``x.shape`` without ``dim``.
    """
    axis = None if dim is None else normalize_dims("aminmax", x._data.ndim, _dim("aminmax", x, dim))
    _nonempty("aminmax", x, axis)
    return AminmaxResult(
        Amin.apply(x, axis=axis, keepdims=keepdim), Amax.apply(x, axis=axis, keepdims=keepdim)
    )
