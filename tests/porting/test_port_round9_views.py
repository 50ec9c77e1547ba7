"""Programs that change a view of a tensor in the graph in place, which glassgrad refused until it
rebased views as PyTorch does (autograd/view_rebase.py): the differentiable-physics pattern
``forces[i] += force`` of the mass_spring example (docs/porting.md), a residual block that writes
``out[:, :c] += x``, and ``F.relu(h.flatten(1), inplace=True)``. Each runs on glassgrad and
PyTorch from the same initial values and must give the same losses and gradients."""

from __future__ import annotations

import numpy as np

import glassgrad

from .helpers import assert_same


def script_springs(torch, epochs=4):
    """Particles joined by springs, stepped by explicit Euler; the forces are summed into rows of
    one tensor in place, and Adam moves the free particles' rest positions to hit a target."""
    rng = np.random.default_rng(0)
    n, steps, dt, k = 4, 12, 0.05, 3.0
    springs = [(0, 1), (1, 2), (2, 3), (0, 2)]
    rest = torch.nn.Parameter(torch.tensor(rng.normal(size=(n - 1, 2)), dtype=torch.float64))
    target = torch.tensor(rng.normal(size=(n, 2)), dtype=torch.float64)
    opt = torch.optim.Adam([rest], lr=0.05)
    losses = []
    for _ in range(epochs):
        opt.zero_grad()
        pos = torch.cat([torch.zeros(1, 2, dtype=torch.float64), rest])
        vel = torch.zeros(n, 2, dtype=torch.float64)
        for _ in range(steps):
            forces = torch.zeros(n, 2, dtype=torch.float64)
            for i, j in springs:
                d = pos[j] - pos[i]
                length = d.norm()
                force = k * (length - 1.0) * d / length
                forces[i] += force  # a recorded in-place change of a view of forces
                forces[j] -= force
            forces[0] = 0.0  # the anchor does not move
            vel = 0.9 * vel + dt * forces
            pos = pos + dt * vel
        loss = ((pos - target) ** 2).mean()
        loss.backward()
        losses.append(loss.item())
        opt.step()
    return [losses, rest.detach().numpy().copy()]


def test_mass_spring_pattern_matches_torch(torch):
    assert_same(script_springs(glassgrad), script_springs(torch), rtol=1e-10, atol=1e-12)


def script_views_in_a_network(torch):
    """A residual sum into a slice of channels and an in-place ReLU on a flattened view."""
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    conv = torch.nn.Conv2d(3, 6, 3, padding=1).double()
    head = torch.nn.Linear(6 * 16, 2).double()
    with torch.no_grad():
        for p in (*conv.parameters(), *head.parameters()):
            p.copy_(torch.tensor(rng.normal(scale=0.3, size=tuple(p.shape))))
    x = torch.tensor(rng.normal(size=(2, 3, 4, 4)), requires_grad=True)
    out = conv(x)
    out[:, :3] += x  # the skip connection into the first three channels: out's graph is rebased
    flat = out.flatten(1)
    torch.nn.functional.relu(flat, inplace=True)  # writes out through the view
    loss = head(flat).pow(2).sum() + out.sum()
    loss.backward()
    return [loss.item(), out.detach().numpy().copy(), x.grad.numpy().copy()] + [
        p.grad.numpy().copy() for p in (*conv.parameters(), *head.parameters())
    ]


def test_inplace_views_in_a_network_match_torch(torch):
    assert_same(
        script_views_in_a_network(glassgrad), script_views_in_a_network(torch), rtol=1e-10, atol=1e-12
    )
