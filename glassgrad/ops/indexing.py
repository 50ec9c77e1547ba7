"""Indexing primitives: ``getitem`` (basic and advanced), ``masked_fill``, ``gather``,
``scatter_add`` (``sort`` and ``topk`` are in ``sorting.py``; ``multinomial``, ``nonzero`` and
``one_hot``, which make indices without a gradient, in ``sampling.py``).

The backward of reading positions is writing the gradient back to them. Basic indexing (ints,
slices, None, Ellipsis) reads each input position at most once, so a slice-assign into zeros is
enough. Advanced indexing (integer arrays, masks) may read one position many times
(``x[[0, 0, 1]]``), so its backward must *add* with ``xp.add.at``: a plain assignment would keep
only one of the repeated contributions.
"""

from __future__ import annotations

import operator
from typing import Any, NamedTuple

import numpy as np

from glassgrad.autograd.forward_ad import tracked
from glassgrad.autograd.function import Primitive, named
from glassgrad.autograd.shapes import broadcast_shape
from glassgrad.backend import array_module, c_layout, dense
from glassgrad.dtypes import scalar_into
from glassgrad.errors import DTypeError, IndexDTypeError, IndexOutOfRangeError, IndexShapeError, ShapeError
from glassgrad.meta_array import same_device, seen
from glassgrad.operand_errors import int_arg
from glassgrad.ops import index_keys
from glassgrad.ops.grid_positions import add_at, grid_positions, read_positions, reduce_positions
from glassgrad.ops.index_keys import _check_range, _int_array, check_masks, check_slice_step, key_parts
from glassgrad.ops.node_names import getitem_name
from glassgrad.ops.resample import add_sorted_segments
from glassgrad.tensor import Tensor

__all__ = ["getitem", "masked_fill", "gather", "index_select", "scatter_add", "normalize_dim"]


def normalize_dim(dim: Any, ndim: int, op: str, shape: tuple) -> int:
    """``dim`` as a non-negative axis; a 0-d tensor accepts dims -1 and 0, as PyTorch (not a bool)."""
    # (not int: PyTorch's parser's TypeError for a bool, None, a float, a str, not operator.index's)
    n, d = max(ndim, 1), dim if dim.__class__ is int else int_arg(op, "dim", dim)
    if not -n <= d < n:
        raise IndexOutOfRangeError(  # (PyTorch's words last, so that its messages match)
            f"{op}: expected dim in [{-n}, {n - 1}] for shape {shape}, got {dim} (Dimension out of range)"
        )
    return d % n


# ------------------------------------------------------------------ getitem
_PLAIN = frozenset((int, type(None)))  # slice bounds NumPy may keep as they are


