"""Gradcheck cases for ops/math_more.py, ops/unary_more.py and remainder (ops/compare.py), each on a
domain away from its poles, kinks and jumps (fmod, remainder and frac jump where a/b or x is an
integer: random draws miss them)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.ops import math_more as mm
from glassgrad.ops import unary_more as um
from glassgrad.ops.compare import remainder
from glassgrad.ops.forms import SampleNode
from tests.ops.harness import broadcast_pair, case, shapes, values


def _unary(fn, low=-2.0, high=2.0, away=0.0):
    def strategy(draw):
        return fn, (values(draw, draw(shapes()), low, high, away),)

    return strategy


def _binary(fn, a=(-2.0, 2.0), b=(-2.0, 2.0), away_a=0.0, away_b=0.0):
    def strategy(draw):
        sa, sb = draw(broadcast_pair())
        return fn, (values(draw, sa, *a, away=away_a), values(draw, sb, *b, away=away_b))

    return strategy


case("copysign")(_binary(mm.copysign, away_a=0.1, away_b=0.1))
case("fmax")(_binary(mm.fmax, b=(-1.9, 2.1)))  # no ties, where the gradient is one-sided
case("fmin")(_binary(mm.fmin, b=(-1.9, 2.1)))


@case("fmod")
def _fmod(draw):
    # a = b q with q at least 0.1 from an integer: fmod jumps where a / b is one (a seed that
    # landed within the finite-difference step of a jump once failed the check)
    sa, sb = draw(broadcast_pair())
    shape = np.broadcast_shapes(sa, sb)
    b = values(draw, sb, -1.5, 1.5, away=0.5)
    q = values(draw, shape, -2.9, 2.9)
    q = np.where(np.abs(q - np.round(q)) < 0.1, q + 0.25, q)
    return mm.fmod, (np.array(np.broadcast_to(b, shape) * q), b)


@case("remainder")
def _remainder(draw):
    # as fmod's case: a / b kept at least 0.1 from an integer, where remainder jumps
    sa, sb = draw(broadcast_pair())
    shape = np.broadcast_shapes(sa, sb)
    b = values(draw, sb, -1.5, 1.5, away=0.5)
    q = values(draw, shape, -2.9, 2.9)
    q = np.where(np.abs(q - np.round(q)) < 0.1, q + 0.25, q)
    return remainder, (np.array(np.broadcast_to(b, shape) * q), b)


case("hypot")(_binary(mm.hypot, away_a=0.2))
case("logaddexp")(_binary(mm.logaddexp, (-5.0, 5.0), (-5.0, 5.0)))
case("logaddexp2")(_binary(mm.logaddexp2, (-5.0, 5.0), (-5.0, 5.0)))
case("xlogy")(_binary(mm.xlogy, b=(0.3, 3.0)))
case("asinh")(_unary(um.asinh, -3.0, 3.0))
case("acosh")(_unary(um.acosh, 1.2, 4.0))
case("atanh")(_unary(um.atanh, -0.9, 0.9))
case("sinc")(_unary(um.sinc, -3.0, 3.0))
case("frac")(_unary(um.frac, -3.0, 3.0))
# |x| in [1.1, 1.9] (values moved out by 1.1): the mantissa jumps at the powers of two
case("frexp")(_unary(lambda a: gg.frexp(a).mantissa, -0.8, 0.8, away=1.1))
# zeta's slope in q only (x held: PyTorch has no derivative in x)
case("zeta")(
    lambda draw: (
        (lambda q: gg.special.zeta(gg.tensor([2.5, 3.0, 4.25], dtype=gg.float64), q)),
        (values(draw, (3,), 0.5, 4.0),),
    )
)
case("zeta")(
    lambda draw: (
        (lambda q: gg.special.zeta(gg.tensor(2.0, dtype=gg.float64), q)),
        (values(draw, draw(shapes()), -2.7, -2.2),),
    )
)
# the step functions' zero slope, away from their jumps (the integers, and 0 for sign)
case("zero_slope")(_unary(lambda x: gg.floor(x) + gg.round(x) + gg.trunc(x), 0.1, 0.4))
case("zero_slope")(_unary(lambda x: gg.ceil(x) * gg.sign(x), -2.9, -2.6))
case("erfc")(_unary(um.erfc, -3.0, 3.0))
case("erfinv")(_unary(um.erfinv, -0.95, 0.95))
case("lgamma")(_unary(um.lgamma, 0.2, 6.0))
case("lgamma")(_unary(um.lgamma, -2.9, -2.1))  # between poles, where Gamma < 0
case("digamma")(_unary(um.digamma, 0.2, 12.0))
case("digamma")(_unary(um.digamma, -0.9, -0.1))
case("i0")(_unary(um.i0, -4.0, 4.0))


@case("polygamma")
def _polygamma(draw):
    n = draw(st.integers(0, 4))
    return (lambda x: um.polygamma(n, x)), (values(draw, draw(shapes()), 0.3, 6.0),)


@case("copysign")
def _copysign_scalar(draw):
    s = draw(st.sampled_from([-1.0, 2.0, -0.0]))
    return (lambda a: mm.copysign(a, s)), (values(draw, draw(shapes()), -2.0, 2.0, away=0.1),)


@case("xlogy")
def _xlogy_scalar_first(draw):
    return (lambda b: mm.xlogy(1.5, b)), (values(draw, draw(shapes()), 0.3, 3.0),)


@case("floatpower")
def _float_power(draw):
    sa, sb = draw(broadcast_pair())
    return mm.float_power, (values(draw, sa, 0.5, 2.0), values(draw, sb, -2.0, 2.0))


@case("floatpower")
def _float_power_numbers(draw):
    c = draw(st.sampled_from([0.0, 0.5, 2.0, -1.5]))
    return (lambda a: mm.float_power(a, c) + mm.float_power(1.5, a)), (
        values(draw, draw(shapes()), 0.5, 2.0),
    )


@case("sample_node")
def _sample_node(draw):
    # a sampler's draws, recorded after its parameters: the draws are a constant of the op (drawn
    # outside it), so the finite differences agree with its zero VJP; a sum over two parameters
    sa, sb = draw(broadcast_pair())
    shape = np.broadcast_shapes(sa, sb)
    draws = gg.Tensor(values(draw, shape), _wrap=True)  # (constant: no grad)
    return (lambda p, q: SampleNode.apply(draws, p, q, op="Normal", form=3) * 2.0 + p), (
        values(draw, sa),
        values(draw, sb),
    )


# div's rounding modes and nextafter: flat (nextafter's input passes g), away from the jumps
# y.lt_(b) of a tensor in the graph: recorded with zero gradients (zero_slope.Compared); b kept above a
case("compared")(_binary(lambda a, b: (a + 0.0 * b).lt_(b) + a, a=(0.1, 0.4), b=(1.1, 1.9)))
case("flat_pair")(
    _binary(
        lambda a, b: (
            gg.div(a, b, rounding_mode="floor") + gg.div(a, b, rounding_mode="trunc") + gg.nextafter(a, b)
        ),
        a=(0.1, 0.4),
        b=(1.1, 1.9),
    )
)


@case("renorm")
def _renorm(draw):
    shape = draw(shapes(min_dims=2))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    p = draw(st.sampled_from([2.0, 1.0, 3.0, 0.5, 1.5, float("inf")]))
    maxnorm = draw(st.sampled_from([0.5, 1.0, 2.0]))  # some slices scaled, some left alone
    return (lambda a: gg.renorm(a, p, dim, maxnorm)), (values(draw, shape, away=0.1),)
