"""The image toolbox against PyTorch: group/instance/local-response norm, BatchNorm2d state over steps,
channel dropout, pixel and channel shuffles, resizing and padding layers. Each module: state_dict keys,
weights copied both ways, the same outputs, input gradients and parameter gradients."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.errors import ShapeError
from tests.nn.torch_parity import module_parity, randn, randomize


# ------------------------------------------------------------------ BatchNorm2d
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"momentum": 0.5, "affine": False}])
def test_batch_norm_2d_running_stats_over_steps_then_eval(torch, kwargs):
    theirs = torch.nn.BatchNorm2d(3, **kwargs)
    ours = nn.BatchNorm2d(3, **kwargs)
    assert repr(ours) == repr(theirs)
    for step in range(3):  # the cumulative average (momentum None) weighs every batch equally
        module_parity(
            torch, ours, theirs, randn(4, 3, 5, 6) * (step + 1) + step, direction=None if step else "theirs"
        )
        ours.zero_grad(), theirs.zero_grad()
    assert int(ours.num_batches_tracked.item()) == 3
    ours.eval(), theirs.eval()
    module_parity(torch, ours, theirs, randn(2, 3, 5, 6), direction=None)


# ------------------------------------------------------------------ GroupNorm, InstanceNorm, LRN
@pytest.mark.parametrize(
    ("groups", "shape"), [(1, (2, 6, 4, 5)), (3, (2, 6, 4, 5)), (6, (3, 6, 7)), (2, (4, 6))]
)
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_parity(torch, groups, shape, affine):
    theirs = torch.nn.GroupNorm(groups, 6, affine=affine)
    randomize(torch, theirs)
    ours = nn.GroupNorm(groups, 6, affine=affine)
    assert repr(ours) == repr(theirs)
    module_parity(torch, ours, theirs, randn(*shape))
    module_parity(torch, ours, theirs, randn(*shape), direction="ours")


def test_group_norm_checks():
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ShapeError, match=r"expected input \(N, 6, \*\), got \(2, 5, 3\)"):
        nn.GroupNorm(3, 6)(gg.zeros(2, 5, 3))


@pytest.mark.parametrize(
    ("cls", "shape"),
    [("InstanceNorm1d", (3, 4, 7)), ("InstanceNorm2d", (2, 4, 5, 3)), ("InstanceNorm2d", (4, 5, 3))],
)
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"affine": True},
        {"track_running_stats": True},
        {"affine": True, "track_running_stats": True, "momentum": None},
    ],
)
def test_instance_norm_parity_train_then_eval(torch, cls, shape, kwargs):
    theirs = getattr(torch.nn, cls)(4, **kwargs)
    randomize(torch, theirs)
    ours = getattr(nn, cls)(4, **kwargs)
    assert repr(ours) == repr(theirs)
    module_parity(torch, ours, theirs, randn(*shape) * 2 + 1)
    module_parity(torch, ours, theirs, randn(*shape) - 1, direction=None)  # running stats moved alike
    ours.eval(), theirs.eval()
    module_parity(torch, ours, theirs, randn(*shape), direction=None)
    module_parity(torch, ours, theirs, randn(*shape), direction="ours")


def test_instance_norm_checks():
    with pytest.raises(ShapeError, match=r"expected input of 4 dims"):
        nn.InstanceNorm2d(3)(gg.zeros(3, 4))
    with pytest.raises(ShapeError, match="expected 3 channels"):
        nn.InstanceNorm1d(3, affine=True)(gg.zeros(2, 4, 5))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        nn.InstanceNorm1d(3)(gg.zeros(2, 3, 1))


@pytest.mark.parametrize("size", [1, 2, 3, 5])
@pytest.mark.parametrize("shape", [(2, 6, 3, 4), (3, 4, 5)])
def test_local_response_norm_parity(torch, size, shape):
    kw = {"alpha": 0.5, "beta": 0.75, "k": 2.0}  # a large alpha so the neighbours matter
    theirs, ours = torch.nn.LocalResponseNorm(size, **kw), nn.LocalResponseNorm(size, **kw)
    assert repr(ours) == repr(theirs)
    module_parity(torch, ours, theirs, randn(*shape) * 2)


# ------------------------------------------------------------------ channel dropout
@pytest.mark.parametrize(
    ("cls", "shape"), [("Dropout1d", (6, 8, 5)), ("Dropout1d", (8, 5)), ("Dropout2d", (6, 8, 4, 4))]
)
def test_channel_dropout_drops_whole_channels(cls, shape):
    drop = getattr(nn, cls)(0.5)
    x = gg.ones(*shape, requires_grad=True)
    y = drop(x)
    lead = len(shape) - (1 if cls == "Dropout1d" else 2)
    per_channel = y._data.reshape(*shape[:lead], -1)  # (N, C, *S) -> (N, C, prod(S))
    assert np.isin(per_channel, [0.0, 2.0]).all()
    assert (per_channel.min(-1) == per_channel.max(-1)).all()  # one decision per channel
    assert 0 < (per_channel[..., 0] == 0).mean() < 1
    y.sum().backward()
    np.testing.assert_array_equal(x.grad._data, y._data)  # the gradient passes through the same mask
    drop.eval()
    assert drop(x) is x
    assert repr(drop) == f"{cls}(p=0.5, inplace=False)"


def test_channel_dropout_keeps_the_mean_and_checks_shape():
    y = F.dropout2d(gg.ones(200, 50, 2, 2), p=0.3)
    assert abs(float(y.mean().item()) - 1.0) < 0.03
    with pytest.raises(ShapeError, match="dropout2d"):
        F.dropout2d(gg.ones(2, 3, 4, 5, 6, 7))
    with pytest.warns(UserWarning, match="2-D input"):  # PyTorch too: element-wise, as dropout
        flat = F.dropout2d(gg.ones(400, 50), p=0.5)
    assert 0.3 < float((flat == 0).float().mean().item()) < 0.7
    assert 0.3 < float((flat[:, 0] == 0).float().mean().item()) < 0.7
    with pytest.raises(ValueError, match="probability"):
        F.dropout1d(gg.ones(2, 3, 4), p=1.5)


def test_channel_dropout_of_a_3d_input_warns_as_pytorch(torch):
    # both warn on every call, in eval too, and drop each (sample, channel) row whole
    for lib in (torch, gg):
        for training in (False, True):
            with pytest.warns(UserWarning, match="^dropout2d: Received a 3D input") as seen:
                y = lib.nn.functional.dropout2d(lib.ones(64, 32, 5), 0.5, training)
            assert seen[0].filename == __file__
        dropped = (y == 0).all(dim=-1)  # (the training call's output)
        assert bool((dropped | (y != 0).all(dim=-1)).all()) and 0.3 < float(dropped.float().mean()) < 0.7


def test_channel_dropout_of_a_5d_input_warns_and_drops_whole_channels_as_pytorch(torch):
    for lib in (torch, gg):
        with pytest.warns(UserWarning, match="dropout2d") as seen:
            y = lib.nn.functional.dropout2d(lib.ones(64, 8, 2, 3, 4), 0.5, True)
        assert seen[0].filename == __file__
        dropped = (y == 0).all(dim=(2, 3, 4))
        assert (
            bool((dropped | (y != 0).all(dim=(2, 3, 4))).all()) and 0.3 < float(dropped.float().mean()) < 0.7
        )


# ------------------------------------------------------------------ shuffles
@pytest.mark.parametrize(
    ("ours", "theirs", "shape"),
    [
        (lambda m: m.PixelShuffle(2), None, (2, 8, 3, 4)),
        (lambda m: m.PixelShuffle(3), None, (9, 2, 2)),
        (lambda m: m.PixelUnshuffle(2), None, (2, 3, 4, 6)),
        (lambda m: m.ChannelShuffle(3), None, (2, 6, 2, 3)),
    ],
)
def test_shuffle_parity(torch, ours, theirs, shape):
    a, b = ours(nn), ours(torch.nn)
    assert repr(a) == repr(b)
    module_parity(torch, a, b, randn(*shape))


def test_pixel_shuffle_round_trip_and_checks():
    x = gg.randn(2, 12, 3, 5)
    np.testing.assert_array_equal(F.pixel_unshuffle(F.pixel_shuffle(x, 2), 2)._data, x._data)
    with pytest.raises(ShapeError, match="divisible by 4"):
        F.pixel_shuffle(gg.zeros(1, 6, 2, 2), 2)
    with pytest.raises(ShapeError, match="divisible by groups=4"):
        F.channel_shuffle(gg.zeros(1, 6, 2, 2), 4)


# ------------------------------------------------------------------ interpolate / Upsample
@pytest.mark.parametrize(
    ("shape", "kwargs"),
    [
        ((2, 3, 4, 5), {"scale_factor": 2}),
        ((2, 3, 4, 5), {"size": (7, 3)}),
        ((2, 3, 4, 5), {"scale_factor": (1.5, 0.7)}),
        ((2, 3, 5, 4), {"size": 9, "mode": "nearest-exact"}),
        ((2, 3, 7), {"size": 4, "mode": "nearest"}),
        ((2, 3, 4, 5), {"scale_factor": 2, "mode": "bilinear", "align_corners": False}),
        ((2, 3, 4, 5), {"scale_factor": 2, "mode": "bilinear", "align_corners": True}),
        ((2, 3, 6, 5), {"size": (4, 9), "mode": "bilinear", "align_corners": False}),
        ((2, 3, 6, 5), {"size": (4, 9), "mode": "bilinear", "align_corners": True}),
        ((2, 3, 6, 5), {"size": (1, 1), "mode": "bilinear", "align_corners": True}),
        ((2, 3, 4, 5), {"scale_factor": 1.7, "mode": "bilinear"}),
        ((2, 3, 4, 5), {"scale_factor": 1.7, "mode": "bilinear", "recompute_scale_factor": True}),
        ((2, 3, 3, 5), {"scale_factor": 1.2, "mode": "bilinear"}),  # H keeps its size
        ((2, 3, 3, 5), {"scale_factor": (1.2, 2.1)}),  # 2-D nearest: same size and double size exact
        ((2, 3, 5), {"scale_factor": 2.1}),  # 1-D nearest: the factor counts
        ((2, 3, 5), {"scale_factor": 1.2, "mode": "linear"}),
        ((1, 2, 3, 4, 5), {"scale_factor": (1.2, 2.1, 1.5)}),  # 3-D nearest: the factor counts
        ((2, 3, 5, 4), {"scale_factor": (2.1, 1.3), "mode": "nearest-exact"}),
        ((2, 3, 6), {"size": 11, "mode": "linear", "align_corners": True}),
        ((1, 2, 3, 4, 5), {"scale_factor": 2, "mode": "trilinear"}),
    ],
)
def test_interpolate_parity(torch, shape, kwargs):
    mode = kwargs.get("mode", "nearest")
    ours, theirs = nn.Upsample(**kwargs), torch.nn.Upsample(**kwargs)
    assert repr(ours) == repr(theirs)
    if (
        mode == "nearest"
        and len(shape) != 4
        and any(f != int(f) for f in np.atleast_1d(kwargs.get("scale_factor", 1)))
    ):
        _nearest_against_torch_forward(torch, shape, kwargs)
    else:
        module_parity(torch, ours, theirs, randn(*shape))
    x = randn(*shape, dtype=np.float64)
    out = F.interpolate(gg.tensor(x), **kwargs)
    ref = torch.nn.functional.interpolate(torch.tensor(x), **kwargs)
    np.testing.assert_allclose(out._data, ref.numpy(), atol=1e-12, err_msg=mode)


def _nearest_against_torch_forward(torch, shape, kwargs):
    """1-D and 3-D nearest with a fractional factor: PyTorch's backward disagrees with its own forward
    (forward reads floor(i / 2.1), backward sends gradients as if it read i // 2), so the gradient is
    checked against the forward's own index map: each input gets the sum of the outputs that read it."""
    x = gg.tensor(randn(*shape), requires_grad=True)
    out = F.interpolate(x, **kwargs)
    ref = torch.nn.functional.interpolate(torch.tensor(x._data), **kwargs)
    np.testing.assert_array_equal(out._data, ref.numpy())
    n = int(np.prod(shape))
    where = torch.arange(n, dtype=torch.float64).reshape(shape)  # each input labelled by its flat index
    source = torch.nn.functional.interpolate(where, **kwargs).numpy().astype(np.int64)  # who each output read
    upstream = randn(*out.shape)
    out.backward(gg.tensor(upstream))
    expected = np.bincount(source.ravel(), weights=upstream.ravel(), minlength=n).reshape(shape)
    np.testing.assert_allclose(x.grad._data, expected, rtol=1e-5, atol=1e-5)


def test_fixed_mode_upsampling_layers(torch):
    for cls in ("UpsamplingNearest2d", "UpsamplingBilinear2d"):
        ours, theirs = getattr(nn, cls)(scale_factor=2), getattr(torch.nn, cls)(scale_factor=2)
        assert repr(ours) == repr(theirs)
        module_parity(torch, ours, theirs, randn(2, 3, 4, 5))


def test_bilinear_by_hand_and_checks():
    x = gg.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])
    out = F.interpolate(x, size=(3, 3), mode="bilinear", align_corners=True)
    assert out.tolist() == [[[[0.0, 0.5, 1.0], [1.0, 1.5, 2.0], [2.0, 2.5, 3.0]]]]
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ShapeError, match="expects 2 spatial dims"):
        F.interpolate(gg.zeros(1, 1, 4), scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="recompute_scale_factor"):  # as PyTorch: it needs scale_factor
        F.interpolate(x, size=(3, 3), mode="bicubic", recompute_scale_factor=True)


