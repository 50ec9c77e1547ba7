"""Convolution layers and functions: PyTorch parity (outputs, input and weight gradients, state_dict
keys both ways), the course's hand examples, and the error messages."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.errors import DTypeError, ShapeError

RNG = np.random.default_rng(0)


def randn(*shape: int, dtype=np.float32) -> np.ndarray:
    return RNG.standard_normal(shape).astype(dtype)


def parity(torch, ours, theirs, *inputs: np.ndarray, atol: float = 1e-4, **call):
    """Move torch's weights into ours (and ours back into a fresh torch copy), run both, compare
    the outputs and the gradients of the input and of every parameter."""
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    back = {k: torch.from_numpy(v._data.copy()) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(back)  # ours -> torch: the same keys and shapes load without complaint
    g_in = [gg.tensor(a, requires_grad=True) for a in inputs]
    t_in = [torch.tensor(a, requires_grad=True) for a in inputs]
    out, tout = ours(*g_in, **call), theirs(*t_in, **call)
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out._data, tout.detach().numpy(), atol=atol, rtol=1e-4)
    up = randn(*out.shape)
    out.backward(gg.tensor(up))
    tout.backward(torch.from_numpy(up))
    for g, t in zip(g_in, t_in):
        np.testing.assert_allclose(g.grad._data, t.grad.numpy(), atol=atol, rtol=1e-4)
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad._data, tparams[name].grad.numpy(), atol=atol, rtol=1e-4, err_msg=name
        )
    return out


CONV2D_CASES = [
    dict(in_channels=3, out_channels=4, kernel_size=3),
    dict(
        in_channels=4,
        out_channels=6,
        kernel_size=(3, 2),
        stride=(2, 1),
        padding=(1, 2),
        dilation=(1, 2),
        groups=2,
    ),
    dict(
        in_channels=4, out_channels=8, kernel_size=3, groups=4, bias=False
    ),  # depthwise, channel multiplier 2
    dict(in_channels=3, out_channels=5, kernel_size=4, padding="same", dilation=2),
    dict(in_channels=3, out_channels=5, kernel_size=3, padding="valid", stride=2),
    dict(in_channels=3, out_channels=4, kernel_size=3, padding=2, padding_mode="reflect"),
    dict(
        in_channels=3, out_channels=4, kernel_size=(3, 2), padding=(1, 2), padding_mode="replicate", stride=2
    ),
    dict(in_channels=3, out_channels=4, kernel_size=3, padding=1, padding_mode="circular", groups=1),
    dict(in_channels=2, out_channels=4, kernel_size=4, padding="same", padding_mode="reflect"),
]


@pytest.mark.parametrize("kw", CONV2D_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_conv2d_matches_pytorch(torch, kw):
    out = parity(torch, nn.Conv2d(**kw), torch.nn.Conv2d(**kw), randn(2, kw["in_channels"], 9, 8))
    assert repr(nn.Conv2d(**kw)) == repr(torch.nn.Conv2d(**kw))
    assert out.dtype == gg.float32


@pytest.mark.parametrize(
    "kw",
    [
        dict(in_channels=3, out_channels=4, kernel_size=3),
        dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1, dilation=2, groups=2),
        dict(in_channels=3, out_channels=4, kernel_size=4, padding="same", padding_mode="circular"),
        dict(in_channels=3, out_channels=4, kernel_size=3, padding=2, padding_mode="reflect", bias=False),
        dict(in_channels=3, out_channels=4, kernel_size=3, padding=1, padding_mode="replicate", stride=2),
    ],
)
def test_conv1d_matches_pytorch(torch, kw):
    parity(torch, nn.Conv1d(**kw), torch.nn.Conv1d(**kw), randn(2, kw["in_channels"], 11))
    assert repr(nn.Conv1d(**kw)) == repr(torch.nn.Conv1d(**kw))


@pytest.mark.parametrize(
    "kw",
    [
        dict(in_channels=3, out_channels=4, kernel_size=3),
        dict(
            in_channels=4,
            out_channels=6,
            kernel_size=(3, 2),
            stride=(2, 3),
            padding=(1, 0),
            output_padding=(1, 2),
            groups=2,
        ),
        dict(
            in_channels=4,
            out_channels=2,
            kernel_size=3,
            stride=2,
            padding=1,
            output_padding=1,
            dilation=2,
            bias=False,
        ),
        dict(in_channels=4, out_channels=4, kernel_size=3, stride=1, output_padding=1, dilation=2, groups=4),
    ],
)
def test_conv_transpose2d_matches_pytorch(torch, kw):
    parity(torch, nn.ConvTranspose2d(**kw), torch.nn.ConvTranspose2d(**kw), randn(2, kw["in_channels"], 5, 4))
    assert repr(nn.ConvTranspose2d(**kw)) == repr(torch.nn.ConvTranspose2d(**kw))


@pytest.mark.parametrize(
    "make",
    [
        lambda nn: nn.Conv2d(64, 64, 3, padding=1),  # Og x K = 64 x 576, past the swapped-order limit
        lambda nn: nn.Conv2d(128, 128, 3, groups=2, bias=False),  # per group 64 x 576
        lambda nn: nn.Conv2d(8, 8, 3),  # 8 x 72: the swapped order
        lambda nn: nn.ConvTranspose2d(64, 64, 3, stride=2),  # 64 x (64 * 9)
    ],
)
def test_large_weight_gradients_match_pytorch_and_are_contiguous(torch, make):
    """Weight gradients big enough to be computed in the direct order (no transposing copy) agree
    with PyTorch's, and every ``.grad`` owns C-contiguous memory, as the optimizers expect."""
    ours, theirs = make(nn), make(torch.nn)
    parity(torch, ours, theirs, randn(2, ours.in_channels, 6, 5), atol=2e-3)
    for name, p in ours.named_parameters():
        assert p.grad._data.flags.c_contiguous, name


