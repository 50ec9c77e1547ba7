"""Primitives of sparse COO tensors (``glassgrad.sparse_tensor``), on raw arrays.

A sparse tensor is a pair: an integer ``(sparse_dim, nnz)`` index array, which is never
differentiated, and a ``(nnz, *dense_dims)`` values array, which is. Every op here therefore takes
the values (and a dense operand, for the product) as its arrays and the indices as attributes, and
returns gradients of the values' shape: the engine never sees a sparse tensor.

Sums over nonzeros sharing a row (or a column, or a coalesced position) are segment sums: a stable
sort by key, then one ``add.reduceat``. That is vectorised and keeps the values' dtype, and measured
about twice as fast as ``add.at`` on a Cora-sized graph (2,708 nodes, 13,000 nonzeros, 16 columns).
"""

from __future__ import annotations

import math
from numbers import Number
from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module

__all__ = [
    "SparseStorage",
    "unsupported",
    "segment_sum",
    "coalesce_index",
    "SparseMM",
    "SparseToDense",
    "SparseCoalesce",
]


_SUPPORTED = (
    "supported on sparse COO tensors: to_dense(), coalesce(), indices(), values(), t(), "
    "sparse.mm / mm / spmm / @ with a dense operand or of two 2-D sparse ones, sparse.sum, sparse + sparse, dense + sparse, "
    "add / sub (alpha) / neg of sparse ones and add_ / sub_ / mul_ / div_ / neg_ / zero_ / += / -= / *= / /= in place, "
    "* and / by a scalar, * by a dense tensor broadcastable to its shape or a sparse one, abs / sqrt / sin / "
    "pow (a number) and the other zero-preserving unary ops, // and div(rounding_mode=), norm, copy_, "
    "select / s[i, ...] / unbind / index_select / narrow_copy, transpose(_) / permute of sparse dims, mv, "
    "smm / hspmm / dsmm / saddmm / sspaddmm, cat / stack of sparse tensors; call .to_dense() first"
)


def unsupported(op: str) -> str:
    return f"{op}: not supported for sparse COO tensors (layout=glassgrad.sparse_coo); {_SUPPORTED}"


class SparseStorage:
    """What a SparseTensor's (``glassgrad.sparse_tensor``) ``_data`` slot holds: shape and dtype for the metadata that Tensor
    reads, and a refusal, naming the operation, for anything that would need the dense array."""

    __slots__ = ("dtype", "itemsize", "ndim", "shape", "size")
    base = None  # a view of no array: autograd asks whether an op's output shares an input's memory

    def __init__(self, shape: tuple, dtype: Any) -> None:
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)
        self.size = int(np.prod(self.shape, dtype=np.int64))
        self.itemsize = self.dtype.itemsize

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)  # NumPy probes protocol dunders: answer as a plain object
        raise NotImplementedError(unsupported(name))

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(unsupported("conversion to a dense array"))

    def __array_ufunc__(self, ufunc: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(unsupported(ufunc.__name__))

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func is np.may_share_memory or func is np.shares_memory:
            return False  # it holds no dense memory (a user Function given a sparse input and a view)
        raise NotImplementedError(unsupported(func.__name__))

    def __getitem__(self, key: Any) -> Any:
        raise NotImplementedError(unsupported("indexing"))

    # ``x == inf`` on the stub would be a plain False (object comparison): a dense op's silent
    # wrong answer (torch.isposinf of a sparse tensor). Compared with anything else it is an object.
    def __eq__(self, other: Any) -> Any:
        if isinstance(other, (Number, np.ndarray, np.generic)):
            raise NotImplementedError(unsupported("eq"))
        return other is self

    def __ne__(self, other: Any) -> Any:
        if isinstance(other, (Number, np.ndarray, np.generic)):
            raise NotImplementedError(unsupported("ne"))
        return other is not self

    __hash__ = object.__hash__


def _refuse(op: str) -> Any:
    def method(self: Any, *args: Any) -> Any:
        raise NotImplementedError(unsupported(op))

    return method


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
            "lt", "le", "gt", "ge", "neg", "abs", "invert"):  # fmt: skip
    for _name in (f"__{_op}__", f"__r{_op}__"):
        setattr(SparseStorage, _name, _refuse(_op))


def segment_sum(keys: Any, data: Any, n: int) -> Any:
    """``out[k] = sum(data[i] for i where keys[i] == k)`` for k in range(n), no Python loop.

    Shape:
        keys ``(nnz,)`` ints in [0, n); data ``(nnz, *rest)`` -> ``(n, *rest)``.
    """
    xp = array_module(data)
    out = xp.zeros((n,) + data.shape[1:], dtype=data.dtype)
    if keys.shape[0] == 0:
        return out
    if keys.shape[0] > 1 and not bool(xp.all(keys[1:] >= keys[:-1])):
        order = xp.argsort(keys, kind="stable")  # stable: duplicates add in their stored order
        keys, data = keys[order], data[order]
    starts = xp.flatnonzero(xp.concatenate((xp.ones(1, dtype=bool), keys[1:] != keys[:-1])))
    out[keys[starts]] = xp.add.reduceat(data, starts, axis=0)
    return out


