"""Recorded VJP rules (``autograd/recorded.py``) of the packed LU factorisation
(``ops/linalg_lu.LinalgLuFactorEx``) and of ``linalg.eig``/``eigvals`` (``ops/linalg_eig.Eig``):
their backward written again with Tensor ops, so that ``create_graph=True`` differentiates it once
more (and ``lu_solve`` through a factor, ``lu_unpack``, ``linalg.lu``, which are made of that
factor). L and U are cut from the node's own output; the permutation is a constant. Eig's L and V
are cut from its packed output; for the eigenvalues alone V comes from a fresh ``Eig`` node whose
operand's value is V diag(L) V⁻¹ (the saved factors), as ``eigvalsh``'s rule does.
"""

from __future__ import annotations

import numpy as np

import glassgrad as gg
from glassgrad.autograd.recorded import constant, operand, output, rule, saved
from glassgrad.autograd.recorded_rules_linalg import _cut, _packed_output
from glassgrad.ops.linalg import SolveTriangular
from glassgrad.ops.linalg_complex import check_gauge
from glassgrad.ops.linalg_eig import Eig

__all__: list[str] = []


def _lu_square(low, up, g_low, g_up):
    """L⁻ᴴ [tril(Lᴴ L̄, -1) + triu(Ū Uᴴ)] U⁻ᴴ, L and U square, as ``ops/linalg_lu._square_vjp``
    (ᴴ: conjugate transposes, the transposes of a real factor)."""
    mid = gg.tril(low.mH @ g_low, -1) + gg.triu(g_up @ up.mH)
    right = SolveTriangular.apply(up, mid.mH, upper=True).mH
    return SolveTriangular.apply(low.mH, right, upper=True)


@rule("linalglufactorex")
def _lu_factor(ctx, g):
    """Ā = P Ā', Ā' the square rule, with the wide (U₂ = L⁻¹ P ᵀA₂) and tall (L₂ = A₂' U⁻¹) parts
    as ``LinalgLuFactorEx.backward``."""
    lu, perm = saved(ctx)
    m, n = lu.shape[-2:]
    k = min(m, n)
    lut = output(ctx, lu)
    low = gg.tril(lut[..., :, :k], -1) + constant(np.eye(m, k, dtype=lu.dtype))
    up = gg.triu(lut[..., :k, :])
    g_low, g_up = gg.tril(g[..., :, :k], -1), gg.triu(g[..., :k, :])
    if m == n:
        ga = _lu_square(low, up, g_low, g_up)
    elif m < n:
        linv_g2 = SolveTriangular.apply(low.mH, g_up[..., :, k:], upper=True)  # L⁻ᴴ Ū₂
        g1 = _lu_square(low, up[..., :, :k], g_low - linv_g2 @ up[..., :, k:].mH, g_up[..., :, :k])
        ga = gg.cat([g1, linv_g2], -1)
    else:
        g2 = SolveTriangular.apply(up, g_low[..., k:, :].mH, upper=True).mH  # L̄₂ U⁻ᴴ
        g1 = _lu_square(low[..., :k, :], up, g_low[..., :k, :], g_up - low[..., k:, :].mH @ g2)
        ga = gg.cat([g1, g2], -2)
    # Ā = P Ā': row perm[i] of Ā is row i of Ā', so Ā's row j is Ā''s row argsort(perm)[j]
    rows = np.broadcast_to(np.argsort(perm, axis=-1)[..., :, None], ga.shape)
    return ga.gather(-2, constant(np.ascontiguousarray(rows, dtype=np.int64))), None, None


@rule("linalg_eig")
def _eig(ctx, g):
    """Ā = V⁻ᴴ (diag(L̄) + (G − Vᴴ V diag(Re diag G)) / conj(E) off the diagonal) Vᴴ, G = Vᴴ V̄,
    E_ij = L_j − L_i; V⁻ᴴ diag(L̄) Vᴴ for the eigenvalues alone; Re Ā for a real A."""
    w, v, real = saved(ctx)
    n, batch = w.shape[-1], w.shape[:-1]
    eye = np.eye(n, dtype=bool)
    if not ctx.attrs.get("vectors", True):
        value = np.linalg.solve(np.swapaxes(v, -1, -2), np.swapaxes(v * w[..., None, :], -1, -2))
        value = np.swapaxes(value, -1, -2)  # V diag(L) V⁻¹
        at = operand(ctx, 0, value.real.copy() if real else value)
        wf, vt = _cut(Eig.apply(at, vectors=True), batch, (n,), (n, n))
        # the fresh eigenvalues in the saved ones' order (LAPACK's order may move with rounding)
        near = np.argmin(np.abs(wf._data[..., None, :] - w[..., :, None]), axis=-1)  # (..., n)
        cols = np.ascontiguousarray(np.broadcast_to(near[..., None, :], v.shape), dtype=np.int64)
        vh = vt.gather(-1, constant(cols)).mT.conj()
        ga = gg.linalg.solve(vh, (vh * g[..., :, None]))
        return ga.real if real else ga
    wt, vt = _cut(_packed_output(ctx, batch, w, v), batch, (n,), (n, n))
    gw, gv = _cut(g, batch, (n,), (n, n))
    vh = vt.mT.conj()
    if gv._data.any() or gv.requires_grad:
        gram = vh @ gv
        check_gauge(np, gram._data, "linalg.eig (linalg_eig_backward)")
        diag = gg.diagonal(gram, dim1=-2, dim2=-1).real
        with np.errstate(divide="ignore", invalid="ignore"):  # inf / nan at repeated eigenvalues
            gaps = gg.where(constant(eye), 1.0, (wt[..., None, :] - wt[..., :, None]).conj())
            off = (gram - (vh @ vt) * diag[..., None, :]) / gaps
        mid = gg.where(constant(eye), gw[..., None, :] * constant(eye.astype(v.dtype)), off)
    else:
        mid = gw[..., None, :] * constant(eye.astype(v.dtype))
    ga = gg.linalg.solve(vh, mid @ vh)
    return ga.real if real else ga
