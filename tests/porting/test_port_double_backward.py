"""The programs that need double backward (``create_graph=True``), written once against
``lib``/``nn``/``F`` and run on glassgrad and on PyTorch from the same weights: a physics-informed
network (u'' through two nested ``autograd.grad`` calls), a WGAN-GP critic's gradient penalty
(convolutions and leaky ReLU), and a MAML meta-step (an inner SGD step kept in the graph)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from tests.porting.helpers import assert_same


def _libs(name):
    lib = importlib.import_module(name)
    return lib, importlib.import_module(f"{name}.nn"), importlib.import_module(f"{name}.nn.functional")


def pinn(name, weights, steps=3):
    """u(x) ~ sin(pi x) from u'' = -pi^2 sin(pi x), u(0) = u(1) = 0: the residual needs u_xx."""
    lib, nn, _ = _libs(name)
    lib.manual_seed(0)
    net = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1)).double()
    net.load_state_dict({k: lib.tensor(v) for k, v in weights.items()})
    opt = lib.optim.Adam(net.parameters(), lr=1e-2)
    x = lib.linspace(0, 1, 21, dtype=lib.float64).reshape(-1, 1).requires_grad_(True)
    ends = lib.tensor([[0.0], [1.0]], dtype=lib.float64)
    losses = []
    for _ in range(steps):
        u = net(x)
        (u_x,) = lib.autograd.grad(u, x, lib.ones_like(u), create_graph=True)
        (u_xx,) = lib.autograd.grad(u_x, x, lib.ones_like(u_x), create_graph=True)
        residual = u_xx + (np.pi**2) * lib.sin(np.pi * x)
        loss = (residual**2).mean() + (net(ends) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.detach() for p in net.parameters()]


def wgan_gp(name, weights, real, fake):
    """The critic's loss with Gulrajani et al.'s penalty on interpolates, and its weight gradients."""
    lib, nn, _ = _libs(name)
    critic = nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(8 * 2 * 2, 1),
    ).double()  # fmt: skip
    critic.load_state_dict({k: lib.tensor(v) for k, v in weights.items()})
    real, fake = lib.tensor(real), lib.tensor(fake)
    eps = lib.tensor(np.linspace(0.1, 0.9, real.shape[0]).reshape(-1, 1, 1, 1))
    mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
    score = critic(mixed)
    (g,) = lib.autograd.grad(score, mixed, lib.ones_like(score), create_graph=True, retain_graph=True)
    g = g.view(g.shape[0], -1)
    penalty = ((g.norm(2, dim=1) - 1) ** 2).mean()
    loss = critic(fake).mean() - critic(real).mean() + 10 * penalty
    loss.backward()
    return loss.detach(), penalty.detach(), [p.grad for p in critic.parameters()]


def maml(name, weights, xs, ys, xq, yq, inner_lr=0.1):
    """One meta-step: adapt the weights by one SGD step on the support set, keeping the step in
    the graph, and take the query loss's gradient w.r.t. the original weights."""
    lib, _, F = _libs(name)
    params = [lib.tensor(w, requires_grad=True) for w in weights]

    def forward(p, x):
        h = F.relu(F.linear(x, p[0], p[1]))
        return F.linear(h, p[2], p[3])

    xs, ys, xq, yq = (lib.tensor(a) for a in (xs, ys, xq, yq))
    support = F.mse_loss(forward(params, xs), ys)
    grads = lib.autograd.grad(support, params, create_graph=True)
    fast = [p - inner_lr * g for p, g in zip(params, grads)]
    query = F.mse_loss(forward(fast, xq), yq)
    query.backward()
    return query.detach(), [p.grad for p in params]


def test_pinn_matches_pytorch(torch):
    torch.manual_seed(0)
    ref = torch.nn.Sequential(
        torch.nn.Linear(1, 16),
        torch.nn.Tanh(),
        torch.nn.Linear(16, 16),
        torch.nn.Tanh(),
        torch.nn.Linear(16, 1),
    ).double()
    weights = {k: v.detach().numpy().copy() for k, v in ref.state_dict().items()}
    assert_same(pinn("glassgrad", weights), pinn("torch", weights), rtol=1e-9, atol=1e-12)


def test_pinn_learns_without_pytorch():
    rng = np.random.default_rng(0)
    shapes = {
        "0.weight": (16, 1),
        "0.bias": (16,),
        "2.weight": (16, 16),
        "2.bias": (16,),
        "4.weight": (1, 16),
        "4.bias": (1,),
    }
    weights = {k: rng.uniform(-0.5, 0.5, s) for k, s in shapes.items()}
    losses, _ = pinn("glassgrad", weights, steps=60)
    assert losses[-1] < 0.2 * losses[0]


def test_wgan_gp_penalty_matches_pytorch(torch):
    rng = np.random.default_rng(1)
    torch.manual_seed(1)
    ref = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, stride=2, padding=1), torch.nn.LeakyReLU(0.2),
        torch.nn.Conv2d(4, 8, 3, stride=2, padding=1), torch.nn.LeakyReLU(0.2),
        torch.nn.Flatten(), torch.nn.Linear(32, 1),
    ).double()  # fmt: skip
    weights = {k: v.detach().numpy().copy() for k, v in ref.state_dict().items()}
    real, fake = rng.standard_normal((5, 1, 8, 8)), rng.standard_normal((5, 1, 8, 8))
    assert_same(
        wgan_gp("glassgrad", weights, real, fake),
        wgan_gp("torch", weights, real, fake),
        rtol=1e-9,
        atol=1e-12,
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_maml_meta_gradient_matches_pytorch(torch, seed):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(s) * 0.5 for s in ((8, 1), (8,), (1, 8), (1,))]
    xs, xq = rng.uniform(-2, 2, (10, 1)), rng.uniform(-2, 2, (10, 1))
    ys, yq = np.sin(xs), np.sin(xq)
    ours = maml("glassgrad", weights, xs, ys, xq, yq)
    assert_same(ours, maml("torch", weights, xs, ys, xq, yq), rtol=1e-10, atol=1e-13)
    assert all(g is not None for g in ours[1])
