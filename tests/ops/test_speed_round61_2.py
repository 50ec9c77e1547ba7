"""Round 61, speed hunt (part 2): grouped convolutions, grid_sample, interpolate's backward and
the embedding rows' sums, rewritten for speed, give PyTorch's values and gradients (part 1:
``test_speed_round61.py``).
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

DTYPES = [np.float64, np.float32]


# ---- depthwise convolutions: the Og = 1 / Cg = 1 products as broadcast multiplies (ops/conv.py)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize(
    "case", ["depthwise", "depthwise x2", "depthwise 1d", "transpose depthwise", "groups 2"]
)
def test_grouped_convolutions_match_torch(torch, case, dtype):
    rng = np.random.default_rng(90)
    x = rng.standard_normal((3, 6, 9, 8)).astype(dtype)
    conv = {
        "depthwise": ("conv2d", (6, 1, 3, 3), dict(padding=1, groups=6)),
        "depthwise x2": ("conv2d", (12, 1, 3, 3), dict(stride=2, groups=6)),
        "depthwise 1d": ("conv1d", (6, 1, 5), dict(padding=2, groups=6)),
        "transpose depthwise": ("conv_transpose2d", (6, 1, 4, 4), dict(stride=2, padding=1, groups=6)),
        "groups 2": ("conv2d", (4, 3, 3, 3), dict(padding=1, groups=2)),
    }[case]
    fn, w_shape, kw = conv
    if fn == "conv1d":
        x = x[:, :, 0]
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[1] * 6 if fn == "conv_transpose2d" else w_shape[0]).astype(dtype)
    outs = []
    for lib in (gg, torch):
        xt, wt, bt = (lib.tensor(v, requires_grad=True) for v in (x, w, b))
        z = getattr(lib.nn.functional, fn)(xt, wt, bt, **kw)
        (z * z).sum().backward()
        outs.append([z.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()])
    tol = 1e-11 if dtype == np.float64 else 1e-4
    for ours, theirs in zip(*outs):
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


# ---- grid_sample's taps read as pixel rows; resize backward's short runs summed by a loop over k


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_values_and_gradients_match_torch(torch, mode, padding_mode):
    rng = np.random.default_rng(100)
    x = rng.standard_normal((2, 3, 7, 6))
    grid = rng.uniform(-1.2, 1.2, (2, 5, 4, 2))
    w = rng.standard_normal((2, 3, 5, 4))
    outs = []
    for lib in (gg, torch):
        xt, gt = lib.tensor(x, requires_grad=True), lib.tensor(grid, requires_grad=True)
        z = lib.nn.functional.grid_sample(xt, gt, mode=mode, padding_mode=padding_mode, align_corners=False)
        (z * lib.tensor(w)).sum().backward()
        outs.append([z.detach().numpy(), xt.grad.numpy(), gt.grad.numpy()])
    for ours, theirs in zip(*outs):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


def test_grid_sample_on_a_volume_and_an_empty_batch_match_torch(torch):
    rng = np.random.default_rng(101)
    for shape, grid_shape in (((2, 3, 4, 5, 6), (2, 3, 2, 4, 3)), ((0, 2, 3, 3), (0, 2, 2, 2))):
        x, grid = rng.standard_normal(shape), rng.uniform(-1, 1, grid_shape)
        outs = []
        for lib in (gg, torch):
            xt, gt = lib.tensor(x, requires_grad=True), lib.tensor(grid, requires_grad=True)
            z = lib.nn.functional.grid_sample(xt, gt, align_corners=True)
            z.pow(2).sum().backward()
            outs.append([z.detach().numpy(), xt.grad.numpy(), gt.grad.numpy()])
        for ours, theirs in zip(*outs):
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "kw",
    [
        dict(scale_factor=2, mode="bilinear"),
        dict(size=(19, 7), mode="bilinear", align_corners=True),
        dict(scale_factor=5, mode="nearest"),
        dict(size=(40, 3), mode="nearest-exact"),
        dict(scale_factor=(3, 13), mode="bilinear"),  # runs of 13: past the loop, one reduceat
    ],
    ids=["bilinear x2", "bilinear ac", "nearest x5", "nearest-exact", "long runs"],
)
def test_interpolate_gradients_match_torch(torch, kw):
    rng = np.random.default_rng(110)
    x = rng.standard_normal((2, 3, 6, 5))
    grads, w = [], None
    for lib in (gg, torch):
        xt = lib.tensor(x, requires_grad=True)
        z = lib.nn.functional.interpolate(xt, **kw)
        w = rng.standard_normal(tuple(z.shape)) if w is None else w
        (z * lib.tensor(w)).sum().backward()
        grads.append((z.detach().numpy(), xt.grad.numpy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_embedding_gradient_with_short_and_long_runs_of_ids_matches_torch(torch):
    # the rows' backward sorts the ids and sums each run: short runs by the loop, long ones by reduceat
    ids = np.array([[3, 3, 1, 0, 3], [0] * 5])  # id 0 six times, 3 three times
    w = np.random.default_rng(120).standard_normal((5, 4))
    grads = []
    for lib in (gg, torch):
        wt = lib.tensor(w, requires_grad=True)
        z = lib.nn.functional.embedding(lib.tensor(ids), wt)
        (z * lib.arange(20, dtype=lib.float64).reshape(1, 5, 4)).sum().backward()
        grads.append(wt.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_weight_gradient_matches_torch(torch, mode):
    # the rows' sums through the sorted-runs helper, max's through flat positions
    rng = np.random.default_rng(130)
    ids = rng.integers(0, 12, size=(6, 5))
    ids[0, :] = 3  # one id five times in a bag
    w = rng.standard_normal((12, 4))
    gw = rng.standard_normal((6, 4))
    grads = []
    for lib in (gg, torch):
        wt = lib.tensor(w, requires_grad=True)
        z = lib.nn.functional.embedding_bag(lib.tensor(ids), wt, mode=mode)
        (z * lib.tensor(gw)).sum().backward()
        grads.append((z.detach().numpy(), wt.grad.numpy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dim", [0, 1, 2])
def test_index_add_through_flat_positions_matches_torch(torch, dim):
    rng = np.random.default_rng(140 + dim)
    x_shape, src_shape = [4, 5, 6], [4, 5, 6]
    src_shape[dim] = 9  # more source slices than places: repeats add up
    a, s = rng.standard_normal(x_shape), rng.standard_normal(src_shape)
    idx = rng.integers(0, x_shape[dim], size=9)
    w = rng.standard_normal(x_shape)
    outs = []
    for lib in (gg, torch):
        x, src = lib.tensor(a, requires_grad=True), lib.tensor(s, requires_grad=True)
        z = x.index_add(dim, lib.tensor(idx), src)
        (z * lib.tensor(w)).sum().backward()
        outs.append([z.detach().numpy(), x.grad.numpy(), src.grad.numpy()])
    for ours, theirs in zip(*outs):
        np.testing.assert_array_equal(ours, theirs)
