"""Matrix decompositions as primitives, each with its hand-derived backward: ``QR`` and ``Eigh``
(symmetric eigendecomposition); the SVD lives in ``ops/linalg_svd.py``. Batch dims lead, as in ``torch.linalg``.

A primitive returns one array, so a decomposition with several outputs returns them *packed*:
each output flattened over its matrix dims and concatenated along the last axis,
``(..., size_0 + size_1 + ...)``. The wrappers in ``glassgrad/linalg_decomp.py`` cut the pack
with ``split`` (one hub node) and reshape the pieces; backward unpacks the gradient the same way
(an unused output's piece is zeros). Backward is first-order, and the formula for eigenvectors
assumes distinct eigenvalues, as PyTorch's does.
"""

from __future__ import annotations

import math
from typing import Any

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, quietly
from glassgrad.errors import GraphError
from glassgrad.ops.linalg import _tril_solve
from glassgrad.ops.linalg_solve import lapack
from glassgrad.ops.linalg_solve import mt as _mt

__all__ = ["QR", "Eigh", "unpack"]


def _pack(xp: Any, batch: tuple, *arrays: Any) -> Any:
    """Flatten each array over its non-batch dims and join them: -> (*batch, total)."""
    flat = [a.reshape(batch + (math.prod(a.shape[len(batch) :]),)) for a in arrays]
    return xp.concatenate(flat, axis=-1)


def unpack(flat: Any, batch: tuple, *shapes: tuple) -> list:
    """The inverse of ``_pack``: (*batch, total) -> arrays of shapes ``batch + shape``."""
    out, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        out.append(flat[..., start : start + size].reshape(batch + tuple(shape)))
        start += size
    return out


class QR(Function):
    """A = Q R with orthonormal columns in Q and upper-triangular R (``mode`` as numpy/torch:
    'reduced' Q (..., m, k), R (..., k, n), k = min(m, n); 'complete' Q (..., m, m), R (..., m, n);
    'r' returns R alone). Shape: (..., m, n) -> packed (Q, R), or R for mode 'r'.

    VJP for m >= n (square R): with N = R̄ Rᵀ - Qᵀ Q̄ and copyu(N) = triu(N) + triu(N, 1)ᵀ (the
    upper triangle mirrored down), Ā = (Q̄ + Q copyu(N)) R⁻ᵀ. For m < n, A = [X | Y] with
    X = Q R₁ square and R₂ = Qᵀ Y: Ȳ = Q R̄₂ and X̄ is the square rule with Q̄ + Y R̄₂ᵀ.
    Not differentiable for mode 'r' or for 'complete' with m > n (PyTorch refuses these too).
    """

    @staticmethod
    def forward(ctx, a, mode="reduced"):
        xp = array_module(a)
        if mode == "r":  # no Q: backward refuses, so nothing is saved
            return xp.linalg.qr(a, mode="r")
        q, r = xp.linalg.qr(a, mode=mode)
        ctx.save_for_backward(q, r)
        return _pack(xp, a.shape[:-2], q, r)

    @staticmethod
    def backward(ctx, g):
        mode = ctx.attrs.get("mode", "reduced")
        if mode == "r":
            raise GraphError(
                "linalg.qr: the gradient needs Q, which mode='r' does not compute; use mode='reduced'"
            )
        q, r = ctx.saved
        xp = array_module(q)
        (m, k), n = q.shape[-2:], r.shape[-1]
        if mode == "complete" and m > n:
            raise GraphError(
                f"linalg.qr: mode='complete' is not differentiable for tall matrices (m > n), got {m}x{n}"
            )
        gq, gr = unpack(g, q.shape[:-2], (m, k), (k, n))
        if m >= n:
            return _qr_square_vjp(xp, q, r, gq, gr)
        y = q @ r[..., m:]  # the columns of A past the square block: Y = Q R₂
        gx = _qr_square_vjp(xp, q, r[..., :m], gq + y @ ht(gr[..., m:]), gr[..., :m])
        return xp.concatenate([gx, q @ gr[..., m:]], axis=-1)


