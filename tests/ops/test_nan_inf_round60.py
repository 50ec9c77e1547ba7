"""Round 60, NaN and infinity propagation: values and gradients where an input holds nan, inf or
huge numbers, each against PyTorch (NaN and inf placement exact, finite values to rounding).

Pinned here: ``prod``'s backward (PyTorch's z / x without zeros, zeros for a full product with two
zeros); ``renorm``'s gradient through slices left alone; resizing and adaptive average pooling that
read only each output's taps (linear's w0 x0 + w1 x1; bicubic, anti-aliased and area without a
matmul's 0 * inf); adaptive max pooling's last NaN; the multi(label)-margin hinges' strict z > 0;
``gaussian_nll_loss`` at an infinite var; float32 batch norm whose variance overflows;
``grid_sample``'s taps outside the image.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

nan, inf = np.nan, np.inf


def _check(a, b, rtol):
    """NaN, +inf and -inf at the same places, finite values to ``rtol``."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(np.isposinf(a), np.isposinf(b))
    np.testing.assert_array_equal(np.isneginf(a), np.isneginf(b))
    fin = np.isfinite(a)
    np.testing.assert_allclose(b[fin], a[fin], rtol=rtol, atol=rtol)


def _both(torch, fn, *arrays, grad=True, rtol=None, fixed=()):
    """Run ``fn(lib, *tensors)`` on both libraries; compare the output and (with ``grad``) the
    gradients of every floating input but those at ``fixed`` for a fixed output gradient."""
    results = []
    for lib in (torch, gg):
        ts = [
            lib.tensor(a.copy(), requires_grad=grad and a.dtype.kind == "f" and i not in fixed)
            for i, a in enumerate(arrays)
        ]
        out = fn(lib, *ts)
        row = [out.detach().numpy()]
        if grad:
            go = np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)).astype(row[0].dtype)
            gs = lib.autograd.grad(out, [t for t in ts if t.requires_grad], lib.tensor(go), allow_unused=True)
            row += [g.numpy() for g in gs]
        results.append(row)
    tol = rtol or (1e-12 if results[0][0].dtype == np.float64 else 2e-6)
    for a, b in zip(*results):
        _check(a, b, tol)


_DTYPES = [np.float64, np.float32]


# ---- prod's backward: PyTorch's three cases ------------------------------------------------------

_PROD = {
    "inf factor": [inf, 3.0, 2.0, 0.5],
    "nan factor": [nan, 3.0, 2.0, 0.5],
    "overflow": [1e30, 1e30, 1e30, 2.0],
    "one zero and inf": [0.0, inf, 2.0, 0.5],
    "two zeros and nan": [0.0, nan, 0.0, 0.5],
    "a prefix past float32 times a zero": [3e38, 3e38, 0.0, inf],
    "finite": [1.5, -3.0, 2.0, 0.5],
}


@pytest.mark.parametrize("case", list(_PROD))
@pytest.mark.parametrize("dtype", _DTYPES)
def test_prod_gradient_nan_inf_as_torch(torch, case, dtype):
    x = np.array(_PROD[case], dtype=dtype)
    _both(torch, lambda L, t: L.prod(t).reshape(1), x)
    rows = np.stack([x, x[::-1], np.array([1.0, 2.0, -1.0, 0.25], dtype=dtype)])
    _both(torch, lambda L, t: L.prod(t, 1), rows)
    _both(torch, lambda L, t: L.prod(t, 0, keepdim=True), rows.T.copy())


@pytest.mark.parametrize("case", ["inf factor", "nan factor", "one zero and inf"])
def test_prod_second_order_gradient_as_torch(torch, case):
    x = np.array(_PROD[case])
    grads = []
    for lib in (torch, gg):
        t = lib.tensor(x, requires_grad=True)
        (g,) = lib.autograd.grad(lib.prod(t), t, create_graph=True)
        grads.append(g.detach().numpy())
    _check(grads[0], grads[1], 1e-12)


# ---- renorm: the slices left alone pass their gradient through ----------------------------------


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, inf])
@pytest.mark.parametrize("dtype", _DTYPES)
def test_renorm_gradient_with_nan_and_inf_slices_as_torch(torch, p, dtype):
    x = np.array(
        [[0.5, nan, 0.2], [3.0, -4.0, 1.0], [0.1, 0.2, -0.1], [inf, 1.0, 2.0], [0.0, 0.0, 0.0]], dtype=dtype
    )
    _both(torch, lambda L, t: L.renorm(t, p, 0, 1.0), x)
    _both(torch, lambda L, t: L.renorm(t, p, 1, 2.0), x[1:4].copy())


