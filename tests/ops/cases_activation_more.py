"""Gradcheck case for ops/activation_more.py (logsigmoid: smooth, so no kink to keep away from)."""

from __future__ import annotations

from glassgrad.ops import activation_more as AM
from tests.ops.harness import case, shapes, values


@case("logsigmoid")
def _logsigmoid(draw):
    return AM.logsigmoid, (values(draw, draw(shapes()), -30.0, 30.0),)
