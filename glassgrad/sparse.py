"""``glassgrad.sparse``: PyTorch's ``torch.sparse`` functions over sparse COO tensors
(``glassgrad.sparse_tensor``): ``mm``, ``sum`` and ``addmm``; ``softmax`` / ``log_softmax`` are in
``sparse_softmax.py``, ``spdiags`` in ``sparse_spdiags.py``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassgrad import sparse_elementwise  # noqa: F401 - attaches abs/sqrt/pow/... and sparse * dense
from glassgrad.autograd.function import named
from glassgrad.errors import ShapeError
from glassgrad.ops.composite import _term
from glassgrad.ops.indexing import normalize_dim
from glassgrad.sparse_arith import sparse_add  # noqa: F401 - also attaches add/sub/div/neg and add_/sub_/mul_/... to SparseTensor
from glassgrad.sparse_dense_dims import check_matrix_operand
from glassgrad.sparse_more import (
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
)  # fmt: skip
from glassgrad.sparse_softmax import log_softmax, softmax
from glassgrad.sparse_spdiags import spdiags
from glassgrad.sparse_structure import sparse_join  # noqa: F401 - also attaches select/unbind/... to SparseTensor
from glassgrad.sparse_tensor import SparseTensor, _make, sparse_matmul
from glassgrad.tensor import Tensor, tensor

__all__ = [
    "mm", "sum", "addmm", "sparse_coo_tensor", "spmm", "sparse_sum", "FloatTensor", "DoubleTensor",
    "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "softmax",
    "log_softmax", "spdiags",
]  # fmt: skip


def sparse_coo_tensor(
    indices: Any = None, values: Any = None, size: Any = None, *, dtype: Any = None, device: Any = None,
    requires_grad: bool = False, check_invariants: Any = None, is_coalesced: Any = None,
) -> SparseTensor:  # fmt: skip
    """A sparse COO tensor from ``indices`` ``(sparse_dim, nnz)`` and ``values`` ``(nnz, *dense)``.

    Duplicates are kept (summed by ``coalesce()`` and ``to_dense()``); ``size`` defaults to the
    smallest that holds every index. Differentiable w.r.t. ``values``. PyTorch's other form,
    ``sparse_coo_tensor(size)`` (or ``size=``) alone, is an empty tensor of that size (no entries).

    >>> import glassgrad as gg
    >>> gg.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [3., 4., 5.], (2, 3)).to_dense()
    tensor([[0., 0., 3.],
            [4., 0., 5.]])
    >>> gg.sparse_coo_tensor(size=(2, 3))._nnz()
    0
    """
    if values is None:
        shape = _size_only(indices, size)
        indices, values, size = np.zeros((len(shape), 0), np.int64), tensor([], dtype=dtype), shape
    ix = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if ix.ndim != 2 or (ix.size and ix.dtype.kind not in "biufc"):
        raise ShapeError(
            f"sparse_coo_tensor: expected numeric indices (sparse_dim, nnz), got {ix.shape} {ix.dtype}"
        )
    # as PyTorch, indices of any number dtype are cast to int64, a float truncated toward zero
    # (POT's TorchBackend.coo_matrix stacks float rows and cols); NaN lands out of bounds below
    with np.errstate(invalid="ignore"):
        # int64 indices are kept, not copied: PyTorch's tensor shares them (a later write shows)
        ix = (ix.real if ix.dtype.kind == "c" else ix).astype(np.int64, copy=False)
    # numbers are made in the asked dtype (through float32 first, 0.1 would lose its float64 digits)
    vals = values if isinstance(values, Tensor) else tensor(values, dtype=dtype)
    if dtype is not None:
        vals = vals.to(dtype)
    if vals._data.ndim == 0:  # a scalar value is one entry's, as PyTorch's (values of shape (1,))
        vals = vals.reshape(1)
    vs = vals._data.shape
    if len(vs) == 0 or vs[0] != ix.shape[1]:
        raise ShapeError(f"sparse_coo_tensor: expected values of shape (nnz={ix.shape[1]}, ...), got {vs}")
    sd = ix.shape[0]
    if size is None:  # the smallest size holding every index
        size = (tuple(int(m) + 1 for m in ix.max(axis=1)) if ix.shape[1] else (0,) * sd) + vs[1:]
    size = tuple(int(s) for s in size)
    if math.prod(size) >= 2**63:  # PyTorch's numel overflow check (gh-57416); NumPy would fail later
        raise RuntimeError(
            f"sparse_coo_tensor: size {size} has more than 2**63 - 1 elements (numel overflows int64)"
        )
    if len(size) != sd + len(vs) - 1 or size[sd:] != tuple(vs[1:]):
        raise ShapeError(f"sparse_coo_tensor: size {size} does not match indices {ix.shape} and values {vs}")
    if ix.shape[1] and (bool((ix < 0).any()) or bool((ix >= np.array(size[:sd])[:, None]).any())):
        raise ShapeError(f"sparse_coo_tensor: indices out of bounds for size {size}")
    if requires_grad:  # a leaf of its own, sharing the values' memory and version counter
        vals = vals.detach().requires_grad_()
    elif vals.requires_grad:  # not a leaf (grad_fn set, .grad None), as PyTorch: an alias in the graph
        vals = named(vals.view(vals.shape), "SparseCooTensorWithDimsAndTensorsBackward0")  # PyTorch's node
    if is_coalesced is None:  # as PyTorch: at most one entry is coalesced by construction
        is_coalesced = ix.shape[1] <= 1
    elif is_coalesced and check_invariants and ix.shape[1] > 1:  # sorted, unique keys (PyTorch's check)
        keys = np.ravel_multi_index(tuple(ix), size[:sd]) if sd else np.zeros(ix.shape[1], np.int64)
        if not bool((np.diff(keys) > 0).all()):
            raise RuntimeError(
                "sparse_coo_tensor: cannot set is_coalesced to true if indices correspond to uncoalesced "
                "COO tensor (check_invariants=True found unsorted or duplicate indices)"
            )
    return _make(ix, vals, size, bool(is_coalesced))


def _size_only(indices: Any, size: Any) -> tuple[int, ...]:
    """The size of PyTorch's ``sparse_coo_tensor(size)`` form, given as ``indices`` or ``size=``."""
    shape = size if indices is None else indices if size is None else None
    ints = isinstance(shape, (tuple, list)) and all(isinstance(s, (int, np.integer)) for s in shape)
    if not ints or isinstance(shape, bool):
        got = "nothing" if indices is None and size is None else f"indices={indices!r}, size={size!r}"
        raise TypeError(
            "sparse_coo_tensor: expected (indices, values), (indices, values, size) or a size (tuple of "
            f"ints) alone, got {got}"
        )
    if any(int(s) < 0 for s in shape):
        raise ValueError(f"sparse_coo_tensor: expected a size of non-negative ints, got {tuple(shape)}")
    return tuple(int(s) for s in shape)


