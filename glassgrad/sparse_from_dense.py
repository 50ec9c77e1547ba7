"""``dense.to_sparse()`` and ``dense.to_dense()``: the dense tensor's side of the COO layout
(attached to ``Tensor`` in ``methods.py``; the sparse tensor itself is ``sparse_tensor.py``)."""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import named
from glassgrad.backend import array_module
from glassgrad.errors import ShapeError
from glassgrad.sparse_tensor import _make, sparse_coo
from glassgrad.tensor import Tensor

__all__ = ["to_sparse", "dense_to_dense"]


def to_sparse(self: Tensor, sparse_dim: Any = None, *, layout: Any = None, **kwargs: Any) -> Tensor:
    """``dense.to_sparse()``: the nonzero entries, coalesced; differentiable w.r.t. the dense tensor."""
    if layout is not None and layout != sparse_coo:
        raise NotImplementedError(f"to_sparse: only layout=glassgrad.sparse_coo is supported, got {layout}")
    data = self._data
    sd = data.ndim if sparse_dim is None else int(sparse_dim)
    if not min(1, data.ndim) <= sd <= data.ndim:  # a 0-d tensor has sparse_dim 0, as PyTorch's
        raise ShapeError(f"to_sparse: expected 1 <= sparse_dim <= {data.ndim}, got {sd}")
    xp = array_module(data)
    if data.ndim == 0:  # PyTorch's: indices (0, 1) holding the value when it is nonzero, else (0, 0)
        n = int(data != 0)
        vals = named(self.reshape(1)[:n], f"ToSparseBackward{int(sparse_dim is None)}")
        return _make(xp.zeros((0, n), xp.int64), vals, (), True)
    mask = data != 0
    if sd < data.ndim:
        mask = mask.any(axis=tuple(range(sd, data.ndim)))  # a slice is stored if any entry is nonzero
    idx = xp.nonzero(mask)
    ix = xp.stack(idx).astype(xp.int64).reshape(sd, -1)
    # PyTorch's node: ToSparseBackward0 for to_sparse(sparse_dim), ToSparseBackward1 without it
    vals = named(self[idx], f"ToSparseBackward{int(sparse_dim is None)}")
    return _make(ix, vals, tuple(data.shape), True)


def dense_to_dense(self: Tensor, dtype: Any = None, *, masked_grad: Any = None) -> Tensor:
    return self if dtype is None else self.to(dtype)