# ------------------------------------------------------------------ padding layers
@pytest.mark.parametrize(
    ("cls", "args", "shape"),
    [
        ("ZeroPad2d", (1,), (2, 3, 4, 5)),
        ("ZeroPad2d", ((1, 0, 2, 3),), (3, 4, 5)),
        ("ZeroPad1d", ((2, 1),), (2, 3, 4)),
        ("ConstantPad2d", ((1, 2, 0, 1), 3.5), (2, 3, 4, 5)),
        ("ConstantPad1d", (2, -1.0), (2, 3, 4)),
        ("ReflectionPad2d", (2,), (2, 3, 4, 5)),
        ("ReflectionPad2d", ((1, 3, 2, 0),), (3, 4, 5)),
        ("ReflectionPad1d", ((3, 1),), (2, 3, 5)),
        ("ReplicationPad2d", ((3, 1, 0, 4),), (2, 3, 4, 5)),
        ("ReplicationPad1d", (2,), (2, 3, 4)),
        ("CircularPad2d", ((1, 2, 2, 1),), (2, 3, 4, 5)),
        ("CircularPad1d", (3,), (2, 3, 4)),
    ],
)
def test_padding_layers_parity(torch, cls, args, shape):
    ours, theirs = getattr(nn, cls)(*args), getattr(torch.nn, cls)(*args)
    assert repr(ours) == repr(theirs)
    module_parity(torch, ours, theirs, randn(*shape))


