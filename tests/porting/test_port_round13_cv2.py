"""Port round 13: *Dive into Deep Learning*, computer vision and GANs (transposed convolution, FCN,
neural style, the Kaggle sections, DCGAN): the patterns those scripts rely on, against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


@pytest.mark.parametrize(("method", "dtype"), [("byte", "uint8"), ("char", "int8"), ("short", "int16")])
def test_integer_cast_methods(torch, method, dtype):
    # neural style's postprocessing: img.mul(255).byte() before making a PIL image
    x = np.array([[0.0, 0.5, 1.0], [0.999, 0.25, 0.7]], dtype=np.float32)
    ours = getattr(gg.tensor(x).mul(255), method)()
    theirs = getattr(torch.tensor(x).mul(255), method)()
    assert str(ours.dtype) == "glassgrad." + dtype
    assert str(theirs.dtype) == "torch." + dtype
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_betas_list_stored_as_tuple(torch, name):
    # DCGAN: Adam(params, lr=..., betas=[0.5, 0.999]); PyTorch keeps a tuple in param_groups and state_dict
    ours = getattr(gg.optim, name)([gg.nn.Parameter(gg.ones(2))], lr=0.1, betas=[0.5, 0.999])
    theirs = getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(2))], lr=0.1, betas=[0.5, 0.999])
    assert ours.param_groups[0]["betas"] == theirs.param_groups[0]["betas"] == (0.5, 0.999)
    assert type(ours.param_groups[0]["betas"]) is type(theirs.param_groups[0]["betas"]) is tuple
    assert type(ours.state_dict()["param_groups"][0]["betas"]) is tuple


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize(
    ("shape", "kw"),
    [
        ((1, 2, 7), {"size": 11}),
        ((2, 3, 5, 6), {"scale_factor": 2}),
        ((1, 1, 5, 6), {"size": (3, 10)}),
        ((1, 2, 4, 5), {"scale_factor": 1.7}),
        ((1, 1, 2, 3, 4), {"size": (3, 5, 2)}),
    ],
)
def test_interpolate_uint8_nearest(torch, mode, shape, kw):
    # resizing a uint8 label mask or image with the nearest modes keeps uint8, as in PyTorch
    x = np.random.RandomState(0).randint(0, 256, shape).astype(np.uint8)
    ours = gg.nn.functional.interpolate(gg.tensor(x), mode=mode, **kw)
    theirs = torch.nn.functional.interpolate(torch.tensor(x), mode=mode, **kw)
    assert str(ours.dtype) == "glassgrad.uint8"
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("mode", ["area"])  # (bilinear and bicubic: PyTorch's fixed point, round 60)
def test_interpolate_uint8_other_modes_refused(mode):
    x = gg.tensor(np.zeros((1, 1, 4, 4), dtype=np.uint8))
    with pytest.raises(
        NotImplementedError, match="interpolate: \"adaptive_avg_pool2d\" not implemented for 'Byte'"
    ):
        gg.nn.functional.interpolate(x, size=(6, 6), mode=mode)
    with pytest.raises(NotImplementedError, match="interpolate"):
        gg.nn.functional.interpolate(x.long(), size=(6, 6))


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize(
    ("shape", "kw"),
    [
        ((1, 2, 9, 13), {"size": (4, 5)}),
        ((2, 1, 10, 10), {"scale_factor": 0.3}),
        ((1, 1, 5, 7), {"size": (9, 3)}),
        ((1, 1, 8, 8), {"size": (3, 3), "align_corners": True}),
        ((1, 1, 6, 9), {"scale_factor": (0.5, 1.5)}),
        ((1, 1, 7, 7), {"size": (7, 7)}),
    ],
)
def test_interpolate_antialias_like_torch(torch, mode, shape, kw):
    # torchvision's Resize on tensors downsizes with antialias=True
    rng = np.random.RandomState(1)
    x = rng.randn(*shape)
    xt, xg = torch.tensor(x, requires_grad=True), gg.tensor(x, requires_grad=True)
    theirs = torch.nn.functional.interpolate(xt, mode=mode, antialias=True, **kw)
    ours = gg.nn.functional.interpolate(xg, mode=mode, antialias=True, **kw)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = rng.randn(*theirs.shape)
    (theirs * torch.tensor(w)).sum().backward()
    (ours * gg.tensor(w)).sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    x32 = x.astype(np.float32)
    a = torch.nn.functional.interpolate(torch.tensor(x32), mode=mode, antialias=True, **kw)
    b = gg.nn.functional.interpolate(gg.tensor(x32), mode=mode, antialias=True, **kw)
    assert b.dtype == gg.float32
    np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_interpolate_antialias_gradcheck(mode):
    x = gg.tensor(np.random.RandomState(2).randn(1, 2, 7, 6), requires_grad=True)
    f = lambda t: gg.nn.functional.interpolate(t, size=(3, 4), mode=mode, antialias=True)  # noqa: E731
    assert gg.autograd.gradcheck(f, (x,))


@pytest.mark.parametrize(("mode", "shape"), [("nearest", (1, 1, 4, 4)), ("bilinear", (1, 1, 4, 4, 4))])
def test_interpolate_antialias_restricted(torch, mode, shape):
    x = np.zeros(shape, dtype=np.float32)
    with pytest.raises(ValueError, match="restricted to bilinear"):
        torch.nn.functional.interpolate(torch.tensor(x), scale_factor=0.5, mode=mode, antialias=True)
    with pytest.raises(ValueError, match="interpolate: antialias=True is restricted to the bilinear"):
        gg.nn.functional.interpolate(gg.tensor(x), scale_factor=0.5, mode=mode, antialias=True)
