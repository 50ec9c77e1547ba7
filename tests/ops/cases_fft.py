"""Gradcheck cases for fft.py: ``fft``/``ifft`` of real and (through real views) complex inputs,
along a drawn dim, with a drawn length (padding or cutting) and norm."""

from __future__ import annotations

from hypothesis import strategies as st

import glassgrad as gg
from tests.ops.harness import case, shapes, values

C, R = gg.view_as_complex, gg.view_as_real


def _transform(name):
    def draw_case(draw):
        shape = draw(shapes(min_dims=1))
        dim = draw(st.integers(-len(shape), len(shape) - 1))
        n = draw(st.sampled_from([None, 1, shape[dim] + 2]))
        norm = draw(st.sampled_from([None, "ortho", "forward"]))
        op = getattr(gg.fft, name)
        if draw(st.booleans()):  # real input
            return (lambda x: R(op(x, n=n, dim=dim, norm=norm))), (values(draw, shape),)
        return (lambda x: R(op(C(x), n=n, dim=dim, norm=norm))), (values(draw, (*shape, 2)),)

    return draw_case


case("fft")(_transform("fft"))
case("ifft")(_transform("ifft"))
