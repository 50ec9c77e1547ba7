"""LU factorisation with partial pivoting, as LAPACK's getrf (``torch.linalg.lu_factor``), and its
primitive ``LinalgLuFactorEx`` with a hand-derived backward.

``lu_factor_arrays`` factorises a batch (..., m, n) with a loop over the k = min(m, n) columns,
vectorised over the batch: at column j the row of largest |entry| (|re| + |im| for complex) at or
below the diagonal is swapped up (the first such row on ties, as LAPACK's i?amax), the entries
below the pivot become the multipliers and the trailing block gets the rank-1 update. A zero pivot leaves its column as it
is (all zeros below it) and is reported in ``info`` (1-based, the first one), as LAPACK does.
``LU`` packs L (strictly below the diagonal, unit diagonal implied) and U (on and above it).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.ops.linalg import _tril_solve
from glassgrad.ops.linalg_solve import mt

__all__ = ["LinalgLuFactorEx", "lu_factor_arrays", "pivots_to_permutation", "split_lu"]


def lu_factor_arrays(a: Any) -> tuple[Any, Any, Any]:
    """(LU, pivots, info) of ``a`` (..., m, n): LU (..., m, n) of a's dtype, pivots (..., k) int32
    1-based (row j was swapped with row pivots[j] - 1), info (...) int32."""
    xp = array_module(a)
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    u = a.reshape((math.prod(batch), m, n)).astype(a.dtype, copy=True)  # (s, m, n); s may be 0
    s = u.shape[0]
    rows = xp.arange(s)
    piv = xp.zeros((s, k), dtype=np.int32)
    info = xp.zeros(s, dtype=np.int32)
    for j in range(k):
        col = u[:, j:, j]
        # LAPACK's izamax measures a complex entry by |re| + |im| (not its modulus): PyTorch's pivots
        size = xp.abs(col.real) + xp.abs(col.imag) if col.dtype.kind == "c" else xp.abs(col)
        p = j + xp.argmax(size, axis=1)  # (s,) the pivot row of each matrix
        piv[:, j] = p + 1
        u[rows, j], u[rows, p] = u[rows, p], u[rows, j].copy()  # swap rows j and p
        d = u[:, j, j]
        info[(d == 0) & (info == 0)] = j + 1
        f = u[:, j + 1 :, j] / xp.where(d == 0, 1, d)[:, None]  # (s, m-j-1); zeros below a zero pivot
        u[:, j + 1 :, j] = f
        u[:, j + 1 :, j + 1 :] -= f[:, :, None] * u[:, None, j, j + 1 :]
    return u.reshape(a.shape), piv.reshape(batch + (k,)), info.reshape(batch)


def pivots_to_permutation(piv: Any, m: int) -> Any:
    """perm (..., m) with P^T A = A[..., perm, :] for LAPACK pivots (..., k): the row swaps applied
    in order to 0..m-1."""
    xp = array_module(piv)
    batch = piv.shape[:-1]
    s = math.prod(batch)  # explicit: a -1 cannot be inferred when a side is 0
    perm = xp.broadcast_to(xp.arange(m), batch + (m,)).reshape((s, m)).copy()  # (s, m)
    p = piv.reshape((s, piv.shape[-1])).astype(np.int64) - 1
    rows = xp.arange(perm.shape[0])
    for j in range(p.shape[-1]):
        perm[rows, j], perm[rows, p[:, j]] = perm[rows, p[:, j]], perm[rows, j].copy()
    return perm.reshape(batch + (m,))


def split_lu(xp: Any, lu: Any) -> tuple[Any, Any]:
    """L (..., m, k) with its unit diagonal and U (..., k, n) from packed LU (..., m, n)."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    low = xp.tril(lu[..., :, :k], -1) + xp.eye(m, k, dtype=lu.dtype)
    return low, xp.triu(lu[..., :k, :])


def _mh(x: Any) -> Any:
    """The conjugate transpose of the last two dims (the transpose for a real array)."""
    t = mt(x)
    return t.conj() if t.dtype.kind == "c" else t


def _square_vjp(xp: Any, low: Any, up: Any, g_low: Any, g_up: Any) -> Any:
    """Ā' for A' = L U with L, U square (k, k) (A' = P^T A):
    L^{-H} [tril(L^H L̄, -1) + triu(Ū U^H)] U^{-H} (^H: the transpose for real arrays)."""
    mid = xp.tril(_mh(low) @ g_low, -1) + xp.triu(g_up @ _mh(up))
    right = _mh(_tril_solve(xp, up, _mh(mid), upper=True))  # mid U^{-H} = (U^{-1} mid^H)^H
    return _tril_solve(xp, _mh(low), right, upper=True)  # L^{-H} (...)


class LinalgLuFactorEx(Function):
    """Packed LU of A (..., m, n) -> (..., m, n), computed by the wrapper (``lu_factor_arrays``)
    and passed in as ``lu`` so that its pivots stay with the wrapper.

    VJP, with P^T A = L U, Ḡ split into L̄ = tril(Ḡ, -1) (..., m, k) and Ū = triu(Ḡ) (..., k, n):
    square: Ā = P L^{-H} [tril(L^H L̄, -1) + triu(Ū U^H)] U^{-H}. Wide (m < n, U = [U₁ U₂]):
    U₂ = L^{-1} P^T A₂, so Ā₂ = P L^{-H} Ū₂ and Ā₁ is the square rule with L̄ - L^{-H} Ū₂ U₂^H.
    Tall (m > n, L = [L₁; L₂]): L₂ = A₂' U^{-1}, so Ā₂' = L̄₂ U^{-H} and Ā₁' is the square rule
    with Ū - L₂^H L̄₂ U^{-H}; then Ā = P Ā'. ^H is ^T for a real A.
    """

    node_name = "LinalgLuFactorExBackward0"  # PyTorch's node name
    complex_ok = True  # the VJP is written with ᴴ (round 66): PyTorch's complex gradients

    @staticmethod
    def forward(ctx, a, lu, perm):
        ctx.save_for_backward(lu, perm)
        return lu.copy()

    @staticmethod
    def backward(ctx, g):
        lu, perm = ctx.saved
        xp = array_module(lu)
        m, n = lu.shape[-2:]
        k = min(m, n)
        low, up = split_lu(xp, lu)
        g_low, g_up = xp.tril(g[..., :, :k], -1), xp.triu(g[..., :k, :])
        if m == n:
            ga = _square_vjp(xp, low, up, g_low, g_up)
        elif m < n:
            g2 = g_up[..., :, k:]
            linv_g2 = _tril_solve(xp, _mh(low), g2, upper=True)  # L^{-H} Ū₂
            g1 = _square_vjp(xp, low, up[..., :, :k], g_low - linv_g2 @ _mh(up[..., :, k:]), g_up[..., :, :k])
            ga = xp.concatenate([g1, linv_g2], axis=-1)
        else:
            g2 = _mh(_tril_solve(xp, up, _mh(g_low[..., k:, :]), upper=True))  # L̄₂ U^{-H}
            g1 = _square_vjp(xp, low[..., :k, :], up, g_low[..., :k, :], g_up - _mh(low[..., k:, :]) @ g2)
            ga = xp.concatenate([g1, g2], axis=-2)
        # Ā = P Ā': row perm[i] of Ā is row i of Ā'
        out = xp.empty_like(ga)
        xp.put_along_axis(out, xp.broadcast_to(perm[..., :, None], ga.shape), ga, axis=-2)
        return out, None, None
