"""Gradcheck cases for ops/linear.py: the fused affine map, with and without bias, any leading dims."""

from __future__ import annotations

from hypothesis import strategies as st

from glassgrad.ops.linear import Linear
from tests.ops.harness import case, shapes, values


@case("linear")
def _linear(draw):
    lead = draw(shapes(0, 2))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    x, w = values(draw, (*lead, n_in)), values(draw, (n_out, n_in))
    if draw(st.booleans()):
        return (lambda a, W, b: Linear.apply(a, W, b)), (x, w, values(draw, (n_out,)))
    return (lambda a, W: Linear.apply(a, W, None)), (x, w)
