"""Sparse COO structure ops beyond ``sparse_tensor.py``: taking rows out and putting them together.

- ``s.select(dim, i)`` / ``s[i]`` / ``s.unbind(dim)`` / ``iter(s)`` and ``s.index_select(dim, index)``
  along a sparse dim (sentence-transformers' ``SparseEncoder.encode`` iterates a batch of sparse
  embeddings; its ``semantic_search`` takes chunks with ``index_select``);
- ``glassgrad.cat`` / ``glassgrad.stack`` of sparse COO tensors along a sparse dim (``encode``
  stacks the rows back into one sparse tensor);
- ``sparse * sparse`` (``s.mul(t)``) of one shape: the entries stored in both, multiplied, with
  PyTorch's layout for uncoalesced operands (``pairwise_cos_sim``);
- ``s.unsqueeze(dim)``: a new sparse dim of size 1 (index 0 for every entry) at ``dim <= sparse_dim``,
  else a new dense dim of the values (norse's ``LIFRecurrent`` adds a time dim to sparse spikes).

The function forms (``torch.select(s, 0, i)``, ``torch.unbind(s)``, ``torch.mul(s, t)``, also
``torch.transpose``/``t``/``sum`` of ``sparse_tensor.py``'s methods) reach these methods from the
failing call's ``except`` clause (``torch_function_foreign.foreign_params``): no cost elsewhere.

As in PyTorch, selecting the only sparse dim of a tensor leaves a dense one (``s1d[i]`` is a 0-d
tensor: the sum of the values stored at ``i``). A new result is marked coalesced only when it holds
at most one entry (PyTorch's rule: ``s[i].is_coalesced()`` is False for a row of two entries even
when ``s`` is coalesced); ``sparse * sparse`` is coalesced when both operands are (or one is empty). Gradients reach
the values through the indexing of the values tensor, as everywhere in ``sparse_tensor.py``.
"""

from __future__ import annotations

import operator
from typing import Any

from glassgrad.backend import array_module
from glassgrad.errors import IndexOutOfRangeError, ShapeError
from glassgrad.ops.indexing import normalize_dim
from glassgrad.ops.joining import cat as dense_cat
from glassgrad.ops.sparse import unsupported
from glassgrad.sparse_dense_dims import dense_dim_cat, dense_dim_index_select, dense_dim_select
from glassgrad.sparse_elementwise import sparse_mul_dense
from glassgrad.sparse_tensor import SparseTensor, _make
from glassgrad.tensor import Tensor

__all__ = [
    "sparse_select",
    "sparse_unbind",
    "sparse_index_select",
    "sparse_join",
    "sparse_mul",
    "sparse_unsqueeze",
]


def _result(ix: Any, vals: Tensor, size: tuple) -> SparseTensor:
    return _make(ix, vals, tuple(size), int(ix.shape[1]) <= 1)  # PyTorch's flag for a new result


def _sparse_dim(self: SparseTensor, dim: Any, op: str) -> int:
    d = normalize_dim(dim, self._data.ndim, op, self._data.shape)
    if d >= self._ix.shape[0]:
        raise NotImplementedError(
            unsupported(f"{op} along a dense dim (dim {d} of a tensor with sparse_dim {self._ix.shape[0]})")
        )
    return d


def _rows(self: SparseTensor, keep: Any) -> Tensor:
    """The values of the stored entries ``keep`` (an int64 array), differentiably."""
    return self._vals.index_select(0, Tensor(keep, _wrap=True))


def sparse_select(self: SparseTensor, dim: int, index: Any) -> Tensor:
    """``s.select(dim, index)``: the slice at ``index`` along ``dim`` (``dim`` removed)."""
    d = normalize_dim(dim, self._data.ndim, "select", self._data.shape)
    if d >= self._ix.shape[0]:  # a dense dim: the values' slice (sparse_dense_dims.py)
        return dense_dim_select(self, d, index)
    n, i = self._data.shape[d], operator.index(index)
    if not -n <= i < n:
        raise IndexOutOfRangeError(
            f"select(): index {i} out of range for tensor of size {list(self._data.shape)} at dimension {d}"
        )
    xp = array_module(self._ix)
    keep = xp.nonzero(self._ix[d] == i % n)[0].astype(xp.int64)
    vals = _rows(self, keep)
    if self._ix.shape[0] == 1:  # no sparse dim left: the dense slice (stored duplicates add up)
        return vals.sum(0, dtype=vals.dtype)  # an integer sum keeps its dtype (PyTorch's gh-82150)
    size = self._data.shape[:d] + self._data.shape[d + 1 :]
    return _result(xp.delete(self._ix[:, keep], d, axis=0), vals, size)


