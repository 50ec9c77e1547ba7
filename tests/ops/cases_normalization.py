"""Gradcheck cases for ops/normalization.py (layer_norm, batch_norm) and ops/batch_norm_eval.py."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from glassgrad.ops import normalization as N
from glassgrad.ops.batch_norm_eval import BatchNormEval
from tests.ops.harness import case, shapes, values


def _spread(draw, shape: tuple, axes: tuple[int, ...]) -> np.ndarray:
    """Values whose variance over ``axes`` is never tiny.

    A near-zero variance makes rstd huge and central differences inaccurate; a fixed ramp along
    the normalised elements plus noise keeps every group's variance well away from 0.
    """
    x = values(draw, shape, -1.0, 1.0)
    sizes = [shape[a] for a in axes]
    ramp = np.linspace(-3.0, 3.0, int(np.prod(sizes)))  # distinct per normalised element
    full = [1] * len(shape)
    for a, s in zip(axes, sizes):
        full[a] = s
    return x + ramp.reshape(full)  # (M,) -> (1, ..., S1, S2, ..., 1)


def _maybe(draw, shape: tuple) -> np.ndarray | None:
    return values(draw, shape, 0.5, 2.0) if draw(st.booleans()) else None


@case("layer_norm")
def _layer_norm(draw):
    lead = draw(shapes(0, 2))
    norm = draw(shapes(1, 2))
    shape = lead + norm
    k = len(norm)
    axes = tuple(range(len(lead), len(shape)))
    eps = draw(st.sampled_from([1e-5, 0.5]))
    x = _spread(draw, shape, axes) if eps < 0.1 else values(draw, shape)
    return (lambda x, w, b: N.layer_norm(x, k, w, b, eps)), (x, _maybe(draw, norm), _maybe(draw, norm))


@case("batch_norm")
def _batch_norm(draw):
    n = draw(st.integers(1, 4))
    c = draw(st.integers(1, 3))
    spatial = draw(shapes(0, 2, 1, 3))
    if n * int(np.prod(spatial)) < 2:
        n = 2  # training statistics need more than one value per channel
    shape = (n, c, *spatial)
    axes = (0, *range(2, len(shape)))
    eps = draw(st.sampled_from([1e-5, 0.5]))
    x = _spread(draw, shape, axes) if eps < 0.1 else values(draw, shape)
    return (lambda x, w, b: N.batch_norm_train(x, w, b, eps)), (x, _maybe(draw, (c,)), _maybe(draw, (c,)))


@case("batch_norm_eval")
def _batch_norm_eval(draw):
    n = draw(st.integers(1, 4))
    c = draw(st.integers(1, 3))
    shape = (n, c, *draw(shapes(0, 2, 1, 3)))
    eps = draw(st.sampled_from([1e-5, 0.5]))
    # the running statistics are constants (float32 arrays: the harness gives them no gradient)
    mean = values(draw, (c,)).astype(np.float32)
    var = values(draw, (c,), 0.5, 2.0).astype(np.float32)

    def fn(x, w, b, m, v):
        return BatchNormEval.apply(x, w, b, m, v, eps=eps)

    return fn, (values(draw, shape), _maybe(draw, (c,)), _maybe(draw, (c,)), mean, var)
