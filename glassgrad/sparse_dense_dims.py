"""Sparse COO shape ops: along a dense dim of a hybrid tensor, ``narrow_copy``, ``permute``,
``transpose_``/``t_``, ``sparse_resize_``/``resize_as_``, ``norm``, ``copy_``, and the matrix-vector
and strict matrix products (PyTorch's ``test_sparse.py``: ``test_select``, ``test_index_select``,
``test_cat``, ``test_narrow``, ``test_permute``, ``test_mv``, ``test_norm``, ``test_Sparse_to_Sparse_copy_``).

A hybrid tensor's dense dims live in its values ``(nnz, *dense)``: a dense dim ``d`` is the values'
axis ``d - sparse_dim + 1``, so these ops act on the values and keep the indices (and so the
coalesced flag). Gradients reach the values through the dense op on them, as everywhere else.
"""

from __future__ import annotations

import operator
from typing import Any

from glassgrad.backend import array_module
from glassgrad.errors import IndexOutOfRangeError, ShapeError
from glassgrad.ops.indexing import normalize_dim
from glassgrad.ops.joining import cat as dense_cat
from glassgrad.sparse_tensor import SparseTensor, _make, sparse_matmul
from glassgrad.tensor import Tensor

__all__ = ["dense_dim_select", "dense_dim_index_select", "dense_dim_cat", "sparse_narrow_copy"]


def dense_dim_select(self: SparseTensor, d: int, index: Any) -> SparseTensor:
    """``s.select(d, i)`` for a dense dim ``d``: the values' slice; the indices are kept."""
    n, i = self._data.shape[d], operator.index(index)
    if not -n <= i < n:
        raise IndexOutOfRangeError(
            f"select(): index {i} out of range for tensor of size {list(self._data.shape)} at dimension {d}"
        )
    sd = self._ix.shape[0]
    size = self._data.shape[:d] + self._data.shape[d + 1 :]
    return _make(self._ix, self._vals.select(d - sd + 1, i % n), size, self._coalesced)


def dense_dim_index_select(self: SparseTensor, d: int, idx: Any) -> SparseTensor:
    """``s.index_select(d, idx)`` for a dense dim ``d``; ``idx`` a checked 1-D int64 array, negative
    entries refused as by a dense ``index_select`` (PyTorch's; along a sparse dim they count from the end)."""
    n, sd = self._data.shape[d], self._ix.shape[0]
    if idx.shape[0] and int(idx.min()) < 0:
        raise IndexOutOfRangeError(
            f"index_select(): index {int(idx.min())} out of range for dense dim {d} of size {n} (index out of range in self)"
        )
    vals = self._vals.index_select(d - sd + 1, Tensor(idx, _wrap=True))
    size = self._data.shape[:d] + (int(idx.shape[0]),) + self._data.shape[d + 1 :]
    return _make(self._ix, vals, size, self._coalesced)


def dense_dim_cat(tensors: list, d: int) -> SparseTensor:
    """``cat`` of sparse tensors (one sparse_dim, one shape outside ``d``) along a dense dim ``d``:
    the entries of every operand, each one's values zero-padded to the joined dense size (PyTorch's)."""
    sd = tensors[0]._ix.shape[0]
    axis = d - sd + 1
    total = sum(t._data.shape[d] for t in tensors)
    pieces, offset = [], 0
    for t in tensors:
        v = t._vals
        width = t._data.shape[d]
        parts = []
        for w in (offset, total - offset - width):  # zeros before and after this operand's block
            if w:
                shape = list(v.shape)
                shape[axis] = w
                parts.append(Tensor(array_module(v._data).zeros(tuple(shape), v._data.dtype), _wrap=True))
        parts.insert(1 if offset else 0, v)
        pieces.append(dense_cat(parts, axis) if len(parts) > 1 else v)
        offset += width
    xp = array_module(tensors[0]._ix)
    ix = xp.concatenate([t._ix for t in tensors], axis=1)
    size = tensors[0]._data.shape[:d] + (total,) + tensors[0]._data.shape[d + 1 :]
    return _make(ix, dense_cat(pieces, 0), size, int(ix.shape[1]) <= 1)