def spmm(input: Any, mat2: Any) -> Tensor:  # noqa: A002 - PyTorch's parameter name
    """``torch.spmm``: sparse (or dense) matrix times dense matrix."""
    if not isinstance(input, SparseTensor) and not isinstance(mat2, SparseTensor):
        return input @ mat2
    check_matrix_operand("spmm", mat2)
    return sparse_matmul(input, mat2, "spmm")


def sparse_sum(input: Tensor, dim: Any = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """``torch.sparse.sum``: over everything (a dense 0-d tensor) or over sparse dims (sparse while
    sparse dims remain, else dense)."""
    if not isinstance(input, SparseTensor):
        return input.sum() if dim is None else input.sum(dim)
    vals = input._vals if dtype is None else input._vals.to(dtype)
    if dim is None:
        return vals.sum()
    sd, nd = input._ix.shape[0], input._data.ndim
    given = [
        normalize_dim(d, nd, "sparse.sum", input._data.shape)
        for d in ((dim,) if isinstance(dim, int) else dim)
    ]
    dims = set(given)
    if len(dims) != len(given):  # as PyTorch: a dim named twice is the caller's mistake, not summed once
        raise RuntimeError(f"sparse.sum: dim appears multiple times in the list of dims {tuple(dim)}")
    summed = tuple(d - sd + 1 for d in sorted(dims) if d >= sd)  # the values' axes of summed dense dims
    if summed:
        vals = vals.sum(summed)
    keep = [d for d in range(sd) if d not in dims]
    if not keep:
        return vals.sum(0)  # (nnz, *dense) -> (*dense)
    size = tuple(input._data.shape[d] for d in keep)
    size += tuple(n for d, n in enumerate(input._data.shape) if d >= sd and d not in dims)
    # coalesced, as PyTorch's, also when only dense dims are summed
    part = _make(input._ix[keep], vals, size, input._coalesced and len(keep) == sd)
    return part.coalesce()


def mm(mat1: Any, mat2: Any) -> Tensor:
    """``mat1 @ mat2`` with a sparse COO ``mat1`` (or ``mat2``) and a dense other operand.

    Differentiable w.r.t. the dense operand (``S^T G``, from the nonzeros) and the sparse one's
    values (``G[row] . D[col]`` per nonzero; a sparse leaf's ``.grad`` is sparse).

    Shape:
        ``(n, k) @ (k, m) -> (n, m)``, dense result.

    >>> import glassgrad as gg
    >>> s = gg.sparse_coo_tensor([[0, 1], [1, 0]], [2., 3.], (2, 2))
    >>> gg.sparse.mm(s, gg.ones(2, 1))
    tensor([[2.],
            [3.]])
    """
    if not isinstance(mat1, SparseTensor) and not isinstance(mat2, SparseTensor):
        return mat1 @ mat2
    check_matrix_operand("sparse.mm", mat2)
    return sparse_matmul(mat1, mat2, "sparse.mm")


def sum(input: Tensor, dim: Any = None, dtype: Any = None) -> Tensor:  # noqa: A001, A002
    """Sum of a sparse tensor: all of it (dense 0-d) or over sparse dims (sparse result)."""
    return sparse_sum(input, dim, dtype)


def addmm(input: Tensor, mat1: Any, mat2: Any, *, beta: float = 1.0, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """``beta * input + alpha * (mat1 @ mat2)`` with a sparse ``mat1``; dense ``input`` and result."""
    # beta=0 drops input (its NaN and inf do not reach the result), as PyTorch; alpha=0 does not.
    return _term(input, beta) + alpha * mm(mat1, mat2)
