"""A physics-informed network: second derivatives by double backward.

Run it with ``.venv/bin/python examples/pinn.py``. The network u(x) (a tanh MLP) is trained so that
it solves the boundary value problem

    u''(x) = -pi^2 sin(pi x) on [0, 1],   u(0) = u(1) = 0,

whose solution is u(x) = sin(pi x). No values of u are given: the loss is the mean squared
residual u'' + pi^2 sin(pi x) at collocation points, plus the squared boundary values. u'' is the
derivative of a derivative, so it is taken by two ``autograd.grad(..., create_graph=True)`` calls
(the first gradient is itself recorded, ``glassgrad/autograd/recorded.py``), and the loss's
backward then goes through both to the weights.
"""

from __future__ import annotations

import math

import numpy as np

import glassgrad as gg
from glassgrad import nn

__all__ = ["Net", "residual", "train", "main"]


class Net(nn.Module):
    """u(x): 1 -> width -> width -> 1 with tanh (smooth, so u'' exists everywhere).

    Shape:
        x ``(N, 1)`` -> u ``(N, 1)``.
    """

    def __init__(self, width: int = 20) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(1, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1)
        )

    def forward(self, x: gg.Tensor) -> gg.Tensor:
        return self.body(x)


def residual(net: Net, x: gg.Tensor) -> gg.Tensor:
    """u''(x) + pi^2 sin(pi x) at ``x`` ``(N, 1)``, which requires grad; recorded, so that a loss
    on it can be differentiated w.r.t. the weights."""
    u = net(x)
    (u_x,) = gg.autograd.grad(u, x, gg.ones_like(u), create_graph=True)  # du/dx, with a graph
    (u_xx,) = gg.autograd.grad(u_x, x, gg.ones_like(u_x), create_graph=True)  # its derivative
    return u_xx + math.pi**2 * gg.sin(math.pi * x)


def train(steps: int = 1500, points: int = 32, lr: float = 1e-2, seed: int = 0) -> tuple[Net, list[float]]:
    """Fit ``Net`` to the problem with Adam; returns the net and the loss every step."""
    gg.manual_seed(seed)
    net = Net().double()
    opt = gg.optim.Adam(net.parameters(), lr=lr)
    x = gg.linspace(0, 1, points, dtype=gg.float64).reshape(-1, 1).requires_grad_(True)
    ends = gg.tensor([[0.0], [1.0]], dtype=gg.float64)
    losses = []
    for _ in range(steps):
        loss = residual(net, x).pow(2).mean() + net(ends).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return net, losses


def max_error(net: Net, n: int = 101) -> float:
    """max |u(x) - sin(pi x)| on a grid of ``n`` points."""
    x = np.linspace(0, 1, n)
    with gg.no_grad():
        u = net(gg.tensor(x[:, None])).numpy()[:, 0]
    return float(np.abs(u - np.sin(np.pi * x)).max())


def main(steps: int = 1500) -> None:
    net, losses = train(steps)
    for step in (0, steps // 10, steps // 2, steps - 1):
        print(f"step {step + 1:>5}: loss {losses[step]:.3e}")
    print(
        f"max |u - sin(pi x)| on [0, 1]: {max_error(net):.2e} (the untrained net: {max_error(Net().double()):.2e})"
    )


if __name__ == "__main__":
    main()