# ---- resizing and adaptive average pooling read only their taps ---------------------------------


def _image(dtype, shape=(1, 2, 4, 5)):
    x = np.random.default_rng(0).normal(size=shape).astype(dtype)
    x[0, 0, 1, 2], x[0, 1, 0, 0], x[0, 1, 3, 4] = inf, nan, -inf
    return x


_RESIZES = {
    "linear": lambda L, t: L.nn.functional.interpolate(t[:, :, 1], scale_factor=2, mode="linear"),
    "bilinear": lambda L, t: L.nn.functional.interpolate(t, size=(7, 9), mode="bilinear"),
    "bilinear corners": lambda L, t: L.nn.functional.interpolate(t, size=(7, 9), mode="bilinear", align_corners=True),
    "bicubic": lambda L, t: L.nn.functional.interpolate(t, size=(7, 9), mode="bicubic"),
    "bicubic same size": lambda L, t: L.nn.functional.interpolate(t, size=(4, 5), mode="bicubic"),
    "antialias": lambda L, t: L.nn.functional.interpolate(t, size=(2, 3), mode="bilinear", antialias=True),
    "antialias bicubic": lambda L, t: L.nn.functional.interpolate(t, size=(3, 2), mode="bicubic", antialias=True),
    "area": lambda L, t: L.nn.functional.interpolate(t, size=(2, 3), mode="area"),
    "adaptive avg 2d": lambda L, t: L.nn.functional.adaptive_avg_pool2d(t, (3, 2)),
    "adaptive avg 1d": lambda L, t: L.nn.functional.adaptive_avg_pool1d(t[:, :, 1], 3),
    "adaptive avg 3d": lambda L, t: L.nn.functional.adaptive_avg_pool3d(t[:, None].expand(1, 1, 2, 4, 5), (1, 3, 2)),
}  # fmt: skip


@pytest.mark.parametrize("case", list(_RESIZES))
@pytest.mark.parametrize("dtype", _DTYPES)
def test_resize_with_nan_and_inf_pixels_as_torch(torch, case, dtype):
    _both(torch, _RESIZES[case], _image(dtype))


def test_area_of_huge_values_overflows_before_the_division_as_torch(torch):
    x = np.full((1, 1, 2, 4), 3e38, dtype=np.float32)
    x[0, 0, 0, 0] = nan  # (an inf or nan sends the pooling to its window sums)
    _both(torch, lambda L, t: L.nn.functional.adaptive_avg_pool2d(t, (1, 2)), x)


@pytest.mark.parametrize("dtype", _DTYPES)
def test_adaptive_max_pool_takes_the_last_nan_as_torch(torch, dtype):
    x = np.array([[[[1.0, nan, 2.0, nan], [3.0, 0.5, nan, 1.0]]]], dtype=dtype)
    for size in (1, (1, 2), (2, 3)):
        _both(torch, lambda L, t, s=size: L.nn.functional.adaptive_max_pool2d(t, s), x)
        idx = [
            lib.nn.functional.adaptive_max_pool2d(lib.tensor(x), size, return_indices=True)[1].numpy()
            for lib in (torch, gg)
        ]
        np.testing.assert_array_equal(idx[1], idx[0])
    _both(torch, lambda L, t: L.nn.functional.adaptive_max_pool1d(t[0], 2), x)
    _both(torch, lambda L, t: L.nn.functional.adaptive_max_pool3d(t[:, None].expand(1, 1, 2, 2, 4), 1), x)


# ---- losses -------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("dtype", _DTYPES)
def test_margin_losses_drop_a_nan_margin_as_torch(torch, reduction, dtype):
    x = np.array([[1.0, inf, 0.5], [0.2, 0.3, -inf], [nan, 1.0, 2.0], [0.1, nan, 0.4]], dtype=dtype)
    t = np.array([0, 1, 1, 2])
    for p in (1, 2):
        _both(
            torch,
            lambda L, a, y, p=p: L.nn.functional.multi_margin_loss(a, y, p=p, reduction=reduction),
            x,
            t,
        )
    labels = np.array([[0, -1, 1], [1, 2, -1], [0, -1, 0], [2, 0, -1]])
    _both(torch, lambda L, a, y: L.nn.functional.multilabel_margin_loss(a, y, reduction=reduction), x, labels)


