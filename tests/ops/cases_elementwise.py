"""Gradcheck cases for ops/elementwise.py and ops/unary.py."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import glassgrad as gg
from tests.ops.harness import broadcast_pair, case, shapes, values


def _binary(op, low=-2.0, high=2.0, away_b=0.0):
    def draw_case(draw):
        sa, sb = draw(broadcast_pair())
        return op, (values(draw, sa, low, high), values(draw, sb, low, high, away=away_b))

    return draw_case


case("add")(_binary(lambda a, b: a + b))
case("sub")(_binary(lambda a, b: a - b))
case("mul")(_binary(lambda a, b: a * b))
case("div")(_binary(lambda a, b: a / b, away_b=0.5))
case("pow")(_binary(lambda a, b: a**b, low=0.5, high=2.0))
case("maximum")(_binary(gg.ops.elementwise.maximum))
case("minimum")(_binary(gg.ops.elementwise.minimum))


@case("pow")
def _scalar_exponent(draw):
    """x ** c for a Python number c: the backward's fast path (c >= 1) and the guarded one (c < 1, c = 0)."""
    c = draw(st.sampled_from([0, 0.0, 0.5, 1, 2, 3, 2.5, -1, -1.5]))
    return (lambda a: a**c), (values(draw, draw(shapes()), 0.5, 2.0),)


@case("add")
def _scalar_operands(draw):
    s = draw(st.floats(-3, 3))
    base = abs(s) + 0.5
    return (lambda a: (s + a) * s - a / (s + 4.0) + base ** a.tanh() - 1.0 / (a * a + 1.0)), (
        values(draw, draw(shapes())),
    )


def _unary(op, low=-2.0, high=2.0, away=0.0):
    def draw_case(draw):
        return op, (values(draw, draw(shapes()), low, high, away),)

    return draw_case


case("neg")(_unary(lambda a: -a))
case("exp")(_unary(lambda a: a.exp()))
case("log")(_unary(lambda a: a.log(), 0.1, 3.0))
case("log1p")(_unary(lambda a: a.log1p(), -0.5, 3.0))
case("sqrt")(_unary(lambda a: a.sqrt(), 0.1, 3.0))
case("rsqrt")(_unary(lambda a: a.rsqrt(), 0.1, 3.0))
case("reciprocal")(_unary(lambda a: a.reciprocal(), away=0.3))
case("abs")(_unary(lambda a: a.abs(), away=0.05))
case("sin")(_unary(lambda a: a.sin()))
case("cos")(_unary(lambda a: a.cos()))
case("tanh")(_unary(lambda a: a.tanh()))
case("clone")(_unary(lambda a: a.clone() * 2))
case("cast")(_unary(lambda a: gg.ops.conversion.cast(a, gg.float64) * a))


@case("clamp")
def _clamp(draw):
    x = values(draw, draw(shapes()))
    # keep inputs away from the bounds, where the derivative jumps
    x = np.where(np.abs(np.abs(x) - 1.0) < 0.05, x * 0.9, x)
    return (lambda a: a.clamp(-1.0, 1.0)), (x,)


@case("clamp_bounds")
def _clamp_bounds(draw):
    xs, ls = draw(broadcast_pair())
    x, lo = values(draw, xs), values(draw, ls, -2.0, 0.0)
    hi = np.asarray(lo + 1.5)  # a 0-d lo gives a NumPy scalar, a number to clamp: keep it a tensor
    # keep x away from both bounds, where the derivative jumps
    x = np.where((np.abs(x - lo) < 0.05) | (np.abs(x - hi) < 0.05), x + 0.2, x)
    x = np.where((np.abs(x - lo) < 0.05) | (np.abs(x - hi) < 0.05), x + 0.2, x)
    kind = draw(st.sampled_from(["both", "min", "max"]))
    if kind == "min":
        return (lambda a, b: a.clamp(min=b)), (x, lo)
    if kind == "max":
        return (lambda a, b: a.clamp(max=b)), (x, hi)
    return (lambda a, b, c: a.clamp(b, c)), (x, lo, hi)


@case("where")
def _where(draw):
    sa, sb = draw(broadcast_pair())
    a, b = values(draw, sa), values(draw, sb)
    cond = np.broadcast_to(values(draw, sa) > 0, np.broadcast_shapes(sa, sb)).copy()
    return (lambda c, x, y: gg.ops.elementwise.where(c, x, y)), (cond, a, b)
