"""``torch.linalg.ldl_factor_ex``, ``ldl_factor`` and ``ldl_solve``: the Bunch-Kaufman LDLᵀ
factorisation of a symmetric (Hermitian with ``hermitian=True``) matrix from its lower triangle, and
solving with it, as LAPACK's sytrf/hetrf and sytrs/hetrs (the kernels are ``ops/linalg_ldl.py``'s).
PyTorch has no derivative for either: their results read ``requires_grad`` with a node whose
backward raises ("derivative for aten::linalg_ldl_factor_ex is not implemented"), as PyTorch's.

>>> import glassgrad as gg
>>> LD, pivots = gg.linalg.ldl_factor(gg.tensor([[0.0, 1.0], [1.0, 0.0]]))
>>> pivots
tensor([-2, -2], dtype=glassgrad.int32)
"""

from __future__ import annotations

import math

import numpy as np

from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, LinAlgError, ShapeError
from glassgrad.linalg_lu import first_failure
from glassgrad.meta_array import MetaArray, meta_array
from glassgrad.ops.carried import underived
from glassgrad.ops.linalg_ldl import ldl_factor_arrays, ldl_solve_arrays
from glassgrad.return_types import return_type
from glassgrad.tensor import Tensor

__all__ = ["ldl_factor_ex", "ldl_factor", "ldl_solve"]

LDLFactorExResult = return_type("linalg_ldl_factor_ex", ["LD", "pivots", "info"])
LDLFactorResult = return_type("linalg_ldl_factor", ["LD", "pivots"])


def _wrap(arr: object) -> Tensor:
    return Tensor(arr, _wrap=True)


def _check_square(op: str, name: str, t: Tensor) -> None:
    """PyTorch's checks and messages (RuntimeError) for a factor or the matrix to factorise."""
    if t.ndim < 2:
        raise ShapeError(f"torch.linalg.{op}: The input tensor {name} must have at least 2 dimensions.")
    if t.shape[-1] != t.shape[-2]:
        raise ShapeError(
            f"torch.linalg.{op}: {name} must be batches of square matrices, but they are "
            f"{t.shape[-2]} by {t.shape[-1]} matrices"
        )
    kind = t._data.dtype
    if kind.kind not in "fc" or kind.itemsize < 4:
        raise DTypeError(
            f"torch.linalg.{op}: Expected a floating point or complex tensor as input (float32, float64, "
            f"complex64 or complex128), got {t.dtype}"
        )


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False) -> LDLFactorExResult:
    """``(LD, pivots, info)`` of A (..., n, n), of which only the lower triangle is read: LD
    (..., n, n) the compact L and D (zero above the diagonal), pivots (..., n) int32 (LAPACK's:
    1-based, negative for a 2x2 block), info (...) int32 (the 1-based index of the first zero
    diagonal block of D, 0 for none). ``check_errors`` raises on a nonzero info."""
    _check_square("ldl_factor_ex", "A", A)
    a = A._data
    if a.__class__ is MetaArray:  # no values: the shapes alone
        batch = a.shape[:-2]
        ld, piv, info = (
            meta_array(a.shape, a.dtype),
            meta_array(a.shape[:-1], np.int32),
            meta_array(batch, np.int32),
        )
    else:
        ld, piv, info = ldl_factor_arrays(a, hermitian)
        if check_errors and bool((info > 0).any()):
            raise LinAlgError(
                f"torch.linalg.ldl_factor_ex: the factorisation of a matrix of shape {tuple(A.shape)} met a zero "
                f"diagonal block of D (info={int(info.max())}): the matrix is singular"
            )
    LD = underived(ld, A, op="aten::linalg_ldl_factor_ex")
    return LDLFactorExResult(LD, _wrap(piv), _wrap(info))


def ldl_factor(A: Tensor, *, hermitian: bool = False) -> LDLFactorResult:
    """``(LD, pivots)`` of A (..., n, n), as ``ldl_factor_ex``; raises ``LinAlgError`` when D has a
    zero diagonal block (A singular), where PyTorch 2.13 raises an internal assertion
    ("Unknown error code: 1"), a RuntimeError too."""
    LD, piv, info = ldl_factor_ex(A, hermitian=hermitian)
    failed = first_failure(info)
    if failed is not None:
        where, col = failed
        raise LinAlgError(
            f"torch.linalg.ldl_factor: {where}D[{col - 1},{col - 1}] is zero, so the matrix is singular; "
            f"linalg.ldl_factor_ex factorises such a matrix without raising"
        )
    return LDLFactorResult(LD, piv)


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False) -> Tensor:
    """X with A X = B from A's ``ldl_factor``: LD (..., n, n), pivots (..., n), B (..., n, k) ->
    X (..., n, k), the batch dimensions broadcast."""
    _check_square("ldl_solve", "A", LD)
    if B.ndim < 2:
        raise ShapeError(
            f"torch.linalg.ldl_solve: expected B of shape (..., n, k) with at least 2 dimensions, got shape "
            f"{tuple(B.shape)}"
        )
    if tuple(pivots.shape) != tuple(LD.shape[:-1]):
        raise ShapeError(
            "torch.linalg.ldl_solve: Expected LD.shape[:-1] and pivots.shape to be the same, but got pivots "
            f"with shape {list(pivots.shape)} instead"
        )
    if pivots._data.dtype.kind not in "iu":
        raise DTypeError(f"torch.linalg.ldl_solve: Expected pivots to be integers. Got {pivots.dtype}")
    if B._data.dtype != LD._data.dtype:
        raise DTypeError(
            f"Expected b and A to have the same dtype, but found b of type {B.dtype} and A of type {LD.dtype} "
            "instead."
        )
    n = LD.shape[-1]
    if B.shape[-2] != n:
        raise ShapeError(
            f"Incompatible matrix sizes for torch.linalg.ldl_solve: each A matrix is {n} by {n} but each b "
            f"matrix is {B.shape[-2]} by {B.shape[-1]}"
        )
    try:
        batch = np.broadcast_shapes(tuple(LD.shape[:-2]), tuple(B.shape[:-2]))
    except ValueError:
        raise ShapeError(
            f"torch.linalg.ldl_solve: the batch dimensions of LD {tuple(LD.shape)} and B {tuple(B.shape)} "
            "do not broadcast"
        ) from None
    out_shape = batch + tuple(B.shape[-2:])
    if LD._data.__class__ is MetaArray or B._data.__class__ is MetaArray:
        x = meta_array(out_shape, B._data.dtype)
    else:
        s, xp = math.prod(batch), array_module(B._data)
        ld = xp.broadcast_to(LD._data, batch + (n, n)).reshape((s, n, n))
        piv = xp.broadcast_to(pivots._data, batch + (n,)).reshape((s, n))
        if bool(((piv == 0) | (xp.abs(piv) > n)).any()):
            raise RuntimeError(
                f"torch.linalg.ldl_solve: expected pivots from ldl_factor (nonzero, at most {n} in absolute value)"
            )
        b = xp.broadcast_to(B._data, out_shape).reshape((s,) + tuple(B.shape[-2:]))
        x = ldl_solve_arrays(ld, piv, b, hermitian).reshape(out_shape)
    return underived(x, LD, B, op="aten::linalg_ldl_solve")
