"""PyTorch's older sparse-times-dense products, each ``sparse.mm`` (``sparse_tensor.sparse_matmul``)
followed by the layout PyTorch returns (``test_sparse.py``'s ``test_saddmm``, ``test_sspaddmm``,
``test_dsmm``, ``test_hsmm``):

- ``dsmm(S, D)``: dense ``(n, m)``;
- ``smm(S, D)``: sparse COO ``(n, m)``;
- ``hsmm(S, D)`` / ``hspmm(S, D)``: hybrid COO ``(n, m)`` with one sparse dim (rows) and the columns dense;
- ``saddmm(T, S, D, beta=, alpha=)`` / ``T.sspaddmm(S, D, beta=, alpha=)``: sparse COO
  ``beta * T + alpha * S @ D`` with a sparse ``T`` ``(n, m)``.

A sparse result stores the product's nonzero entries (rows, for the hybrid form): PyTorch may also
store an entry whose sum happens to be exactly zero, so compare through ``to_dense()``. Gradients
flow through ``sparse.mm`` and ``to_sparse`` (both differentiable).
"""

from __future__ import annotations

from typing import Any

from glassgrad.ops.joining import stack
from glassgrad.sparse_dense_dims import check_matrix_operand
from glassgrad.sparse_tensor import SparseTensor, sparse_matmul
from glassgrad.tensor import Tensor

__all__ = ["dsmm", "smm", "hsmm", "hspmm", "saddmm", "sspaddmm", "sparse_bmm"]


def _product(op: str, mat1: Any, mat2: Any) -> Tensor:
    if not isinstance(mat1, SparseTensor):
        raise TypeError(f"{op}: expected a sparse COO mat1, got {type(mat1).__name__}")
    check_matrix_operand(op, mat2)
    return sparse_matmul(mat1, mat2, op)


def dsmm(mat1: Any, mat2: Any) -> Tensor:
    """``torch.dsmm``: sparse ``(n, k)`` @ dense ``(k, m)`` -> dense ``(n, m)``."""
    return _product("dsmm", mat1, mat2)


def smm(mat1: Any, mat2: Any) -> SparseTensor:
    """``torch.smm``: sparse ``(n, k)`` @ dense ``(k, m)`` -> sparse COO ``(n, m)``."""
    return _product("smm", mat1, mat2).to_sparse()


def hspmm(mat1: Any, mat2: Any) -> SparseTensor:
    """``torch.hspmm``: sparse ``(n, k)`` @ dense ``(k, m)`` -> hybrid COO ``(n, m)``, sparse_dim 1."""
    return _product("hspmm", mat1, mat2).to_sparse(1)


hsmm = hspmm  # ``torch.hsmm``: the same product and layout


def saddmm(input: Any, mat1: Any, mat2: Any, *, beta: Any = 1, alpha: Any = 1) -> SparseTensor:  # noqa: A002
    """``torch.saddmm``: ``beta * input + alpha * mat1 @ mat2`` as sparse COO ``(n, m)``; ``input``
    sparse ``(n, m)``."""
    if not isinstance(input, SparseTensor):
        raise TypeError(f"saddmm: expected a sparse COO input, got {type(input).__name__}")
    prod = _product("saddmm", mat1, mat2)
    if tuple(input.shape) != tuple(prod.shape):
        raise RuntimeError(f"saddmm: expected input of shape {tuple(prod.shape)}, got {tuple(input.shape)}")
    return (input.to_dense() * beta + prod * alpha).to_sparse()


def sspaddmm(input: Any, mat1: Any, mat2: Any, *, beta: Any = 1, alpha: Any = 1) -> SparseTensor:  # noqa: A002
    """``torch.sspaddmm`` / ``input.sspaddmm(mat1, mat2)``: as ``saddmm``."""
    return saddmm(input, mat1, mat2, beta=beta, alpha=alpha)


def sparse_bmm(mat1: SparseTensor, mat2: Any) -> Tensor:
    """``torch.bmm(S, D)`` / ``S.bmm(D)``: a 3-D sparse ``(b, n, k)`` (three sparse dims) times a dense
    ``(b, k, m)`` -> dense ``(b, n, m)``, one ``sparse.mm`` per batch (``select`` of the batch)."""
    if not isinstance(mat2, Tensor) or isinstance(mat2, SparseTensor) or mat2._data.ndim != 3:
        raise RuntimeError(
            f"bmm: expected a 3-D dense mat2, got {getattr(mat2, 'shape', type(mat2).__name__)}"
        )
    (b, n, k), (b2, k2, m) = mat1.shape, mat2.shape
    if mat1._ix.shape[0] != 3 or b != b2 or k != k2:
        raise RuntimeError(
            f"bmm: expected a sparse (b, n, k) with 3 sparse dims and a dense (b, k, m), got {tuple(mat1.shape)} "
            f"(sparse_dim {mat1._ix.shape[0]}) and {tuple(mat2.shape)}"
        )
    if b == 0:
        return mat2.new_zeros((0, n, m))
    return stack([sparse_matmul(mat1.select(0, i), mat2[i], "bmm") for i in range(b)])


SparseTensor.bmm = sparse_bmm
SparseTensor.smm = smm
SparseTensor.hspmm = hspmm
SparseTensor.sspaddmm = sspaddmm
