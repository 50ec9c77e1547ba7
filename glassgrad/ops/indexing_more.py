"""More of PyTorch's indexing ops: ``index_add``, ``index_copy``, ``index_put`` and ``masked_scatter``,
primitives with PyTorch's gradients (``scatter_reduce`` is in ``scatter.py``; ``take`` and
``take_along_dim``, reads through ``getitem`` / ``gather``, are in ``movement_more.py``).

As in ``indexing.py``, every index or mask kept for backward is a copy, so a later in-place change
of the caller's index tensor cannot move the gradient. Writes with repeated indices keep one of the
candidates (NumPy's last, as PyTorch's CPU kernels); the gradients follow PyTorch's formulas, which
send every repeated source entry the gradient of the position it was written to.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, quietly
from glassgrad.deterministic import alert_not_deterministic
from glassgrad.dtypes import scalar_into
from glassgrad.errors import DTypeError, IndexDTypeError, IndexOutOfRangeError, IndexShapeError, ShapeError
from glassgrad.meta_array import valued
from glassgrad.ops import indexing as _ix
from glassgrad.ops.grid_positions import add_at, grid_positions, reduce_positions
from glassgrad.ops.index_keys import INT32_64, refuse_byte_fill
from glassgrad.tensor import Tensor, as_array
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "index_add", "index_copy", "index_put", "masked_scatter", "put",
]  # fmt: skip


def _tensor(v: Any, op: str, name: str) -> Tensor:
    if isinstance(v, Tensor):
        return v
    raise DTypeError(f"{op}: expected {name} to be a Tensor, got {type(v).__name__}")


def _same_dtype(op: str, x: Tensor, src: Tensor, name: str) -> None:
    if src._data.dtype != x._data.dtype:
        raise DTypeError(f"{op}: expected {name} of the input's dtype {x.dtype}, got {src.dtype}")


# ------------------------------------------------------------------ index_add / index_copy
class IndexAdd(Function):
    """z = x, then z[.., index[i], ..] += alpha * src[.., i, ..] along ``dim`` (repeats add up).
    VJP: (g, None, conj(alpha) * g[.., index, ..]) (PyTorch 2.13 multiplies by a complex alpha
    itself, which its own gradcheck refutes; the conjugate is the complex gradient's convention)."""

    name = "index_add"

    @staticmethod
    def forward(ctx, a, index, src, dim=0, alpha=1):
        out, xp = a.copy(), array_module(a)
        v = src if alpha == 1 else quietly(xp.multiply, src, alpha)
        # the slices' places as flat positions (``grid_positions.py``): one 1-D add.at, NumPy's fast
        # path, in the order of the (slice, index) key's, 5x faster on a (64, 256) source
        spread = (1,) * dim + (index.size,) + (1,) * (src.ndim - dim - 1)
        pos = grid_positions(xp.broadcast_to(index.reshape(spread), src.shape), dim, out.shape)
        quietly(reduce_positions, xp.add, out, pos, v)  # inf + -inf: nan, without a warning
        ctx.attrs["idx"] = index  # a copy of the caller's index (``_int_array``)
        return out

    @staticmethod
    def backward(ctx, g):
        at = ctx.attrs
        gsrc = None
        if ctx.needs_input_grad[2]:
            gsrc = array_module(g).take(g, at["idx"], axis=at["dim"])
            gsrc = gsrc if at["alpha"] == 1 else gsrc * at["alpha"].conjugate()
        return g, None, gsrc


class IndexCopy(Function):
    """z = x, then z[.., index[i], ..] = src[.., i, ..] along ``dim``.
    VJP: (g with the written slices zeroed, None, g[.., index, ..]) (PyTorch's formula: a repeated
    index sends the gradient of its slice to every source slice written there)."""

    name = "index_copy"

    @staticmethod
    def forward(ctx, a, index, src, dim=0):
        out = a.copy()
        out[(slice(None),) * dim + (index,)] = src
        ctx.attrs["idx"] = index  # a copy of the caller's index (``_int_array``)
        return out

    @staticmethod
    def backward(ctx, g):
        idx, d = ctx.attrs["idx"], ctx.attrs["dim"]
        ga = gsrc = None
        if ctx.needs_input_grad[0]:
            ga = g.copy()
            ga[(slice(None),) * d + (idx,)] = 0
        if ctx.needs_input_grad[2]:
            gsrc = array_module(g).take(g, idx, axis=d)
        return ga, None, gsrc


def _index_args(op: str, x: Tensor, dim: int, index: Any, src: Any) -> tuple[Tensor, Tensor, Any, int]:
    src = _tensor(src, op, "source")
    _same_dtype(op, x, src, "source")
    idx = _ix._int_array(index, op, ("int64",)) if op == "index_copy" else _ix._int_array(index, op)
    if idx.ndim > 1:  # PyTorch: "Index is supposed to be a vector", an IndexError for all three ops
        raise IndexShapeError(f"{op}: expected a 0-d or 1-D index, got shape {idx.shape}")
    idx = idx.reshape(-1)
    if op != "index_copy" and (src.ndim != x.ndim or (src.ndim == 0 and idx.size != 1)):
        # index_add_/index_reduce_ want source of self's rank (both 0-d is fine); the (1,)-reshape
        # below would let a 0-d self sum a whole vector source, or a 0-d source fill a 1-D self.
        # PyTorch reads a 0-d source's size(dim) first: an IndexError when the index has >1 entry
        cls = IndexShapeError if src.ndim == 0 and idx.size != 1 else ShapeError
        raise cls(
            f"{op}: expected source with as many dims as the input {tuple(x.shape)}, shapes equal "
            f"except along dim {dim} where it has the index's {idx.size} entries (a 0-d source: one "
            f"index), got source of shape {tuple(src.shape)}"
        )
    if x.ndim == 0:  # PyTorch takes a 0-d input as one of shape (1,)
        x = x.reshape(1)
    src_scalar = src.ndim == 0
    if src_scalar:
        src = src.reshape(1)
    d = _ix.normalize_dim(dim, x.ndim, op, x.shape)
    _ix._check_range(idx, x.shape[d], op, d, x.shape)
    want = x.shape[:d] + (idx.size,) + x.shape[d + 1 :]
    if tuple(src.shape) != want:
        # index_copy_ checks a (non-scalar) source's rank, then its length along dim, raising
        # IndexError; its other mismatches, and all of index_add_'s and index_reduce_'s, are RuntimeErrors
        rank = not src_scalar and src.ndim != x.ndim
        length = src.ndim == x.ndim and src.shape[d] != idx.size
        cls = IndexShapeError if op == "index_copy" and (rank or length) else ShapeError
        raise cls(
            f"{op}: expected source of shape {want} (input {x.shape} with dim {dim} of the index's "
            f"length {idx.size}), got {src.shape}"
        )
    return x, src, idx, d


def index_add(x: Tensor, dim: int, index: Any, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """``x`` with ``alpha * source`` added at the slices ``index`` along ``dim`` (out-of-place
    ``index_add_``); repeated indices add up.

    Shape:
        x ``(*A, n, *B)``, index ``(k,)``, source ``(*A, k, *B)`` -> ``(*A, n, *B)``.
    """
    shape = x.shape
    x2, src, idx, d = _index_args("index_add", x, dim, index, source)
    dt = x._data.dtype
    if dt.kind in "iub":
        # PyTorch's kernel reads alpha in the input's dtype (a checked Scalar conversion: 2.5 is 2 in
        # int64, -1 is 255 in uint8 and True in bool, 300 refused for uint8); NumPy's product with
        # the number itself would refuse -1 for uint8 and turn a bool source into int64
        alpha = np.asarray(scalar_into("index_add", alpha, dt), dtype=dt)[()]
    elif isinstance(alpha, complex | np.complexfloating) and x._data.dtype.kind != "c":
        raise DTypeError(f"index_add: expected a real alpha for a {x.dtype} input, got {alpha!r}")
    out = IndexAdd.apply(x2, idx, src, dim=d, alpha=alpha)
    return out if out.shape == shape else out.reshape(shape)


def index_copy(x: Tensor, dim: int, index: Any, source: Tensor) -> Tensor:
    """``x`` with the slices ``index`` along ``dim`` replaced by ``source``'s (out-of-place
    ``index_copy_``).

    Shape:
        x ``(*A, n, *B)``, index ``(k,)``, source ``(*A, k, *B)`` -> ``(*A, n, *B)``.
    """
    shape = x.shape
    x2, src, idx, d = _index_args("index_copy", x, dim, index, source)
    out = IndexCopy.apply(x2, idx, src, dim=d)
    return out if out.shape == shape else out.reshape(shape)


# ------------------------------------------------------------------ index_put
class IndexPut(Function):
    """z = x, then z[indices] = values (or += with ``accumulate``, repeats adding up).
    VJP (PyTorch's): (g, or g with the written positions zeroed; None; g[indices], which the engine
    sums back to values' shape)."""

    name = "index_put"

    @staticmethod
    def forward(ctx, a, values, key=(), accumulate=False, target=None):
        out = a.copy()  # values broadcast to x[key]'s shape (``target``) in the write (index_put checked it)
        if accumulate:
            xp = array_module(a)
            # broadcast here, not by add.at: NumPy 2.4's add.at adds garbage for a values array with
            # fewer dims than a 2-D+ index into a 1-D array (x of (4,), index (2, 3), values (3,))
            quietly(add_at, out, key, values if target is None else xp.broadcast_to(values, target))
        else:
            out[key] = values
        return out

    @staticmethod
    def backward(ctx, g):
        key = ctx.attrs["key"]
        ga = g
        if not ctx.attrs["accumulate"] and ctx.needs_input_grad[0]:
            ga = g.copy()
            ga[key] = 0
        return ga, (g[key] if ctx.needs_input_grad[1] else None)


def _put_key(op: str, x: Tensor, indices: Any) -> tuple[tuple, tuple]:
    """The NumPy key for ``indices`` (masks as their nonzero positions), and ``x[key]``'s shape."""
    if isinstance(indices, Tensor) or not isinstance(indices, tuple | list):
        raise DTypeError(f"{op}: expected indices as a tuple of tensors, got {type(indices).__name__}")
    for k, i in enumerate(indices):  # PyTorch's parser takes tensors only: not lists, ints or None
        if not isinstance(i, Tensor):
            raise TypeError(
                f"{op}: expected Tensor as element {k} in argument 0, but got {type(i).__name__} "
                "(glassgrad.tensor(...) makes one; x[...] = v takes lists, ints, slices and None)"
            )
    key: list[Any] = []
    for i in indices:
        arr = i._data.copy()  # copied: backward reads it
        if arr.dtype == np.uint8:  # PyTorch reads a uint8 index as a mask (deprecated there)
            warnings.warn(
                f"{op}: a uint8 index is read as a mask; use a bool one",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
            arr = arr != 0
        if arr.dtype == np.bool_:
            at = x.shape[len(key) : len(key) + max(arr.ndim, 1)]
            if arr.ndim == 0 or arr.shape != at:  # nonzero() would read a short mask as indices
                raise IndexOutOfRangeError(
                    f"{op}: expected a mask of the sizes {at} at dim {len(key)} of shape {x.shape} (at least "
                    f"1 dim), got shape {arr.shape}"
                )
            key.extend(array_module(arr).nonzero(arr))  # a mask stands for its nonzero positions
        elif arr.dtype.kind in "iu" and arr.dtype.name in INT32_64:
            key.append(arr)
        else:  # an int8 or int16 tensor too (read as positions, where PyTorch refuses it)
            raise IndexDTypeError(
                f"{op}: tensors used as indices must be long, int, byte or bool tensors, got {arr.dtype}"
            )
    if len(key) > x.ndim:
        raise IndexOutOfRangeError(
            f"{op}: too many indices ({len(key)} dims) for an input of shape {x.shape}"
        )
    key = tuple(key)
    try:
        target = x._data[key].shape
    except IndexError as e:
        raise IndexOutOfRangeError(f"{op}: expected indices that fit shape {x.shape}, got {e}") from None
    return key, target


def _one_bool_mask(indices: Any) -> bool:
    """Whether ``indices`` hold a single bool mask, which PyTorch's ``index_put_`` hands to
    ``masked_fill_`` for a one-element value."""
    return len(indices) == 1 and indices[0]._data.dtype == np.bool_


def index_put(x: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    """``x`` with ``values`` (broadcast) written at ``x[indices]`` (out-of-place ``index_put_``);
    with ``accumulate`` added there instead, repeated indices adding up.

    Shape:
        ``values`` broadcastable to ``x[indices].shape``; the result has x's shape.
    """
    key, target = _put_key("index_put", x, indices)
    if not accumulate:
        refuse_byte_fill("index_put_", tuple(indices), values)
    v = values if isinstance(values, Tensor) else Tensor(as_array(values, dtype=x._data.dtype), _wrap=True)
    if not accumulate and v.numel() == 1 and v.ndim and _one_bool_mask(indices):
        v = v.reshape(())  # PyTorch's masked_fill_ path: one number through a single bool mask
    if not accumulate and v.ndim == 0 and v._data.dtype != x._data.dtype and _one_bool_mask(indices):
        v = v.to(x.dtype)  # ... which converts it to x's dtype
    _same_dtype("index_put", x, v, "values")
    try:
        if np.broadcast_shapes(v.shape, target) != target:
            raise ValueError
    except ValueError:
        raise ShapeError(
            f"index_put: expected values broadcastable to x[indices] of shape {target} (input {x.shape}), "
            f"got {v.shape}"
        ) from None
    return IndexPut.apply(x, v, key=key, accumulate=bool(accumulate), target=target)


# ------------------------------------------------------------------ masked_scatter
class MaskedScatter(Function):
    """z = x, then z[mask] = the first mask.sum() entries of src (flattened, in order).
    VJP: (g with the masked positions zeroed, None, g[mask] in src's first entries, 0 after)."""

    name = "masked_scatter"

    @staticmethod
    def forward(ctx, a, mask, src):
        out = a.copy()
        k = int(mask.sum())
        out[mask] = src.reshape(-1)[:k]
        ctx.save_for_backward(mask)
        return out

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved
        xp = array_module(g)
        ga = xp.where(mask, 0, g) if ctx.needs_input_grad[0] else None
        gsrc = None
        if ctx.needs_input_grad[2]:
            sel = g[mask]
            gsrc = xp.zeros(int(np.prod(ctx.shapes[2])), dtype=g.dtype)
            gsrc[: sel.size] = sel
            gsrc = gsrc.reshape(ctx.shapes[2])
        return ga, None, gsrc


def masked_scatter(x: Tensor, mask: Any, source: Tensor) -> Tensor:
    """``x`` with the entries where ``mask`` is True replaced, in row-major order, by the first
    entries of ``source`` (out-of-place ``masked_scatter_``); x and mask broadcast together.

    Shape:
        source holds at least ``mask.sum()`` entries (after broadcasting); the result has the
        broadcast shape of x and mask.
    """
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise DTypeError(
            f"masked_scatter: expected a bool mask, got {m.dtype} (masked_scatter_ only supports boolean masks)"
        )
    source = _tensor(source, "masked_scatter", "source")
    _same_dtype("masked_scatter", x, source, "source")
    try:
        shape = tuple(np.broadcast_shapes(x.shape, m.shape))
    except ValueError:
        raise ShapeError(
            f"masked_scatter: expected a mask broadcastable with {x.shape}, got {m.shape}"
        ) from None
    # a copy, which backward reads: an in-place change of the caller's mask must not move the gradient
    # (np.ascontiguousarray would make a 0-d mask 1-D)
    m = array_module(m).broadcast_to(m, shape).copy()
    k = int(m.sum()) if valued(m) else 0  # meta: no count to check, as PyTorch's meta kernel
    if k > source.numel():
        raise ShapeError(
            f"masked_scatter: expected source with at least {k} elements (the number of True "
            f"in the mask), got {source.numel()} (shape {source.shape})"
        )
    if tuple(x.shape) != shape:
        x = x.expand(*shape)
    return MaskedScatter.apply(x, m, source)


# ------------------------------------------------------------------ put
def put(x: Tensor, index: Any, source: Tensor, accumulate: bool = False) -> Tensor:
    """``x`` read as a 1-D tensor with ``source``'s entries written at ``index`` (negative counts
    from the end), or added there with ``accumulate`` (repeated indices adding up); the
    out-of-place ``put_``.

    Shape:
        ``index`` and ``source`` any shapes with the same number of elements; the result has x's shape.
    """
    if not isinstance(index, Tensor) or not isinstance(source, Tensor):
        raise TypeError(
            f"put: expected index and source tensors, got {type(index).__name__} and {type(source).__name__}"
        )
    if not accumulate:  # which of repeated indices' values stays is unspecified in PyTorch
        alert_not_deterministic("put_")
    if index._data.dtype != np.int64:  # PyTorch asks for a long index here, not any integer
        raise DTypeError(f"put: expected an int64 index, got {index.dtype}")
    _same_dtype("put", x, source, "source")
    n = x.numel()
    if index.numel() != source.numel():  # an IndexError as PyTorch's (and a ShapeError)
        raise IndexOutOfRangeError(
            f"put: expected source and index with the same number of elements, got source {source.shape} "
            f"and index {index.shape}"
        )
    idx = _ix._int_array(index, "put").reshape(-1)
    if idx.size and valued(idx) and (idx.min() < -n or idx.max() >= n):
        raise IndexOutOfRangeError(
            f"put: expected indices in [{-n}, {n}) for the {n} entries of shape {x.shape}, "
            f"got values in [{idx.min()}, {idx.max()}]"
        )
    idx = array_module(idx).where(idx < 0, idx + n, idx)
    flat = index_put(x.reshape(-1), (Tensor(idx, _wrap=True),), source.reshape(-1), accumulate)
    return flat.reshape(x.shape)
