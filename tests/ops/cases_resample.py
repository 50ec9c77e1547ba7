"""Gradcheck cases for ops/resample.py: nearest and linear resampling along one axis, shrinking and
growing, with repeated source positions (several outputs read one input) and skipped ones."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from glassgrad.ops import resample as R
from tests.ops.harness import case, shapes, values


@case("resample")
def _resample(draw):
    shape = draw(shapes(1, 3, min_side=1, max_side=4))
    axis = draw(st.integers(0, len(shape) - 1))
    n_in = shape[axis]
    n_out = draw(st.integers(1, 7))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    lo = np.sort(rng.integers(0, n_in, n_out))  # non-decreasing, repeats and gaps allowed
    if draw(st.booleans()):
        return (lambda a: R.resample(a, axis, lo)), (values(draw, shape),)
    hi = np.minimum(lo + 1, n_in - 1)
    w = rng.uniform(0, 1, n_out)
    return (lambda a: R.resample(a, axis, lo, hi, w)), (values(draw, shape),)