def _qr_square_vjp(xp: Any, q: Any, r: Any, gq: Any, gr: Any) -> Any:
    """Ā for A = Q R with R square (k, k), Q (m, k): (Q̄ + Q copyu(R̄ Rᵀ - Qᵀ Q̄)) R⁻ᵀ; for complex
    Q and R (the twin) the transposes are ᴴ and copyu keeps the real part of the diagonal (LAPACK's
    R has a real diagonal, so its imaginary part is no direction of A): PyTorch's gradient."""
    nmat = gr @ ht(r) - ht(q) @ gq  # (..., k, k)
    up = xp.triu(nmat, 1)
    diag = xp.diagonal(nmat, axis1=-2, axis2=-1)
    if diag.dtype.kind == "c":
        diag = diag.real
    b = gq + q @ (up + ht(up) + diag[..., None] * xp.eye(nmat.shape[-1], dtype=diag.dtype))  # (..., m, k)
    return ht(_tril_solve(xp, r, ht(b), upper=True))  # B R⁻ᴴ = (R⁻¹ Bᴴ)ᴴ


class Eigh(Function):
    """A = V diag(L) Vᵀ for symmetric A (only the ``uplo`` triangle is read), L ascending.
    Shape: (..., n, n) -> packed (L (..., n), V (..., n, n)), or L alone when not ``vectors``.

    VJP (a symmetric Ā): with K = (Vᵀ V̄ - V̄ᵀ V) / 2 and E_ij = L_j - L_i,
    Ā = V (diag(L̄) + K / E off the diagonal) Vᵀ; eigenvalues alone give V diag(L̄) Vᵀ.
    """

    @staticmethod
    def forward(ctx, a, uplo="L", vectors=True):
        xp = array_module(a)
        w, v = lapack("linalg.eigh", xp.linalg.eigh, a, UPLO=uplo)
        ctx.save_for_backward(w, v)
        return _pack(xp, a.shape[:-2], w, v) if vectors else w

    @staticmethod
    def backward(ctx, g):
        return eigh_vjp(ctx, g)


def ht(x: Any) -> Any:
    """Xᵀ of a real batch of matrices, Xᴴ of a complex one: (..., m, n) -> (..., n, m)."""
    xp = array_module(x)
    return xp.conj(_mt(x)) if xp.iscomplexobj(x) else _mt(x)


def eigh_vjp(ctx: Any, g: Any, gauge: Any = None) -> Any:
    """Ā for ``Eigh`` (real) and its complex twin: transposes are ᴴ for complex V, and ``gauge``
    (the twin's phase check) sees Vᴴ V̄ before the division by the gaps."""
    w, v = ctx.saved
    xp = array_module(v)
    n = w.shape[-1]
    if not ctx.attrs.get("vectors", True):
        return (v * g[..., None, :]) @ ht(v)
    gw, gv = unpack(g, w.shape[:-1], (n,), (n, n))
    gw = gw.real  # L is real: a complex packed gradient's imaginary part there is the cast's zero
    if not gv.any():  # only the eigenvalues were used: no division by gaps
        return (v * gw[..., None, :]) @ ht(v)
    inner = ht(v) @ gv  # Vᵀ V̄ (Vᴴ V̄)
    if gauge is not None:
        gauge(xp, inner)
    return quietly(_vectors_vjp, xp, w, v, gw, inner)  # inf / nan at repeated eigenvalues, as PyTorch


def _vectors_vjp(xp: Any, w: Any, v: Any, gw: Any, inner: Any) -> Any:
    """Ā = V (diag(L̄) + K / E off the diagonal) Vᵀ, K = (Vᵀ V̄ - (Vᵀ V̄)ᵀ) / 2, E_ij = L_j - L_i
    (ᴴ in place of ᵀ for complex V)."""
    n = w.shape[-1]
    skew = 0.5 * (inner - ht(inner))  # K
    eye = xp.eye(n, dtype=bool)
    gaps = xp.where(eye, 1.0, w[..., None, :] - w[..., :, None])  # E_ij = L_j - L_i
    mid = xp.where(eye, gw[..., None, :] * eye, skew / gaps)  # diagonal: L̄
    return v @ mid @ ht(v)