def _key(key: Any, op: str, ndim: int | None = None, shape: tuple = ()) -> tuple[tuple | SplitKey, bool]:
    """Normalise an indexing key to a tuple NumPy understands; report whether it is advanced. Given
    the tensor's ``ndim`` (``shape``: for errors), an advanced key is put in PyTorch's order (``_torch_order``)."""
    parts = key_parts(key)  # a list may stand for a tuple of indices, as in PyTorch
    out = []
    advanced = seen_ellipsis = False
    for k in parts:
        if isinstance(k, bool):
            advanced = True  # NumPy (and PyTorch) treat a bool as a 0-d mask
        elif isinstance(k, slice):
            if not _PLAIN.issuperset((type(k.start), type(k.stop), type(k.step))):
                # Tensor bounds (``begin += batch`` in a loop) are read now, as PyTorch reads them:
                # the key is kept for backward, where a later in-place change would move the slice.
                k = index_keys.int_slice(k, op)
            if k.step is not None:
                check_slice_step(k.step, op, key, shape)  # PyTorch refuses steps below 1
        elif isinstance(k, int) or k is None:
            pass
        elif k is Ellipsis:
            if seen_ellipsis:
                raise IndexOutOfRangeError(f"{op}: expected at most one Ellipsis (...) in the key, got {key}")
            seen_ellipsis = True
        else:
            if isinstance(k, Tensor):
                k = index_keys.tensor_index(k, op)  # a copy; uint8 as a mask, as in PyTorch
            elif isinstance(k, range):
                k = np.arange(k.start, k.stop, k.step, dtype=np.int64)  # PyTorch indexes with it as a list
            elif isinstance(k, list | tuple):
                k = index_keys.data_index(index_keys.list_index(k, op), op, floats=False)
            elif isinstance(k, np.ndarray):
                k = index_keys.data_index(k, op)  # uint8 as a mask, floats as longs, as in PyTorch
            if isinstance(k, np.ndarray):
                if k.dtype.kind not in "iub":
                    raise IndexDTypeError(f"{op}: expected integer or bool index arrays, got {k.dtype}")
                if k.ndim == 0 and k.dtype.kind != "b":
                    k = int(k)  # a 0-d integer tensor indexes like a Python int
                else:
                    advanced = True
            elif not isinstance(k, int) and hasattr(type(k), "__index__") and not isinstance(k, np.bool_):
                k = operator.index(k)  # a NumPy integer, any object with __index__: its int, as PyTorch
            elif not isinstance(k, int):
                raise IndexDTypeError(
                    f"{op}: expected ints, slices, None, Ellipsis or integer/bool arrays, "
                    f"got {type(k).__name__}"
                )
        out.append(k)
    key = _torch_order(tuple(out), ndim) if advanced and ndim is not None else tuple(out)
    return (check_masks(key, shape, op) if advanced and ndim is not None else key), advanced


class SplitKey(NamedTuple):
    """An advanced key applied as PyTorch applies it: ``x[basic][rest]``, the ints first."""

    basic: tuple
    rest: tuple


def _torch_order(key: tuple, ndim: int) -> tuple | SplitKey:
    """An advanced key laid out as PyTorch lays it out, where NumPy differs (a silent transpose).

    NumPy counts an int as an advanced index, so in ``x[0, :, [0, 2]]`` the int and the list are
    "separated by a slice" and the list's dims move to the front ((2, 3) for x (2, 3, 4)). PyTorch
    selects the ints first and indexes what is left ((3, 2)). An Ellipsis that stands for no dims
    does not separate advanced indices in PyTorch either. So: the Ellipsis becomes its slices, and
    a key with ints is split into the ints (a view) and the rest.
    """

    def dims(k: Any) -> int:  # the dims an entry of the key consumes
        if k is None or k is Ellipsis or isinstance(k, bool):
            return 0
        return k.ndim if isinstance(k, np.ndarray) and k.dtype == np.bool_ else 1

    ints = sum(isinstance(k, int) and not isinstance(k, bool) for k in key)
    at = next((i for i, k in enumerate(key) if k is Ellipsis), None)
    if at is not None:
        spread = ndim - sum(dims(k) for k in key)
        key = key[:at] + (slice(None),) * max(spread, 0) + key[at + 1 :]
    if not ints:
        return key
    basic, rest = [], []
    for k in key:
        if isinstance(k, int) and not isinstance(k, bool):
            basic.append(k)
        else:  # None consumes no dims: it only goes to the rest
            basic.extend([slice(None)] * dims(k))
            rest.append(k)
    return SplitKey((*basic, Ellipsis), tuple(rest))


class GetItem(Primitive):
    """z = x[key] (NumPy/PyTorch indexing).   VJP: zeros like x, then g written back at key:
    ``out[key] = g`` for basic keys (each position read once), ``add.at(out, key, g)`` for
    advanced keys (repeated indices add up; through the key's flat positions, ``add_at``)."""

    node_name_by = staticmethod(getitem_name)  # (from the node's attrs, when the user looks)

    @staticmethod
    def forward(ctx, a, key=(), advanced=False):
        return read_at(a, key, advanced)

    @staticmethod
    def backward(ctx, g):
        key, advanced = ctx.attrs["key"], ctx.attrs["advanced"]
        xp = array_module(g)
        out = xp.zeros(ctx.shapes[0], dtype=g.dtype)
        if isinstance(key, SplitKey):
            xp.add.at(_split_view(out, key), key.rest, g)  # the view writes into out
        elif advanced and out.ndim > 1 and len(key) == 1 and index_keys.int_vector(key[0]):
            _scatter_add_rows(out, key[0], g)  # rows of a table (embedding backward): the common case
        elif advanced:
            add_at(out, key, g)  # (into a 1-D out, as take's, 25 times faster than the rows' sort)
        else:
            out[key] = g
        return out


