"""Gradcheck cases for the volumetric ops (ops/conv3d.py, ops/pool3d.py), embedding(_bag) and
grid_sample, through the functional API, on small random geometries.

Max pooling and max bags are differentiable only away from ties, so their inputs are distinct
values spaced far wider than the finite-difference step; grid points are kept away from pixel
boundaries (where bilinear sampling has a kink) by a margin.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import glassgrad.nn.functional as F
from tests.ops.harness import case, values


def _distinct(draw, shape: tuple) -> np.ndarray:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.permutation(np.arange(int(np.prod(shape))) * 0.1 - 1.0).reshape(shape)


def _geometry(draw, dilated: bool = True) -> tuple:
    kernel = tuple(draw(st.integers(1, 2)) for _ in range(3))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(3))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation = tuple(draw(st.integers(1, 2)) if dilated else 1 for _ in range(3))
    spatial = tuple(d * (k - 1) + 1 + draw(st.integers(0, 2)) for k, d in zip(kernel, dilation))
    return kernel, stride, padding, dilation, spatial


@case("conv3d")
def _conv3d(draw):
    kernel, stride, padding, dilation, spatial = _geometry(draw)
    groups = draw(st.sampled_from([1, 2]))
    cin, cout = groups * draw(st.integers(1, 2)), groups
    x = values(draw, (draw(st.integers(1, 2)), cin, *spatial))
    w = values(draw, (cout, cin // groups, *kernel))
    if draw(st.booleans()):
        b = values(draw, (cout,))
        return (lambda x, w, b: F.conv3d(x, w, b, stride, padding, dilation, groups)), (x, w, b)
    return (lambda x, w: F.conv3d(x, w, None, stride, padding, dilation, groups)), (x, w)


@case("conv_transpose3d")
def _conv_transpose3d(draw):
    kernel, stride, padding, dilation, _ = _geometry(draw)
    groups = draw(st.sampled_from([1, 2]))
    cin, cout = groups, groups * draw(st.integers(1, 2))
    spatial = tuple(draw(st.integers(1, 3)) for _ in range(3))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    padding = tuple(min(p, (d * (k - 1)) // 2) for p, d, k in zip(padding, dilation, kernel))
    x = values(draw, (draw(st.integers(1, 2)), cin, *spatial))
    w = values(draw, (cin, cout // groups, *kernel))
    b = values(draw, (cout,))
    return (lambda x, w, b: F.conv_transpose3d(x, w, b, stride, padding, output_padding, groups, dilation)), (
        x,
        w,
        b,
    )


@case("max_pool3d")
def _max_pool3d(draw):
    kernel, stride, padding, dilation, spatial = _geometry(draw)
    ceil_mode = draw(st.booleans())
    x = _distinct(draw, (draw(st.integers(1, 2)), 2, *spatial))
    return (lambda x: F.max_pool3d(x, kernel, stride, padding, dilation, ceil_mode)), (x,)


@case("avg_pool3d")
def _avg_pool3d(draw):
    kernel, stride, padding, _, spatial = _geometry(draw, dilated=False)
    ceil_mode, include = draw(st.booleans()), draw(st.booleans())
    divisor = draw(st.sampled_from([None, 3]))
    x = values(draw, (draw(st.integers(1, 2)), 2, *spatial))
    return (lambda x: F.avg_pool3d(x, kernel, stride, padding, ceil_mode, include, divisor)), (x,)


@case("adaptive_max_pool3d")
def _adaptive_max_pool3d(draw):
    spatial = tuple(draw(st.integers(1, 4)) for _ in range(3))
    out = tuple(draw(st.integers(1, n + 1)) for n in spatial)  # more bins than voxels: bins share voxels
    x = _distinct(draw, (1, draw(st.integers(1, 2)), *spatial))
    return (lambda x: F.adaptive_max_pool3d(x, out)), (x,)


@case("embedding_bag")
def _embedding_bag(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    mode = draw(st.sampled_from(["sum", "mean", "max"]))
    num, length = draw(st.integers(2, 6)), draw(st.integers(0, 8))
    ids = rng.integers(0, num, length)
    offsets = np.sort(rng.integers(0, length + 1, draw(st.integers(1, 4))))
    offsets[0] = 0
    padding_idx = draw(st.sampled_from([None, 0]))
    w = _distinct(draw, (num, 3)) if mode == "max" else values(draw, (num, 3))
    if mode == "sum" and draw(st.booleans()):
        psw = values(draw, (length,))
        return (
            lambda w, psw: F.embedding_bag(
                ids, w, offsets, mode="sum", per_sample_weights=psw, padding_idx=padding_idx
            )
        ), (w, psw)
    return (lambda w: F.embedding_bag(ids, w, offsets, mode=mode, padding_idx=padding_idx)), (w,)


@case("embedding")
def _embedding(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    num = draw(st.integers(1, 5))
    ids = rng.integers(0, num, draw(st.sampled_from([(), (4,), (2, 3)])))  # repeats likely
    # padding_idx and scale_grad_by_freq change the gradient away from the derivative, by design:
    # they have PyTorch parity tests (tests/nn/test_embedding_node.py) instead
    w = values(draw, (num, 3))
    return (lambda w: F.embedding(ids, w)), (w,)


@case("grid_sample")
def _grid_sample(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    mode = draw(st.sampled_from(["bilinear", "nearest", "bicubic"]))
    padding_mode = draw(st.sampled_from(["zeros", "border", "reflection"]))
    if draw(st.booleans()) and mode != "bicubic":
        return _grid_sample_3d(rng, draw, mode, padding_mode, draw(st.booleans()))
    align = draw(st.booleans())
    n, c, h, w = (
        draw(st.integers(1, 2)),
        draw(st.integers(1, 2)),
        draw(st.integers(1, 4)),
        draw(st.integers(1, 4)),
    )
    ho, wo = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x = values(draw, (n, c, h, w))
    # pixel coordinates a fraction 0.2..0.8 between two integers (and between fold points), then normalised
    px = rng.integers(-2, w + 1, (n, ho, wo)) + rng.uniform(0.2, 0.8, (n, ho, wo))
    py = rng.integers(-2, h + 1, (n, ho, wo)) + rng.uniform(0.2, 0.8, (n, ho, wo))
    if mode == "nearest":  # away from the rounding boundary too
        px, py = (
            np.floor(px) + rng.uniform(0.1, 0.4, px.shape),
            np.floor(py) + rng.uniform(0.1, 0.4, py.shape),
        )
    if align:
        gx, gy = px * 2 / max(w - 1, 1) - 1, py * 2 / max(h - 1, 1) - 1
    else:
        gx, gy = (2 * px + 1) / w - 1, (2 * py + 1) / h - 1
    grid = np.stack([gx, gy], axis=-1)
    return (lambda x, g: F.grid_sample(x, g, mode, padding_mode, align)), (x, grid)


def _grid_sample_3d(rng, draw, mode, padding_mode, align):
    """A volume (N, C, D, H, W) read at points a fraction 0.2..0.8 between integers per axis."""
    sizes = [draw(st.integers(1, 3)) for _ in range(3)]  # D, H, W
    x = values(draw, (1, 2, *sizes))
    pts = []
    for size in reversed(sizes):  # x (W), y (H), z (D)
        p = rng.integers(-1, size + 1, (1, 2, 1, 2)) + rng.uniform(0.2, 0.8, (1, 2, 1, 2))
        if mode == "nearest":
            p = np.floor(p) + rng.uniform(0.1, 0.4, p.shape)
        pts.append(p * 2 / max(size - 1, 1) - 1 if align else (2 * p + 1) / size - 1)
    grid = np.stack(pts, axis=-1)
    return (lambda x, g: F.grid_sample(x, g, mode, padding_mode, align)), (x, grid)
