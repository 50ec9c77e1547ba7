"""Gradcheck cases for ops/linalg_complex.py (the complex twins of linalg.solve and linalg.eigh),
ops/linalg_eig.py (linalg.eig and eigvals, real or complex input) and ops/linalg_complex_svd.py
(the SVD's complex twins: phase-free losses of U and Vh, as for eigh's V).

A complex input of shape s is drawn as float64 (*s, 2) and viewed as complex128 inside, a complex
output viewed as real (as in cases_complex.py). Solve's A gets 3 I added (well conditioned); eigh's
input is H + Hᴴ plus a spread diagonal (eigenvalues ~3 apart), and the outputs differentiated are
phase-free (V diag(L) Vᴴ, |V|²), since a complex eigenvector is unique only up to e^{iφ}.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad import linalg
from tests.ops.harness import case, values

C, R = gg.view_as_complex, gg.view_as_real


def _pairs(draw, shape, low=-1.0, high=1.0):
    return values(draw, (*shape, 2), low, high)


@case("complex_linalg_solve")
def _solve(draw):
    n, k = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    batch_a, batch_b = draw(st.sampled_from([((), ()), ((2,), (2,)), ((2, 1), (3,)), ((), (2,))]))
    form = draw(st.sampled_from(["left", "right", "vector"]))
    sb = {"left": (*batch_b, n, k), "right": (*batch_b, k, n), "vector": (n,)}[form]
    eye = gg.eye(n, dtype=gg.float64)

    def fn(x, y):
        a = C(x) + 3.0 * eye
        return R(linalg.solve(a if form != "vector" else a[(0,) * len(batch_a)], C(y), left=form != "right"))

    return fn, (_pairs(draw, (*batch_a, n, n)), _pairs(draw, sb))


@case("complex_eigh")
def _eigh(draw):
    n = draw(st.integers(1, 4))
    uplo = draw(st.sampled_from(["L", "U"]))
    batch = draw(st.sampled_from([(), (2,), (2, 1)]))
    spread = gg.tensor(np.diag(3.0 * np.arange(n)))

    def hermitian(x):
        h = C(x)
        return h + h.mT.conj() + spread

    def vectors(x):
        w, v = linalg.eigh(hermitian(x), UPLO=uplo)
        p = v * v.conj()  # |V|², real valued
        return R((v * w.unsqueeze(-2)) @ v.mT.conj() + p @ p.mT) + w[..., None, None]

    def vals(x):
        return linalg.eigvalsh(hermitian(x), UPLO=uplo)

    return draw(st.sampled_from([vectors, vals])), (_pairs(draw, (*batch, n, n), -0.5, 0.5),)


@case("linalg_eig")
def _eig(draw):
    n = draw(st.integers(1, 4))
    batch = draw(st.sampled_from([(), (2,), (2, 1)]))
    spread = np.diag(3.0 * np.arange(n))  # eigenvalues ~3 apart: distinct under any small step
    complex_input = draw(st.booleans())

    def matrix(x):
        # contiguous: the forward-mode review passes strided inputs, which view_as_complex refuses
        return (C(x.contiguous()) if complex_input else x) + gg.tensor(spread)

    def vectors(x):
        w, v = linalg.eig(matrix(x))
        p = (v * v.conj()).real  # |V|²: free of each column's phase
        return (R(w).sum(-1) + (p * R(w)[..., 0].unsqueeze(-2)).sum(-1)).unsqueeze(-1) + p @ p.mT

    def vals(x):
        return R(linalg.eigvals(matrix(x)))

    shape = (*batch, n, n)
    raw = _pairs(draw, shape, -0.5, 0.5) if complex_input else values(draw, shape, -0.5, 0.5)
    return draw(st.sampled_from([vectors, vals])), (raw,)


def _svd_input(draw):
    """Complex (m, n) matrices with well-separated singular values: 10, 20, 30 ... on the diagonal
    plus entries of modulus up to √2 (the SVD's gradient is infinite at repeated values)."""
    m, n = draw(st.sampled_from([(3, 2), (2, 3), (3, 3), (1, 2)]))
    batch = draw(st.sampled_from([(), (2,)]))
    raw = _pairs(draw, (*batch, m, n))
    k = min(m, n)
    raw[..., np.arange(k), np.arange(k), 0] += 10.0 * np.arange(1, k + 1)
    return raw


@case("complex_svd_u")
def _svd_u(draw):
    def fn(x):
        u = linalg.svd(C(x), full_matrices=False).U
        p = (u * u.conj()).real  # |U|²: free of each vector's phase
        return R(u @ u.mT.conj()).sum(-1) + p @ p.mT

    return fn, (_svd_input(draw),)


@case("complex_svd_s")
def _svd_s(draw):
    return (lambda x: linalg.svdvals(C(x))), (_svd_input(draw),)


@case("complex_svd_vh")
def _svd_vh(draw):
    def fn(x):
        u, _, vh = linalg.svd(C(x), full_matrices=False)
        p = (vh * vh.conj()).real
        together = R(u @ vh).sum((-3, -2, -1))[..., None, None]  # U Vh: phase-free as a pair
        return R(vh.mT.conj() @ vh).sum(-1) + p.mT @ p + together

    return fn, (_svd_input(draw),)