def read_at(a: Any, key: tuple | SplitKey, advanced: bool) -> Any:
    """``a[key]`` for a key from ``_key``: a view for a basic key (an all-int key gives a 0-d view, as
    PyTorch, not a NumPy scalar), a new C-contiguous array for an advanced one, as PyTorch's."""
    if isinstance(key, SplitKey):
        try:
            return c_layout(_split_view(a, key)[key.rest])
        except IndexError as e:  # an index tensor past its dim, as PyTorch's IndexError
            raise index_keys.key_error("getitem", a.shape, e) from None
    if not advanced and not any(k is Ellipsis for k in key):
        key = (*key, Ellipsis)
    axis = index_keys.one_index_axis(key) if advanced and a.__class__ is np.ndarray else 0
    try:
        if axis:  # past dim 0 NumPy's take is twice as fast as a[key] (index_select along dim 1)
            return a.take(key[-1], axis=axis)
        return c_layout(a[key]) if advanced else a[key]
    except IndexError as e:
        raise index_keys.key_error("getitem", a.shape, e) from None


def _split_view(a: Any, key: SplitKey) -> Any:
    # NumPy's IndexError goes up as it is: each caller names its op and the shape once
    return a[key.basic]


def _scatter_add_rows(out: Any, idx: Any, g: Any) -> None:
    """out[idx[i]] += g[i] for every i, repeated rows adding up (as ``add.at``), about 5 times faster:
    sort the indices, sum each run of equal ones with one ``add.reduceat``, write each sum once."""
    xp = array_module(g)
    if idx.size == 0:
        return
    idx = xp.where(idx < 0, idx + out.shape[0], idx)  # -1 and n-1 are one row
    order = xp.argsort(idx, kind="stable")
    add_sorted_segments(out, idx[order], g[order])


def getitem(x: Tensor, key: Any) -> Tensor:
    """``x[key]`` with ints, slices (steps > 0, as PyTorch), None, Ellipsis, integer arrays/lists/tensors
    (advanced indexing; several broadcast together) and bool masks.

    >>> import glassgrad as gg
    >>> gg.tensor([[1, 2], [3, 4]])[[1, 1], 0]
    tensor([3, 3])
    """
    key, advanced = _key(key, "getitem", x.ndim, x.shape)
    return GetItem.apply(x, key=key, advanced=advanced)


def index_select(input: Tensor, dim: int, index: Any) -> Tensor:  # noqa: A002 - PyTorch's `input=`
    """The slices of ``input`` at ``index`` (0-d or 1-D, repeats allowed) along ``dim``: ``input[..., index, ...]``.

    Shape:
        input ``(*A, n, *B)``, index ``(k,)`` -> ``(*A, k, *B)``; a 0-d input is one element (as PyTorch):
        one index, and the result is 0-d.
    """
    idx = _int_array(index, "index_select")
    if idx.ndim > 1:
        raise IndexShapeError(f"index_select: expected a 0-d or 1-D index, got shape {idx.shape}")
    idx = idx.reshape(-1)  # () or (k,) -> (k,)
    d = normalize_dim(dim, input.ndim, "index_select", input.shape)
    if input.ndim == 0:
        if idx.size != 1:
            raise ShapeError(f"index_select: expected one index for a 0-d input, got {idx.size}")
        _check_range(idx, 1, "index_select", d, input.shape)
        return GetItem.apply(input.reshape(1), key=(idx,), advanced=True).reshape(())  # () -> (1,) -> ()
    _check_range(idx, input.shape[d], "index_select", d, input.shape)
    return named(GetItem.apply(input, key=(slice(None),) * d + (idx,), advanced=True), "IndexSelectBackward0")


