"""Reductions: sum, mean, var/std, prod, max/min/amax/amin, argmax/argmin, logsumexp, norm,
cumsum, all/any.

``dim`` is None (every dim), an int (negatives count from the end) or a tuple of ints, as in
PyTorch; it is checked once, in :func:`normalize_dims`, and reaches the primitives as NumPy's
``axis`` (None or a tuple of non-negative ints). Backward puts the reduced axes back as size 1
(:func:`_unsqueeze`) and broadcasts. Ties: a full ``max``/``amax`` splits the gradient evenly
among the maxima; ``max(dim)`` routes it to the returned index. Integer sums/products stay int64
and, like every integer result, carry no gradient.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from glassgrad import dtypes
from glassgrad.autograd.function import Function
from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.ops import elementwise as _E
from glassgrad.tensor import Tensor

__all__ = [
    "sum", "mean", "var", "std", "prod", "max", "min", "amax", "amin", "argmax", "argmin",
    "logsumexp", "norm", "cumsum", "all", "any", "MaxMinResult", "normalize_dims",
]  # fmt: skip

_all, _max = all, max  # the builtins, shadowed below by PyTorch's names


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
    if isinstance(dim, int | np.integer) and not isinstance(dim, bool):
        dims: tuple = (dim,)
    elif isinstance(dim, tuple | list) and _all(
        isinstance(d, int | np.integer) and not isinstance(d, bool) for d in dim
    ):
        if not dim:
            return None if empty_means_all else ()
        dims = tuple(dim)
    else:
        raise DTypeError(f"{op}: expected dim to be None, an int or a tuple of ints, got {dim!r}")
    lo, hi = (-ndim, ndim - 1) if ndim else (-1, 0)
    for d in dims:
        if not lo <= d <= hi:
            raise ShapeError(f"{op}: expected dim in range [{lo}, {hi}], got {d}")
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


def _constant(a) -> Tensor:
    """A result without gradient, as an ndarray (NumPy reduces to a scalar when no dim is left)."""
    return Tensor(array_module(a).asarray(a), _wrap=True)


def _floating_only(op: str, x: Tensor) -> None:
    if x.data.dtype.kind != "f":
        raise DTypeError(f"{op}: expected a floating dtype, got {x.data.dtype}")


def _nonempty(op: str, x: Tensor, axis: tuple | None) -> None:
    """Max-like reductions have no identity: reducing over nothing is an error (as in PyTorch)."""
    if axis is None and x.data.size == 0:
        raise ShapeError(f"{op}: expected a non-empty tensor (or a dim to reduce), got shape {x.shape}")
    for a in axis or ():
        if x.shape[a] == 0:
            raise ShapeError(f"{op}: expected the reduced dim {a} to be non-empty, got shape {x.shape}")


# ------------------------------------------------------------------ primitives
class Sum(Function):
    """z = sum of x over ``axis``.   VJP: g broadcast back over the reduced axes."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        return array_module(x).sum(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        a = ctx.attrs
        return array_module(g).broadcast_to(_unsqueeze(g, a["axis"], a["keepdims"]), ctx.shapes[0])


class Mean(Function):
    """z = sum of x over ``axis`` / N (N elements per output; N = 0 gives nan).   VJP: g / N, broadcast."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        with np.errstate(invalid="ignore", divide="ignore"):
            return array_module(x).sum(x, axis=axis, keepdims=keepdims) / _count(x.shape, axis)

    @staticmethod
    def backward(ctx, g):
        a, shape = ctx.attrs, ctx.shapes[0]
        # broadcast first: an empty input then divides nothing by N = 0
        return array_module(g).broadcast_to(_unsqueeze(g, a["axis"], a["keepdims"]), shape) / _count(
            shape, a["axis"]
        )


def _centered(x, axis, correction):
    """(x - mean over axis, max(0, N - correction)): what var and std share."""
    n = _count(x.shape, axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = x - array_module(x).sum(x, axis=axis, keepdims=True) / n
    return d, float(_max(0, n - correction))


class Var(Function):
    """v = sum((x - mean)^2) / max(0, N - correction).   VJP: g * 2 (x - mean) / max(0, N - correction)."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, correction=1):
        d, denom = _centered(x, axis, correction)
        ctx.save_for_backward(d, denom)
        with np.errstate(invalid="ignore", divide="ignore"):
            return array_module(x).sum(d * d, axis=axis, keepdims=keepdims) / denom

    @staticmethod
    def backward(ctx, g):
        d, denom = ctx.saved
        with np.errstate(invalid="ignore", divide="ignore"):
            return _unsqueeze(g, ctx.attrs["axis"], ctx.attrs["keepdims"]) * (2 / denom) * d