def sparse_narrow_copy(self: SparseTensor, dim: Any, start: Any, length: Any) -> SparseTensor:
    """``s.narrow_copy(dim, start, length)``: entries with ``start <= index < start + length`` along a
    sparse ``dim`` (shifted to start at 0), or the values narrowed along a dense one. As PyTorch's
    sparse kernel, ``dim`` must be non-negative and the range inside the dim (else ``RuntimeError``)."""
    shape, sd = self._data.shape, self._ix.shape[0]
    d, s, n = operator.index(dim), operator.index(start), operator.index(length)
    if not 0 <= d < len(shape):
        raise ShapeError(f"narrow_copy(): expected 0 <= dim < {len(shape)} for a sparse tensor, got dim {d}")
    if s < 0 or n < 0 or s + n > shape[d]:
        raise ShapeError(
            f"narrow_copy(): expected 0 <= start and start + length <= {shape[d]} (size of dim {d}), "
            f"got start {s} and length {n}"
        )
    size = shape[:d] + (n,) + shape[d + 1 :]
    if d >= sd:
        return _make(self._ix, self._vals.narrow(d - sd + 1, s, n), size, self._coalesced)
    xp = array_module(self._ix)
    keep = xp.nonzero((self._ix[d] >= s) & (self._ix[d] < s + n))[0].astype(xp.int64)
    ix = self._ix[:, keep]
    ix[d] -= s
    vals = self._vals.index_select(0, Tensor(keep, _wrap=True))
    return _make(ix, vals, size, self._coalesced)  # a subset in stored order: sorted and unique stay so


def check_matrix_operand(op: str, mat2: Any) -> None:
    """PyTorch's ``mm``/``sparse.mm``/``addmm`` take a matrix only (``@`` also takes a vector)."""
    if isinstance(mat2, Tensor) and mat2._data.ndim != 2:
        normalize_dim(1, mat2._data.ndim, op, tuple(mat2.shape))  # PyTorch's IndexError for a vector
        raise ShapeError(f"{op}: expected mat2 to be a matrix, got shape {tuple(mat2.shape)}")


def sparse_mm(self: SparseTensor, mat2: Any) -> Tensor:
    """``s.mm(mat2)`` / ``torch.mm(s, mat2)``: ``(n, k) @ (k, m) -> (n, m)``; ``mat2`` a matrix."""
    check_matrix_operand("mm", mat2)
    return sparse_matmul(self, mat2, "mm")


def sparse_mv(self: SparseTensor, vec: Any) -> Tensor:
    """``s.mv(vec)``: ``(n, k) @ (k,) -> (n,)`` with a dense vector, as PyTorch's."""
    if (
        not isinstance(vec, Tensor)
        or isinstance(vec, SparseTensor)
        or self._data.ndim != 2
        or vec._data.ndim != 1
    ):
        got = tuple(vec.shape) if isinstance(vec, Tensor) else type(vec).__name__
        raise ShapeError(
            f"mv: two tensor dim should be 2 and 1 (a sparse matrix and a dense vector), got {tuple(self.shape)} and {got}"
        )
    if self._data.shape[1] != vec._data.shape[0]:
        raise ShapeError(
            f"mv: expected self.size(-1) == vec.size(-1), got {tuple(self.shape)} and {tuple(vec.shape)}"
        )
    return sparse_matmul(self, vec, "mv")


def sparse_permute(self: SparseTensor, *dims: Any, **kwargs: Any) -> SparseTensor:
    """``s.permute(dims)``: the sparse dims reordered among themselves (the indices' rows) and the
    dense dims among themselves (the values' axes); mixing the two is refused, as PyTorch does."""
    if "dims" in kwargs and not dims:  # s.permute(dims=(...)), PyTorch's keyword
        dims = (kwargs.pop("dims"),)
    if kwargs:
        raise TypeError(f"permute() got unexpected keyword arguments {sorted(kwargs)}")
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    shape, sd = self._data.shape, self._ix.shape[0]
    if len(dims) != len(shape):
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the length of "
            f"the desired ordering of dimensions i.e. input.dim() = {len(shape)} is not equal to len(dims) = {len(dims)}"
        )
    order = [normalize_dim(d, len(shape), "permute", shape) for d in dims]
    if len(set(order)) != len(order):
        raise RuntimeError(f"permute(sparse_coo): duplicate dims are not allowed, got {tuple(dims)}")
    if sorted(order[:sd]) != list(range(sd)):
        raise RuntimeError(
            f"permute(sparse_coo): transpositions between sparse and dense dimensions are not allowed; "
            f"only the first {sd} (sparse) dims may be permuted among themselves, got {tuple(dims)}"
        )
    vals = self._vals.permute(0, *(d - sd + 1 for d in order[sd:])) if len(shape) > sd else self._vals
    # PyTorch's flag: kept only when dims[0] is literally 0 (the leading sparse dim stays first;
    # PyTorch does not wrap a negative dims[0] here, so the flag is then dropped: safe, only slower)
    coalesced = self._coalesced and len(dims) > 0 and dims[0] == 0
    return _make(self._ix[order[:sd]], vals, tuple(shape[d] for d in order), coalesced)


def _in_place_transpose(self: SparseTensor, dim0: int, dim1: int) -> SparseTensor:
    """``s.transpose_(dim0, dim1)``: ``s`` becomes its transpose (sparse dims only, as ``transpose``)."""
    from glassgrad.sparse_arith import _take  # (it builds on the modules this one is imported by)

    return _take(self, self.transpose(dim0, dim1), "transpose_")


