"""``torch.sparse.softmax`` / ``torch.sparse.log_softmax``: softmax over the specified entries of a
sparse COO tensor only (the unspecified ones count as -inf, so they stay unspecified), as graph
attention code normalises its edge scores per node. Composed of differentiable ops on the
coalesced values, so gradients reach the values the tensor was built from.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.errors import IndexOutOfRangeError
from glassgrad.ops import softmax as _softmax
from glassgrad.sparse_tensor import SparseTensor, _make
from glassgrad.tensor import Tensor

__all__ = ["softmax", "log_softmax"]


def _sparse_softmax(op: str, input: Any, dim: int, dtype: Any, log: bool) -> SparseTensor:  # noqa: A002
    if not isinstance(input, SparseTensor):
        raise NotImplementedError(
            f"sparse.{op}: expected a sparse COO tensor, got a dense one (use nn.functional.{op})"
        )
    nd = input._data.ndim
    if not -nd <= dim < nd:
        raise IndexOutOfRangeError(
            f"sparse.{op}: dim {dim} out of range for a {nd}-D tensor (Dimension out of range)"
        )
    d = dim % nd
    s = input.coalesce()
    vals = s._vals if dtype is None else s._vals.to(dtype)
    ix, sd = s._ix, s._ix.shape[0]
    if d >= sd:  # a dense dim: each entry's values normalised on their own
        fn = _softmax.log_softmax if log else _softmax.softmax
        return _make(ix, fn(vals, d - sd + 1), s._data.shape, True)
    # the entries that share every sparse index but dim's form one group, numbered 0..G-1
    others = [k for k in range(sd) if k != d]
    if others:
        key = np.ravel_multi_index(tuple(ix[others]), tuple(s._data.shape[k] for k in others))
        _, group = np.unique(key, return_inverse=True)
    else:
        group = np.zeros(ix.shape[1], dtype=np.int64)
    g = Tensor(group.reshape(-1).astype(np.int64), _wrap=True)
    n = int(group.max()) + 1 if group.size else 0
    spread = g.reshape((-1,) + (1,) * (vals.ndim - 1)).expand(vals.shape)
    top = vals.new_full((n, *vals.shape[1:]), float("-inf")).scatter_reduce(
        0, spread, vals.detach(), "amax", include_self=False
    )  # a constant shift: the softmax does not depend on it
    shifted = vals - top[g]
    e = shifted.exp()
    total = e.new_zeros((n, *vals.shape[1:])).index_add(0, g, e)
    out = shifted - total.log()[g] if log else e / total[g]
    return _make(ix, out, s._data.shape, True)


def softmax(input: Any, dim: int, *, dtype: Any = None) -> SparseTensor:  # noqa: A002
    """Softmax along ``dim`` over each group of specified entries of a sparse COO tensor (a sparse
    dim), or of each entry's values (a dense dim); a coalesced sparse tensor of input's shape."""
    return _sparse_softmax("softmax", input, dim, dtype, log=False)


def log_softmax(input: Any, dim: int, *, dtype: Any = None) -> SparseTensor:  # noqa: A002
    """The log of ``softmax``: same layout, computed as shifted scores minus the log of their sum."""
    return _sparse_softmax("log_softmax", input, dim, dtype, log=True)