class Std(Function):
    """s = sqrt(var(x)).   VJP: g (x - mean) / (max(0, N - correction) s), taken as 0 where s = 0 (as PyTorch)."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, correction=1):
        xp = array_module(x)
        d, denom = _centered(x, axis, correction)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = xp.sqrt(xp.sum(d * d, axis=axis, keepdims=keepdims) / denom)
        ctx.save_for_backward(d, denom, out)
        return out

    @staticmethod
    def backward(ctx, g):
        d, denom, out = ctx.saved
        a = ctx.attrs
        s, g = _unsqueeze(out, a["axis"], a["keepdims"]), _unsqueeze(g, a["axis"], a["keepdims"])
        with np.errstate(invalid="ignore", divide="ignore"):
            return array_module(g).where(s == 0, 0, g / s) * d / denom


def _exclusive_cumprod(a):
    """out[..., k] = a[..., 0] * ... * a[..., k-1] (1 for k = 0)."""
    xp = array_module(a)
    out = xp.ones_like(a)
    out[..., 1:] = xp.cumprod(a[..., :-1], axis=-1)
    return out


class Prod(Function):
    """z = product of x over ``axis``.

    VJP: g * (product of the other elements), from prefix and suffix products, exact when some
    x are 0 (unlike z / x).
    """

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.save_for_backward(x)
        return array_module(x).prod(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        xp, axis = array_module(x), ctx.attrs["axis"]
        axes = tuple(range(x.ndim)) if axis is None else axis
        k = len(axes)
        front = [i for i in range(x.ndim) if i not in axes]
        moved = xp.transpose(x, front + list(axes))  # (kept..., reduced...)
        flat = moved.reshape(moved.shape[: x.ndim - k] + (-1,))  # (kept..., R)
        others = _exclusive_cumprod(flat) * _exclusive_cumprod(flat[..., ::-1])[..., ::-1]
        others = others.reshape(moved.shape)  # (kept..., R) -> (kept..., reduced...)
        others = xp.transpose(others, np.argsort(front + list(axes)))  # back to x's layout
        return _unsqueeze(g, axis, ctx.attrs["keepdims"]) * others


def _even_split(g, x, out, axis, keepdims):
    """g shared evenly among the elements equal to the extreme ``out`` (ties split, as PyTorch)."""
    mask = x == _unsqueeze(out, axis, keepdims)
    return _unsqueeze(g, axis, keepdims) * mask / mask.sum(axis=axis, keepdims=True)


class Amax(Function):
    """z = max of x over ``axis``.   VJP: g / (number of maxima) to each maximum, 0 elsewhere."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        out = array_module(x).max(x, axis=axis, keepdims=keepdims)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        return _even_split(g, *ctx.saved, ctx.attrs["axis"], ctx.attrs["keepdims"])


