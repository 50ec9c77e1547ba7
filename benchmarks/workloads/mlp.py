"""``mlp``: 784-512-256-10 ReLU MLP, a batch of 128 random "images", cross-entropy, Adam.

Here the matmuls dominate, so this measures how close NumPy's BLAS gets to PyTorch's kernels.
"""

from __future__ import annotations

import numpy as np

from benchmarks.workloads import Workload, register
from benchmarks.workloads.common import library, train_step

__all__ = ["build"]

BATCH, IN, HIDDEN1, HIDDEN2, CLASSES = 128, 784, 512, 256, 10
LR = 1e-3


def build(name: str, seed: int):
    """``(step, probe)`` for the mlp workload in library ``name`` ("glassgrad" or "torch")."""
    m = library(name)
    m.lib.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x = m.lib.tensor(rng.standard_normal((BATCH, IN)).astype(np.float32))  # (N, 784)
    y = m.lib.tensor(rng.integers(0, CLASSES, size=BATCH))  # (N,) int64 class indices
    nn = m.nn
    model = nn.Sequential(
        nn.Linear(IN, HIDDEN1), nn.ReLU(), nn.Linear(HIDDEN1, HIDDEN2), nn.ReLU(), nn.Linear(HIDDEN2, CLASSES)
    )
    opt = m.optim.Adam(model.parameters(), lr=LR)
    return train_step(model, m.F.cross_entropy, opt, x, y)


register(
    Workload(
        name="mlp",
        group="train",
        description="MLP 784-512-256-10 (ReLU), batch 128: forward, cross_entropy, backward, Adam, zero_grad",
        steps=50,
        glassgrad=lambda seed: build("glassgrad", seed),
        torch=lambda seed: build("torch", seed),
    )
)
