"""Gradcheck cases for ops/activation_more.py: logsigmoid (smooth, so no kink to keep away from),
hardswish and hardsigmoid (kept 0.1 away from their kinks at -3 and 3), logit (inside (0, 1),
with eps kept away from the clamp's bounds), softshrink (kept 0.1 away from +-lambd)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from glassgrad.ops import activation_more as AM
from tests.ops.harness import case, shapes, values


@case("logsigmoid")
def _logsigmoid(draw):
    return AM.logsigmoid, (values(draw, draw(shapes()), -30.0, 30.0),)


@case("hardswish")
def _hardswish(draw):
    x = values(draw, draw(shapes()), -5.0, 5.0)
    x = np.where(np.abs(np.abs(x) - 3) < 0.1, x + 0.25, x)  # off the kinks
    return AM.hardswish, (x,)


@case("hardsigmoid")
def _hardsigmoid(draw):
    x = values(draw, draw(shapes()), -5.0, 5.0)
    x = np.where(np.abs(np.abs(x) - 3) < 0.1, x + 0.25, x)  # off the kinks
    return AM.hardsigmoid, (x,)


@case("logit")
def _logit(draw):
    x = values(draw, draw(shapes()), 0.05, 0.95)
    if draw(st.booleans()):
        return AM.logit, (x,)
    x = np.where(np.abs(x - 0.2) < 0.02, x + 0.05, np.where(np.abs(x - 0.8) < 0.02, x - 0.05, x))
    return (lambda t: AM.logit(t, eps=0.2)), (x,)


@case("softshrink")
def _softshrink(draw):
    lambd = draw(st.sampled_from([0.0, 0.5, 0.3, 1.5]))
    x = values(draw, draw(shapes()), -3.0, 3.0)
    x = np.where(np.abs(np.abs(x) - lambd) < 0.1, x + 0.25, x)  # off the kinks
    return (lambda t: AM.softshrink(t, lambd)), (x,)