class Amin(Function):
    """z = min of x over ``axis``.   VJP: g / (number of minima) to each minimum, 0 elsewhere."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        out = array_module(x).min(x, axis=axis, keepdims=keepdims)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        return _even_split(g, *ctx.saved, ctx.attrs["axis"], ctx.attrs["keepdims"])


class MaxMinDim(Function):
    """z = x[..., idx, ...] along ``axis``, where idx (argmax or argmin, given) has size 1 there.

    VJP: (g placed at idx along ``axis``, zeros elsewhere; None for idx).
    """

    name = "maxmin_dim"

    @staticmethod
    def forward(ctx, x, idx, axis=0, keepdims=False):
        ctx.save_for_backward(idx)
        out = array_module(x).take_along_axis(x, idx, axis=axis)
        return out if keepdims else out.squeeze(axis)

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved
        xp, axis = array_module(g), ctx.attrs["axis"]
        gx = xp.zeros(ctx.shapes[0], dtype=g.dtype)
        xp.put_along_axis(gx, idx, g if ctx.attrs["keepdims"] else xp.expand_dims(g, axis), axis=axis)
        return gx, None


class LogSumExp(Function):
    """z = m + log(sum(exp(x - m))) with m = max of x (0 where not finite), so nothing overflows.

    VJP: g * exp(x - z) (the softmax of x along ``axis``).
    """

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        xp = array_module(x)
        m = xp.max(x, axis=axis, keepdims=True, initial=-xp.inf)  # initial: empty dims give -inf
        m = xp.where(xp.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):
            out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
        ctx.save_for_backward(x, out)
        if keepdims:
            return out
        return out.reshape(()) if axis is None else out.squeeze(axis)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        with np.errstate(invalid="ignore"):
            return _unsqueeze(g, ctx.attrs["axis"], ctx.attrs["keepdims"]) * array_module(x).exp(x - out)


class Norm(Function):
    """Vector p-norm over ``axis``: z = (sum |x|^p)^(1/p); p = inf: max |x|; p = -inf: min |x|;
    p = 0: number of non-zeros.

    VJP: g * sign(x) |x|^(p-1) / z^(p-1) (p = 2: g x / z), taken as 0 where z = 0 so the norm of
    zeros has gradient 0, not nan; p = ±inf: g * sign(x) split evenly among the extremes;
    p = 1: g * sign(x); p = 0: 0.
    """

    @staticmethod
    def forward(ctx, x, p=2.0, axis=None, keepdims=False):
        xp = array_module(x)
        ax = xp.abs(x)
        with np.errstate(divide="ignore", over="ignore"):
            if p == math.inf:
                out = xp.max(ax, axis=axis, keepdims=keepdims)
            elif p == -math.inf:
                out = xp.min(ax, axis=axis, keepdims=keepdims)
            elif p == 0:
                out = xp.sum(x != 0, axis=axis, keepdims=keepdims).astype(x.dtype)
            elif p == 1:
                out = xp.sum(ax, axis=axis, keepdims=keepdims)
            elif p == 2:
                out = xp.sqrt(xp.sum(x * x, axis=axis, keepdims=keepdims))
            else:
                out = xp.sum(ax**p, axis=axis, keepdims=keepdims) ** (1.0 / p)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        xp, p, axis, keep = array_module(x), ctx.attrs["p"], ctx.attrs["axis"], ctx.attrs["keepdims"]
        if p in (math.inf, -math.inf):
            return _even_split(g, xp.abs(x), out, axis, keep) * xp.sign(x)
        if p == 0:
            return xp.zeros_like(x)
        g = _unsqueeze(g, axis, keep)
        if p == 1:
            return g * xp.sign(x)
        z = _unsqueeze(out, axis, keep)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ax = xp.abs(x)
            scale = x if p == 2 else xp.sign(x) * xp.where(ax == 0, 0, ax ** (p - 1))
            return xp.where(z == 0, 0, g / z ** (p - 1)) * scale


class CumSum(Function):
    """z_k = x_0 + ... + x_k along ``axis``.   VJP: reversed cumulative sum of g along ``axis``."""

    @staticmethod
    def forward(ctx, x, axis=0):
        return array_module(x).cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx, g):
        xp, axis = array_module(g), ctx.attrs["axis"]
        return xp.flip(xp.cumsum(xp.flip(g, axis), axis=axis), axis)


# ------------------------------------------------------------------ tensor-level functions
def sum(x: Tensor, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (None: every dim). Integer and bool inputs give int64 (no gradient).

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).

    >>> import glassgrad as gg
    >>> gg.tensor([[1.0, 2.0], [3.0, 4.0]]).sum(-1)
    tensor([3., 7.])
    """
    axis = normalize_dims("sum", x.data.ndim, dim)
    if dtype is not None:
        dt = dtypes.to_np_dtype(dtype)
        if dt.kind == "f" and x.data.dtype != dt:
            x = _E.cast(x, dt)
        elif dt.kind != "f":
            return _constant(array_module(x.data).sum(x.data, axis=axis, keepdims=keepdim, dtype=dt))
    if x.data.dtype.kind != "f":
        return _constant(array_module(x.data).sum(x.data, axis=axis, keepdims=keepdim, dtype=np.int64))
    return Sum.apply(x, axis=axis, keepdims=keepdim)