def coalesce_index(ix: Any, sizes: tuple) -> tuple:
    """The coalesced form of a COO index array, in row-major order of positions.

    Returns ``(unique indices (sparse_dim, n), first stored entry of each (n,), inverse (nnz,))``.
    """
    xp = array_module(ix)
    if ix.shape[1] and len(sizes):
        lin = xp.ravel_multi_index(tuple(ix), sizes)
    else:  # no entry, or no sparse dim (every entry at the one position: all duplicates)
        lin = xp.zeros(ix.shape[1], dtype=xp.int64)
    uniq, first, inverse = xp.unique(lin, return_index=True, return_inverse=True)
    if not len(sizes):  # no sparse dim: at most one position, its index column empty
        return xp.zeros((0, uniq.shape[0]), xp.int64), first, inverse.reshape(-1)
    out = xp.stack(xp.unravel_index(uniq, sizes)).astype(xp.int64).reshape(len(sizes), -1)
    return out, first, inverse.reshape(-1)


class SparseMM(Function):
    """z = S @ d for a 2-D sparse S of shape (m, k) given by ``rows``, ``cols`` and its values v.

    Forward: z[r, :] = sum over nonzeros i with rows[i] = r of v[i] * d[cols[i], :].
    VJP: gv[i] = g[rows[i], :] . d[cols[i], :] (one entry per stored nonzero, duplicates each get
    the full gradient); gd = S^T g, i.e. gd[c, :] = sum over i with cols[i] = c of v[i] * g[rows[i], :].
    Both are computed from the nonzeros only; nothing of size m * k is ever made.

    Shape:
        v ``(nnz,)``, d ``(k, n)`` -> z ``(m, n)``.
    """

    name = "sparse_mm"
    node_name = "MmBackward0"  # PyTorch's node name (s @ d, torch.sparse.mm)

    @staticmethod
    def forward(ctx, v, d, rows, cols, m):
        ctx.save_for_backward(v, d)
        return segment_sum(rows, v[:, None] * d[cols], m)  # (nnz, n) products summed per row

    @staticmethod
    def backward(ctx, g):
        v, d = ctx.saved
        rows, cols = ctx.attrs["rows"], ctx.attrs["cols"]
        need = ctx.needs_input_grad
        gv = (g[rows] * d[cols]).sum(axis=1) if need[0] else None  # (nnz, n) -> (nnz,)
        gd = segment_sum(cols, v[:, None] * g[rows], d.shape[0]) if need[1] else None
        return gv, gd


class SparseToDense(Function):
    """z = the dense tensor of a sparse one: z[idx_i] += v[i] (duplicates are summed).

    VJP: gv[i] = g[idx_i] (a gather at each stored position).

    Shape:
        v ``(nnz, *dense)`` -> z ``shape`` = ``(*sparse_sizes, *dense)``.
    """

    name = "sparse_to_dense"
    node_name = "ToDenseBackward0"  # PyTorch's node name

    @staticmethod
    def forward(ctx, v, index, shape, nnz):
        xp = array_module(v)
        sizes = shape[: len(index)]
        lin = xp.ravel_multi_index(index, sizes) if len(index) else xp.zeros(v.shape[0], dtype=xp.int64)
        flat = segment_sum(lin, v, math.prod(sizes))  # (prod(sparse sizes), *dense)
        return flat.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        index = ctx.attrs["index"]
        if not index:  # no sparse dim: every entry sits at the one position (g[()] would drop nnz)
            nnz = ctx.attrs["nnz"]
            return array_module(g).broadcast_to(g, (nnz,) + g.shape).copy()
        return g[index]  # (*sparse_sizes, *dense) -> (nnz, *dense)


class SparseCoalesce(Function):
    """z[j] = sum of v[i] over the stored entries i that coalesce into unique position j.

    VJP: gv[i] = g[inverse[i]].

    Shape:
        v ``(nnz, *dense)`` -> z ``(n, *dense)``, ``inverse`` ``(nnz,)`` ints in [0, n).
    """

    name = "sparse_coalesce"
    node_name = "CoalesceBackward0"  # PyTorch's node name

    @staticmethod
    def forward(ctx, v, inverse, n):
        return segment_sum(inverse, v, n)

    @staticmethod
    def backward(ctx, g):
        return g[ctx.attrs["inverse"]]
