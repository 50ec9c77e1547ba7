"""What the training workloads share: the library by name, and one training step.

glassgrad and PyTorch have the same names, so a training workload is written once against
``lib`` / ``nn`` / ``F`` / ``optim`` and built twice; only the import differs.
"""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any, Callable

__all__ = ["library", "train_step"]


def library(name: str) -> SimpleNamespace:
    """``lib``, ``nn``, ``F`` and ``optim`` of ``"glassgrad"`` or ``"torch"``."""
    if name not in ("glassgrad", "torch"):
        raise ValueError(f"library: expected 'glassgrad' or 'torch', got {name!r}")
    return SimpleNamespace(
        lib=importlib.import_module(name),
        nn=importlib.import_module(f"{name}.nn"),
        F=importlib.import_module(f"{name}.nn.functional"),
        optim=importlib.import_module(f"{name}.optim"),
    )


def train_step(
    model: Any, loss_fn: Callable[[Any, Any], Any], opt: Any, x: Any, y: Any
) -> tuple[Callable[[], None], Callable[[], float]]:
    """One full training step on a fixed batch: forward, loss, backward, step, zero_grad.

    Returns ``(step, probe)``; ``probe()`` is the loss of the last step.
    """
    last: list[Any] = [None]

    def step() -> None:
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        last[0] = loss

    return step, lambda: float(last[0].item())
