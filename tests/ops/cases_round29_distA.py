# ruff: noqa: N999  (the group name distA is in the file name)
"""Gradcheck case for ops/special_gamma.py: P(a, x) in x (a constant: PyTorch has no gradient in a)."""

from __future__ import annotations

import glassgrad as gg
from glassgrad.ops.special_gamma import Gammainc
from tests.ops.harness import broadcast_pair, case, values


@case("gammainc")
def _gammainc(draw):
    sa, sx = draw(broadcast_pair())
    a = gg.tensor(values(draw, sa, 0.3, 8.0))

    def fn(x):
        return Gammainc.apply(a, x)

    return fn, (values(draw, sx, 0.05, 12.0),)
