"""``xor``: an MLP 2-8-1 (tanh, sigmoid) learns XOR with full-batch SGD and MSE; one step per row.

Architecture reference: 2000 steps, per step forward, loss, backward, optimizer step, zero_grad.
The four-example batch makes this a measure of per-op Python overhead, not of arithmetic.
"""

from __future__ import annotations

import numpy as np

from benchmarks.workloads import Workload, register
from benchmarks.workloads.common import library, train_step

__all__ = ["XOR_X", "XOR_Y", "build"]

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)  # (4, 2)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float32)  # (4, 1)
LR = 1.0


def build(name: str, seed: int):
    """``(step, probe)`` for the xor workload in library ``name`` ("glassgrad" or "torch")."""
    m = library(name)
    m.lib.manual_seed(seed)
    model = m.nn.Sequential(m.nn.Linear(2, 8), m.nn.Tanh(), m.nn.Linear(8, 1), m.nn.Sigmoid())
    opt = m.optim.SGD(model.parameters(), lr=LR)
    x, y = m.lib.tensor(XOR_X), m.lib.tensor(XOR_Y)
    return train_step(model, m.F.mse_loss, opt, x, y)


register(
    Workload(
        name="xor",
        group="train",
        description="MLP 2-8-1 on the 4 XOR points: forward, MSE, backward, SGD step, zero_grad",
        steps=2000,
        glassgrad=lambda seed: build("glassgrad", seed),
        torch=lambda seed: build("torch", seed),
    )
)
