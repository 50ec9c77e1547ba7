"""Gradcheck cases for ops/linalg_lu.py (``linalg.lu_factor``'s primitive, through ``linalg.lu``).

The input is a row-permuted matrix with a dominant entry in each column (3 added on a permuted
diagonal), so the partial-pivoting choices stay the same under the finite-difference steps and
the factorisation is a smooth function of A. Square, wide and tall shapes, with and without a batch.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from glassgrad import linalg
from tests.ops.harness import case, values


@case("linalglufactorex")
def _lu_factor(draw):
    m, n = draw(st.sampled_from([(1, 1), (2, 2), (3, 3), (4, 4), (2, 4), (4, 2), (3, 2)]))
    batch = draw(st.sampled_from([(), (2,)]))
    perm = np.random.default_rng(draw(st.integers(0, 2**16))).permutation(m)
    a = values(draw, (*batch, m, n), -1.0, 1.0) + 3.0 * np.eye(m, n)[perm]

    def packed(x):
        return linalg.lu_factor(x).LU

    def unpacked(x):
        _, low, up = linalg.lu(x)
        return low.sum(-1, keepdim=True) * 0.5 + up.sum(-2, keepdim=True).sum(-1, keepdim=True) + low[..., :1]

    return draw(st.sampled_from([packed, unpacked])), (a,)
