"""grid_sample, affine_grid and gumbel_softmax against PyTorch (outputs, gradients to the input,
the grid and theta), in float64 and float32, every mode and padding mode, and the errors."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.errors import ShapeError

COMBOS = list(
    itertools.product(["bilinear", "nearest", "bicubic"], ["zeros", "border", "reflection"], [False, True])
)
COMBOS_3D = list(itertools.product(["bilinear", "nearest"], ["zeros", "border", "reflection"], [False, True]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("mode", "padding_mode", "align"), COMBOS)
def test_grid_sample_matches_pytorch(torch, mode, padding_mode, align, dtype):
    rng = np.random.default_rng(hash((mode, padding_mode, align)) % 2**32)
    for shape, gshape in [
        ((2, 3, 5, 6), (2, 4, 7, 2)),
        ((1, 2, 1, 4), (1, 3, 2, 2)),
        ((0, 2, 3, 3), (0, 2, 2, 2)),
    ]:
        x = rng.standard_normal(shape).astype(dtype)
        grid = rng.uniform(-1.6, 1.6, gshape).astype(dtype)
        gx, gg_ = gg.tensor(x, requires_grad=True), gg.tensor(grid, requires_grad=True)
        tx, tg = torch.tensor(x, requires_grad=True), torch.tensor(grid, requires_grad=True)
        out = F.grid_sample(gx, gg_, mode, padding_mode, align)
        tout = torch.nn.functional.grid_sample(tx, tg, mode, padding_mode, align)
        tol = 1e-5 if dtype == np.float32 else 1e-12
        assert out.shape == tuple(tout.shape) and out.dtype == gg.tensor(x).dtype
        np.testing.assert_allclose(out._data, tout.detach().numpy(), atol=tol)
        up = rng.standard_normal(out.shape).astype(dtype)
        out.backward(gg.tensor(up))
        tout.backward(torch.from_numpy(up))
        np.testing.assert_allclose(gx.grad._data, tx.grad.numpy(), atol=tol)
        np.testing.assert_allclose(gg_.grad._data, tg.grad.numpy(), atol=tol * 10)


@pytest.mark.parametrize(("mode", "padding_mode", "align"), COMBOS_3D)
def test_volumetric_grid_sample_matches_pytorch(torch, mode, padding_mode, align):
    """5-D input: trilinear ("bilinear") and nearest over (x, y, z) grid points."""
    rng = np.random.default_rng(hash((mode, padding_mode, align, 3)) % 2**32)
    for shape, gshape in [((2, 2, 4, 5, 3), (2, 3, 2, 4, 3)), ((1, 1, 1, 2, 3), (1, 2, 1, 2, 3))]:
        x, grid = rng.standard_normal(shape), rng.uniform(-1.4, 1.4, gshape)
        res = []
        for m, fn in ((torch, torch.nn.functional.grid_sample), (gg, F.grid_sample)):
            xt, gt = m.tensor(x, requires_grad=True), m.tensor(grid, requires_grad=True)
            out = fn(xt, gt, mode, padding_mode, align)
            (out * m.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape))).sum().backward()
            res.append([out.detach().numpy(), xt.grad.numpy(), gt.grad.numpy()])
        assert res[0][0].shape == res[1][0].shape
        for a, b in zip(*res):
            np.testing.assert_allclose(b, a, atol=1e-12)


@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 1, 3), (2, 3, 2, 4, 5)])
def test_affine_grid_matches_pytorch_and_spatial_transformer(torch, size, align):
    rng = np.random.default_rng(0)
    nd = len(size) - 2
    theta = rng.standard_normal((2, nd, nd + 1))
    g, t = gg.tensor(theta, requires_grad=True), torch.tensor(theta, requires_grad=True)
    out, tout = F.affine_grid(g, size, align), torch.nn.functional.affine_grid(t, size, align)
    np.testing.assert_allclose(out._data, tout.detach().numpy(), atol=1e-12)
    if nd == 2:  # a spatial transformer: gradients reach theta through grid_sample
        x = rng.standard_normal(size)
        out = F.grid_sample(gg.tensor(x), out, align_corners=align)
        tout = torch.nn.functional.grid_sample(torch.tensor(x), tout, align_corners=align)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(g.grad._data, t.grad.numpy(), atol=1e-10)


def test_identity_theta_reproduces_the_image():
    x = gg.randn(1, 2, 4, 5, dtype=gg.float64)
    grid = F.affine_grid(
        gg.tensor([[[1.0, 0, 0], [0, 1, 0]]], dtype=gg.float64), (1, 2, 4, 5), align_corners=False
    )
    np.testing.assert_allclose(F.grid_sample(x, grid, align_corners=False)._data, x._data, atol=1e-12)


def test_gumbel_softmax():
    gg.manual_seed(0)
    logits = gg.tensor(np.log([[0.7, 0.2, 0.1]] * 4000), requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.sum(-1)._data, 1.0, rtol=1e-6)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    assert set(np.unique(hard._data)) == {0.0, 1.0} and (hard._data.sum(-1) == 1).all()
    freq = hard._data.mean(0)  # Gumbel-max: argmax frequencies follow softmax(logits)
    np.testing.assert_allclose(freq, [0.7, 0.2, 0.1], atol=0.03)
    # straight-through: the hard sample's gradient is the soft sample's (same noise)
    gg.manual_seed(1)
    F.gumbel_softmax(logits, tau=0.5, hard=True, dim=1).mul(gg.tensor([1.0, 2.0, 3.0])).sum().backward()
    g_hard = logits.grad._data.copy()
    logits.grad = None
    gg.manual_seed(1)
    F.gumbel_softmax(logits, tau=0.5, dim=1).mul(gg.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(g_hard, logits.grad._data, atol=1e-6)
    assert F.gumbel_softmax(gg.zeros(3, 2, 4), hard=True, dim=1).sum(1).tolist() == [[1.0] * 4] * 3


def test_errors():
    x, grid = gg.zeros(1, 1, 3, 3), gg.zeros(1, 2, 2, 2)
    with pytest.raises(ValueError, match="expected mode 'bilinear', 'nearest' or 'bicubic'"):
        F.grid_sample(x, grid, "area", align_corners=False)
    with pytest.raises(ShapeError, match="mode 'bicubic' takes 4-D input only"):
        F.grid_sample(gg.zeros(1, 1, 2, 2, 2), gg.zeros(1, 1, 1, 1, 3), "bicubic", align_corners=False)
    with pytest.raises(ValueError, match="padding_mode"):
        F.grid_sample(x, grid, padding_mode="wrap", align_corners=False)
    with pytest.raises(ShapeError, match=r"grid \(N, Ho, Wo, 2\)"):
        F.grid_sample(x, gg.zeros(1, 2, 2, 3), align_corners=False)
    with pytest.raises(ShapeError, match=r"input \(N, C, D, H, W\) with grid \(N, Do, Ho, Wo, 3\)"):
        F.grid_sample(gg.zeros(1, 1, 2, 2, 2), gg.zeros(1, 1, 1, 2), align_corners=False)
    with pytest.warns(UserWarning, match="align_corners"):
        F.grid_sample(x, grid)
    with pytest.raises(ShapeError, match=r"expected theta of shape \(1, 2, 3\)"):
        F.affine_grid(gg.zeros(1, 3, 4), (1, 1, 3, 3), align_corners=False)
    with pytest.raises(NotImplementedError, match="4D and 5D sizes"):
        F.affine_grid(gg.zeros(1, 2, 3), (1, 1, 3), align_corners=False)
    with pytest.raises(ValueError, match="positive output size"):
        F.affine_grid(gg.zeros(1, 2, 3), (1, 1, 0, 3), align_corners=False)


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_non_finite_grid_points_read_nan_without_warnings_or_nan_image_gradients(torch, value):
    # a NaN or infinite point (zeros padding) gives NaN, as PyTorch; NumPy's 'invalid value'
    # warning leaked, and the point's NaN weights were scattered into pixel 0 of the image gradient
    x = np.arange(20.0).reshape(1, 1, 4, 5)
    grid = np.array([[[[value, 0.3], [0.2, -0.4]]]])
    gx, gr = gg.tensor(x, requires_grad=True), gg.tensor(grid, requires_grad=True)
    tx, tr = torch.tensor(x, requires_grad=True), torch.tensor(grid, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.grid_sample(gx, gr, align_corners=False)
        out.sum().backward()
    tout = torch.nn.functional.grid_sample(tx, tr, align_corners=False)
    tout.sum().backward()
    np.testing.assert_allclose(out._data, tout.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(gx.grad._data, tx.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(gr.grad._data, tr.grad.numpy(), atol=1e-12)


def test_gumbel_softmax_of_a_0d_tensor(torch):
    # one class: PyTorch returns 1 (hard) for a 0-d logit; glassgrad raised NumPy's AxisError
    logit = gg.tensor(0.3, requires_grad=True)
    hard = F.gumbel_softmax(logit, hard=True)
    assert hard.shape == () and hard.item() == 1.0
    assert F.gumbel_softmax(gg.tensor(0.3)).item() == pytest.approx(1.0)
    assert torch.nn.functional.gumbel_softmax(torch.tensor(0.3), hard=True).item() == 1.0