def sparse_unbind(self: SparseTensor, dim: int = 0) -> tuple:
    """``s.unbind(dim)``: every slice along the sparse dim ``dim``, as ``select`` gives it."""
    d = _sparse_dim(self, dim, "unbind")
    return tuple(sparse_select(self, d, i) for i in range(self._data.shape[d]))


def sparse_getitem(self: SparseTensor, key: Any) -> Tensor:
    """``s[i]`` with an int: ``s.select(0, i)``; ``s[i, j, ...]`` with ints selects one dim after
    another (PyTorch's); other keys are refused."""
    if isinstance(key, tuple) and len(key) == 1:
        key = key[0]
    if isinstance(key, tuple) and key and all(isinstance(k, int) and not isinstance(k, bool) for k in key):
        out = self
        for k in key:  # each select drops dim 0; once no sparse dim is left the rest is dense indexing
            out = sparse_select(out, 0, k) if isinstance(out, SparseTensor) else out[k]
        return out
    if isinstance(key, bool) or not hasattr(key, "__index__") or (isinstance(key, Tensor) and key.ndim):
        raise NotImplementedError(unsupported(f"indexing with {type(key).__name__} (only s[int] is)"))
    return sparse_select(self, 0, key)


def sparse_index_select(self: SparseTensor, dim: int, index: Any) -> SparseTensor:
    """``s.index_select(dim, index)``: the slices at ``index`` (1-D int) of the sparse dim ``dim``,
    in the index's order; within one slice the stored order is kept (PyTorch's order). Along a dense
    dim it selects from the values (``sparse_dense_dims.py``)."""
    d = normalize_dim(dim, self._data.ndim, "index_select", self._data.shape)
    idx = index._data if isinstance(index, Tensor) else array_module(self._ix).asarray(index)
    if idx.ndim > 1 or idx.dtype.kind not in "iu":
        raise IndexOutOfRangeError(
            f"index_select(): expected a 1-D integer index, got shape {tuple(idx.shape)} and dtype {idx.dtype}"
        )
    xp, n = array_module(self._ix), self._data.shape[d]
    idx = idx.reshape(-1).astype(xp.int64)
    bad = (idx < -n) | (idx >= n)
    if bad.any():
        raise IndexOutOfRangeError(
            f"index_select(): index {int(idx[bad][0])} out of range for tensor of size "
            f"{list(self._data.shape)} at dimension {d}"
        )
    if d >= self._ix.shape[0]:
        return dense_dim_index_select(self, d, idx)
    pos, ent = xp.nonzero(self._ix[d][None, :] == (idx % n)[:, None])  # by index position, then stored order
    ix = self._ix[:, ent].copy()
    ix[d] = pos
    size = self._data.shape[:d] + (int(idx.shape[0]),) + self._data.shape[d + 1 :]
    return _result(ix, _rows(self, ent.astype(xp.int64)), size)


def sparse_join(tensors: list, dim: int, op: str) -> SparseTensor:
    """``cat`` (``op="cat"``) or ``stack`` (``op="stack"``) of sparse COO tensors along a sparse dim
    (or ``cat`` along a dense dim: ``sparse_dense_dims.dense_dim_cat``)."""
    for k, t in enumerate(tensors):
        if not isinstance(t, SparseTensor):
            raise RuntimeError(
                f"{op}: concatenating sparse tensors, but a dense tensor was found at position {k}"
            )
    ref = tensors[0]
    sd, shape = ref._ix.shape[0], ref._data.shape
    d = normalize_dim(dim, len(shape) + (op == "stack"), op, shape)
    dense_dim = d >= sd + (op == "stack")
    if dense_dim and op == "stack":
        raise NotImplementedError(unsupported(f"{op} along a dense dim (dim {d}, sparse_dim {sd})"))
    for t in tensors[1:]:
        other = t._data.shape
        same = other == shape if op == "stack" else other[:d] + other[d + 1 :] == shape[:d] + shape[d + 1 :]
        if not same or t._ix.shape[0] != sd:
            raise ShapeError(
                f"{op}: expected sparse tensors of one shape{' outside dim ' + str(d) if op == 'cat' else ''} "
                f"and sparse_dim, got {tuple(shape)} (sparse_dim {sd}) and {tuple(other)} (sparse_dim {t._ix.shape[0]})"
            )
    if dense_dim:
        return dense_dim_cat(tensors, d)
    xp = array_module(ref._ix)
    pieces, offset = [], 0
    for k, t in enumerate(tensors):
        ix = t._ix.copy()
        if op == "stack":
            ix = xp.insert(ix, d, k, axis=0)
        else:
            ix[d] += offset
            offset += t._data.shape[d]
        pieces.append(ix)
    if op == "stack":
        size = shape[:d] + (len(tensors),) + shape[d:]
    else:
        size = shape[:d] + (offset,) + shape[d + 1 :]
    vals = dense_cat([t._vals for t in tensors], 0)  # the values' dtypes promoted as a dense cat's
    return _result(xp.concatenate(pieces, axis=1), vals, size)


