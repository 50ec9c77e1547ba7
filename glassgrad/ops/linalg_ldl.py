"""Bunch-Kaufman LDLᵀ (LDLᴴ) factorisation and solve, as LAPACK's sytrf/hetrf and sytrs/hetrs with
uplo='L' (``torch.linalg.ldl_factor_ex``, ``ldl_solve``).

A = L D Lᵀ (Lᴴ with ``hermitian``), D block diagonal with 1x1 and 2x2 blocks, L = P₁ L₁ P₂ L₂ ...:
each step k swaps row and column k (or k + 1 for a 2x2 block) with row kp in the trailing block only,
so the columns already stored are not permuted. The compact ``LD`` holds D's blocks on and below the
diagonal and L's multipliers below them; its strict upper triangle is zero. ``pivots`` are 1-based:
pivots[k] = kp + 1 for a 1x1 block, pivots[k] = pivots[k+1] = -(kp + 1) for a 2x2 one. The pivot
choice is LAPACK's: α = (1 + √17) / 8, magnitudes |re| + |im| for complex (izamax's), the first
maximum on ties, a diagonal read as its real part with ``hermitian``. NaN compares false as in the
Fortran code, and a zero column (max(|a_kk|, colmax) = 0, Fortran's MAX taking the second operand
when the first is NaN) is left as it is and reported in ``info`` (1-based, the first one).

Each matrix of a batch advances through its columns by 1 or 2 per step, so the loop runs over steps
with a column index per matrix, vectorised over the batch; a working copy of the trailing block is
kept whole (symmetric or Hermitian), so a swap is a symmetric permutation and an update an outer
product. PyTorch has no derivative for either op.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassgrad.backend import array_module

__all__ = ["ldl_factor_arrays", "ldl_solve_arrays"]

_ALPHA = (1.0 + math.sqrt(17.0)) / 8.0


def _mag(xp: Any, a: Any) -> Any:
    """LAPACK's pivot magnitude: |a| for real, |re| + |im| for complex (CABS1)."""
    return xp.abs(a.real) + xp.abs(a.imag) if a.dtype.kind == "c" else xp.abs(a)


def _outer(x: Any, y: Any, herm: bool) -> Any:
    return x[:, :, None] * (y.conj() if herm else y)[:, None, :]


