"""``linalg.eig``/``eigvals``: the eigen-decomposition of a general square matrix, A = V diag(L) V⁻¹.

The results are complex whatever A's dtype (a real matrix can have complex eigenvalues), as in
PyTorch: complex64 for float32 and complex64 A, complex128 for the 64-bit ones. Each eigenvector
(a column of V) has unit norm with its largest component real: LAPACK's ``geev`` normalisation,
which NumPy and PyTorch share, so the two libraries give the same V.

The gradient follows from A V = V L. With C = V⁻¹ dV, V⁻¹ dA V = dL + C L − L C, so
dL = diag(V⁻¹ dA V) and C_ij = (V⁻¹ dA V)_ij / (L_j − L_i) off the diagonal; C's diagonal keeps
each column at unit norm (Re vⱼᴴ dvⱼ = 0) and its imaginary part, a change of phase, is free. A
loss that depends on those phases has no gradient and backward refuses it (``check_gauge``). For a
real A the gradient is the real part of the complex one.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module, quietly
from glassgrad.errors import LinAlgError
from glassgrad.ops.linalg_complex import check_gauge
from glassgrad.ops.linalg_decomp import _pack, ht, unpack
from glassgrad.ops.linalg_solve import check_matrix, lapack

__all__ = ["Eig"]

_COMPLEX = {
    "float32": "complex64",
    "complex64": "complex64",
    "float64": "complex128",
    "complex128": "complex128",
}


class Eig(Function):
    """A = V diag(L) V⁻¹ for square A. Shape: (..., n, n) -> packed (L (..., n), V (..., n, n)) as
    one complex array, or L alone when not ``vectors``.

    VJP, with E_ij = L_j − L_i and G = Vᴴ V̄:
        Ā = V⁻ᴴ (diag(L̄) + (G − Vᴴ V diag(Re diag G)) / conj(E) off the diagonal) Vᴴ,
    and Ā = V⁻ᴴ diag(L̄) Vᴴ for the eigenvalues alone; Re Ā for a real A.
    """

    name = "linalg_eig"
    node_name = "LinalgEigBackward0"
    complex_ok = True

    @staticmethod
    def forward(ctx, a, vectors=True):
        op = "linalg.eig" if vectors else "linalg.eigvals"
        check_matrix(op, a, square=True, complex_ok=True)
        xp = array_module(a)
        if not xp.isfinite(a).all():
            raise LinAlgError(f"{op}: input tensor should not contain infs or NaNs (shape {a.shape})")
        cdt = _COMPLEX[a.dtype.name]
        # NumPy answers real arrays when every eigenvalue is real; PyTorch's results are always complex.
        w, v = (x.astype(cdt, copy=False) for x in lapack(op, xp.linalg.eig, a))
        ctx.save_for_backward(w, v, a.dtype.kind != "c")
        return _pack(xp, a.shape[:-2], w, v) if vectors else w

    @staticmethod
    def backward(ctx, g):
        w, v, real = ctx.saved
        xp = array_module(v)
        n = w.shape[-1]
        vh = ht(v)
        gw, gv = unpack(g, w.shape[:-1], (n,), (n, n)) if ctx.attrs.get("vectors", True) else (g, None)
        if gv is not None and gv.any():
            mid = quietly(_vectors_mid, xp, w, v, vh, gw, gv)  # inf / nan at repeated eigenvalues
        else:  # only the eigenvalues were used: no division by gaps (finite at repeated ones)
            mid = gw[..., None, :] * xp.eye(n, dtype=v.dtype)  # diag(L̄)
        ga = xp.linalg.solve(vh, mid @ vh)  # V⁻ᴴ M Vᴴ
        return ga.real.copy() if real else ga


def _vectors_mid(xp: Any, w: Any, v: Any, vh: Any, gw: Any, gv: Any) -> Any:
    """M = diag(L̄) + (G − Vᴴ V diag(Re diag G)) / conj(E) off the diagonal, G = Vᴴ V̄."""
    n = w.shape[-1]
    gram = vh @ gv  # G
    check_gauge(xp, gram, "linalg.eig (linalg_eig_backward)")
    diag = xp.diagonal(gram, axis1=-2, axis2=-1).real  # (..., n)
    eye = xp.eye(n, dtype=bool)
    gaps = xp.where(eye, 1.0, xp.conj(w[..., None, :] - w[..., :, None]))  # conj(E_ij)
    off = (gram - (vh @ v) * diag[..., None, :]) / gaps
    return xp.where(eye, gw[..., None, :], off)
