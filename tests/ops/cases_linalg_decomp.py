"""Gradcheck cases for ops/linalg_decomp.py (qr, eigh) and ops/linalg_matfn.py (matrix_exp, pinv).

Eigenvectors and the columns of Q are unique only up to sign (and eigh reads one triangle), so
each case differentiates a sign-invariant function of the outputs, of a symmetric X + Xᵀ for
eigh; inputs have well-separated eigenvalues / full rank so finite differences are meaningful.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad import linalg
from tests.ops.harness import case, values


def _batch(draw):
    return draw(st.sampled_from([(), (2,), (2, 1)]))


@case("qr")
def _qr(draw):
    m, n = draw(st.sampled_from([(3, 2), (3, 3), (4, 2), (2, 3), (1, 1), (2, 4)]))
    mode = "complete" if m <= n and draw(st.booleans()) else "reduced"
    a = values(draw, (*_batch(draw), m, n), -1.0, 1.0) + 3.0 * np.eye(m, n)  # full rank

    def fn(x):
        q, r = linalg.qr(x, mode=mode)
        # Q R is A; diag(R) Q's columns and the rows of R scaled by diag(R) are sign-free
        d = r.diagonal(0, -2, -1)  # (..., k)
        return (
            q @ r + (q * d.unsqueeze(-2)).sum(-1, keepdim=True) + (r * d.unsqueeze(-1)).sum(-2, keepdim=True)
        )

    return fn, (a,)


@case("eigh")
def _eigh(draw):
    n = draw(st.integers(1, 4))
    uplo = draw(st.sampled_from(["L", "U"]))
    spread = gg.tensor(np.diag(3.0 * np.arange(n)))  # eigenvalues at least ~1 apart

    def fn(x):
        w, v = linalg.eigh(x + x.mT + spread, UPLO=uplo)
        return (v * v * w.unsqueeze(-2)).sum(-1, keepdim=True) + v @ (v * v).mT + w.unsqueeze(-1)

    def vals(x):
        return linalg.eigvalsh(x + x.mT + spread, UPLO=uplo)

    fns = draw(st.sampled_from([fn, vals]))
    return fns, (values(draw, (*_batch(draw), n, n), -0.5, 0.5),)


@case("matrixexp")
def _matrix_exp(draw):
    n = draw(st.integers(1, 4))
    scale = draw(st.sampled_from([0.5, 4.0]))  # 4.0: ||A|| past 5.4 takes the squaring path
    return (lambda x: linalg.matrix_exp(x * scale)), (values(draw, (*_batch(draw), n, n)),)


@case("pinv")
def _pinv(draw):
    m, n = draw(st.sampled_from([(3, 2), (2, 3), (3, 3), (1, 2), (4, 1)]))
    hermitian = m == n and draw(st.booleans())
    a = values(draw, (*_batch(draw), m, n), -1.0, 1.0) + 3.0 * np.eye(m, n)  # full rank

    def fn(x):
        return linalg.pinv(x + x.mT if hermitian else x, hermitian=hermitian)

    return fn, (a,)