def mean(x: Tensor, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """Mean over ``dim``; floating inputs only (as PyTorch); a mean over nothing is nan.

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).
    """
    if dtype is not None and dtypes.to_np_dtype(dtype) != x.data.dtype:
        x = _E.cast(x, dtypes.to_np_dtype(dtype))
    _floating_only("mean", x)
    return Mean.apply(x, axis=normalize_dims("mean", x.data.ndim, dim), keepdims=keepdim)


def _correction(op: str, unbiased: bool | None, correction: Any) -> float:
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: expected unbiased or correction, got both")
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


def var(
    x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, correction: Any = None
) -> Tensor:
    """Variance over ``dim`` with Bessel's ``correction`` (default 1; ``unbiased=False`` means 0).

    The denominator is max(0, N - correction), so too few elements give inf or nan (as PyTorch).

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).
    """
    if isinstance(dim, bool):  # PyTorch's var(unbiased) overload
        dim, unbiased = None, dim
    _floating_only("var", x)
    axis = normalize_dims("var", x.data.ndim, dim)
    return Var.apply(x, axis=axis, keepdims=keepdim, correction=_correction("var", unbiased, correction))


def std(
    x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, correction: Any = None
) -> Tensor:
    """Standard deviation: sqrt of :func:`var` (same arguments); its gradient is 0 where it is 0.

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).
    """
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    _floating_only("std", x)
    axis = normalize_dims("std", x.data.ndim, dim)
    return Std.apply(x, axis=axis, keepdims=keepdim, correction=_correction("std", unbiased, correction))


def prod(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Product over ``dim`` (a tuple is accepted too); integer inputs give int64 (no gradient).

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).
    """
    axis = normalize_dims("prod", x.data.ndim, dim)
    if x.data.dtype.kind != "f":
        return _constant(array_module(x.data).prod(x.data, axis=axis, keepdims=keepdim, dtype=np.int64))
    return Prod.apply(x, axis=axis, keepdims=keepdim)


class MaxMinResult(NamedTuple):
    """``(values, indices)`` from ``max``/``min`` along a dim, like ``torch.return_types.max``."""

    values: Tensor
    indices: Tensor


def _extreme(op: str, x: Tensor, dim: Any, keepdim: bool) -> Any:
    largest = op == "max"
    if isinstance(dim, Tensor):  # torch.max(a, other): the elementwise maximum
        return _E.maximum(x, dim) if largest else _E.minimum(x, dim)
    if dim is None:
        if keepdim:
            raise ShapeError(f"{op}: expected a dim with keepdim=True, got dim=None")
        _nonempty(op, x, None)
        return (Amax if largest else Amin).apply(x, axis=None, keepdims=False)
    if isinstance(dim, tuple | list | bool):
        raise DTypeError(f"{op}: expected dim to be an int (amax/amin take a tuple), got {dim!r}")
    axis = normalize_dims(op, x.data.ndim, dim)
    if not axis:  # a 0-d tensor: its only element, at index 0
        return MaxMinResult(_E.clone(x), Tensor(np.zeros((), dtype=np.int64), _wrap=True))
    _nonempty(op, x, axis)
    xp, a = array_module(x.data), axis[0]
    idx = (xp.argmax if largest else xp.argmin)(x.data, axis=a, keepdims=True)  # first extreme, as PyTorch
    values = MaxMinDim.apply(x, idx, axis=a, keepdims=keepdim)
    idx = idx.astype(np.int64, copy=False)
    return MaxMinResult(values, Tensor(idx if keepdim else idx.squeeze(a), _wrap=True))


def max(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """The maximum: of every element (dim None: a 0-d tensor, ties share the gradient evenly), or
    ``(values, indices)`` along an int ``dim`` (the gradient goes to the returned index), or, when
    ``dim`` is a Tensor, the elementwise maximum of ``x`` and it (``torch.max(a, b)``).

    Shape:
        dim None: ``()``; dim int: ``x.shape`` without ``dim`` (kept as 1 with ``keepdim``).

    >>> import glassgrad as gg
    >>> gg.tensor([[1.0, 5.0], [7.0, 2.0]]).max(1).indices
    tensor([1, 0])
    """
    return _extreme("max", x, dim, keepdim)


def min(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """The minimum; see :func:`max`.

    Shape:
        dim None: ``()``; dim int: ``x.shape`` without ``dim`` (kept as 1 with ``keepdim``).
    """
    return _extreme("min", x, dim, keepdim)


def amax(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (None, int or tuple); ties share the gradient evenly.

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).
    """
    axis = normalize_dims("amax", x.data.ndim, dim)
    _nonempty("amax", x, axis)
    return Amax.apply(x, axis=axis, keepdims=keepdim)


def amin(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (None, int or tuple); ties share the gradient evenly.

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).
    """
    axis = normalize_dims("amin", x.data.ndim, dim)
    _nonempty("amin", x, axis)
    return Amin.apply(x, axis=axis, keepdims=keepdim)


def _arg(op: str, x: Tensor, dim: int | None, keepdim: bool) -> Tensor:
    if isinstance(dim, tuple | list | bool):
        raise DTypeError(f"{op}: expected dim to be None or an int, got {dim!r}")
    axis = normalize_dims(op, x.data.ndim, dim)
    _nonempty(op, x, axis)
    xp, find = array_module(x.data), getattr(array_module(x.data), op)
    if axis is None:  # the index into the flattened tensor
        out = xp.asarray(find(x.data)).reshape((1,) * x.data.ndim if keepdim else ())
    elif not axis:  # 0-d
        out = xp.zeros((), dtype=np.int64)
    else:
        out = find(x.data, axis=axis[0], keepdims=keepdim)
    return _constant(out.astype(np.int64, copy=False))


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the (first) maximum along ``dim``, or into the flattened tensor; int64, no gradient.

    Shape:
        dim None: ``()``; else ``x.shape`` without ``dim`` (kept as 1 with ``keepdim``).
    """
    return _arg("argmax", x, dim, keepdim)


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the (first) minimum; see :func:`argmax`.

    Shape:
        dim None: ``()``; else ``x.shape`` without ``dim`` (kept as 1 with ``keepdim``).
    """
    return _arg("argmin", x, dim, keepdim)


def logsumexp(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, stable at any magnitude; integer inputs become float.

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).

    >>> import glassgrad as gg
    >>> round(gg.tensor([10000.0, 10000.0]).logsumexp(0).item(), 3)  # 1e4 + log 2, no overflow
    10000.693
    """
    return LogSumExp.apply(
        _E.floating(x), axis=normalize_dims("logsumexp", x.data.ndim, dim), keepdims=keepdim
    )


def norm(x: Tensor, p: Any = 2, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Vector p-norm over ``dim`` (every dim by default): p a number, ``inf``, ``-inf`` or ``"fro"`` (2).

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).
    """
    if p is None or p == "fro":
        p = 2
    if isinstance(p, str | bool) or not isinstance(p, int | float | np.number):
        raise ValueError(f"norm: expected p to be a number, inf, -inf or 'fro', got {p!r}")
    _floating_only("norm", x)
    axis = normalize_dims("norm", x.data.ndim, dim)
    if p in (math.inf, -math.inf):
        _nonempty("norm", x, axis)
    return Norm.apply(x, p=float(p), axis=axis, keepdims=keepdim)


def cumsum(x: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Running sum along ``dim``; integer and bool inputs give int64 (no gradient).

    Shape:
        ``x.shape``.
    """
    if isinstance(dim, tuple | list | bool) or dim is None:
        raise DTypeError(f"cumsum: expected dim to be an int, got {dim!r}")
    axis = normalize_dims("cumsum", x.data.ndim, dim)
    if dtype is not None and dtypes.to_np_dtype(dtype) != x.data.dtype:
        x = _E.cast(x, dtypes.to_np_dtype(dtype))
    if not axis:  # 0-d: the running sum of one element is itself
        return _E.clone(x) if x.data.dtype.kind == "f" else Tensor(x.data.astype(np.int64), _wrap=True)
    if x.data.dtype.kind != "f":
        return Tensor(array_module(x.data).cumsum(x.data, axis=axis[0], dtype=np.int64), _wrap=True)
    return CumSum.apply(x, axis=axis[0])


def all(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether every element over ``dim`` is non-zero (bool, no gradient); ``dim=()`` reduces nothing.

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).
    """
    axis = normalize_dims("all", x.data.ndim, dim, empty_means_all=False)
    return _constant(array_module(x.data).all(x.data, axis=axis, keepdims=keepdim))


def any(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether some element over ``dim`` is non-zero (bool, no gradient); ``dim=()`` reduces nothing.

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).
    """
    axis = normalize_dims("any", x.data.ndim, dim, empty_means_all=False)
    return _constant(array_module(x.data).any(x.data, axis=axis, keepdims=keepdim))
