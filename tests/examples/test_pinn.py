"""examples/pinn.py: the physics-informed network learns sin(pi x) from u'' alone (double
backward through two nested autograd.grad calls), and its residual equals PyTorch's."""

from __future__ import annotations

import math

import numpy as np

import glassgrad as gg
from tests.examples.load import load_example


def test_pinn_learns_the_solution():
    ex = load_example("pinn")
    net, losses = ex.train(steps=300)
    assert losses[-1] < 1e-3 * losses[0]
    assert ex.max_error(net) < 0.02 < ex.max_error(ex.Net().double())


def test_pinn_residual_matches_pytorch(torch):
    ex = load_example("pinn")
    net = ex.Net(width=6).double()
    ref = torch.nn.Sequential(
        torch.nn.Linear(1, 6), torch.nn.Tanh(), torch.nn.Linear(6, 6), torch.nn.Tanh(), torch.nn.Linear(6, 1)
    ).double()
    ref.load_state_dict(
        {k[len("body.") :]: torch.tensor(v.detach().numpy()) for k, v in net.state_dict().items()}
    )
    xs = np.linspace(0, 1, 7)[:, None]
    x = gg.tensor(xs).requires_grad_(True)
    r = ex.residual(net, x)
    (r.pow(2).sum()).backward()
    tx = torch.tensor(xs, requires_grad=True)
    tu = ref(tx)
    (tu_x,) = torch.autograd.grad(tu, tx, torch.ones_like(tu), create_graph=True)
    (tu_xx,) = torch.autograd.grad(tu_x, tx, torch.ones_like(tu_x), create_graph=True)
    tr = tu_xx + math.pi**2 * torch.sin(math.pi * tx)
    (tr.pow(2).sum()).backward()
    np.testing.assert_allclose(r.detach().numpy(), tr.detach().numpy(), rtol=1e-10, atol=1e-12)
    for (name, p), tp in zip(net.named_parameters(), ref.parameters()):
        if p.grad is None or tp.grad is None:  # u'' does not depend on the last bias: no gradient in either
            assert p.grad is None and tp.grad is None, name
            continue
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
