"""A LeNet-style convolutional network on scikit-learn's 8x8 digits.

conv 3x3 (16) -> ReLU -> max-pool 2 -> conv 3x3 (32) -> ReLU -> max-pool 2 -> linear 128 -> 64 -> 10,
trained with Adam on a fixed 80/20 split. Runs in a few seconds on a laptop CPU:

    python examples/digits_cnn.py

The layer-by-layer shapes, parameters and multiply-adds are printed first (``glassgrad.explain.summary``).
"""

from __future__ import annotations

import time

import glassgrad as gg
from glassgrad import nn, optim
from glassgrad.data import DataLoader, random_split
from glassgrad.datasets import digits
from glassgrad.explain import summary
from glassgrad.train import accuracy

__all__ = ["lenet", "load_split", "train", "main"]


def lenet() -> nn.Sequential:
    """LeNet's pattern (convolution, non-linearity, pooling, twice; then fully connected) sized for 8x8.

    Shape:
        input ``(N, 1, 8, 8)``, output ``(N, 10)`` logits.
    """
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),  # (N, 1, 8, 8) -> (N, 16, 8, 8)
        nn.ReLU(),
        nn.MaxPool2d(2),  # -> (N, 16, 4, 4)
        nn.Conv2d(16, 32, 3, padding=1),  # -> (N, 32, 4, 4)
        nn.ReLU(),
        nn.MaxPool2d(2),  # -> (N, 32, 2, 2)
        nn.Flatten(),  # -> (N, 128)
        nn.Linear(128, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


def load_split(seed: int = 0):
    """The digits as ``(N, 1, 8, 8)`` images, split 80/20 (1,438 / 359) by a fixed generator."""
    data = digits(as_dataset=True, flatten=False)
    return random_split(data, [0.8, 0.2], generator=gg.Generator(seed))


def evaluate(model: nn.Module, dataset) -> float:
    """Test accuracy of ``model`` on ``dataset`` in eval mode."""
    model.eval()
    with gg.no_grad():
        x, y = next(iter(DataLoader(dataset, batch_size=len(dataset))))
        return accuracy(model(x), y)


def train(
    model: nn.Module | None = None, epochs: int = 15, lr: float = 1e-2, seed: int = 0, verbose: bool = False
):
    """Train ``model`` (default: ``lenet()``) on the digits; returns ``(model, test_accuracy, seconds)``."""
    gg.manual_seed(seed)
    model = model if model is not None else lenet()
    train_set, test_set = load_split()
    loader = DataLoader(train_set, batch_size=64, shuffle=True, generator=gg.Generator(seed))
    opt = optim.Adam(model.parameters(), lr=lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for x, y in loader:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            total += loss.item() * len(y)
        sched.step()
        if verbose:
            print(
                f"epoch {epoch + 1:2d}  loss {total / len(train_set):.4f}  test acc {evaluate(model, test_set):.4f}"
            )
    return model, evaluate(model, test_set), time.perf_counter() - start


def main() -> None:
    model = lenet()
    summary(model, (1, 1, 8, 8))
    _, acc, seconds = train(model, verbose=True)
    print(f"test accuracy {acc:.4f} in {seconds:.1f} s")


if __name__ == "__main__":
    main()
