"""glassgrad demo: the chain rule in a table, then a small network learning XOR.

Run it with ``make demo`` (or ``.venv/bin/python examples/demo.py``). Everything printed is computed
by glassgrad's engine: gradients are read from ``.grad`` and from hooks, never typed in.
"""

from __future__ import annotations

import time

import glassgrad as gg
from glassgrad import nn, optim
from glassgrad.nn import functional as F

__all__ = ["gradient_table", "train_xor", "main"]


def gradient_table() -> list[tuple[str, float, float, float, float]]:
    """f = (x + y) * z at (x, y, z) = (-2, 5, -4), one row per node of the graph.

    For each node n with consumer c (the op its value flows into): local = dc/dn (the consumer's
    own backward, asked with ``autograd.grad``), upstream = df/dc (seen by a hook as backward
    passes), gradient = df/dn (``.grad`` after ``f.backward()``). The chain rule says
    gradient = local * upstream; the table lets you check it.

    Returns:
        Rows ``(name, value, local, upstream, gradient)``.
    """
    x = gg.tensor(-2.0, requires_grad=True)
    y = gg.tensor(5.0, requires_grad=True)
    z = gg.tensor(-4.0, requires_grad=True)
    q = x + y
    f = q * z

    # Local gradients: each op's derivative alone, d(consumer)/d(input), from the op's backward.
    dq_dx, dq_dy = gg.autograd.grad(q, [x, y], retain_graph=True)
    df_dq, df_dz = gg.autograd.grad(f, [q, z], retain_graph=True)

    # Upstream gradients: what arrives at each non-leaf node during backward, caught by hooks.
    seen: dict[str, float] = {}
    f.register_hook(lambda g: seen.__setitem__("f", g.item()))
    q.register_hook(lambda g: seen.__setitem__("q", g.item()))
    q.retain_grad()
    f.retain_grad()
    f.backward()

    return [
        # f is the output: its own local gradient is df/df = 1, its upstream is backward's seed.
        ("f = q * z", f.item(), 1.0, seen["f"], f.grad.item()),
        ("q = x + y", q.item(), df_dq.item(), seen["f"], q.grad.item()),
        ("z", z.item(), df_dz.item(), seen["f"], z.grad.item()),
        ("x", x.item(), dq_dx.item(), seen["q"], x.grad.item()),
        ("y", y.item(), dq_dy.item(), seen["q"], y.grad.item()),
    ]


def print_gradient_table() -> None:
    print("f = (x + y) * z at x = -2, y = 5, z = -4")
    print(f"{'node':<10} {'value':>7} {'local':>7} {'upstream':>9} {'gradient':>9}   local * upstream")
    for name, value, local, upstream, grad in gradient_table():
        print(
            f"{name:<10} {value:>7.1f} {local:>7.1f} {upstream:>9.1f} {grad:>9.1f}   {local * upstream:.1f}"
        )
    print("(local = d consumer / d node, upstream = df / d consumer, gradient = df / d node)\n")


def train_xor(steps: int = 2000, lr: float = 1.0, log_every: int = 400, seed: int = 0):
    """Train an MLP 2-8-1 (tanh hidden, sigmoid output) on XOR with full-batch SGD and MSE.

    Shape:
        inputs ``(4, 2)``, targets and predictions ``(4, 1)``.

    Returns:
        ``(model, inputs, losses)`` with the loss after every ``log_every`` steps.
    """
    gg.manual_seed(seed)
    inputs = gg.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])  # (4, 2)
    targets = gg.tensor([[0.0], [1.0], [1.0], [0.0]])  # (4, 1)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid())
    opt = optim.SGD(model.parameters(), lr=lr)
    losses = []
    for step in range(1, steps + 1):
        loss = F.mse_loss(model(inputs), targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % log_every == 0 or step == 1:
            losses.append((step, loss.item()))
            print(f"step {step:>5}  loss {loss.item():.5f}")
    return model, inputs, losses


def main() -> None:
    print_gradient_table()

    print("XOR with an MLP 2-8-1 (glassgrad.nn + glassgrad.optim.SGD, MSE loss)")
    start = time.perf_counter()
    model, inputs, _ = train_xor()
    elapsed = time.perf_counter() - start
    with gg.no_grad():
        preds = model(inputs)
    for (a, b), p in zip(inputs.tolist(), preds.tolist()):
        print(f"  {int(a)} xor {int(b)} -> {p[0]:.3f}  ({round(p[0])})")
    print(f"trained 2000 steps in {elapsed:.2f} s ({elapsed / 2000 * 1e6:.0f} us/step)")


if __name__ == "__main__":
    main()
