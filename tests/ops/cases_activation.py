"""Gradcheck cases for ops/activation.py, kept away from each activation's kinks."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.ops import activation as A
from glassgrad.ops import softmax as SM
from tests.ops.harness import broadcast_pair, case, shapes, values


def _unary(op, low: float = -3.0, high: float = 3.0, away: float = 0.0):
    def draw_case(draw):
        return op, (values(draw, draw(shapes()), low, high, away),)

    return draw_case


case("sigmoid")(_unary(A.sigmoid, -8.0, 8.0))
case("relu")(_unary(A.relu, away=0.05))
case("silu")(_unary(A.silu, -8.0, 8.0))
case("gelu")(_unary(A.gelu, -6.0, 6.0))
case("gelu")(_unary(lambda a: A.gelu(a, approximate="tanh"), -6.0, 6.0))


@case("leaky_relu")
def _leaky(draw):
    slope = draw(st.floats(0.0, 0.5))
    return (lambda a: A.leaky_relu(a, slope)), (values(draw, draw(shapes()), away=0.05),)


@case("elu")
def _elu(draw):
    alpha = draw(st.floats(0.2, 2.0))
    return (lambda a: A.elu(a, alpha)), (values(draw, draw(shapes()), away=0.05),)


@case("softplus")
def _softplus(draw):
    beta, threshold = draw(st.floats(0.5, 3.0)), draw(st.sampled_from([1.0, 20.0]))
    x = values(draw, draw(shapes()), -8.0, 8.0)
    # away from beta x = threshold, where the output switches to x (a small jump for low thresholds)
    kink = threshold / beta
    x = np.where(np.abs(x - kink) < 0.05, x + 0.1, x)
    return (lambda a: A.softplus(a, beta, threshold)), (x,)


@case("hardtanh")
def _hardtanh(draw):
    x = values(draw, draw(shapes()), -2.0, 2.0)
    x = np.where(np.abs(np.abs(x) - 0.5) < 0.05, x * 0.8, x)  # away from the bounds ±0.5
    return (lambda a: A.hardtanh(a, -0.5, 0.5)), (x,)


def _along_dim(op):
    def draw_case(draw):
        sa, sb = draw(broadcast_pair(min_dims=1))
        ndim = max(len(sa), len(sb))
        dim = draw(st.integers(-ndim, ndim - 1))
        # softmax of a broadcast sum: the engine unbroadcasts the softmax's gradient
        return (lambda a, b: op(a + b, dim)), (values(draw, sa, -4, 4), values(draw, sb, -4, 4))

    return draw_case


case("softmax")(_along_dim(SM.softmax))
case("log_softmax")(_along_dim(SM.log_softmax))


@case("softmax")
@case("log_softmax")
def _weighted(draw):
    """A weighted sum of the output, so the VJP sees a non-uniform upstream gradient."""
    shape = draw(shapes())
    dim = draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    op = draw(st.sampled_from([SM.softmax, SM.log_softmax]))
    w = gg.tensor(values(draw, shape))  # a tensor: t * ndarray is NumPy's, as in PyTorch
    return (lambda a: op(a, dim) * w), (values(draw, shape, -4, 4),)