def _in_place_t(self: SparseTensor) -> SparseTensor:
    return _in_place_transpose(self, 0, 1) if self._data.ndim == 2 else self


def sparse_norm(
    self: SparseTensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> Tensor:
    """``s.norm(p)``: the ``p``-norm of the coalesced values (a full reduction, dense 0-d), as
    PyTorch's ``norm_sparse``; it refuses ``dim``, ``keepdim=True`` and ``dtype`` as PyTorch does."""
    if keepdim:
        raise RuntimeError("norm_sparse currently does not support keepdim=True")
    if dim is not None:
        raise RuntimeError("norm_sparse currently only supports full reductions (dim=None)")
    if dtype is not None:
        if p == "fro":
            raise ValueError("dtype argument is not supported in frobenius norm")
        raise RuntimeError("norm_sparse currently does not support 'dtype' argument")
    vals = self.coalesce()._vals  # duplicates summed first: the norm of the tensor, not of its entries
    return vals.reshape(-1).norm(2 if p == "fro" else p)


def sparse_copy_(self: SparseTensor, src: Any, non_blocking: bool = False) -> SparseTensor:
    """``s.copy_(src)``: ``s`` takes ``src``'s entries (a sparse tensor of the same shape, no
    broadcasting) in ``s``'s own dtype; differentiable w.r.t. ``src``'s values, as PyTorch's."""
    from glassgrad.sparse_arith import _take  # (it builds on the modules this one is imported by)

    if not isinstance(src, SparseTensor):
        raise RuntimeError(
            f"copy_: expected a sparse COO source for a sparse tensor, got {type(src).__name__}"
        )
    if tuple(src.shape) != tuple(self.shape):
        raise RuntimeError(
            f"copy_: expected a source of shape {tuple(self.shape)} (no broadcasting), got {tuple(src.shape)}"
        )
    vals = src._vals.clone().to(self.dtype)  # a copy (a node of its own: ``s`` is no longer a leaf)
    return _take(self, _make(src._ix.copy(), vals, src._data.shape, src._coalesced), "copy_")


def sparse_resize_(self: SparseTensor, size: Any, sparse_dim: int, dense_dim: int) -> SparseTensor:
    """``s.sparse_resize_(size, sparse_dim, dense_dim)``: a new size (entries kept). With stored
    entries PyTorch allows only growing sparse sizes (same sparse_dim, dense_dim and dense sizes);
    an empty tensor takes any layout."""
    from glassgrad.sparse_arith import _take  # (it builds on the modules this one is imported by)

    size, sd = tuple(int(n) for n in size), self._ix.shape[0]
    if len(size) != sparse_dim + dense_dim:
        raise RuntimeError(f"sparse_resize_: expected {sparse_dim} + {dense_dim} dims in size, got {size}")
    old = self._data.shape
    if self._ix.shape[1]:
        if sparse_dim != sd or dense_dim != len(old) - sd:
            raise RuntimeError(
                f"sparse_resize_: changing the number of sparse or dense dimensions (from {sd}, {len(old) - sd} "
                f"to {sparse_dim}, {dense_dim}) on a non-empty sparse tensor is not supported"
            )
        if size[sd:] != old[sd:] or any(n < o for n, o in zip(size[:sd], old[:sd])):
            raise RuntimeError(
                f"sparse_resize_: shrinking the size of sparse dimensions or changing dense sizes (from "
                f"{list(old)} to {list(size)}) on a non-empty sparse tensor is not supported"
            )
        return _take(self, _make(self._ix, self._vals, size, self._coalesced), "sparse_resize_")
    xp = array_module(self._ix)
    vals = Tensor(xp.zeros((0,) + size[sparse_dim:], self._vals._data.dtype), _wrap=True)
    return _take(self, _make(xp.zeros((sparse_dim, 0), xp.int64), vals, size, True), "sparse_resize_")


def sparse_resize_as_(self: SparseTensor, other: Any) -> SparseTensor:
    """``s.resize_as_(other)`` with a sparse ``other``: ``sparse_resize_`` to its size and dims."""
    if not isinstance(other, SparseTensor):
        raise NotImplementedError(
            f"resize_as_: expected a sparse COO tensor to take the size of, got {type(other).__name__}"
        )
    return sparse_resize_(self, other.shape, other.sparse_dim(), other.dense_dim())


SparseTensor.sparse_resize_ = sparse_resize_
SparseTensor.resize_as_ = sparse_resize_as_
SparseTensor.norm = sparse_norm
SparseTensor.copy_ = sparse_copy_
SparseTensor.narrow_copy = sparse_narrow_copy
SparseTensor.permute = sparse_permute
SparseTensor.transpose_ = _in_place_transpose
SparseTensor.t_ = _in_place_t
SparseTensor.mm = sparse_mm
SparseTensor.mv = sparse_mv
