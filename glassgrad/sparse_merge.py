"""The sum of two sparse COO tensors, laid out as PyTorch lays it out.

PyTorch's CPU ``add`` of two sparse tensors (``add_out_sparse_contiguous``) walks both entry lists
at once, as a merge: it compares the two current index tuples (row-major), emits the smaller one,
and where they are equal emits one entry holding their sum. Two coalesced tensors so give their
coalesced sum; otherwise the walk keeps the stored order and each input's own duplicates, and the
result is not marked coalesced (``[2, 0] + [2, 3]`` gives ``[2, 0, 3]``, its 2 summed).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassgrad.backend import array_module
from glassgrad.ops.indexing_more import index_add
from glassgrad.ops.joining import cat
from glassgrad.tensor import Tensor

__all__ = ["merge_add", "relaid_empty"]


def relaid_empty(a: Any, b: Any) -> tuple:
    """Two sparse tensors of one shape but different sparse_dims, one of them with no entry: that one
    relaid with the other's sparse_dim (PyTorch adds such a pair, e.g. ``sparse_coo_tensor(size)`` +
    a hybrid tensor); any other pair is returned as it is (``add`` refuses it)."""
    from glassgrad.sparse_tensor import _make  # (sparse_tensor imports this module lazily)

    for empty, full in ((a, b), (b, a)):
        if empty._ix.shape[1] == 0:
            sd, xp = full._ix.shape[0], array_module(empty._ix)
            vals = Tensor(xp.zeros((0,) + tuple(empty.shape[sd:]), empty._vals._data.dtype), _wrap=True)
            new = _make(
                xp.zeros((sd, 0), xp.int64), vals.requires_grad_(empty.requires_grad), empty.shape, True
            )
            return (new, full) if empty is a else (full, new)
    return a, b


def _keys(ix: Any, sizes: tuple) -> Any:
    """Row-major keys of the index columns: ints while the sizes' product fits, else tuples."""
    if math.prod(sizes) < 2**62:
        return np.ravel_multi_index(tuple(np.asarray(ix)), sizes).tolist() if ix.shape[1] else []
    return list(zip(*np.asarray(ix).tolist(), strict=True))


def _walk(tk: list, sk: list) -> tuple:
    """PyTorch's merge walk: for each output entry, its source in t (or -1) and in s (or -1)."""
    ti = si = 0
    nt, ns = len(tk), len(sk)
    from_t, from_s = [], []
    while ti < nt or si < ns:
        if ti >= nt:
            cmp = -1
        elif si >= ns:
            cmp = 1
        else:
            cmp = 1 if tk[ti] < sk[si] else -1 if tk[ti] > sk[si] else 0
        from_t.append(ti if cmp >= 0 else -1)
        from_s.append(si if cmp <= 0 else -1)
        ti += cmp >= 0
        si += cmp <= 0
    return np.array(from_t, dtype=np.int64), np.array(from_s, dtype=np.int64)


def _sorted_walk(tk: Any, sk: Any) -> tuple:
    """The same walk for two coalesced (sorted, duplicate-free) key arrays: their sorted union."""
    keys = np.union1d(tk, sk)
    ft, fs = np.full(keys.size, -1, np.int64), np.full(keys.size, -1, np.int64)
    ft[np.searchsorted(keys, tk)] = np.arange(len(tk))
    fs[np.searchsorted(keys, sk)] = np.arange(len(sk))
    return ft, fs


def _axpy_into_zeros(v: Tensor) -> Tensor:
    """PyTorch's value of an entry taken by the walk: ``0 + 1 * v`` (its result starts at zeros and
    each input is added with ``axpy``), so -0.0 reads 0.0, and a complex ``1 * v`` is a complex
    product: a nan or inf part spreads to the other part (``nan+0.5j`` reads ``nan+nanj``)."""
    kind = v._data.dtype.kind
    if kind == "c":
        return v * (1 + 0j) + 0
    return v + 0.0 if kind == "f" else v


def merge_add(t_ix: Any, t_vals: Tensor, s_ix: Any, s_vals: Tensor, sizes: tuple, coalesced: bool) -> tuple:
    """(indices, values) of ``t + s`` for index arrays ``(sparse_dim, nnz)`` and values Tensors
    ``(nnz, *dense)`` of one dtype; differentiable w.r.t. both values (an entry of t alone keeps its
    value, a shared entry is t's value + s's, each as ``_axpy_into_zeros`` reads it)."""
    tk, sk = _keys(t_ix, sizes), _keys(s_ix, sizes)
    if coalesced and isinstance(tk, list) and (not tk or isinstance(tk[0], int)):
        ft, fs = _sorted_walk(np.asarray(tk, np.int64), np.asarray(sk, np.int64))
    else:
        ft, fs = _walk(tk, sk)
    t_vals, s_vals = _axpy_into_zeros(t_vals), _axpy_into_zeros(s_vals)
    xp = array_module(t_ix)
    nt = t_ix.shape[1]
    # each output entry's first source: its t entry, else its s entry (at nt + j in the joined list)
    first = np.where(ft >= 0, ft, nt + fs)
    joined = xp.concatenate((t_ix, s_ix), axis=1)
    ix = joined[:, first] if first.size else joined[:, :0]
    vals = cat([t_vals, s_vals], 0)[first] if first.size else cat([t_vals, s_vals], 0)[:0]
    both = np.flatnonzero((ft >= 0) & (fs >= 0))
    if both.size:  # the shared entries: t's value + s's
        vals = index_add(vals, 0, Tensor(both, _wrap=True), s_vals[fs[both]])
    return ix, vals
