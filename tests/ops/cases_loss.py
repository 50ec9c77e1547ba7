"""Gradcheck cases for ops/loss.py (cross_entropy, binary_cross_entropy(_with_logits), mse) and
ops/loss_smooth.py (smooth_l1, huber).

Class weights and pos_weight get no gradient, so they are closed over as constant tensors rather
than passed as float64 inputs (which the harness would mark as requiring grad).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.ops import loss as L
from glassgrad.ops import loss_smooth as LS
from tests.ops.harness import case, shapes, values

_REDUCTIONS = st.sampled_from(["none", "mean", "sum"])


def _const(draw, shape: tuple, low: float = 0.2, high: float = 2.0) -> gg.Tensor:
    return gg.Tensor(values(draw, shape, low, high), _wrap=True)


@case("cross_entropy")
def _cross_entropy(draw):
    n = draw(st.integers(1, 4))
    c = draw(st.integers(1, 4))
    trailing = draw(shapes(0, 2, 1, 3))
    x = values(draw, (n, c, *trailing), -3.0, 3.0)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    target = rng.integers(0, c, size=(n, *trailing)).astype(np.int64)
    if draw(st.booleans()):  # some targets ignored
        target = np.where(rng.random(target.shape) < 0.3, -100, target)
        if (target == -100).all():
            target.flat[0] = 0  # keep the 'mean' denominator non-zero
    weight = _const(draw, (c,)) if draw(st.booleans()) else None
    smoothing = draw(st.sampled_from([0.0, 0.0, 0.1, 0.5]))
    reduction = draw(_REDUCTIONS)
    return (lambda x, t: L.cross_entropy(x, t, weight, -100, smoothing, reduction)), (x, target)


@case("binary_cross_entropy_with_logits")
def _bce_with_logits(draw):
    shape = draw(shapes(0, 3))
    x = values(draw, shape, -4.0, 4.0)
    y = values(draw, shape, 0.0, 1.0)  # the target gets a gradient too
    weight = None
    if draw(st.booleans()):
        drop = draw(st.integers(0, len(shape)))  # weight broadcasts against x
        weight = _const(draw, tuple(1 if draw(st.booleans()) else s for s in shape[drop:]))
    pos_weight = _const(draw, shape[-1:], 0.2, 3.0) if draw(st.booleans()) else None
    reduction = draw(_REDUCTIONS)
    return (lambda x, y: L.binary_cross_entropy_with_logits(x, y, weight, pos_weight, reduction)), (x, y)


@case("binary_cross_entropy")
def _bce(draw):
    shape = draw(shapes(0, 3))
    p = values(draw, shape, 0.05, 0.95)
    y = values(draw, shape, 0.0, 1.0)
    weight = _const(draw, shape) if draw(st.booleans()) else None
    reduction = draw(_REDUCTIONS)
    return (lambda p, y: L.binary_cross_entropy(p, y, weight, reduction)), (p, y)


@case("mse_loss")
def _mse(draw):
    shape = draw(shapes(0, 3))
    x = values(draw, shape, -2.0, 2.0)
    y = values(draw, shape, -2.0, 2.0)  # the target gets a gradient too
    reduction = draw(_REDUCTIONS)
    return (lambda x, y: L.mse_loss(x, y, reduction)), (x, y)


def _smooth_case(draw) -> tuple:
    """x, y (broadcastable with 'none', as F's take them) across both branches of a threshold of
    0.5 to 2 (a point within the finite difference's step of the kink is improbable)."""
    shape = draw(shapes(0, 3))
    reduction = draw(_REDUCTIONS)
    yshape = shape
    if reduction == "none" and draw(st.booleans()):
        yshape = tuple(1 if draw(st.booleans()) else s for s in shape[draw(st.integers(0, len(shape))) :])
    threshold = draw(st.sampled_from([0.5, 1.0, 1.3, 2.0]))
    return values(draw, shape, -3.0, 3.0), values(draw, yshape, -1.0, 1.0), reduction, threshold


@case("smooth_l1_loss")
def _smooth_l1(draw):
    x, y, reduction, beta = _smooth_case(draw)
    return (lambda x, y: LS.smooth_l1_loss(x, y, reduction, beta)), (x, y)


@case("huber_loss")
def _huber(draw):
    x, y, reduction, delta = _smooth_case(draw)
    return (lambda x, y: LS.huber_loss(x, y, reduction, delta)), (x, y)
