"""Gradcheck cases for ops/pooling.py (max_pool2d, avg_pool2d, adaptive_max_pool2d), through the
functional API: 1-D and 2-D, stride, padding, dilation, ceil_mode, overlapping windows,
count_include_pad and divisor_override.

Max pooling is differentiable only away from ties, so its inputs are distinct values spaced far
wider than the finite-difference step (tie routing is tested directly in tests/nn/test_pooling.py).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import glassgrad.nn.functional as F
from tests.ops.harness import case, values


def _distinct(draw, shape: tuple) -> np.ndarray:
    """A shuffled ramp: every value differs from every other by at least 0.1."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.permutation(np.arange(int(np.prod(shape))) * 0.1 - 1.0).reshape(shape)


def _pool_geometry(draw, nd: int, dilated: bool) -> tuple:
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))  # < kernel: overlapping windows
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation = tuple(draw(st.integers(1, 2)) if dilated else 1 for _ in range(nd))
    spatial = tuple(d * (k - 1) + 1 + draw(st.integers(0, 3)) for k, d in zip(kernel, dilation))
    return kernel, stride, padding, dilation, spatial


@case("max_pool2d")
def _max_pool(draw):
    nd = draw(st.sampled_from([1, 2]))
    kernel, stride, padding, dilation, spatial = _pool_geometry(draw, nd, True)
    ceil_mode = draw(st.booleans())
    x = _distinct(draw, (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *spatial))
    pool = F.max_pool2d if nd == 2 else F.max_pool1d
    return (lambda x: pool(x, kernel, stride, padding, dilation, ceil_mode)), (x,)


@case("avg_pool2d")
def _avg_pool(draw):
    nd = draw(st.sampled_from([1, 2]))
    kernel, stride, padding, _, spatial = _pool_geometry(draw, nd, False)
    ceil_mode, include = draw(st.booleans()), draw(st.booleans())
    x = values(draw, (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *spatial))
    if nd == 2:
        divisor = draw(st.sampled_from([None, 3]))
        return (lambda x: F.avg_pool2d(x, kernel, stride, padding, ceil_mode, include, divisor)), (x,)
    return (lambda x: F.avg_pool1d(x, kernel, stride, padding, ceil_mode, include)), (x,)


@case("adaptive_max_pool2d")
def _adaptive_max_pool(draw):
    nd = draw(st.sampled_from([1, 2]))
    spatial = tuple(draw(st.integers(1, 6)) for _ in range(nd))
    out = tuple(draw(st.integers(1, n + 1)) for n in spatial)  # more bins than pixels: bins share pixels
    x = _distinct(draw, (1, draw(st.integers(1, 2)), *spatial))
    if nd == 2:
        return (lambda x: F.adaptive_max_pool2d(x, out)), (x,)
    return (lambda x: F.adaptive_max_pool1d(x, out[0])), (x,)