def _step(xp: Any, s: Any, k: Any, herm: bool) -> tuple[Any, Any, Any, Any]:
    """One pivot step on the working matrices ``s`` (b, n, n) at columns ``k`` (b,), in place:
    returns kp (b,), the block size step (b,), zero (b,) and LD's columns k, k + 1 (b, n, 2)."""
    b, n = s.shape[0], s.shape[-1]
    rows, j = xp.arange(b), xp.arange(n)
    diag = s[rows, k, k]
    absakk = xp.abs(diag.real) if herm else _mag(xp, diag)
    colmag = xp.where(j > k[:, None], _mag(xp, s[rows, :, k]), -1.0)
    imax = xp.argmax(colmag, axis=1)
    colmax = xp.maximum(colmag[rows, imax], 0.0)
    top = xp.where(absakk > colmax, absakk, colmax)  # Fortran MAX(absakk, colmax)
    zero = top == 0
    rowmag = xp.where((j >= k[:, None]) & (j != imax[:, None]), _mag(xp, s[rows, imax, :]), -1.0)
    rowmax = rowmag.max(axis=1)
    dmax = s[rows, imax, imax]
    dmag = xp.abs(dmax.real) if herm else _mag(xp, dmax)
    with np.errstate(all="ignore"):
        keep = zero | (absakk >= _ALPHA * colmax) | (absakk >= _ALPHA * colmax * (colmax / rowmax))
    one_at_imax = ~keep & (dmag >= _ALPHA * rowmax)
    step = xp.where(keep | one_at_imax, 1, 2)
    kp = xp.where(keep, k, imax)
    kk = k + step - 1
    # a symmetric permutation of the whole working matrix: swaps kk and kp in the trailing block
    perm = xp.broadcast_to(j, (b, n)).copy()
    perm[rows, kk], perm[rows, kp] = kp, kk
    s[...] = s[rows[:, None, None], perm[:, :, None], perm[:, None, :]]
    below1, below2 = j > k[:, None], j > (k + 1)[:, None]
    k1 = xp.minimum(k + 1, n - 1)
    col0, col1 = s[rows, :, k], s[rows, :, k1]  # the pivot columns, before the update
    one, two = (step == 1) & ~zero, step == 2
    with np.errstate(all="ignore"):  # each matrix keeps its own branch's values (xp.where)
        r = 1 / (col0[rows, k].real if herm else col0[rows, k])
        x = xp.where(below1, col0, 0)
        # 2x2 block [[a_kk, a_k1k*], [a_k1k, a_k1k1]]: sytf2's / hetf2's elimination of it
        a21 = xp.where(two, col0[rows, k1], 1)
        a0, a1 = xp.where(below2, col0, 0), xp.where(below2, col1, 0)
        if herm:
            dd = xp.abs(a21)
            d11, d22, d21 = col1[rows, k1].real / dd, col0[rows, k].real / dd, a21 / dd
            c = (1 / (d11 * d22 - 1)) / dd
            wk = c[:, None] * (d11[:, None] * a0 - d21[:, None] * a1)
            wkp1 = c[:, None] * (d22[:, None] * a1 - d21.conj()[:, None] * a0)
        else:
            d11, d22 = col1[rows, k1] / a21, col0[rows, k] / a21
            c = (1 / (d11 * d22 - 1)) / a21
            wk = c[:, None] * (d11[:, None] * a0 - a1)
            wkp1 = c[:, None] * (d22[:, None] * a1 - a0)
        upd1 = _outer(x, x * r[:, None], herm)  # syr's x_i (r x_j)
        upd2 = _outer(a0, wk, herm) + _outer(a1, wkp1, herm)
        s -= xp.where(one[:, None, None], upd1, xp.where(two[:, None, None], upd2, 0))
    if herm:  # hetf2 keeps the diagonal real
        s[:, j, j] = s[:, j, j].real
    at_k, at_k1 = j == k[:, None], j == (k + 1)[:, None]
    out = xp.zeros((b, n, 2), dtype=s.dtype)
    with np.errstate(all="ignore"):
        col_one = xp.where(at_k, col0, 0) + xp.where(below1, x * r[:, None], 0)
    col_two = xp.where(at_k | at_k1, col0, 0) + wk
    out[:, :, 0] = xp.where(
        zero[:, None], xp.where(j >= k[:, None], col0, 0), xp.where(two[:, None], col_two, col_one)
    )
    out[:, :, 1] = xp.where(two[:, None], xp.where(at_k1, col1, 0) + wkp1, 0)
    return kp, step, zero, out


def ldl_factor_arrays(a: Any, hermitian: bool) -> tuple[Any, Any, Any]:
    """(LD, pivots, info) of ``a`` (..., n, n), of which only the lower triangle is read: LD
    (..., n, n) of a's dtype, pivots (..., n) int32, info (...) int32."""
    xp = array_module(a)
    n = a.shape[-1]
    batch = a.shape[:-2]
    herm = hermitian and a.dtype.kind == "c"
    low = xp.tril(a.reshape((math.prod(batch), n, n)))
    s = low + (xp.tril(low, -1).conj() if herm else xp.tril(low, -1)).swapaxes(-1, -2)
    if herm:
        s[:, xp.arange(n), xp.arange(n)] = s[:, xp.arange(n), xp.arange(n)].real
    b = s.shape[0]
    ld = xp.zeros_like(s)
    piv = xp.zeros((b, n), dtype=np.int32)
    info = xp.zeros(b, dtype=np.int32)
    k = xp.zeros(b, dtype=np.int64)
    while bool((k < n).any()):
        act = xp.nonzero(k < n)[0]
        ka = k[act]
        sa = s[act]
        kp, step, zero, cols = _step(xp, sa, ka, herm)
        s[act] = sa
        ld[act, :, ka] = cols[:, :, 0]
        two = act[step == 2]
        ld[two, :, k[two] + 1] = cols[step == 2, :, 1]
        first = act[zero & (info[act] == 0)]
        info[first] = k[first] + 1
        piv[act, ka] = xp.where(step == 1, kp + 1, -(kp + 1))
        piv[two, k[two] + 1] = -(kp[step == 2] + 1)
        k[act] = ka + step
    return ld.reshape(a.shape), piv.reshape(batch + (n,)), info.reshape(batch)


