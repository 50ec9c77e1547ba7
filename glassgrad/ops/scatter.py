"""``scatter`` (write values at indices along a dim), ``scatter_reduce`` (reduce values into them)
and ``masked_select``, PyTorch's remaining indexing ops. ``scatter`` and ``scatter_reduce`` are
primitives; ``masked_select`` is an advanced ``getitem``; ``index_reduce`` (whole slices) composes
``scatter_reduce``, as ``segment_reduce`` does (``ops/segment.py``).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, quietly
from glassgrad.dtypes import scalar_into
from glassgrad.errors import DTypeError, IndexDTypeError, IndexOutOfRangeError, ShapeError, kernel_dtype_error
from glassgrad.meta_array import MetaArray, meta_array
from glassgrad.ops.grid_positions import grid_positions, read_positions, reduce_positions, write_positions
from glassgrad.ops.indexing import GetItem, _check_gather_index, check_src, masked_fill, normalize_dim
from glassgrad.ops.indexing_more import _same_dtype, _tensor
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["scatter", "scatter_reduce", "masked_select", "index_fill", "index_reduce"]

REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")
#: the once-per-process warnings already given ("scatter_reduce_arg", "index_reduce"), as PyTorch's
#: warn-once; tests/conftest.py clears it before every test
_WARNED: set[str] = set()


def _warn_once(key: str, message: str) -> None:
    if key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(message, UserWarning, stacklevel=user_stacklevel())


class Scatter(Function):
    """z = x, then z[i, index[i, j, k], k] = src[i, j, k] (dim=1) for every position of index.

    VJP: (g with the written positions zeroed, None, g read back at those positions).
    With repeated indices the value written is one of the candidates (unspecified, as PyTorch).
    """

    @staticmethod
    def forward(ctx, a, index, src, dim=0):
        pos = grid_positions(index, dim, a.shape)  # (flat positions: ``grid_positions.py``)
        box = tuple(slice(0, n) for n in index.shape)
        out = a.copy()  # C-contiguous, as the flat positions need
        write_positions(out, pos, src[box] if getattr(src, "ndim", 0) else src)
        ctx.save_for_backward(pos)
        ctx.attrs["box"] = box
        return out

    @staticmethod
    def backward(ctx, g):
        (pos,) = ctx.saved
        ga = gsrc = None
        if ctx.needs_input_grad[0]:
            ga = g.copy()
            write_positions(ga, pos, 0)
        if ctx.needs_input_grad[2]:
            gsrc = array_module(g).zeros(ctx.shapes[2], dtype=g.dtype)
            gsrc[ctx.attrs["box"]] = read_positions(g, pos)
        return ga, None, gsrc


def scatter(
    x: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None, reduce: Any = None
) -> Tensor:
    """``x`` with ``src`` (a tensor, or the number ``value``) written at ``index`` along ``dim``:
    ``out[i][index[i][j][k]][k] = src[i][j][k]`` for dim=1 (out-of-place ``scatter_``).

    ``reduce='add'`` / ``'multiply'`` (PyTorch's older form) adds / multiplies src into x instead of
    writing it: ``scatter_reduce`` with 'sum' / 'prod' and include_self=True, gradients included
    (PyTorch itself has no derivative for this form).

    Shape:
        index has x's number of dims, sizes <= src's, and <= x's except along ``dim`` (a 0-d one
        counts as one element, as PyTorch).
    """
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter: expected src (a tensor) or value (a number), got None")  # as PyTorch
    if reduce is not None:
        return _scatter_legacy_reduce(x, dim, index, src, reduce)
    idx, d = _check_gather_index("scatter", x, dim, index)
    if isinstance(src, Tensor):
        check_src("scatter", idx, src.shape)
        if src._data.dtype != x._data.dtype:
            raise DTypeError(f"scatter: expected src of dtype {x.dtype}, got {src.dtype}")
    else:  # a number: 0-d, broadcast to every place, converted as PyTorch converts a Scalar
        src = np.asarray(scalar_into("scatter", src, x._data.dtype), dtype=x._data.dtype)
    if x.ndim and idx.ndim and idx.size and (src.ndim or not isinstance(src, Tensor)):
        return Scatter.apply(x, idx, src, dim=d)
    # a 0-d input, index or src is one element (PyTorch): all are at most 1-D, so run on them flat
    return Scatter.apply(x.reshape(-1), idx.reshape(-1), src.reshape(-1), dim=0).reshape(x.shape)


def _scatter_legacy_reduce(x: Tensor, dim: int, index: Any, src: Any, reduce: Any) -> Tensor:
    """``scatter(..., reduce='add' | 'multiply')`` as the matching ``scatter_reduce``."""
    modes = {"add": "sum", "multiply": "prod"}
    if not isinstance(reduce, str) or reduce not in modes:
        raise ValueError(f"scatter: expected reduce to be 'add' or 'multiply', got {reduce!r}")
    idx, _ = _check_gather_index("scatter", x, dim, index)
    if isinstance(src, Tensor):
        check_src("scatter", idx, src.shape)
        _same_dtype("scatter", x, src, "src")
        _warn_once(
            "scatter_reduce_arg",
            "The reduce argument of torch.scatter with a Tensor src is deprecated (PyTorch plans to drop "
            "it); scatter_reduce does the same with more reductions ('sum', 'prod', 'mean', 'amax', 'amin').",
        )
    else:  # a number: one value for every place index names
        src = scalar_into("scatter", src, x._data.dtype)
        src = Tensor(array_module(x._data).full(idx.shape, src, dtype=x._data.dtype), _wrap=True)
    return scatter_reduce(x, dim, index, src, modes[reduce], include_self=True)


def masked_select(x: Tensor, mask: Any) -> Tensor:
    """The entries of ``x`` where the bool ``mask`` (broadcast with x) is True, as a 1-D tensor.

    Shape:
        x and mask broadcast to a common shape S; the result is ``(number of True in mask,)``.
    """
    # a copy of the mask (a tensor's or an array's): backward reads it, and an in-place change must not move it
    m = mask._data if isinstance(mask, Tensor) else mask
    if x._data.__class__ is MetaArray or m.__class__ is MetaArray:
        raise NotImplementedError(
            "masked_select: the result's shape is the mask's number of True values, which a meta "
            "tensor does not have (PyTorch has no meta kernel for it either)"
        )
    m = np.array(m)
    if m.dtype != np.bool_:
        raise DTypeError(f"masked_select: expected a bool mask, got {m.dtype} (expected BoolTensor for mask)")
    try:
        shape = np.broadcast_shapes(x.shape, m.shape)
    except ValueError:
        raise ShapeError(
            f"masked_select: expected a mask broadcastable with {x.shape}, got {m.shape}"
        ) from None
    if tuple(shape) != tuple(x.shape):
        x = x.expand(*shape)
    return GetItem.apply(x, key=(array_module(m).broadcast_to(m, shape),), advanced=True)


def index_fill(x: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """``x`` with the slices at ``index`` (0-d or 1-D, negative counting from the end) along ``dim``
    set to ``value`` (out-of-place ``index_fill_``); a 0-d x is one slice along dim 0 or -1, as PyTorch."""
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    d = normalize_dim(dim, x.ndim, "index_fill", x.shape)
    if idx.dtype.kind not in "iu" or (isinstance(index, Tensor) and idx.dtype != np.int64):
        raise IndexDTypeError(f"index_fill: expected an integer index (an int64 tensor), got {idx.dtype}")
    if idx.ndim > 1:
        raise ShapeError(
            f"index_fill: expected a 0-d or 1-D index (Index has to be a vector/scalar), got shape {idx.shape}"
        )
    n = x.shape[d] if x.ndim else 1
    if idx.__class__ is MetaArray:  # which slices is unknown: a meta selection, refused beside CPU data
        sel = meta_array((n,), bool)
    else:
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexOutOfRangeError(
                f"index_fill: expected indices in [{-n}, {n}) along dim {d} of shape {x.shape}, "
                f"got values in [{idx.min()}, {idx.max()}]"
            )
        sel = np.zeros(n, dtype=bool)
        sel[idx.reshape(-1)] = True
    shape = [1] * x.ndim
    if x.ndim:
        shape[d] = n
    if not isinstance(value, Tensor):  # (checked here, so that a refusal names index_fill)
        if isinstance(value, complex | np.complexfloating) and x._data.dtype.kind != "c":
            # PyTorch's index_fill_ refuses any complex number for a real tensor, 1+0j too; a bool
            # tensor took 1+1j as True here, silently
            raise DTypeError(
                f"index_fill: expected a real value for a {x.dtype} tensor, got {value!r} "
                "(Converting complex Scalar to non-complex type is not supported)"
            )
        value = scalar_into("index_fill", value, x._data.dtype)
    return masked_fill(x, Tensor(sel.reshape(shape), _wrap=True), value)  # (n,) -> (1, .., n, .., 1)


# ------------------------------------------------------------------ scatter_reduce
def _counts(shape: tuple, pos: Any, include_self: bool, dtype: Any) -> Any:
    """The number of values reduced into each place (1 where none, the divisor of 'mean'); pos:
    the flat positions of the places (``grid_positions``)."""
    xp = array_module(pos)
    n = xp.full(shape, 1 if include_self else 0, dtype=dtype)
    reduce_positions(xp.add, n, pos, 1)
    n[n == 0] = 1
    return n


def _reduce(a: Any, pos: Any, src: Any, reduce: str, include_self: bool) -> Any:
    """scatter_reduce on raw arrays: src (index's box) reduced into a copy of a at the flat
    positions pos, in their row-major order."""
    xp = array_module(a)
    out = a.copy()  # C-contiguous, as the flat positions need
    if reduce in ("sum", "mean"):
        if not include_self:
            write_positions(out, pos, 0)
        reduce_positions(xp.add, out, pos, src)
        if reduce == "mean":
            count = _counts(a.shape, pos, include_self, np.int64)
            out = out // count if a.dtype.kind in "iu" else out / count
        return out.astype(a.dtype, copy=False)
    ufunc = {"prod": xp.multiply, "amax": xp.maximum, "amin": xp.minimum}[reduce]
    if not include_self:
        if reduce == "prod":
            identity = 1
        elif a.dtype.kind in "iu":  # the identity of amax / amin: the dtype's lowest / highest value
            identity = np.iinfo(a.dtype).min if reduce == "amax" else np.iinfo(a.dtype).max
        else:  # float or bool
            identity = (-np.inf if reduce == "amax" else np.inf) if a.dtype.kind == "f" else reduce == "amin"
        write_positions(out, pos, identity)
    reduce_positions(ufunc, out, pos, src)
    return out


class ScatterReduce(Function):
    """z = x with src reduced into it at index along ``dim`` ('sum', 'prod', 'mean', 'amax', 'amin';
    x's own entries take part unless ``include_self=False``).

    VJP (PyTorch's ``scatter_reduce_backward``): sum: g, g[index]; mean: g / N, g[index] / N[index]
    (N the number of values reduced into each place); prod: the product of the others (the exact
    exclusive product where a single zero took part); amax/amin: g split evenly among the entries
    equal to the result (x's entry counted even with include_self=False, as PyTorch); x's gradient
    is zero where src was scattered with include_self=False.
    """

    name = "scatter_reduce"

    @staticmethod
    def forward(ctx, a, index, src, dim=0, reduce="sum", include_self=True):
        pos = grid_positions(index, dim, a.shape)  # (flat positions: ``grid_positions.py``)
        box = tuple(slice(0, n) for n in index.shape)
        out = quietly(_reduce, a, pos, src[box], reduce, include_self)
        ctx.save_for_backward(a, src, out)
        ctx.attrs.update(pos=pos, box=box)
        return out

    @staticmethod
    def backward(ctx, g):
        a, src, out = ctx.saved
        at = ctx.attrs
        pos, box, reduce, inc = at["pos"], at["box"], at["reduce"], at["include_self"]
        xp = array_module(g)
        s = src[box]
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            if reduce == "sum":
                gself, gs = g, read_positions(g, pos)
            elif reduce == "mean":
                n = _counts(a.shape, pos, inc, g.dtype)
                gself, gs = g / n, read_positions(g, pos) / read_positions(n, pos)
            elif reduce == "prod":
                masked_self = xp.where(a == 0, 1, a)
                gself = g * _reduce(masked_self, pos, s, "prod", True) / masked_self
                zero = s == 0
                nzero = xp.zeros(a.shape, dtype=np.int64)
                reduce_positions(xp.add, nzero, pos, zero.astype(np.int64))
                single = zero & (read_positions(nzero, pos) == 1)
                masked_src_result = _reduce(a, pos, xp.where(single, 1, s), "prod", inc)
                gs = xp.where(
                    single,
                    read_positions(g * masked_src_result, pos),
                    read_positions(g * out, pos) / xp.where(zero, 1, s),
                )
            else:  # amax / amin
                self_is = (a == out).astype(g.dtype)
                src_is = s == read_positions(out, pos)
                count = self_is.copy()
                reduce_positions(xp.add, count, pos, src_is.astype(g.dtype))
                share = g / count
                gself, gs = self_is * share, src_is * read_positions(share, pos)
        if not inc:
            gself = gself.copy()  # (row-major, as the flat positions need; never g itself)
            write_positions(gself, pos, 0)
        gsrc = None
        if ctx.needs_input_grad[2]:
            gsrc = xp.zeros(src.shape, dtype=g.dtype)
            gsrc[box] = gs
        return gself, None, gsrc


def scatter_reduce(
    x: Tensor, dim: int, index: Any, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """``x`` with ``src`` reduced into it at ``index`` along ``dim``: ``reduce`` one of 'sum',
    'prod', 'mean', 'amax', 'amin' (out-of-place ``scatter_reduce_``).

    Shape:
        index has x's number of dims, sizes <= src's, and <= x's except along ``dim``.
    """
    if reduce not in REDUCTIONS:
        raise ValueError(f"scatter_reduce: expected reduce to be one of {REDUCTIONS}, got {reduce!r}")
    src = _tensor(src, "scatter_reduce", "src")
    idx, d = _check_gather_index("scatter_reduce", x, dim, index)
    check_src("scatter_reduce", idx, src.shape)
    _same_dtype("scatter_reduce", x, src, "src")
    if reduce == "mean" and x._data.dtype == np.bool_:  # PyTorch's mean kernel has no bool code
        raise kernel_dtype_error("scatter_reduce", "scatter_gather_tensor_cpu_reduce_mean", x._data.dtype)
    attrs = {"reduce": reduce, "include_self": bool(include_self)}
    if x.ndim and idx.ndim and src.ndim and idx.size:
        return ScatterReduce.apply(x, idx, src, dim=d, **attrs)
    # a 0-d input, index or src is one element (PyTorch): all are at most 1-D, so run on them flat;
    # an empty index of any shape writes nothing (PyTorch skips its shape checks), so it runs flat too
    out = ScatterReduce.apply(x.reshape(-1), idx.reshape(-1), src.reshape(-1), dim=0, **attrs)
    return out.reshape(x.shape)


def index_reduce(
    x: Tensor,
    dim: int,
    index: Any,
    source: Tensor,
    reduce: str,
    *,
    include_self: bool = True,
    out: Any = None,
) -> Tensor:
    """``x`` with the slices of ``source`` reduced into the slices ``index`` along ``dim``: ``reduce``
    one of 'prod', 'mean', 'amax', 'amin' (out-of-place ``index_reduce_``); gradients as
    ``scatter_reduce``'s, which it is with the index spread over the other dims.

    Shape:
        x ``(*A, n, *B)``, index ``(k,)`` (int64 or int32), source ``(*A, k, *B)`` -> ``(*A, n, *B)``.
    """
    if reduce not in REDUCTIONS[1:]:
        raise ValueError(f"index_reduce: expected reduce to be one of {REDUCTIONS[1:]}, got {reduce!r}")
    from glassgrad.ops.indexing_more import _index_args  # indexing_more imports this module's helpers

    shape = x.shape
    x2, src, idx, d = _index_args("index_reduce", x, dim, index, source)
    if x._data.dtype == np.bool_:
        _index_reduce_bool(x, reduce, include_self)
    _warn_once("index_reduce", "index_reduce() is in beta in PyTorch: its API may still change.")
    spread = [1] * src.ndim
    spread[d] = idx.size  # (k,) -> (1, .., k, .., 1), then broadcast to source's shape
    full = array_module(idx).broadcast_to(idx.astype(np.int64).reshape(spread), src.shape)
    from glassgrad.out_keyword import with_out

    result = scatter_reduce(x2, d, Tensor(full, _wrap=True), src, reduce, include_self=include_self)
    return with_out(result if result.shape == shape else result.reshape(shape), out, "index_reduce")


def _index_reduce_bool(x: Tensor, reduce: str, include_self: bool) -> None:
    """PyTorch's index_reduce kernels that refuse bool: the init of ``include_self=False``; the
    1-D (or 0-d) kernel; and, above 1-D, where it reduces with tensor ops, mean's floor division.
    prod/amax/amin of a bool input above 1-D run there, and here."""
    kernel = (
        "index_reduce_func_exclude_input_init"
        if not include_self
        else "index_func_"
        if x.ndim <= 1
        else "div_floor_cpu"
        if reduce == "mean"
        else None
    )
    if kernel is not None:
        raise kernel_dtype_error("index_reduce", kernel, x._data.dtype)
