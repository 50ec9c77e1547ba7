"""Round 64, the resampling fuzz: minimised programs where glassgrad differed from PyTorch.

- ``grid_sample`` of a volume (5-D) at a grid point whose coordinate is NaN after the padding
  (NaN with border or reflection, +-inf folded by reflection) sent the gradient of that point's
  output to the last pixel, and a grid gradient to its other coordinates. PyTorch's forward
  clamps such a coordinate to the last pixel (kept), but its backward clips with
  ``clip_coordinates_set_grad``, which keeps NaN: the point is outside there, sends nothing to the
  input and leaves all its grid coordinates' gradients 0.
- ``affine_grid`` with ``align_corners=True`` and a unit-size spatial dim did not warn; PyTorch
  warns (a unit axis has no corners to align).
- ``F.pad`` in a reflect/replicate/circular mode silently dropped a non-zero ``value``; PyTorch
  refuses it (RuntimeError). An unknown mode raised a ShapeError where PyTorch raises
  NotImplementedError.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

LIBS = ["glassgrad", "torch"]


@pytest.fixture(params=LIBS)
def lib(request):
    return gg if request.param == "glassgrad" else request.getfixturevalue("torch")


def _volume_sample(T, bad, mode, padding_mode, align_corners, dtype):
    """A (1, 2, 3, 4, 2) volume sampled at 2 points, the first with one coordinate ``bad``."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 2, 3, 4, 2))
    grid = rng.uniform(-0.9, 0.9, (1, 1, 1, 2, 3))
    grid[0, 0, 0, 0, 1] = bad
    dt = getattr(T, dtype)
    xt = T.tensor(x, dtype=dt, requires_grad=True)
    gt = T.tensor(grid, dtype=dt, requires_grad=True)
    out = T.nn.functional.grid_sample(
        xt, gt, mode=mode, padding_mode=padding_mode, align_corners=align_corners
    )
    weight = T.tensor(np.arange(1.0, 1.0 + out.numel()).reshape(out.shape), dtype=dt)
    (out * weight).sum().backward()
    return out.detach().numpy(), xt.grad.numpy(), gt.grad.numpy()


VOLUME_CASES = [
    (np.nan, "bilinear", "border"),
    (np.nan, "bilinear", "reflection"),
    (np.nan, "nearest", "border"),
    (np.nan, "nearest", "reflection"),
    (np.inf, "bilinear", "reflection"),
    (-np.inf, "nearest", "reflection"),
    (np.inf, "bilinear", "border"),  # clipped to a finite border: the point keeps its gradient
    (np.nan, "bilinear", "zeros"),
]


@pytest.mark.parametrize(("bad", "mode", "padding_mode"), VOLUME_CASES, ids=lambda v: str(v))
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_grid_sample_volume_nonfinite_point_gradients_match_torch(
    torch, bad, mode, padding_mode, align_corners, dtype
):
    got = _volume_sample(gg, bad, mode, padding_mode, align_corners, dtype)
    want = _volume_sample(torch, bad, mode, padding_mode, align_corners, dtype)
    tol = 1e-12 if dtype == "float64" else 1e-5
    for name, a, b in zip(("out", "input grad", "grid grad"), got, want):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol, equal_nan=True, err_msg=name)


def test_grid_sample_volume_nan_point_double_backward_matches_torch(torch):
    """The recorded rule (create_graph) reads the same saved coordinates as the first-order one."""
    got = []
    for T in (gg, torch):
        rng = np.random.default_rng(5)
        x = T.tensor(rng.standard_normal((1, 1, 2, 3, 3)), requires_grad=True)
        grid = rng.uniform(-0.8, 0.8, (1, 1, 2, 2, 3))
        grid[0, 0, 1, 0, 2] = np.nan
        gt = T.tensor(grid)
        out = T.nn.functional.grid_sample(x, gt, padding_mode="border", align_corners=False)
        (gx,) = T.autograd.grad((out * out).sum(), x, create_graph=True)
        (ggx,) = T.autograd.grad((gx * gx).sum(), x)
        got.append((gx.detach().numpy(), ggx.numpy()))
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize(
    ("size", "align_corners"),
    [
        ((1, 1, 1, 3), True),
        ((1, 1, 3, 1), True),
        ((1, 1, 2, 1, 3), True),
        ((1, 1, 1, 3), False),
        ((1, 1, 2, 3), True),
    ],
)
def test_affine_grid_unit_size_warning_matches_torch(torch, size, align_corners):
    warned = []
    for T in (gg, torch):
        theta = T.tensor(np.eye(len(size) - 2, len(size) - 1)[None])
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            grid = T.nn.functional.affine_grid(theta, list(size), align_corners=align_corners)
        warned.append(([type(m.message) for m in w], grid.numpy()))
    assert warned[0][0] == warned[1][0]
    np.testing.assert_allclose(warned[0][1], warned[1][1], rtol=0, atol=1e-15)


def test_affine_grid_unit_size_warning_names_the_change():
    with pytest.warns(UserWarning, match="unit-size grids when align_corners=True"):
        gg.nn.functional.affine_grid(gg.eye(2, 3)[None], [1, 1, 1, 4], align_corners=True)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("value", [1.5, -2])
def test_pad_value_with_index_mode_refused_as_torch(lib, mode, value):
    x = lib.zeros(1, 2, 4)
    with pytest.raises(RuntimeError, match="doesn't take in value argument"):
        lib.nn.functional.pad(x, (1, 1), mode=mode, value=value)


@pytest.mark.parametrize("value", [None, 0, 0.0])
def test_pad_zero_value_with_index_mode_accepted_as_torch(torch, value):
    got = []
    for T in (gg, torch):
        x = T.tensor(np.arange(8.0).reshape(1, 2, 4))
        got.append(T.nn.functional.pad(x, (2, 1), mode="reflect", value=value).numpy())
    np.testing.assert_array_equal(*got)


def test_pad_unknown_mode_is_not_implemented(lib):
    with pytest.raises(NotImplementedError):
        lib.nn.functional.pad(lib.zeros(1, 2, 4), (1, 1), mode="wrap")


@pytest.mark.parametrize("scale_factor", [-1.0, (2.0, -0.5), 0.0])
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_interpolate_non_positive_scale_factor_is_runtime_error(lib, scale_factor, mode):
    """PyTorch refuses the output size it computes (``Input and output sizes should be greater
    than 0``): a RuntimeError, not the ValueError of a wrong-length tuple."""
    with pytest.raises(RuntimeError):
        lib.nn.functional.interpolate(lib.zeros(1, 1, 4, 4), scale_factor=scale_factor, mode=mode)


def test_interpolate_scale_factor_length_is_value_error(lib):
    with pytest.raises(ValueError):
        lib.nn.functional.interpolate(lib.zeros(1, 1, 4, 4), scale_factor=(2.0,))