def _swap_rows(xp: Any, x: Any, on: Any, i: Any, p: Any) -> None:
    """Swap rows i (b,) and p (b,) of x (b, n, m) in place where ``on`` (b,)."""
    rows = xp.nonzero(on)[0]
    x[rows, i[rows]], x[rows, p[rows]] = x[rows, p[rows]], x[rows, i[rows]].copy()


def ldl_solve_arrays(ld: Any, piv: Any, b: Any, hermitian: bool) -> Any:
    """X (s, n, m) with A X = B from A's compact factor ld (s, n, n) and pivots (s, n) (1-based,
    LAPACK's), B (s, n, m): sytrs's / hetrs's two sweeps, P L D on the way down and Lᵀ Pᵀ (Lᴴ)
    on the way up, each matrix's blocks read from the signs of its pivots."""
    xp = array_module(b)
    herm = hermitian and ld.dtype.kind == "c"
    s, n = ld.shape[0], ld.shape[-1]
    x = b.copy()
    p = piv.astype(np.int64)
    first = xp.zeros((s, n + 1), dtype=bool)  # first[:, k]: k opens a 2x2 block
    second = xp.zeros((s, n + 1), dtype=bool)
    for k in range(n):
        first[:, k] = (p[:, k] < 0) & ~second[:, k]
        second[:, k + 1] = first[:, k]
    one = p > 0
    low = ld.conj() if herm else ld  # the sweep up uses Lᵀ (Lᴴ)
    with np.errstate(all="ignore"):  # each matrix keeps its own block's values (xp.where)
        for k in range(n):
            o, t = one[:, k], first[:, k]
            _swap_rows(xp, x, o, xp.full(s, k), p[:, k] - 1)
            _swap_rows(xp, x, t, xp.full(s, k + 1), -p[:, k] - 1)
            k1 = min(k + 1, n - 1)
            xk, xk1 = x[:, k], x[:, k1]
            below1 = (xp.arange(n) > k)[None, :, None]
            below2 = (xp.arange(n) > k + 1)[None, :, None]
            upd1 = xp.where(below1, ld[:, :, k, None] * xk[:, None, :], 0)
            upd2 = xp.where(
                below2, ld[:, :, k, None] * xk[:, None, :] + ld[:, :, k1, None] * xk1[:, None, :], 0
            )
            x -= xp.where(o[:, None, None], upd1, xp.where(t[:, None, None], upd2, 0))
            d = ld[:, k, k].real if herm else ld[:, k, k]
            a21 = xp.where(t, ld[:, k1, k], 1)
            akm1 = ld[:, k, k] / (a21.conj() if herm else a21)
            ak = ld[:, k1, k1] / a21
            denom = (akm1 * ak - 1)[:, None]
            bkm1 = xk / (a21.conj() if herm else a21)[:, None]
            bk = xk1 / a21[:, None]
            x[:, k] = xp.where(
                o[:, None], xk / d[:, None], xp.where(t[:, None], (ak[:, None] * bkm1 - bk) / denom, xk)
            )
            x[:, k1] = xp.where(t[:, None], (akm1[:, None] * bk - bkm1) / denom, x[:, k1])
    for k in range(n - 1, -1, -1):
        below = (xp.arange(n) > k)[None, :, None]
        tail = xp.where(below, x, 0)
        x[:, k] -= xp.where(
            first[:, k, None], 0, (low[:, :, k, None] * tail).sum(axis=1)
        )  # a 2x2 block's first
        # row is done at its second, below the block
        if k:
            x[:, k - 1] -= xp.where(second[:, k, None], (low[:, :, k - 1, None] * tail).sum(axis=1), 0)
        pk = xp.where(one[:, k], p[:, k] - 1, -p[:, k] - 1)
        _swap_rows(xp, x, one[:, k] | second[:, k], xp.full(s, k), pk)
    return x