# ------------------------------------------------------------------ masked_fill
class MaskedFill(Primitive):
    """z = value where mask else x (mask broadcast).   VJP: (g where not mask else 0, None)."""

    name = "masked_fill"

    @staticmethod
    def forward(ctx, a, mask, value=0.0):
        ctx.save_for_backward(mask)
        # contiguous, as PyTorch's (a clone in contiguous format, then filled)
        return dense(array_module(a).where(mask, value, a).astype(a.dtype, copy=False))

    @staticmethod
    def backward(ctx, g):
        return array_module(g).where(ctx.saved[0], 0, g), None  # ctx.saved: (mask,)


def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """``x`` with ``value`` wherever the bool ``mask`` (broadcast with x) is True.

    Shape:
        x and mask broadcast together, e.g. scores ``(N, h, L, L)`` and causal mask ``(L, L)``.
    """
    # a copy of the mask (a tensor's or an array's): backward reads it, and an in-place change must not move it
    m = array_module(m := mask._data if isinstance(mask, Tensor) else mask).array(m)  # meta stays meta
    if m.dtype != np.bool_:
        raise DTypeError(f"masked_fill: expected a bool mask, got {m.dtype} (only supports boolean masks)")
    broadcast_shape(x.shape, m.shape, op="masked_fill")
    seen[0] and same_device("masked_fill", x, m)  # once meta exists: a raw mask's device must be x's
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ShapeError(f"masked_fill: expected a 0-dim value tensor, got shape {value.shape}")
        if tracked(value):  # a value in the graph, or with a tangent: through where
            from glassgrad.ops.elementwise import where

            return where(m, value.to(x.dtype), x)
        value = value.item()
    return MaskedFill.apply(x, m, value=scalar_into("masked_fill", value, x._data.dtype))


# ------------------------------------------------------------------ gather / scatter_add
def _grid_key(index: Any, dim: int) -> tuple:
    """The advanced-indexing key that reads ``x[i][index[i, j, k]][k]`` (for dim=1): an open grid
    of aranges over index's shape, with ``index`` itself in place of ``dim``."""
    xp = array_module(index)
    nd = index.ndim
    # arange(n) for dim k, shaped (1, .., n, .., 1) so that the aranges broadcast into a grid
    key = [xp.arange(n).reshape((1,) * k + (n,) + (1,) * (nd - k - 1)) for k, n in enumerate(index.shape)]
    key[dim] = index
    return tuple(key)


class Gather(Primitive):
    """z[i, j, k] = x[i, index[i, j, k], k] (dim=1), read at the flat positions of that grid.

    VJP: (zeros like x with g added at the same positions (``add.at``: repeats add up), None).
    """

    @staticmethod
    def forward(ctx, a, index, dim=0, self_saved=False):
        pos = grid_positions(index, dim, a.shape)
        # self_saved (torch.gather): a kept too, unread, as PyTorch's GatherBackward0 saves self,
        # so that a write into it before backward raises there and here (sort and topk save less)
        ctx.save_for_backward(*((pos, a) if self_saved else (pos,)))
        return read_positions(a, pos)  # a new row-major array, as PyTorch's

    @staticmethod
    def backward(ctx, g):
        pos = ctx.saved[0]
        out = array_module(g).zeros(ctx.shapes[0], dtype=g.dtype)
        reduce_positions(array_module(g).add, out, pos, g)
        return out, None


class ScatterAdd(Primitive):
    """z = x, then z[i, index[i, j, k], k] += src[i, j, k] (dim=1) for every position of index.

    VJP: (g, None, g read back at the same positions (a gather), zero outside index's box of src).
    """

    name = "scatter_add"

    @staticmethod
    def forward(ctx, a, index, src, dim=0):
        xp = array_module(a)
        pos = grid_positions(index, dim, a.shape)
        box = tuple(slice(0, n) for n in index.shape)
        out = a.copy()  # (C-contiguous: positions are row-major)
        reduce_positions(xp.add, out, pos, src[box])
        ctx.save_for_backward(pos, box)
        return out

    @staticmethod
    def backward(ctx, g):
        pos, box = ctx.saved
        gsrc = None
        if ctx.needs_input_grad[2]:
            gsrc = array_module(g).zeros(ctx.shapes[2], dtype=g.dtype)
            gsrc[box] = read_positions(g, pos)
        return g, None, gsrc


