"""JVP rules of the linear-algebra ops and the remaining losses. See ``jvp_rules``.

Shapes: A (..., n, n), B and X (..., n, k), batch dims broadcast; dA, dB are the tangents.
"""

from __future__ import annotations

import numpy as np

from glassgrad.autograd.jvp_rules import _grads as grads
from glassgrad.autograd.jvp_rules import rule, run, scalar
from glassgrad.ops.linalg import chol_solve

__all__: list[str] = []


def _per_matrix(name: str, formula: str) -> None:
    def jvp(ts, xs, z, attrs):
        _, ctx = run(name, list(xs), attrs)
        g = grads(ctx, np.ones_like(z), ts)[0]  # (..., n, n): dz/dA per matrix (each entry feeds one z)
        return np.sum(g * ts[0], axis=(-2, -1))

    jvp.__doc__ = formula
    rule(name)(jvp)


_per_matrix(
    "linalg_det", "d = det A per matrix:  t_d = sum_ij (d A^-T)_ij dA_ij (dd/dA from the VJP with g = 1)."
)
_per_matrix("linalg_logabsdet", "l = log|det A| per matrix:  t_l = sum_ij (A^-T)_ij dA_ij = trace(A^-1 dA).")


@rule("linalg_inv")
def _inv(ts, xs, z, attrs):
    """Y = A^-1:  dY = -Y dA Y."""
    return -z @ ts[0] @ z


def _solve_tangent(a, ta, tb, z):
    """dX = A^-1 (dB - dA X), A and dA as the op reads them (None: no tangent)."""
    rhs = (0 if tb is None else tb) - (0 if ta is None else ta @ z)
    return np.linalg.solve(a, np.broadcast_to(rhs, np.broadcast_shapes(np.shape(rhs), z.shape)))


@rule("linalg_solve")
def _solve(ts, xs, z, attrs):
    """X = A^-1 B:  dX = A^-1 (dB - dA X)."""
    return _solve_tangent(xs[0], ts[0], ts[1], z)


@rule("solvetriangular")
def _solve_triangular(ts, xs, z, attrs):
    """X = A^-1 B, A triangular (only its lower, or upper, triangle is read):
    dX = A^-1 (dB - tri(dA) X)."""
    tri = np.triu if attrs.get("upper", False) else np.tril
    return _solve_tangent(tri(xs[0]), None if ts[0] is None else tri(ts[0]), ts[1], z)


@rule("choleskysolve")
def _cholesky_solve(ts, xs, z, attrs):
    """X = A^-1 B, A = L L^H (upper: U^H U) with all of L, as PyTorch's (the value reads L's
    triangle):  dX = A^-1 (dB - dA X), dA = dL L^H + L dL^H (dU^H U + U^H dU)."""
    low, upper = xs[1], attrs.get("upper", False)
    rhs = 0 if ts[0] is None else ts[0]
    if ts[1] is not None:
        lh, th = np.conj(_mt(low)), np.conj(_mt(ts[1]))
        da = th @ low + lh @ ts[1] if upper else ts[1] @ lh + low @ th
        rhs = rhs - da @ z
    rhs = np.broadcast_to(rhs, np.broadcast_shapes(np.shape(rhs), z.shape))
    return chol_solve(np, np.broadcast_to(low, z.shape[:-2] + low.shape[-2:]), rhs, upper)


_ctc_scalar = scalar("ctc_loss")


@rule("ctc_loss")
def _ctc(ts, xs, z, attrs):
    """CTC loss of log-probs (T, N, C):  'mean'/'sum': t_z = <grad z, t>; 'none' (one loss per
    sequence n, fed by log_probs[:, n, :] only): t_z[n] = sum over T and C of dz_n/dlp * t, both
    from the VJP."""
    if z.ndim == 0:
        return _ctc_scalar(ts, xs, z, attrs)
    _, ctx = run("ctc_loss", list(xs), attrs)
    g = grads(ctx, np.ones_like(z), ts)[0]  # (T, N, C)
    return np.sum(g * ts[0], axis=(0, 2))


def _mt(a):
    return np.swapaxes(a, -1, -2)


@rule("cholesky")
def _cholesky(ts, xs, z, attrs):
    """L = cholesky(A):  dL = L Phi(L^-1 dA L^-T), Phi = the lower triangle with the diagonal
    halved (from dA = dL L^T + L dL^T). dA as given, not the symmetric matrix read from its lower
    triangle: PyTorch's formula, whose tangent for a dA that is not symmetric (a jacfwd basis
    matrix e_ij) is its, not that of the function computed."""
    low = z
    inner = np.linalg.solve(low, _mt(np.linalg.solve(low, _mt(ts[0]))))  # L^-1 dA L^-T
    phi = np.tril(inner) - 0.5 * np.tril(np.triu(inner))
    return low @ phi


@rule("eigh")
def _eigh(ts, xs, z, attrs):
    """A = V diag(L) V^T (A read from the ``uplo`` triangle), M = V^T dA V:  dL = diag(M),
    dV = V (F * M) with F_ij = 1 / (L_j - L_i) off the diagonal, 0 on it (inf/nan at repeated
    eigenvalues, as the VJP). dA as given, as PyTorch's (and the VJP's symmetric gradient): a dA
    that is not symmetric is not reduced to the triangle A is read from."""
    from glassgrad.ops.linalg_decomp import _pack

    a, n = xs[0], xs[0].shape[-1]
    w, v = np.linalg.eigh(a, UPLO=attrs.get("uplo", "L"))
    m = _mt(v) @ ts[0] @ v
    dw = np.diagonal(m, axis1=-2, axis2=-1)
    if not attrs.get("vectors", True):
        return dw
    eye = np.eye(n, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, w[..., None, :] - w[..., :, None]))
    return _pack(np, a.shape[:-2], dw, v @ (f * m))


@rule("linalg_eig")
def _eig(ts, xs, z, attrs):
    """A V = V diag(L), P = V^-1 dA V:  dL = diag(P); dV = V C - V Re(diag(V^H V C)), C = P / E off
    the diagonal and 0 on it, E_ij = L_j - L_i (PyTorch's linalg_eig_jvp: unit columns, no change
    of phase). V from LAPACK on A again: the same call as forward's, so the same order and phases."""
    from glassgrad.ops.linalg_decomp import _pack

    a, n = xs[0], xs[0].shape[-1]
    w, v = (x.astype(z.dtype, copy=False) for x in np.linalg.eig(a))
    p = np.linalg.solve(v, ts[0].astype(z.dtype) @ v)
    dw = np.diagonal(p, axis1=-2, axis2=-1)
    if not attrs.get("vectors", True):
        return dw.copy()
    eye = np.eye(n, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):  # inf / nan at repeated eigenvalues, as the VJP
        c = np.where(eye, 0, p / np.where(eye, 1, w[..., None, :] - w[..., :, None]))
    dv = v @ c
    dv = dv - v * np.diagonal(np.conj(_mt(v)) @ dv, axis1=-2, axis2=-1).real[..., None, :]
    return _pack(np, a.shape[:-2], dw, dv)


@rule("carried")
def _carried(ts, xs, z, attrs):
    """A recorded output with no gradient (``ops/carried.py``: a real slogdet's sign): tangent 0."""
    return np.zeros_like(z)
