"""Reductions: sum, mean, prod, cumsum, all/any, and the helpers that every reduction shares
(``normalize_dims``, ``_unsqueeze`` ...). The extremes (max/min/amax/amin, argmax/argmin) are in
``extremes.py``; the statistics (var/std, logsumexp, norm) in ``statistics.py``.

``dim`` is None (every dim), an int (negatives count from the end) or a tuple of ints, as in
PyTorch; it is checked once, in :func:`normalize_dims`, and reaches the primitives as NumPy's
``axis`` (None or a tuple of non-negative ints). Backward puts the reduced axes back as size 1
(:func:`_unsqueeze`) and broadcasts. Integer sums/products stay int64 and, like every integer
result, carry no gradient.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.autograd.function import Primitive as Function
from glassgrad.autograd.function import named
from glassgrad.backend import array_module, c_layout, dense, quietly
from glassgrad.errors import DTypeError, IndexOutOfRangeError, KernelDTypeError, ShapeError
from glassgrad.operand_errors import size_int
from glassgrad.ops import conversion as _K
from glassgrad.ops.cascade_sum import cascade_sum, drifts
from glassgrad.tensor import Tensor

__all__ = [
    "sum", "mean", "prod", "cumsum", "all", "any", "normalize_dims",
]  # fmt: skip

_all = all  # the builtin, shadowed below by PyTorch's name


# ------------------------------------------------------------------ dims
def normalize_dims(op: str, ndim: int, dim: Any, empty_means_all: bool = True) -> tuple[int, ...] | None:
    """``dim`` as NumPy's ``axis``: None (every dim) or a sorted tuple of non-negative ints.

    An empty tuple means every dim (PyTorch's ``sum(dim=())``) unless ``empty_means_all`` is
    False (``all``/``any``, which then reduce nothing). A 0-d tensor accepts dim 0 and -1 and
    has no axes, so it gives ``()``.
    """
    if dim is None:
        return None
    if type(dim) is int and -ndim <= dim < ndim:  # the common case, kept fast
        return (dim % ndim,)
    # an integer tensor counts, as PyTorch's parser reads one (``x.sum(i)`` with ``i`` a 0-d index)
    if (d := size_int(dim)) is not None:
        dims: tuple = (d,)
    elif isinstance(dim, tuple | list) and None not in (ints := [size_int(d) for d in dim]):
        if not dim:
            return None if empty_means_all else ()
        dims = tuple(ints)
    else:
        raise DTypeError(f"{op}: expected dim to be None, an int or a tuple of ints, got {dim!r}")
    lo, hi = (-ndim, ndim - 1) if ndim else (-1, 0)
    for d in dims:
        if not lo <= d <= hi:
            raise IndexOutOfRangeError(f"{op}: expected dim in range [{lo}, {hi}], got {d}")
    if ndim == 0:
        return ()
    axes = sorted(int(d) % ndim for d in dims)
    if len(set(axes)) != len(axes):
        raise ShapeError(f"{op}: expected each dim at most once, got {tuple(dims)}")
    return tuple(axes)


def _count(shape: tuple, axis: tuple | None) -> int:
    """How many elements each output element reduces over."""
    return math.prod(shape) if axis is None else math.prod(shape[a] for a in axis)


def _unsqueeze(a, axis: tuple | None, keepdims: bool):
    """Put the reduced axes back as size 1, so that ``a`` broadcasts against the input."""
    if keepdims or axis is None:  # axis None without keepdims: ``a`` is 0-d and broadcasts as is
        return a
    return array_module(a).expand_dims(a, axis)


def _expand(g, shape: tuple):
    """``g`` spread to ``shape`` (it broadcasts). A filled array, not ``broadcast_to``'s read-only
    view: NumPy's ``broadcast_to`` costs microseconds of Python on every call, and the engine would
    copy a view anyway before it reaches a leaf's ``.grad``."""
    if g.shape == shape:
        return g
    out = array_module(g).empty(shape, dtype=g.dtype)
    out[...] = g
    return out


def _constant(a) -> Tensor:
    """A result without gradient, as an ndarray (NumPy reduces to a scalar when no dim is left),
    row-major as PyTorch allocates a reduction's result (``c_layout``)."""
    return Tensor(c_layout(array_module(a).asarray(a)), _wrap=True)


def _floating_only(op: str, x: Tensor) -> None:
    if x._data.dtype.kind != "f":
        raise DTypeError(f"{op}: expected a floating dtype, got {x._data.dtype}")


def _nonempty(op: str, x: Tensor, axis: tuple | None) -> None:
    """Max-like reductions have no identity: reducing over nothing is an error (as in PyTorch).

    PyTorch's error classes: IndexError for an empty reduced dim and for argmax/argmin of an empty
    tensor, RuntimeError otherwise and for the inf norm (ShapeError is a RuntimeError)."""
    if axis is None and x._data.size == 0:
        err = IndexOutOfRangeError if op in ("argmax", "argmin") else ShapeError
        raise err(f"{op}: expected a non-empty tensor (or a dim to reduce), got shape {x.shape}")
    for a in axis or ():
        if x.shape[a] == 0:
            err = ShapeError if op == "norm" else IndexOutOfRangeError
            raise err(f"{op}: expected the reduced dim {a} to be non-empty, got shape {x.shape}")


def acc_dtype(x: Any) -> Any:
    """The dtype a sum over ``x`` accumulates in: float32 for float16, as PyTorch's sums do (a
    float16 running sum stops growing at 2048 + ... and overflows at 65504); else x's own (None)."""
    return np.float32 if x.dtype == np.float16 else None


def scan_acc_dtype(x: Any) -> Any:
    """The dtype a running scan (cumsum, cumprod, logcumsumexp) accumulates in: PyTorch's CPU scans
    carry ``acc_type<T, false>``, float64 for float32 (complex128 for complex64), so every prefix is
    the exactly rounded one; a float32 running sum's error would grow with the length (2e-5 at 1e6)."""
    return {np.float16: np.float32, np.float32: np.float64, np.complex64: np.complex128}.get(x.dtype.type)


def refuse_bool_scan(op: str, data: Any, dtype: Any) -> None:
    """PyTorch's CPU scans have no bool kernel: ``cumsum(x, 0, dtype=torch.bool)`` raises where NumPy
    would give a running logical OR (a count that stops at True), so a bool ``dtype=`` is refused;
    a 0-d or empty ``data`` never reaches PyTorch's kernel and is returned as it is."""
    if dtype is not None and dtypes.to_np_dtype(dtype) == np.bool_ and data.ndim and data.size:
        raise KernelDTypeError(f"{op}: \"{op}_out_cpu\" not implemented for 'Bool' (dtype=bool)")


# ------------------------------------------------------------------ primitives
class Sum(Function):
    """z = sum of x over ``axis``.   VJP: g broadcast back over the reduced axes."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        x = dense(x)  # sums in C order whatever the layout: the rounding never depends on it
        if x.dtype.kind in "fc" and drifts(x.shape, axis):
            return cascade_sum(x, axis, keepdims)  # (x.sum(0) of many rows: a cascade, as PyTorch's)
        # quietly: inf + -inf is nan without a word, as in PyTorch (NumPy would warn from in here)
        if x.dtype == np.float16:
            return quietly(lambda: x.sum(axis, np.float32, None, keepdims).astype(np.float16))  # 65504+: inf
        return quietly(x.sum, axis, None, None, keepdims)  # the array's own method: no Python-level wrapper

    @staticmethod
    def backward(ctx, g):
        a = ctx.attrs
        return _expand(_unsqueeze(g, a["axis"], a["keepdims"]), ctx.shapes[0])


class Mean(Function):
    """z = sum of x over ``axis`` / N (N elements per output; N = 0 gives nan).   VJP: g / N, broadcast."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        x = dense(x)
        n = _count(x.shape, axis)
        if n and x.dtype.kind in "fc" and drifts(x.shape, axis):
            wide = x.astype(np.float32) if x.dtype == np.float16 else x  # (float16: no overflow)
            return (cascade_sum(wide, axis, keepdims) / n).astype(x.dtype, copy=False)
        if n and x.dtype != np.float16:
            return quietly(x.sum, axis, None, None, keepdims) / n  # inf + -inf: nan, without a warning
        with np.errstate(invalid="ignore", divide="ignore"):  # 0 / 0: nan, as PyTorch, without a warning
            total = x.sum(axis=axis, keepdims=keepdims, dtype=acc_dtype(x)) / n
        return total.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        a, shape = ctx.attrs, ctx.shapes[0]
        n = _count(shape, a["axis"])
        if n == 0:  # an empty input has an empty gradient: nothing to divide
            return array_module(g).zeros(shape, dtype=g.dtype)
        if g.dtype == np.float16:  # N itself may be past float16's 65504
            return _expand(
                (_unsqueeze(g, a["axis"], a["keepdims"]).astype(np.float32) / n).astype(g.dtype), shape
            )
        return _expand(_unsqueeze(g, a["axis"], a["keepdims"]) / n, shape)


def _exclusive_cumprod(a):
    """out[..., k] = a[..., 0] * ... * a[..., k-1] (1 for k = 0), carried as PyTorch's cumprod
    (float64 for float32: a prefix past float32's range times a later 0 is 0, not inf * 0 = nan)."""
    xp = array_module(a)
    out = xp.ones_like(a)
    out[..., 1:] = xp.cumprod(a[..., :-1], axis=-1, dtype=scan_acc_dtype(a))
    return out


class Prod(Function):
    """z = product of x over ``axis``.

    VJP, PyTorch's cases: g * z / x when no x is 0 (nan at an inf or nan factor, inf where z
    overflowed); 0 everywhere for a full product with two or more zeros; else g * (product of
    the other elements), from prefix and suffix products, exact at the zeros.
    """

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.save_for_backward(x)
        # quietly: inf * 0 is nan, silently; row-major whatever x's layout, as PyTorch's result
        return c_layout(quietly(lambda: array_module(x).prod(x, axis=axis, keepdims=keepdims)))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        xp, axis = array_module(x), ctx.attrs["axis"]
        zeros = int(xp.count_nonzero(x == 0)) if x.ndim else -1  # (a 0-d x passes g on, as PyTorch)
        if zeros == 0:
            # z / x, not the exact product of the others: a diverging product then fails at the
            # same elements as PyTorch's (nan at inf * ... / inf), not with finite gradients there
            z = quietly(lambda: xp.prod(x, axis=axis, keepdims=True))
            return quietly(lambda: _unsqueeze(g, axis, ctx.attrs["keepdims"]) * (z / x))
        if zeros > 1 and axis is None:
            return xp.zeros_like(x)  # PyTorch's shortcut: every partial product holds a 0 (nan ignored)
        axes = tuple(range(x.ndim)) if axis is None else axis
        k = len(axes)
        front = [i for i in range(x.ndim) if i not in axes]
        moved = xp.transpose(x, front + list(axes))  # (kept..., reduced...)
        # (kept..., reduced...) -> (kept..., R); R spelled out, as -1 cannot be inferred for empty x
        flat = moved.reshape(moved.shape[: x.ndim - k] + (math.prod(moved.shape[x.ndim - k :]),))
        others = quietly(lambda: _exclusive_cumprod(flat) * _exclusive_cumprod(flat[..., ::-1])[..., ::-1])
        others = others.reshape(moved.shape)  # (kept..., R) -> (kept..., reduced...)
        others = xp.transpose(others, np.argsort(front + list(axes)))  # back to x's layout
        return quietly(xp.multiply, _unsqueeze(g, axis, ctx.attrs["keepdims"]), others)


class CumSum(Function):
    """z_k = x_0 + ... + x_k along ``axis``.   VJP: reversed cumulative sum of g along ``axis``."""

    node_name = "CumsumBackward0"  # PyTorch's node name

    @staticmethod
    def forward(ctx, x, axis=0):
        xp = array_module(x)  # quietly: inf + -inf is nan without a word, as in PyTorch
        out = quietly(lambda: xp.cumsum(x, axis=axis, dtype=scan_acc_dtype(x)).astype(x.dtype, copy=False))
        return c_layout(out)  # row-major, as PyTorch's scans (NumPy's keeps a permuted x's order)

    @staticmethod
    def backward(ctx, g):
        xp, axis = array_module(g), ctx.attrs["axis"]
        return xp.flip(xp.cumsum(xp.flip(g, axis), axis=axis, dtype=scan_acc_dtype(g)), axis).astype(
            g.dtype, copy=False
        )


# ------------------------------------------------------------------ tensor-level functions
def sum(x: Tensor, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (None: every dim). Integer and bool inputs give int64 (no gradient).

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).

    >>> import glassgrad as gg
    >>> gg.tensor([[1.0, 2.0], [3.0, 4.0]]).sum(-1)
    tensor([3., 7.])
    """
    axis = normalize_dims("sum", x._data.ndim, dim)
    if dtype is not None:
        dt = dtypes.to_np_dtype(dtype)
        if dt.kind in "fc" and x._data.dtype != dt:
            x = _K.cast(x, dt)
        elif dt.kind not in "fc":  # (quietly: nan to an integer without a warning, as PyTorch)
            return _constant(quietly(array_module(x._data).sum, x._data, axis, dt, None, keepdim))
    if x._data.dtype.kind not in "fc":  # complex sums keep their dtype, as PyTorch
        return _constant(array_module(x._data).sum(x._data, axis=axis, keepdims=keepdim, dtype=np.int64))
    out = Sum.apply(x, axis=axis, keepdims=keepdim)
    return out if dim is None else named(out, "SumBackward1")  # PyTorch's sum(dim) is its own op


def mean(x: Tensor, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """Mean over ``dim``; floating inputs only (as PyTorch); a mean over nothing is nan.

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).
    """
    if dtype is not None and dtypes.to_np_dtype(dtype) != x._data.dtype:
        x = _K.cast(x, dtypes.to_np_dtype(dtype))
    if x._data.dtype.kind != "c":  # complex means are complex, as PyTorch
        _floating_only("mean", x)
    out = Mean.apply(x, axis=normalize_dims("mean", x._data.ndim, dim), keepdims=keepdim)
    return out if dim is None else named(out, "MeanBackward1")


def prod(x: Tensor, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """Product over ``dim`` (a tuple is accepted too); integer inputs give int64 (no gradient).
    ``dtype`` casts the input before the product, as PyTorch (a float cast to an integer is
    truncated first: ``prod([2.5, 3.5], dtype=int64)`` is 6).

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).
    """
    axis = normalize_dims("prod", x._data.ndim, dim)
    dt = None if dtype is None else dtypes.to_np_dtype(dtype)
    if dt is not None and dt.kind in "fc" and x._data.dtype != dt:
        x = _K.cast(x, dt)
    if x._data.dtype.kind not in "fc" or (dt is not None and dt.kind not in "fc"):
        # (nan cast to an integer: no warning, as PyTorch; complex: to the op, which the complex gate judges)
        data = x._data if dt is None else quietly(x._data.astype, dt)
        return _constant(array_module(data).prod(data, axis=axis, keepdims=keepdim, dtype=dt or np.int64))
    out = Prod.apply(x, axis=axis, keepdims=keepdim)
    return out if dim is None else named(out, "ProdBackward1")


def cumsum(x: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Running sum along ``dim``; integer and bool inputs give int64 (no gradient).

    Shape:
        ``x.shape``.
    """
    if isinstance(dim, tuple | list | bool) or dim is None:
        raise DTypeError(f"cumsum: expected dim to be an int, got {dim!r}")
    axis = normalize_dims("cumsum", x._data.ndim, dim)
    refuse_bool_scan("cumsum", x._data, dtype)
    if dtype is not None and dtypes.to_np_dtype(dtype) != x._data.dtype:
        x = _K.cast(x, dtypes.to_np_dtype(dtype))
    acc = np.int64 if dtype is None else x._data.dtype  # an integer dtype= asked for is kept (uint8 wraps)
    if not axis:  # 0-d: the running sum of one element is itself
        return _K.clone(x) if x._data.dtype.kind in "fc" else Tensor(x._data.astype(acc), _wrap=True)
    if x._data.dtype.kind not in "fc":
        return Tensor(c_layout(array_module(x._data).cumsum(x._data, axis=axis[0], dtype=acc)), _wrap=True)
    return CumSum.apply(x, axis=axis[0])


def _truth(x: Tensor, out: Any) -> Tensor:
    """The result of ``all``/``any``: uint8 for a uint8 input (PyTorch), bool otherwise."""
    return _constant(out.astype(np.uint8) if x._data.dtype == np.uint8 else out)


def all(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether every element over ``dim`` is non-zero (bool, uint8 for a uint8 input as PyTorch; no
    gradient); ``dim=()`` reduces nothing.

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).
    """
    axis = normalize_dims("all", x._data.ndim, dim, empty_means_all=False)
    return _truth(x, array_module(x._data).all(x._data, axis=axis, keepdims=keepdim))


def any(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether some element over ``dim`` is non-zero (bool, uint8 for a uint8 input as PyTorch; no
    gradient); ``dim=()`` reduces nothing.

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).
    """
    axis = normalize_dims("any", x._data.ndim, dim, empty_means_all=False)
    return _truth(x, array_module(x._data).any(x._data, axis=axis, keepdims=keepdim))
