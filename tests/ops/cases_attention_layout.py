"""Gradcheck case for nn/functional/sdpa_backend.py's ``QueryLayoutCopy`` (the scaled dot-product
attention output laid out in the query's memory order, as PyTorch's CPU kernel returns it)."""

from __future__ import annotations

from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.nn.functional.sdpa_backend import QueryLayoutCopy
from tests.ops.harness import case, shapes, values


@case("querylayoutcopy")
def _query_layout_copy(draw):
    shape = draw(shapes(4, 4, max_side=3))  # (N, H, L, Ev)
    order = tuple(draw(st.permutations(range(4))))
    weight = gg.tensor(values(draw, shape))  # a fixed weight, so each output element's gradient differs

    def fn(a):
        return QueryLayoutCopy.apply(a, order=order) * weight

    return fn, (values(draw, shape),)
