"""Gradcheck cases for ops/linalg.py: cholesky of a well-conditioned X Xᵀ + n I (a gradient w.r.t.
X, as the symmetric gradient needs a symmetric perturbation) and triangular solves with a
well-conditioned triangle, broadcasting batch dims."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from glassgrad.ops import linalg as LA
from tests.ops.harness import case, values


@case("cholesky")
def _cholesky(draw):
    n, b = draw(st.integers(1, 4)), draw(st.sampled_from([(), (2,), (2, 1)]))
    eye = np.eye(n)

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
