"""``lstm``: one-layer LSTM (input 32, hidden 128) over 50 steps, batch 32, a linear head on the last
step, cross-entropy, Adam.

The sequential part dominates: 50 dependent steps of a (32, 128) @ (128, 512) matmul plus the gate
arithmetic, forward and back, so this measures the per-step cost of the recurrence.
"""

from __future__ import annotations

import numpy as np

from benchmarks.workloads import Workload, register
from benchmarks.workloads.common import library, train_step

__all__ = ["build"]

BATCH, SEQ, IN, HIDDEN, CLASSES = 32, 50, 32, 128, 10
LR = 1e-3


def build(name: str, seed: int):
    """``(step, probe)`` for the lstm workload in library ``name`` ("glassgrad" or "torch")."""
    m = library(name)
    m.lib.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x = m.lib.tensor(rng.standard_normal((SEQ, BATCH, IN)).astype(np.float32))  # (T, N, I)
    y = m.lib.tensor(rng.integers(0, CLASSES, size=BATCH))  # (N,) int64 class indices

    class Model(m.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = m.nn.LSTM(IN, HIDDEN)
            self.head = m.nn.Linear(HIDDEN, CLASSES)

        def forward(self, x):
            out, _ = self.lstm(x)  # (T, N, H)
            return self.head(out[-1])  # the last step's output -> (N, classes)

    model = Model()
    opt = m.optim.Adam(model.parameters(), lr=LR)
    return train_step(model, m.F.cross_entropy, opt, x, y)


register(
    Workload(
        name="lstm",
        group="train",
        description="LSTM 32->128, 50 steps, batch 32, linear head on the last step: forward, cross_entropy, backward, Adam, zero_grad",
        steps=20,
        glassgrad=lambda seed: build("glassgrad", seed),
        torch=lambda seed: build("torch", seed),
    )
)
