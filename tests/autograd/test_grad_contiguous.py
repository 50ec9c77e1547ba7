"""autograd.grad hands back a contiguous input's gradient contiguous, as PyTorch's formulas give it:
HVP/MAML code flattens the results with ``.view(-1)`` (an op's VJP may produce a transposed view)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _lstm_pair(torch):
    ref = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True).double()
    ours = gg.nn.LSTM(3, 4, num_layers=2, bidirectional=True).double()
    ours.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    return ref, ours


@pytest.mark.parametrize("create_graph", [False, True])
def test_lstm_parameter_gradients_flatten_with_view(torch, create_graph):
    ref, ours = _lstm_pair(torch)
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    yt, _ = ref(torch.tensor(x))
    yg, _ = ours(gg.tensor(x))
    gt = torch.autograd.grad((yt**2).sum(), list(ref.parameters()), create_graph=create_graph)
    gs = gg.autograd.grad((yg**2).sum(), list(ours.parameters()), create_graph=create_graph)
    for a, b in zip(gs, gt):
        assert a.is_contiguous() and a.stride() == b.stride()
    flat = gg.cat([g.view(-1) for g in gs])  # raised on the weight gradients before
    np.testing.assert_allclose(
        flat.detach().numpy(), torch.cat([g.view(-1) for g in gt]).detach().numpy(), rtol=1e-12
    )
    if create_graph:  # a Hessian-vector product through the flattened gradient
        v = np.random.default_rng(1).standard_normal(flat.shape[0])
        hv = gg.autograd.grad((flat * gg.tensor(v)).sum(), list(ours.parameters()))
        hvt = torch.autograd.grad(
            (torch.cat([g.view(-1) for g in gt]) * torch.tensor(v)).sum(), list(ref.parameters())
        )
        for a, b in zip(hv, hvt):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12)


def test_a_zero_dim_input_keeps_its_shape():
    x = gg.tensor(2.0, requires_grad=True)
    (g,) = gg.autograd.grad(x * x, [x])
    assert g.shape == () and float(g) == 4.0


def test_a_non_contiguous_input_keeps_the_gradient_layout():
    """Only contiguous inputs are made so: a transposed leaf's gradient is not forced to C order."""
    base = gg.tensor(np.arange(6.0).reshape(2, 3))
    x = base.t().requires_grad_()
    (g,) = gg.autograd.grad((x * 3).sum(), [x])
    np.testing.assert_array_equal(g.numpy(), np.full((3, 2), 3.0))
