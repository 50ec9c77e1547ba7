"""Gradcheck cases for ops/linalg.py: cholesky of a well-conditioned X Xᵀ + n I (a gradient w.r.t.
X, as the symmetric gradient needs a symmetric perturbation) and triangular solves with a
well-conditioned triangle, broadcasting batch dims."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.ops import linalg as LA
from glassgrad.ops import linalg_svd as SVD
from tests.ops.harness import case, values


@case("cholesky")
def _cholesky(draw):
    n, b = draw(st.integers(1, 4)), draw(st.sampled_from([(), (2,), (2, 1)]))
    eye = gg.tensor(np.eye(n))  # a tensor: t + ndarray is NumPy's, as in PyTorch

    def fn(x):
        return LA.cholesky(x @ x.mT + float(n) * eye)

    return fn, (values(draw, (*b, n, n)),)


@case("solvetriangular")
def _solve(draw):
    n, k = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    upper = draw(st.booleans())
    sa, sb = draw(
        st.sampled_from(
            [((n, n), (n, k)), ((2, n, n), (n, k)), ((n, n), (3, n, k)), ((2, 1, n, n), (3, n, k))]
        )
    )
    a = values(draw, sa, -1.0, 1.0)
    a = a + 3.0 * np.eye(n)  # a dominant diagonal: far from singular
    return (lambda x, y: LA.solve_triangular(x, y, upper=upper)), (a, values(draw, sb))


def _svd_input(draw):
    """A (batch of) (m, n) matrices with well-separated, non-zero singular values: a diagonal of
    10, 20, 30 ... plus entries on [-1, 1] (the SVD's gradient is infinite at repeated values)."""
    m, n = draw(st.sampled_from([(3, 2), (2, 3), (3, 3), (1, 2), (4, 2)]))
    b = draw(st.sampled_from([(), (2,)]))
    base = np.zeros((m, n))
    k = min(m, n)
    base[np.arange(k), np.arange(k)] = 10.0 * np.arange(1, k + 1)
    return base + values(draw, (*b, m, n), -1.0, 1.0)


# U and Vh are unique only up to the sign of each vector: the cases' losses do not depend on it
@case("svd_u")
def _svd_u(draw):
    def fn(x):
        u = SVD.linalg_svd(x, full_matrices=False).U
        return u @ u.mT + u.abs() @ u.abs().mT

    return fn, (_svd_input(draw),)


@case("svd_s")
def _svd_s(draw):
    return (lambda x: SVD.linalg_svd(x).S), (_svd_input(draw),)


@case("svd_vh")
def _svd_vh(draw):
    def fn(x):
        vh = SVD.linalg_svd(x, full_matrices=False).Vh
        return vh.mT @ vh + vh.abs().mT @ vh.abs()

    return fn, (_svd_input(draw),)


@case("choleskysolve")
def _cholesky_solve(draw):
    """X = (L Lᴴ)⁻¹ B: L's other triangle is masked in fn (the value never reads it, so finite
    differences see no change there, where the VJP follows PyTorch's and fills it)."""
    n, k = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    upper = draw(st.booleans())
    sl, sb = draw(st.sampled_from([((n, n), (n, k)), ((2, n, n), (n, k)), ((n, n), (3, n, k))]))
    low = values(draw, sl, -1.0, 1.0) + 3.0 * np.eye(n)  # a dominant diagonal: well conditioned

    def fn(b, factor):
        return LA.CholeskySolve.apply(b, factor.triu() if upper else factor.tril(), upper=upper)

    return fn, (values(draw, sb), low)