def sparse_mul(a: SparseTensor, b: SparseTensor) -> SparseTensor:
    """``a * b`` of two sparse tensors of one shape, laid out as PyTorch's intersection kernel lays it.

    Two coalesced operands give the products at the positions stored in both (coalesced). Else
    one operand is the source, kept as stored (duplicates too), each entry times the other's
    coalesced value at its position, 0 where it has none (an explicit zero stays stored): the
    uncoalesced one if the other is coalesced, else the one with fewer entries (``b`` on a tie).
    """
    sd = a._ix.shape[0]
    if a._data.shape != b._data.shape or b._ix.shape[0] != sd:
        raise ShapeError(
            f"mul: expected sparse tensors of one shape and sparse_dim, got {tuple(a._data.shape)} "
            f"(sparse_dim {sd}) and {tuple(b._data.shape)} (sparse_dim {b._ix.shape[0]})"
        )
    xp, sizes = array_module(a._ix), a._data.shape[:sd]
    if not (a._coalesced and b._coalesced) and a._ix.shape[1] and b._ix.shape[1]:
        a_is_source = b._coalesced if a._coalesced != b._coalesced else a._ix.shape[1] < b._ix.shape[1]
        src, other = (a, b.coalesce()) if a_is_source else (b, a.coalesce())
        ks = xp.ravel_multi_index(tuple(src._ix), sizes)
        ko = xp.ravel_multi_index(tuple(other._ix), sizes)  # sorted: other is coalesced
        pos = xp.minimum(xp.searchsorted(ko, ks), ko.shape[0] - 1)
        pos = xp.where(ko[pos] == ks, pos, ko.shape[0]).astype(xp.int64)  # a miss reads the zero row
        zero = other._vals.new_zeros((1, *other._vals.shape[1:]))
        at = dense_cat([other._vals, zero], 0).index_select(0, Tensor(pos, _wrap=True))
        vals = src._vals * at if a_is_source else at * src._vals
        return _make(src._ix, vals, a._data.shape, False)
    ca, cb = a.coalesce(), b.coalesce()
    ka = xp.ravel_multi_index(tuple(ca._ix), sizes) if ca._ix.shape[1] else xp.zeros(0, dtype=xp.int64)
    kb = xp.ravel_multi_index(tuple(cb._ix), sizes) if cb._ix.shape[1] else xp.zeros(0, dtype=xp.int64)
    _, ia, ib = xp.intersect1d(ka, kb, assume_unique=True, return_indices=True)  # sorted: row-major
    vals = _rows(ca, ia.astype(xp.int64)) * _rows(cb, ib.astype(xp.int64))
    return _make(ca._ix[:, ia], vals, a._data.shape, True)  # (an operand with no entry: empty, coalesced)


def sparse_unsqueeze(self: SparseTensor, dim: int) -> SparseTensor:
    """``s.unsqueeze(dim)``: at ``dim <= sparse_dim`` a sparse dim of size 1 (PyTorch's ``sparse_dim``
    grows by one), further right a dense dim of the values (``dense_dim`` grows)."""
    shape, sd = self._data.shape, self._ix.shape[0]
    d = normalize_dim(dim, len(shape) + 1, "unsqueeze", shape)
    size = shape[:d] + (1,) + shape[d:]
    if d <= sd:
        xp = array_module(self._ix)
        return _result(xp.insert(self._ix, d, 0, axis=0), self._vals, size)
    return _result(self._ix, self._vals.unsqueeze(d - sd + 1), size)


_scalar_or_dense_mul = SparseTensor.__mul__  # a number or a 0-d tensor


def _mul(self: SparseTensor, other: Any) -> Any:
    if isinstance(other, SparseTensor):
        return sparse_mul(self, other)
    if isinstance(other, Tensor) and other._data.ndim > 0:
        return sparse_mul_dense(self, other)
    return _scalar_or_dense_mul(self, other)


SparseTensor.select = sparse_select
SparseTensor.unbind = sparse_unbind
SparseTensor.index_select = sparse_index_select
SparseTensor.unsqueeze = sparse_unsqueeze
SparseTensor.__getitem__ = sparse_getitem
SparseTensor.__mul__ = SparseTensor.__rmul__ = SparseTensor.mul = _mul