def test_conv_transpose1d_matches_pytorch(torch):
    kw = dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1, output_padding=1, groups=2)
    parity(torch, nn.ConvTranspose1d(**kw), torch.nn.ConvTranspose1d(**kw), randn(2, 4, 7))
    assert repr(nn.ConvTranspose1d(**kw)) == repr(torch.nn.ConvTranspose1d(**kw))


def test_conv_transpose_output_size(torch):
    ours, theirs = (
        nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1),
        torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1),
    )
    x = randn(1, 3, 4, 4)
    out = parity(torch, ours, theirs, x, output_size=(8, 8))
    assert out.shape == (1, 2, 8, 8)
    with pytest.raises(ShapeError, match="requested an output size"):
        ours(gg.tensor(x), output_size=(10, 10))


def test_unfold_fold_match_pytorch(torch):
    parity(torch, nn.Unfold((2, 3), dilation=(2, 1), padding=1, stride=(1, 2)),
           torch.nn.Unfold((2, 3), dilation=(2, 1), padding=1, stride=(1, 2)), randn(2, 3, 6, 7))  # fmt: skip
    parity(
        torch,
        nn.Fold((5, 6), 2, padding=1, stride=1),
        torch.nn.Fold((5, 6), 2, padding=1, stride=1),
        randn(2, 8, 42),
    )
    assert repr(nn.Fold(3, 2)) == repr(torch.nn.Fold(3, 2))


def test_conv_equals_unfold_matmul():
    """The im2col identity the course explains: conv2d = weight rows times unfolded columns."""
    x, w = gg.tensor(randn(2, 3, 6, 5)), gg.tensor(randn(4, 3, 3, 3))
    cols = F.unfold(x, 3)  # (2, 27, 12)
    via_matmul = (w.reshape(4, 27) @ cols).reshape(2, 4, 4, 3)
    np.testing.assert_allclose(F.conv2d(x, w)._data, via_matmul._data, rtol=1e-5, atol=1e-5)


def test_conv_parameters_are_initialised_as_pytorch():
    """kaiming_uniform(a = sqrt(5)) bounds the weights by 1/sqrt(fan_in), the bias likewise."""
    gg.manual_seed(1)
    conv = nn.Conv2d(16, 32, 5, groups=2)
    bound = 1 / math.sqrt(8 * 25)
    w, b = conv.weight._data, conv.bias._data
    assert conv.weight.shape == (32, 8, 5, 5) and conv.bias.shape == (32,)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.5 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound  # U(-a, a) has std a / sqrt(3)
    t = nn.ConvTranspose2d(16, 32, 3, groups=4)
    assert t.weight.shape == (16, 8, 3, 3) and np.abs(t.weight._data).max() <= 1 / math.sqrt(8 * 9)
    assert list(t.state_dict()) == ["weight", "bias"]
    assert list(nn.Conv1d(2, 2, 3, bias=False).state_dict()) == ["weight"]


def test_unbatched_input():
    conv = nn.Conv2d(3, 2, 3)
    x = gg.tensor(randn(3, 5, 5))
    np.testing.assert_allclose(conv(x)._data, conv(x.unsqueeze(0))._data[0], rtol=1e-6)
    assert conv(x).shape == (2, 3, 3)


# ------------------------------------------------------------------ the course's hand examples
def test_vertical_edge_detector():
    """[[1, 0, -1]] x 3 over a 6x6 image, bright left half: a 4x4 map, 30 along the edge, 0 elsewhere."""
    image = np.array([[10.0] * 3 + [0.0] * 3] * 6, dtype=np.float32).reshape(1, 1, 6, 6)
    edge = np.array([[1.0, 0.0, -1.0]] * 3, dtype=np.float32).reshape(1, 1, 3, 3)
    out = F.conv2d(gg.tensor(image), gg.tensor(edge))
    expected = np.array([[0.0, 30.0, 30.0, 0.0]] * 4, dtype=np.float32)
    np.testing.assert_array_equal(out._data[0, 0], expected)