def _check_gather_index(op: str, x: Tensor, dim: int, index: Any) -> tuple[Any, int]:
    """index (a copy) and dim for gather/scatter; a 0-d input, index or src counts as one element
    along one dim, as in PyTorch: all are then at most 1-D, and the op runs on them flattened."""
    idx = _int_array(index, op)
    d = normalize_dim(dim, x.ndim, op, x.shape)
    if idx.size == 0:  # PyTorch checks no shapes for an empty index (nothing is read or written)
        return idx, d
    xs, ish = tuple(x.shape) or (1,), idx.shape or (1,)
    if len(ish) != len(xs):
        raise ShapeError(f"{op}: expected an index with {len(xs)} dims like input {x.shape}, got {idx.shape}")
    if any(i > s for k, (i, s) in enumerate(zip(ish, xs)) if k != d):
        raise ShapeError(
            f"{op}: expected index.size(d) <= input.size(d) for d != {d}, got index {idx.shape} "
            f"and input {x.shape}"
        )
    _check_range(idx, xs[d], op, d, x.shape)
    return idx, d


def check_src(op: str, idx: Any, src_shape: tuple) -> None:
    """src of a scatter: index's number of dims and sizes <= src's (a 0-d one counts as (1,))."""
    ish, ss = idx.shape or (1,), tuple(src_shape) or (1,)
    if idx.size and (len(ss) != len(ish) or any(i > s for i, s in zip(ish, ss))):
        raise ShapeError(f"{op}: expected index sizes <= src sizes, got index {idx.shape} and src {ss}")


def gather(x: Tensor, dim: int, index: Any, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j][k] = x[i][index[i][j][k]][k]`` for dim=1 (PyTorch's ``gather``); index has x's
    number of dims and sizes <= x's except along ``dim`` (0-d counts as (1,), as PyTorch); out has
    index's shape. ``sparse_grad=True`` (a sparse COO gradient for x) is refused: not supported.

    >>> import glassgrad as gg
    >>> gg.tensor([[1, 2], [3, 4]]).gather(1, gg.tensor([[1, 1], [0, 1]]))
    tensor([[2, 2],
            [3, 4]])
    """
    if sparse_grad:
        raise NotImplementedError("gather: sparse gradients are not supported (sparse_grad=False only)")
    idx, d = _check_gather_index("gather", x, dim, index)
    if x.ndim and idx.ndim and idx.size:  # (an empty index of any shape: the flat path below)
        return Gather.apply(x, idx, dim=d, self_saved=True)
    return Gather.apply(x.reshape(-1), idx.reshape(-1), dim=0, self_saved=True).reshape(
        idx.shape
    )  # 0-d: () -> (1,) -> ()


def scatter_add(x: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    """``x`` plus ``src`` added at ``index`` along ``dim`` (out-of-place ``scatter_add_``):
    ``out[i][index[i][j][k]][k] += src[i][j][k]`` for dim=1; repeated indices add up.

    Shape:
        index has x's number of dims, sizes <= src's, and <= x's except along ``dim``.
    """
    idx, d = _check_gather_index("scatter_add", x, dim, index)
    src_data = src._data if isinstance(src, Tensor) else np.asarray(src)
    check_src("scatter_add", idx, src_data.shape)
    if src_data.dtype != x._data.dtype:
        raise DTypeError(f"scatter_add: expected src of dtype {x._data.dtype}, got {src_data.dtype}")
    src = src if isinstance(src, Tensor) else src_data
    if x.ndim and idx.ndim and src_data.ndim and idx.size:
        return ScatterAdd.apply(x, idx, src, dim=d)
    return ScatterAdd.apply(x.reshape(-1), idx.reshape(-1), src.reshape(-1), dim=0).reshape(x.shape)