def test_padding_layers_check_input():
    with pytest.raises(ShapeError, match=r"expected input with 3 or 4 dims, got \(4, 5\)"):
        nn.ReflectionPad2d(1)(gg.zeros(4, 5))
    with pytest.raises(ValueError, match="expected an int or 4 pad sizes"):
        nn.ZeroPad2d((1, 2))
    with pytest.raises(ShapeError, match="reflect"):
        nn.ReflectionPad2d(4)(gg.zeros(1, 1, 4, 4))  # a mirror needs pad < size


# ------------------------------------------------------------------ float64 gradchecks of the composites
@pytest.mark.parametrize(
    "fn",
    [
        lambda x: F.interpolate(x, size=(5, 3), mode="bilinear", align_corners=False),
        lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=True),
        lambda x: F.interpolate(x, scale_factor=(2, 0.5)),
        lambda x: F.group_norm(x, 2),
        lambda x: F.instance_norm(x),
        lambda x: F.local_response_norm(x, 3, alpha=0.5, k=1.5),
        lambda x: F.pixel_unshuffle(x, 2),
        lambda x: F.channel_shuffle(x, 2),
    ],
)
def test_image_functions_gradcheck(fn):
    x = gg.tensor(np.random.default_rng(1).standard_normal((2, 4, 4, 6)), requires_grad=True)
    assert gg.autograd.gradcheck(fn, (x,))


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("upsample", {"scale_factor": 2}), ("upsample", {"size": (3, 5), "mode": "bilinear"}),
     ("upsample_nearest", {"scale_factor": 2}), ("upsample_bilinear", {"size": (4, 6)})],
)  # fmt: skip
def test_deprecated_upsample_names_warn_and_resize_as_torch(torch, name, kwargs):
    # old tutorials call F.upsample*: PyTorch warns (UserWarning) and resizes as interpolate
    x = np.random.default_rng(0).standard_normal((1, 2, 2, 3)).astype(np.float32)
    outs = []
    for lib in (gg, torch):
        with pytest.warns(UserWarning, match="deprecated. Use `nn.functional.interpolate`") as rec:
            y = getattr(lib.nn.functional, name)(lib.tensor(x), **kwargs)
        outs.append((y.detach().numpy(), str(rec[0].message)))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-6, atol=1e-6)
    assert outs[0][1] == outs[1][1]
