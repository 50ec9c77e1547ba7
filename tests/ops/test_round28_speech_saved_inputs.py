"""What mse_loss and the convolutions keep for backward (round 28, Tacotron 2): PyTorch's backward
reads the inputs themselves, so a change of their memory that autograd does not see (``.data``)
reaches the gradient, and a change it sees raises. Compared with PyTorch in float64."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad


def _arr(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_matches_torch_values_grads_and_node(torch, reduction):
    got, want = [], []
    for lib, out in ((glassgrad, got), (torch, want)):
        x = lib.tensor(_arr((3, 4)), requires_grad=True)
        y = lib.tensor(_arr((3, 4), 1), requires_grad=True)
        loss = lib.nn.functional.mse_loss(x, y, reduction=reduction)
        out.append(type(loss.grad_fn).__name__)
        (loss if reduction != "none" else (loss * lib.tensor(_arr((3, 4), 2))).sum()).backward()
        out += [loss.detach().numpy(), x.grad.numpy(), y.grad.numpy()]
    assert got[0] == want[0] == "MseLossBackward0"
    for a, b in zip(got[1:], want[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14)


def test_mse_loss_double_backward_matches_torch(torch):
    got = []
    for lib in (glassgrad, torch):
        x = lib.tensor(_arr((5,)), requires_grad=True)
        y = lib.tensor(_arr((5,), 1))
        (gx,) = lib.autograd.grad(lib.nn.functional.mse_loss(x.tanh(), y), x, create_graph=True)
        (ggx,) = lib.autograd.grad((gx * gx).sum(), x)
        got.append(ggx.numpy())
    np.testing.assert_allclose(got[0], got[1], rtol=1e-12)


def _masked_after(lib, op):
    """Tacotron 2's pattern: the op reads an output, which is then masked through ``.data``;
    returns the gradients of the output's source and of the op's kernel."""
    w = lib.tensor(_arr((2, 3, 6)), requires_grad=True)
    k = lib.tensor(_arr((2, 3, 3), 3), requires_grad=True)
    x = (w * 1.5).transpose(1, 2).contiguous().transpose(1, 2)
    extra = op(lib, x, k)
    x.data.masked_fill_(lib.tensor(np.arange(36).reshape(2, 3, 6) % 4 == 0), 0.0)
    extra.backward()
    return w.grad.numpy(), np.zeros(3) if k.grad is None else k.grad.numpy()


@pytest.mark.parametrize(
    "op",
    [
        lambda lib, x, k: lib.nn.functional.mse_loss(x, lib.zeros_like(x)),
        lambda lib, x, k: lib.nn.functional.conv1d(x, k, padding=1).pow(2).sum(),
        lambda lib, x, k: (
            lib.nn.functional.conv2d(x.unsqueeze(2), k.unsqueeze(2), padding=(0, 1)).pow(2).sum()
        ),
    ],
    ids=["mse_loss", "conv1d", "conv2d"],
)
def test_change_through_data_after_the_op_reaches_the_gradient_as_in_torch(torch, op):
    for a, b in zip(_masked_after(glassgrad, op), _masked_after(torch, op)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def test_conv_weight_grad_sees_the_masked_input_as_in_torch(torch):
    got = []
    for lib in (glassgrad, torch):
        x = lib.tensor(_arr((2, 3, 6)))
        conv = lib.nn.Conv1d(3, 2, 3, padding=1).double()
        conv.load_state_dict({"weight": lib.tensor(_arr((2, 3, 3), 4)), "bias": lib.tensor(_arr((2,), 5))})
        y = conv(x)
        x.data[:, :, 4:] = 0.0
        y.sum().backward()
        got.append(conv.weight.grad.numpy())
    np.testing.assert_allclose(got[0], got[1], rtol=1e-12)


def test_small_input_changed_in_place_after_mse_or_conv_raises_as_in_torch(torch):
    for lib, error in ((glassgrad, glassgrad.errors.GraphError), (torch, RuntimeError)):
        for op in (
            lambda x: lib.nn.functional.mse_loss(x, lib.zeros_like(x)),
            lambda x: lib.nn.functional.conv2d(
                x, lib.ones(1, 2, 2, 2, dtype=lib.float64, requires_grad=True)
            ).sum(),
        ):
            leaf = lib.tensor(_arr((1, 2, 3, 3)), requires_grad=True)
            x = leaf * 1
            loss = op(x)
            x.mul_(2)
            with pytest.raises(error, match="modified"):
                loss.backward()