@pytest.mark.parametrize("dtype", _DTYPES)
def test_gaussian_nll_loss_at_an_infinite_var_as_torch(torch, dtype):
    x = np.array([1.0, inf, 2.0, 1.0, 0.5], dtype=dtype)
    y = np.array([0.5, 1.0, 2.0, 1.0, nan], dtype=dtype)
    var = np.array([1.0, 1.0, 0.0, inf, 2.0], dtype=dtype)
    for reduction in ("none", "sum"):
        _both(
            torch,
            lambda L, a, b, v, r=reduction: L.nn.functional.gaussian_nll_loss(a, b, v, reduction=r),
            x,
            y,
            var,
        )


def test_mse_loss_mean_gradient_scales_before_the_product_as_torch(torch):
    x = np.array([1.5e38, 1.0, -2.0, 0.5], np.float32)  # 2 (x - y) alone would overflow float32
    y = np.array([-0.3e38, 0.0, nan, 0.25], np.float32)
    for reduction in ("mean", "sum", "none"):
        _both(
            torch, lambda L, a, b, r=reduction: L.nn.functional.mse_loss(a, b, reduction=r), x, y, fixed=(1,)
        )


# ---- normalization ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", _DTYPES)
def test_cosine_similarity_of_an_overflowed_norm_as_torch(torch, dtype):
    big = 1e300 if dtype == np.float64 else 3e38
    x1 = np.array(
        [[2.5, big, 0.2, -big], [1.0, 2.0, 0.0, 0.0], [1.0, 2.0, inf, 0.5], [0.0, 0.0, 0.0, 0.0]], dtype
    )
    x2 = np.array(
        [[-2.1, 1.0, -1.8, big], [1.0, 2.0, 3.0, 0.0], [1.0, nan, 3.0, 1.0], [1.0, 2.0, 3.0, 4.0]], dtype
    )
    _both(torch, lambda L, a, b: L.nn.functional.cosine_similarity(a, b), x1, x2)


def test_batch_norm_float32_whose_variance_overflows_gives_zeros_as_torch(torch):
    x = np.random.default_rng(1).normal(size=(3, 2, 5)).astype(np.float32)
    x[1, 0, 1] = -3e38  # channel 0's squared deviations overflow float32: rstd 0, output 0
    w, b = np.array([1.5, 0.5], np.float32), np.array([0.0, 0.25], np.float32)
    _both(torch, lambda L, a, w, b: L.nn.functional.batch_norm(a, None, None, w, b, training=True), x, w, b)
    means, vars_ = [], []
    for lib in (torch, gg):
        rm, rv = lib.zeros(2), lib.ones(2)
        lib.nn.functional.batch_norm(lib.tensor(x), rm, rv, training=True, momentum=0.5)
        means.append(rm.numpy()), vars_.append(rv.numpy())
    _check(means[0], means[1], 2e-6)
    _check(vars_[0], vars_[1], 2e-6)


# ---- grid_sample: a tap outside the image reads 0 ------------------------------------------------

_POINTS = [[-1.0, -1.0], [-0.99, -0.99], [-0.75, -2 / 3], [0.0, 0.0], [1.0, 1.0], [-1.2, -1.1], [0.5, 0.1]]
# off the pixel centres and the clipping edges (where PyTorch's grid gradient follows its own conventions)
_INNER_POINTS = [[-0.99, -0.99], [-0.7, -0.6], [0.1, 0.2], [-1.2, -1.1], [0.5, 0.1], [0.97, 0.9]]


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_with_inf_and_nan_pixels_as_torch(torch, mode, padding_mode, align_corners):
    img = np.random.default_rng(0).normal(size=(1, 2, 3, 4))
    img[0, 0, 0, 0], img[0, 1, 2, 3] = inf, nan
    grid = np.array([[_POINTS]])

    def sample(L, a, g):
        return L.nn.functional.grid_sample(
            a, g, mode=mode, padding_mode=padding_mode, align_corners=align_corners
        )

    _both(torch, sample, img, grid, fixed=(1,))  # the image's gradient
    _both(torch, sample, img, np.array([[_INNER_POINTS]]))  # and the grid's, inside


def test_grid_sample_volume_with_an_inf_pixel_as_torch(torch):
    vol = np.random.default_rng(2).normal(size=(1, 1, 2, 3, 4))
    vol[0, 0, 0, 0, 0] = inf
    grid = np.array([[[[[-1.0, -1.0, -1.0], [-1.3, 0.2, 0.1], [0.2, 0.3, -0.4]]]]])
    _both(torch, lambda L, a, g: L.nn.functional.grid_sample(a, g, align_corners=False), vol, grid)
