"""Gradcheck cases for ops/pieces.py: split/chunk/unbind pieces hanging from one hub, with some
pieces unused, some used twice, and pieces of pieces (a hub inside a piece)."""

from __future__ import annotations

from hypothesis import strategies as st

from glassgrad.ops import joining as J
from tests.ops.harness import case, shapes, values


def _dim(draw, ndim: int) -> int:
    return draw(st.integers(-ndim, ndim - 1))


@case("split")
@case("piece")
def _split_some_pieces(draw):
    shape = draw(shapes(1, 3, min_side=1, max_side=5))
    d = _dim(draw, len(shape))
    size = draw(st.integers(1, 4))
    keep = draw(st.lists(st.booleans(), min_size=5, max_size=5))

    def fn(a):
        parts = a.split(size, d)
        used = [p * (i + 1.0) for i, p in enumerate(parts) if keep[i % 5]] or [parts[0]]
        return J.cat([*used, parts[-1] * parts[-1]], d)  # the last piece feeds two ops

    return fn, (values(draw, shape),)


@case("split")
@case("piece")
def _unbind_nested(draw):
    shape = draw(shapes(2, 3, min_side=1, max_side=4))
    d = _dim(draw, len(shape))

    def fn(a):
        rows = a.unbind(d)
        inner = rows[0].unbind(0)  # pieces of a piece: a second hub inside the first
        return J.stack([r * (i + 1.0) for i, r in enumerate(rows)], 0).sum() + J.stack(inner, 0).exp()

    return fn, (values(draw, shape),)
