"""Review of round 8: ``stack`` of channels-last inputs along a dim other than 0 (PyTorch's stack is a
``cat`` along ``dim`` viewed with the dim split, so NumPy's stride order is not PyTorch's there), and
the four losses PyTorch checks in Python refuse ``reduction='elementwise_mean'`` (no warning, a
ValueError) where every other loss takes it as 'mean'."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import glassgrad


def _torch_like(torch, a):
    """A PyTorch tensor with ``a``'s values and element strides (``a`` neither empty nor expanded)."""
    st = [s // a.itemsize for s in a.strides]
    t = torch.as_strided(torch.zeros(sum((d - 1) * s for d, s in zip(a.shape, st)) + 1), a.shape, st)
    return t.copy_(torch.from_numpy(np.array(a)))


def _layouts(shape):
    base = np.random.default_rng(0).random(shape, dtype=np.float32)
    for p in itertools.permutations(range(len(shape))):
        yield np.ascontiguousarray(base.transpose(p)).transpose(np.argsort(p))


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 3, 4, 5), (3, 1, 4, 2), (2, 3, 1, 4, 2)])
def test_cat_stack_strides_as_torch_for_every_permuted_layout(torch, shape):
    layouts = list(_layouts(shape))
    for a in layouts:
        for b in (a, layouts[0], layouts[-1]):
            for op, extra in (("cat", 0), ("stack", 1)):
                for d in range(-1, len(shape) + extra):
                    want = getattr(torch, op)([_torch_like(torch, a), _torch_like(torch, b)], d)
                    got = getattr(glassgrad, op)([glassgrad.from_numpy(a), glassgrad.from_numpy(b)], d)
                    assert got.stride() == want.stride(), (op, d, a.strides, b.strides)
                    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("dim", [1, 2, 3, 4])
def test_stack_of_channels_last_along_an_inner_dim(torch, dim):
    x = np.random.default_rng(1).random((2, 3, 4, 5), dtype=np.float32)
    t = torch.from_numpy(x).contiguous(memory_format=torch.channels_last)
    g = glassgrad.from_numpy(x).contiguous(memory_format=glassgrad.channels_last)
    assert glassgrad.stack([g, g], dim).stride() == torch.stack([t, t], dim).stride()


def test_stack_gradients_of_transposed_inputs_unchanged(torch):
    x = np.random.default_rng(2).random((2, 3, 4, 5), dtype=np.float32)
    gx = glassgrad.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    w = np.random.default_rng(3).random((2, 2, 3, 4, 5), dtype=np.float32)
    (
        glassgrad.stack([gx.transpose(1, 3)] * 2, 1).permute(0, 1, 4, 3, 2) * glassgrad.tensor(w)
    ).sum().backward()
    (torch.stack([tx.transpose(1, 3)] * 2, 1).permute(0, 1, 4, 3, 2) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


def _refused(mod, f, args):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError) as err:
            f(*[mod.tensor(a) for a in args], reduction="elementwise_mean")
    return [w.category for w in caught], err


@pytest.mark.parametrize(
    "name",
    [
        "poisson_nll_loss",
        "gaussian_nll_loss",
        "multilabel_soft_margin_loss",
        "triplet_margin_with_distance_loss",
    ],
)
def test_losses_pytorch_checks_in_python_refuse_elementwise_mean(torch, name):
    x = np.random.default_rng(4).random((3, 4), dtype=np.float32) + 0.1
    args = (x, x, x) if name in ("gaussian_nll_loss", "triplet_margin_with_distance_loss") else (x, x)
    want, _ = _refused(torch, getattr(torch.nn.functional, name), args)
    got, _ = _refused(glassgrad, getattr(glassgrad.nn.functional, name), args)
    assert got == want == []
    module = {"poisson_nll_loss": "PoissonNLLLoss", "gaussian_nll_loss": "GaussianNLLLoss"}.get(name)
    if module:  # constructed without complaint (PyTorch's too); refused at the call
        loss = getattr(glassgrad.nn, module)(reduction="elementwise_mean")
        assert loss.reduction == getattr(torch.nn, module)(reduction="elementwise_mean").reduction
        with pytest.raises(ValueError):
            loss(*[glassgrad.tensor(a) for a in args])


def test_as_tensor_cast_of_a_tensor_does_not_warn(torch):
    for mod in (torch, glassgrad):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = mod.as_tensor(mod.tensor([1.0, 2.0]), dtype=mod.float64)
        assert caught == [] and out.dtype == mod.float64
        np.testing.assert_array_equal(out.numpy(), [1.0, 2.0])


def test_new_tensor_of_a_tensor_warns_as_pytorch_at_the_caller(torch):
    for lib in (torch, glassgrad):
        x = lib.ones(2)
        with pytest.warns(UserWarning, match=r"rather than tensor.new_tensor\(sourceTensor\)") as rec:
            y = x.new_tensor(lib.tensor([1.0, 2.0]))
        assert len(rec) == 1 and rec[0].filename == __file__
        assert y.tolist() == [1.0, 2.0]
