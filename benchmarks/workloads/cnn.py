"""``cnn``: LeNet-5 on a batch of 64 random 28x28 "images", cross-entropy, SGD with momentum.

Two convolutions (im2col + one matmul each, col2im in backward), two 2x2 max-pools and three
linear layers: this measures the strided-window convolution and pooling against PyTorch's kernels.
"""

from __future__ import annotations

import numpy as np

from benchmarks.workloads import Workload, register
from benchmarks.workloads.common import library, train_step

__all__ = ["build", "lenet5"]

BATCH, SIDE, CLASSES = 64, 28, 10
LR, MOMENTUM = 0.01, 0.9


def lenet5(nn):
    """LeNet-5 for 28x28 inputs (padding 2 on the first convolution, as for MNIST), ReLU and max-pool."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),  # (N, 1, 28, 28) -> (N, 6, 28, 28)
        nn.ReLU(),
        nn.MaxPool2d(2),  # -> (N, 6, 14, 14)
        nn.Conv2d(6, 16, 5),  # -> (N, 16, 10, 10)
        nn.ReLU(),
        nn.MaxPool2d(2),  # -> (N, 16, 5, 5)
        nn.Flatten(),  # -> (N, 400)
        nn.Linear(16 * 5 * 5, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, CLASSES),
    )


def build(name: str, seed: int):
    """``(step, probe)`` for the cnn workload in library ``name`` ("glassgrad" or "torch")."""
    m = library(name)
    m.lib.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x = m.lib.tensor(rng.standard_normal((BATCH, 1, SIDE, SIDE)).astype(np.float32))  # (N, 1, 28, 28)
    y = m.lib.tensor(rng.integers(0, CLASSES, size=BATCH))  # (N,) int64 class indices
    model = lenet5(m.nn)
    opt = m.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    return train_step(model, m.F.cross_entropy, opt, x, y)


register(
    Workload(
        name="cnn",
        group="train",
        description="LeNet-5 on (64, 1, 28, 28): forward, cross_entropy, backward, SGD momentum, zero_grad",
        steps=50,
        glassgrad=lambda seed: build("glassgrad", seed),
        torch=lambda seed: build("torch", seed),
    )
)