def test_one_by_one_conv_is_a_per_pixel_linear_map():
    x, w, b = randn(2, 5, 4, 3), randn(7, 5, 1, 1), randn(7)
    out = F.conv2d(gg.tensor(x), gg.tensor(w), gg.tensor(b))._data
    # every pixel's channel vector times W^T, plus b
    expected = np.einsum("nchw,oc->nohw", x, w[:, :, 0, 0]) + b[None, :, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_ten_3x3x3_filters_have_280_parameters():
    conv = nn.Conv2d(3, 10, 3)
    assert sum(p.numel() for p in conv.parameters()) == 10 * (3 * 3 * 3) + 10 == 280


def test_course_network_shapes():
    """39x39x3 -> (3x3, s1, 10) -> (5x5, s2, 20) -> (5x5, s2, 40): 37x37x10, 17x17x20, 7x7x40 = 1960."""
    net = nn.Sequential(nn.Conv2d(3, 10, 3), nn.Conv2d(10, 20, 5, stride=2), nn.Conv2d(20, 40, 5, stride=2))
    x = gg.zeros(1, 3, 39, 39)
    shapes = []
    for layer in net:
        x = layer(x)
        shapes.append(x.shape)
    assert shapes == [(1, 10, 37, 37), (1, 20, 17, 17), (1, 40, 7, 7)]
    assert x.flatten(1).shape == (1, 1960)


# ------------------------------------------------------------------ errors
def test_errors_name_the_op_and_shapes():
    x = gg.zeros(2, 3, 8, 8)
    with pytest.raises(ShapeError, match=r"conv2d: expected input with 4 channels .*\(2, 3, 8, 8\)"):
        F.conv2d(x, gg.zeros(5, 4, 3, 3))
    with pytest.raises(ShapeError, match="groups=2 to divide"):
        F.conv2d(x, gg.zeros(4, 1, 3, 3), groups=2)
    with pytest.raises(
        ShapeError, match=r"conv2d: expected a padded input at least as large as the \(dilated\) kernel"
    ):
        F.conv2d(x, gg.zeros(4, 3, 9, 9))
    with pytest.raises(
        ShapeError, match=r"conv2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input, got shape \(3, 8\)"
    ):
        F.conv2d(gg.zeros(3, 8), gg.zeros(4, 3, 3, 3))
    with pytest.raises(ShapeError, match=r"conv2d: expected a 4-D weight"):
        F.conv2d(x, gg.zeros(4, 3, 3))
    with pytest.raises(ShapeError, match="padding='same' expected stride 1"):
        F.conv2d(x, gg.zeros(4, 3, 3, 3), stride=2, padding="same")
    with pytest.raises(ShapeError, match="bias of shape"):
        F.conv2d(x, gg.zeros(4, 3, 3, 3), gg.zeros(3))
    with pytest.raises(DTypeError, match="one dtype"):
        F.conv2d(x, gg.zeros(4, 3, 3, 3, dtype=gg.float64))
    with pytest.raises(ShapeError, match="output_padding smaller than stride or dilation"):
        F.conv_transpose2d(x, gg.zeros(3, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(ShapeError, match=r"Conv2d: expected input \(N, 3, \*2 spatial dims\)"):
        nn.Conv2d(3, 4, 3)(gg.zeros(2, 5, 8, 8))
    with pytest.raises(ValueError, match="groups=2 to divide in_channels=3"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ShapeError, match="fold: expected input"):
        F.fold(gg.zeros(1, 8, 5), (4, 4), 2)


@pytest.mark.parametrize("kw", CONV2D_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_columns_made_again_in_backward_match_pytorch(torch, monkeypatch, kw):
    """Columns larger than ``COLS_KEPT_MAX`` are not kept: backward makes them again from the input."""
    import glassgrad.ops.conv as conv_ops

    monkeypatch.setattr(conv_ops, "COLS_KEPT_MAX", 0)
    parity(torch, nn.Conv2d(**kw), torch.nn.Conv2d(**kw), randn(2, kw["in_channels"], 9, 8))
    kw3 = dict(in_channels=2, out_channels=3, kernel_size=(2, 3, 2), padding=1, stride=(1, 2, 1))
    parity(torch, nn.Conv3d(**kw3), torch.nn.Conv3d(**kw3), randn(2, 2, 5, 6, 4))


def test_input_changed_in_place_after_a_large_conv_is_refused(torch, monkeypatch):
    """With its columns made again in backward, a conv keeps its input, as PyTorch's does: an
    in-place change of it before backward raises instead of giving a wrong weight gradient."""
    import glassgrad.ops.conv as conv_ops

    monkeypatch.setattr(conv_ops, "COLS_KEPT_MAX", 0)
    for lib, error in ((gg, gg.errors.GraphError), (torch, RuntimeError)):
        x = lib.tensor(randn(1, 2, 5, 5)) * 1
        w = lib.tensor(randn(3, 2, 3, 3), requires_grad=True)
        y = lib.nn.functional.conv2d(x, w)
        x.mul_(2)
        with pytest.raises(error, match="modified"):
            y.sum().backward()


def test_frozen_weight_conv_gives_the_input_gradient(torch):
    x, w = randn(2, 3, 7, 6), randn(4, 3, 3, 3)
    grads = []
    for lib in (gg, torch):
        xt = lib.tensor(x, requires_grad=True)
        lib.nn.functional.conv2d(xt, lib.tensor(w), padding=1).pow(2).sum().backward()
        grads.append(xt.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-4, atol=1e-4)
