"""Gradcheck cases for ops/trig.py, each on a domain away from its poles and edges."""

from __future__ import annotations

from glassgrad.ops import trig
from tests.ops.harness import broadcast_pair, case, shapes, values


def _unary(fn, low=-2.0, high=2.0):
    def strategy(draw):
        return fn, (values(draw, draw(shapes()), low, high),)

    return strategy


case("tan")(_unary(trig.tan, -1.2, 1.2))
case("asin")(_unary(trig.asin, -0.9, 0.9))
case("acos")(_unary(trig.acos, -0.9, 0.9))
case("atan")(_unary(trig.atan))
case("sinh")(_unary(trig.sinh))
case("cosh")(_unary(trig.cosh))
case("erf")(_unary(trig.erf))
case("expm1")(_unary(trig.expm1))


@case("atan2")
def _atan2(draw):
    sa, sb = draw(broadcast_pair())
    # keep (b, a) away from the origin and from the branch cut on the negative b axis
    return trig.atan2, (values(draw, sa, 0.3, 2.0), values(draw, sb, -2.0, 2.0))
