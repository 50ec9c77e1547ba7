"""Gradcheck cases for ops/special_more.py (torch.special's entr, erfcx, ndtr, ndtri, log_ndtr,
xlog1py), each on a domain away from its poles and edges, the tails included."""

from __future__ import annotations

from glassgrad.ops import special_more as sm
from tests.ops.harness import broadcast_pair, case, shapes, values


def _unary(fn, low, high):
    def strategy(draw):
        return fn, (values(draw, draw(shapes()), low, high),)

    return strategy


case("entr")(_unary(sm.entr, 0.1, 4.0))
case("erfcx")(_unary(sm.erfcx, -3.0, 6.0))
case("ndtr")(_unary(sm.ndtr, -4.0, 4.0))
case("ndtri")(_unary(sm.ndtri, 0.02, 0.98))
case("log_ndtr")(_unary(sm.log_ndtr, -30.0, 5.0))


@case("xlog1py")
def _xlog1py(draw):
    sa, sb = draw(broadcast_pair())
    return sm.xlog1py, (values(draw, sa, -2.0, 2.0), values(draw, sb, -0.7, 3.0))


case("i1")(_unary(sm.i1, -8.0, 8.0))
case("i0e")(_unary(sm.i0e, -40.0, 40.0))
case("i1e")(_unary(sm.i1e, -40.0, 40.0))
