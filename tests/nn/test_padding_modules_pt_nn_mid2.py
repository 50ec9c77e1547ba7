"""Round 67 (PyTorch's test_nn.py, TestNNDeviceType's padding tests): the constant padding modules
pad an input of any rank with enough dims, as PyTorch's (which only call ``F.pad``), and the
reflect/replicate/circular modules refuse other ranks with PyTorch's exception classes and words."""

import numpy as np
import pytest

import glassgrad
from glassgrad.errors import ShapeError

_CONSTANT = [
    ("ZeroPad1d", (1, 2), (5,)),
    ("ZeroPad1d", (2, 0), (2, 3, 4, 5)),
    ("ZeroPad2d", (1, 0, 2, 1), (4, 5)),
    ("ZeroPad2d", 1, (2, 1, 3, 4, 5)),
    ("ConstantPad1d", ((1, -1), 2.5), (3, 2, 1, 4)),
    ("ConstantPad2d", (2, 1.5), (3, 4)),
    ("ConstantPad3d", ((1, 0, 0, 1, 2, 0), -1.0), (2, 1, 2, 3, 2, 2)),
    ("ZeroPad3d", 1, (2, 3, 2)),
]


def _make(lib, name, args):
    cls = getattr(lib.nn, name)
    return cls(*args) if isinstance(args, tuple) and name.startswith("Constant") else cls(args)


@pytest.mark.parametrize(("name", "args", "shape"), _CONSTANT)
def test_constant_pads_take_any_rank(name, args, shape, torch):
    x = np.random.default_rng(0).standard_normal(shape)
    cotangent = None
    outs, grads = [], []
    for lib in (torch, glassgrad):
        t = lib.from_numpy(x.copy()).requires_grad_()
        out = _make(lib, name, args)(t)
        if cotangent is None:
            cotangent = np.random.default_rng(1).standard_normal(tuple(out.shape))
        out.backward(lib.from_numpy(cotangent.copy()))
        outs.append(out.detach().numpy())
        grads.append(t.grad.numpy())
    assert outs[1].shape == outs[0].shape
    np.testing.assert_array_equal(outs[1], outs[0])
    np.testing.assert_array_equal(grads[1], grads[0])


def test_constant_pad_needs_enough_dims(torch):
    with pytest.raises(RuntimeError):
        torch.nn.ConstantPad2d(1, 2.0)(torch.randn(3))
    with pytest.raises(ShapeError, match="at most 2"):
        glassgrad.nn.ConstantPad2d(1, 2.0)(glassgrad.randn(3))


_INDEX = [
    (
        "ReflectionPad1d",
        (3, 3, 4, 5),
        NotImplementedError,
        "Padding size 2 is not supported for 4D input tensor.",
    ),
    ("ReplicationPad1d", (5,), NotImplementedError, "Padding size 2 is not supported for 1D input tensor."),
    (
        "ReflectionPad2d",
        (2, 3, 4, 5, 6),
        NotImplementedError,
        "Padding size 4 is not supported for 5D input tensor.",
    ),
    (
        "ReplicationPad3d",
        (2, 2, 2, 3, 4, 5),
        NotImplementedError,
        "Padding size 6 is not supported for 6D input tensor.",
    ),
    ("CircularPad1d", (2, 3, 4, 5), ValueError, r"expected 2D or 3D input \(got 4D input\)"),
    ("CircularPad2d", (3, 4), ValueError, r"expected 3D or 4D input \(got 2D input\)"),
]


@pytest.mark.parametrize(("name", "shape", "error", "words"), _INDEX)
def test_index_pads_refuse_other_ranks(name, shape, error, words, torch):
    with pytest.raises(error, match=words):
        getattr(torch.nn, name)(1)(torch.randn(*shape))
    with pytest.raises(error, match=words):
        getattr(glassgrad.nn, name)(1)(glassgrad.randn(*shape))
    with pytest.raises(ShapeError):  # still glassgrad's shape error too
        getattr(glassgrad.nn, name)(1)(glassgrad.randn(*shape))


@pytest.mark.parametrize(
    ("shape", "pad", "mode", "words"),
    [
        (
            (1, 1, 2, 3),
            (1, 1, 3, 0),
            "reflect",
            "Padding size should be less than the corresponding input dimension",
        ),
        ((1, 1, 2), (2, 1), "reflect", "Padding size should be less than the corresponding input dimension"),
        ((1, 1, 4), (5, 4), "circular", "Padding value causes wrapping around more than once"),
        ((1, 1, 4), (-3, -2), "circular", "Negative padding value is resulting in an empty dimension"),
    ],
)
def test_pad_errors_carry_pytorchs_words(shape, pad, mode, words, torch):
    for lib in (torch, glassgrad):
        with pytest.raises(RuntimeError, match=words):
            lib.nn.functional.pad(lib.randn(*shape), pad, mode=mode)
