"""LU factorisation with partial pivoting: ``linalg.lu_factor``, ``linalg.lu_factor_ex``,
``linalg.lu``, ``linalg.lu_solve``, and the torch-level ``lu_unpack``, ``lu_solve`` and the
deprecated ``lu`` (also ``Tensor.lu``). The factorisation and its backward are
``ops/linalg_lu.py``'s; unpacking is made of ``tril``/``triu``/slices, so gradients flow through
L and U back to A.

>>> import glassgrad as gg
>>> LU, pivots = gg.linalg.lu_factor(gg.tensor([[1.0, 2.0], [3.0, 4.0]]))
>>> pivots
tensor([2, 2], dtype=glassgrad.int32)
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from glassgrad import factories
from glassgrad.errors import LinAlgError, ShapeError
from glassgrad.meta_array import MetaArray
from glassgrad.ops.linalg import lapack_kernel, solve_triangular
from glassgrad.ops.linalg_lu import LinalgLuFactorEx, lu_factor_arrays, pivots_to_permutation
from glassgrad.ops.linalg_solve import check_matrix
from glassgrad.return_types import return_type
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["lu_factor", "lu_factor_ex", "lu", "lu_unpack", "lu_solve", "linalg_lu_solve", "torch_lu"]

LUFactorResult = return_type("linalg_lu_factor", ["LU", "pivots"])
LUFactorExResult = return_type("linalg_lu_factor_ex", ["LU", "pivots", "info"])
LUResult = return_type("linalg_lu", ["P", "L", "U"])
LUUnpackResult = return_type("lu_unpack", ["P", "L", "U"])

_warned: set = (
    set()
)  # torch.lu's and torch.lu_solve's deprecation warnings, once per process (reset per test)


def _wrap(arr: Any) -> Tensor:
    return Tensor(arr, _wrap=True)


def _check_pivot(op: str, pivot: bool) -> None:
    if not pivot:  # LAPACK has no unpivoted LU; PyTorch refuses it on the CPU too
        raise RuntimeError(
            f"{op}: LU without pivoting (pivot=False) is only available on CUDA, not on the CPU"
        )


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False) -> LUFactorExResult:
    """``(LU, pivots, info)``: the packed LU factors of A (..., m, n) -> LU (..., m, n), pivots
    (..., min(m, n)) int32 (1-based row swaps), info (...) int32 (the 1-based column of the first
    zero pivot, 0 for none). ``check_errors`` raises on a nonzero info."""
    lapack_kernel("linalg.lu_factor_ex", "lu_cpu", A)  # integers, bool, float16: NotImplementedError
    check_matrix("linalg.lu_factor_ex", A._data, complex_ok=True)
    _check_pivot("linalg.lu_factor_ex", pivot)
    lu_arr, piv, info = lu_factor_arrays(A._data)
    if check_errors and bool((info > 0).any()):
        raise LinAlgError(
            f"linalg.lu_factor_ex: the factorisation of a matrix of shape {tuple(A.shape)} met a zero pivot "
            f"(info={int(info.max())}); U is singular"
        )
    perm = pivots_to_permutation(piv, A.shape[-2])
    LU = LinalgLuFactorEx.apply(A, lu_arr, perm)
    return LUFactorExResult(LU, _wrap(piv), _wrap(info))


def lu_factor(A: Tensor, *, pivot: bool = True) -> LUFactorResult:
    """``(LU, pivots)`` of A (..., m, n), as ``lu_factor_ex``; raises ``LinAlgError`` when a
    pivot is zero (U singular: solving with it would divide by zero), as PyTorch."""
    lapack_kernel("linalg.lu_factor", "lu_cpu", A)
    check_matrix("linalg.lu_factor", A._data, complex_ok=True)
    _check_pivot("linalg.lu_factor", pivot)
    LU, piv, info = lu_factor_ex(A)
    failed = first_failure(info)
    if failed is not None:
        where, col = failed
        raise LinAlgError(
            f"linalg.lu_factor: {where}U[{col - 1},{col - 1}] is zero, so solving with these factors would divide "
            f"by zero; linalg.lu or linalg.lu_factor_ex factorise such a matrix without raising"
        )
    return LUFactorResult(LU, piv)


def first_failure(info: Tensor) -> tuple[str, int] | None:
    """The first factorisation ``info > 0`` (a 1-based column) of a batch, as ``("batch element
    (i, ...): ", column)``, or None when every matrix factored (or ``info`` is meta: no values)."""
    if info._data.__class__ is MetaArray or not bool((info._data > 0).any()):
        return None
    bad = np.argwhere(info._data > 0)[0]
    where = f"batch element {tuple(int(i) for i in bad)}: " if info.ndim else ""
    return where, int(info._data[tuple(bad)])


def lu_unpack(
    LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots: bool = True
) -> LUUnpackResult:
    """``(P, L, U)`` from ``lu_factor``'s output: LU (..., m, n), pivots (..., k) -> P (..., m, m),
    L (..., m, k) unit lower triangular, U (..., k, n) upper triangular, k = min(m, n), with
    A = P L U. Without ``unpack_data`` L and U are empty; without ``unpack_pivots`` P is."""
    if LU_data.ndim < 2:
        raise ShapeError(
            f"lu_unpack: expected LU_data of shape (..., m, n), got shape {tuple(LU_data.shape)}"
        )
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    if tuple(LU_pivots.shape) != tuple(LU_data.shape[:-2]) + (k,):
        raise ShapeError(
            f"lu_unpack: expected LU_pivots of shape {tuple(LU_data.shape[:-2]) + (k,)} for LU_data of shape "
            f"{tuple(LU_data.shape)}, got {tuple(LU_pivots.shape)}"
        )
    if str(LU_pivots.dtype).split(".")[-1] != "int32":
        raise RuntimeError(f"lu_unpack: expected LU_pivots of dtype int32, got {LU_pivots.dtype}")
    empty = factories.empty(0, dtype=LU_data.dtype, device=LU_data.device)
    if unpack_data:
        eye = factories.eye(m, k, dtype=LU_data.dtype, device=LU_data.device)
        L = LU_data[..., :, :k].tril(-1) + eye
        U = LU_data[..., :k, :].triu()
    else:
        L = U = empty
    if unpack_pivots and LU_pivots._data.__class__ is MetaArray:  # no values: P's shape alone
        P = factories.empty(*LU_data.shape[:-2], m, m, dtype=LU_data.dtype, device=LU_data.device)
    elif unpack_pivots:
        # a pivot outside [1, m] (0 from a zero-filled buffer, 0-based pivots) read as an index
        # named another row (0 - 1 wraps to the last): PyTorch refuses it, as linalg.lu_solve here
        piv = LU_pivots._data
        if piv.size and (int(piv.min()) < 1 or int(piv.max()) > m):
            raise RuntimeError(
                f"lu_unpack: pivots passed to lu_unpack must be between 1 and LU.size(-2) = {m} inclusive, "
                f"got values from {int(piv.min())} to {int(piv.max())}. Did you properly pass the result of lu_factor?"
            )
        perm = pivots_to_permutation(piv, m)  # (..., m)
        p = (perm[..., :, None] == np.arange(m)).swapaxes(-1, -2)  # P[perm[i], i] = 1
        P = _wrap(np.ascontiguousarray(p).astype(LU_data._data.dtype))
    else:
        P = empty
    return LUUnpackResult(P, L, U)


def lu(A: Tensor, *, pivot: bool = True) -> LUResult:
    """``(P, L, U)`` with A = P L U: A (..., m, n) -> P (..., m, m), L (..., m, k), U (..., k, n);
    differentiable in L and U. A singular A factorises without raising."""
    check_matrix("linalg.lu", A._data, complex_ok=True)
    _check_pivot("linalg.lu", pivot)
    LU, piv, _ = lu_factor_ex(A)
    return LUResult(*lu_unpack(LU, piv))


def linalg_lu_solve(
    LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False
) -> Tensor:
    """X with A X = B (``left``) or X A = B, from A's ``lu_factor``; ``adjoint`` solves with Aᴴ
    (the conjugate transpose: Aᵀ for a real A).
    LU (..., n, n), B (..., n, k) (or (..., k, n) when not ``left``) -> X of B's shape."""
    if LU.ndim < 2 or LU.shape[-1] != LU.shape[-2]:
        raise ShapeError(
            f"linalg.lu_solve: expected square LU factors (..., n, n), got shape {tuple(LU.shape)}"
        )
    P, L, U = lu_unpack(LU, pivots)
    # Conjugate transposes, not transposes: with a complex A, Aᵀ solved a different system and
    # the answer was silently wrong (round 66). X A = B  <=>  Aᴴ Xᴴ = Bᴴ, X Aᴴ = B  <=>  A Xᴴ = Bᴴ.
    if not left:
        return linalg_lu_solve(LU, pivots, B.mH, adjoint=not adjoint).mH
    if adjoint:  # Aᴴ X = B with Aᴴ = Uᴴ Lᴴ Pᵀ (P is real)
        y = solve_triangular(U.mH, B, upper=False)
        x = P @ solve_triangular(L.mH, y, upper=True)
    else:
        y = solve_triangular(L, P.mT @ B, upper=False)
        x = solve_triangular(U, y, upper=True)
    return x


def lu_solve(input: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:  # noqa: A002
    """The deprecated ``torch.lu_solve(input, LU_data, LU_pivots)``: ``linalg.lu_solve(LU, pivots, input)``
    (arguments in the other order); warns once per process, as PyTorch."""
    if "lu_solve" not in _warned:
        _warned.add("lu_solve")
        warnings.warn(
            "torch.lu_solve is deprecated in favor of torch.linalg.lu_solve, which takes its arguments in "
            "the other order: X = torch.linalg.lu_solve(LU, pivots, B) replaces X = torch.lu_solve(B, LU, pivots)",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    return linalg_lu_solve(LU_data, LU_pivots, input)


def torch_lu(A: Tensor, pivot: bool = True, get_infos: bool = False, out: Any = None) -> tuple:
    """The deprecated ``torch.lu`` / ``Tensor.lu``: ``(LU, pivots)``, or ``(LU, pivots, infos)``
    with ``get_infos``; warns once per process, as PyTorch, pointing to ``linalg.lu_factor``."""
    if "lu" not in _warned:
        _warned.add("lu")
        warnings.warn(
            "torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex: "
            "LU, pivots = torch.linalg.lu_factor(A) replaces LU, pivots = torch.lu(A), and "
            "LU, pivots, info = torch.linalg.lu_factor_ex(A) replaces torch.lu(A, get_infos=True)",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    LU, piv, info = lu_factor_ex(A, pivot=pivot)
    result = (LU, piv, info) if get_infos else (LU, piv)
    if out is not None:  # torch.lu is Python there: out[i].resize_as_(result[i]).copy_(result[i])
        for dst, src in zip(out, result):
            dst.resize_(src.shape).copy_(src.detach())
        return out
    return result


def _tensor_lu_solve(self: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    return lu_solve(self, LU_data, LU_pivots)


# PyTorch's Tensor methods: A.lu(pivot=True, get_infos=False), b.lu_solve(LU_data, LU_pivots)
Tensor.lu = torch_lu
Tensor.lu_solve = _tensor_lu_solve
