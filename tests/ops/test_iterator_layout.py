"""Pointwise results with a size-1 dim get PyTorch's strides (glassgrad/iterator_layout.py), so a
layer after them picks PyTorch's memory format: the single-image path
``from_numpy(hwc.transpose(2, 0, 1)).unsqueeze(0).float() / 255`` -> conv -> ``view(1, -1)`` ran in
PyTorch and failed in glassgrad (porting round 24, score-CAM)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.iterator_layout import iterator_strides

BINARY = {
    "add": lambda lib, a, b: a + b,
    "mul": lambda lib, a, b: a * b,
    "sub_rev": lambda lib, a, b: b - a,
    "div": lambda lib, a, b: a / (b * b + 1),
    "maximum": lambda lib, a, b: lib.maximum(a, b),
    "where": lambda lib, a, b: lib.where(a > 0, a, b),
    "atan2": lambda lib, a, b: lib.atan2(a, b),
}
UNARY = {
    "exp": lambda lib, a: lib.exp(a),
    "relu": lambda lib, a: lib.relu(a),
    "sigmoid": lambda lib, a: lib.sigmoid(a),
    "scalar_div": lambda lib, a: a / 255,
    "scalar_rsub": lambda lib, a: 1 - a,
    "clamp": lambda lib, a: lib.clamp(a, -0.5, 0.5),
    "pow": lambda lib, a: a**2,
    "rpow": lambda lib, a: 2**a,
    "clamp_min": lambda lib, a: a.clamp(min=0),
    "leaky_relu": lambda lib, a: lib.nn.functional.leaky_relu(a, 0.1),
    "gt": lambda lib, a: a > 0,
    "where_number": lambda lib, a: lib.where(a > 0, a, 0.0),
    "fmod": lambda lib, a: lib.fmod(a, 2),
    "float64": lambda lib, a: a.double(),
    "gelu": lambda lib, a: lib.nn.functional.gelu(a),
}


def _strided(rng, shape):
    """A float32 array of ``shape`` over a buffer laid out in a random dim order, with random
    strides on its size-1 dims (as ``unsqueeze``, ``permute`` and NumPy transposes leave them)."""
    order = rng.permutation(len(shape))
    buf = rng.standard_normal([shape[d] for d in order]).astype(np.float32)
    a = buf.transpose(np.argsort(order))
    strides = [s if n > 1 else int(rng.integers(1, 40)) * a.itemsize for s, n in zip(a.strides, shape)]
    a = np.lib.stride_tricks.as_strided(a, shape, strides)
    return a.copy() if rng.random() < 0.2 else a  # sometimes a fresh C-ordered array


def _shape(rng, ndim):
    """A shape with one or two dims of size 1, or (one draw in four) none."""
    shape = [int(rng.integers(2, 5)) for _ in range(ndim)]
    for d in rng.choice(ndim, size=int(rng.integers(0 if rng.random() < 0.25 else 1, 3)), replace=False):
        shape[d] = 1
    return tuple(shape)


def _pair(torch, a):
    return gg.from_numpy(a), torch.from_numpy(a)


@pytest.mark.parametrize("seed", range(16))
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_results_take_torch_strides(torch, name, seed):
    rng = np.random.default_rng(seed)
    shape = _shape(rng, int(rng.choice([4, 5])))
    other = list(shape)
    if rng.random() < 0.5:  # broadcast the second operand over some dims
        for d in rng.choice(len(shape), size=2, replace=False):
            other[d] = 1
    a, b = _strided(rng, shape), _strided(rng, tuple(other))
    (ga, ta), (gb, tb) = _pair(torch, a), _pair(torch, b)
    g, t = BINARY[name](gg, ga, gb), BINARY[name](torch, ta, tb)
    assert g.stride() == t.stride(), (shape, a.strides, b.strides)
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-6)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_and_scalar_results_take_torch_strides(torch, name, seed):
    rng = np.random.default_rng(100 + seed)
    a = _strided(rng, _shape(rng, int(rng.choice([4, 5]))))
    ga, ta = _pair(torch, a)
    g, t = UNARY[name](gg, ga), UNARY[name](torch, ta)
    assert g.stride() == t.stride(), (a.shape, a.strides)
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["add", "mul", "where"])
def test_channels_last_beside_contiguous_takes_the_first_operands_layout(torch, name):
    """PyTorch's iterator lets the first operand order the dims (NumPy's order="K" answered contiguous)."""
    cl = np.random.default_rng(5).standard_normal((2, 4, 4, 3)).astype(np.float32).transpose(0, 3, 1, 2)
    c = np.random.default_rng(6).standard_normal((2, 3, 4, 4)).astype(np.float32)
    for a, b in ((cl, c), (c, cl)):
        (ga, ta), (gb, tb) = _pair(torch, a), _pair(torch, b)
        g, t = BINARY[name](gg, ga, gb), BINARY[name](torch, ta, tb)
        assert g.stride() == t.stride()
        assert g.is_contiguous(memory_format=gg.channels_last) == (a is cl)


def test_single_image_path_runs_conv_then_view_as_torch(torch):
    img = (np.random.default_rng(0).random((8, 8, 3)) * 255).astype(np.uint8)  # H, W, C from an image file
    w = np.random.default_rng(1).standard_normal((2, 3, 3, 3)).astype(np.float32)
    outs = []
    for lib in (gg, torch):
        x = lib.from_numpy(img.transpose(2, 0, 1)).unsqueeze(0).float() / 255
        x = (x - 0.5) / 0.25
        y = lib.nn.functional.conv2d(x, lib.from_numpy(w))
        assert not y.is_contiguous(memory_format=lib.channels_last)
        outs.append((x.stride(), y.view(y.size(0), -1).numpy()))
    assert outs[0][0] == outs[1][0] == (3, 1, 24, 3)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-5, atol=1e-6)


def test_a_relaid_result_saved_for_backward_still_sees_in_place_changes(torch):
    a = np.random.default_rng(2).random((4, 4, 3)).astype(np.float32) + 1
    x = gg.from_numpy(a.transpose(2, 0, 1)).unsqueeze(0)  # strides (3, 1, 12, 3)
    e = gg.full((1, 1, 1, 1), 2.0, requires_grad=True)
    y = x**e  # pow saves its result for e's gradient; NumPy's layout of it was (48, 1, 12, 3)
    assert y.stride() == (3, 1, 12, 3)
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.sum().backward()


def test_gradients_flow_through_a_relaid_result():
    a = np.random.default_rng(3).standard_normal((4, 4, 3))
    x = gg.from_numpy(a.transpose(2, 0, 1)).unsqueeze(0).requires_grad_()  # strides (3, 1, 12, 3)
    assert gg.autograd.gradcheck(lambda t: (t / 3 - 1).exp() * t, (x,))


def test_iterator_strides_rules():
    c = np.zeros((1, 3, 8, 8), np.float32)
    assert iterator_strides(c.shape, [c, c]) == (192, 64, 8, 1)  # all contiguous
    cl = np.zeros((1, 8, 8, 3), np.float32).transpose(0, 3, 1, 2)
    assert iterator_strides(cl.shape, [cl]) == (192, 1, 24, 3)  # all channels-last
    hwc = np.lib.stride_tricks.as_strided(cl, strides=(12, 4, 96, 12))  # an unsqueezed HWC image
    assert iterator_strides(hwc.shape, [hwc, 2.0]) == (3, 1, 24, 3)  # a number: sorted by strides
    assert iterator_strides((0, 3, 1, 2), [np.zeros((0, 3, 1, 2))]) == (6, 2, 2, 1)  # empty: contiguous
