"""A small ResNet on scikit-learn's 8x8 digits, built from ``glassgrad.nn.blocks.ResidualBlock``.

stem (conv 3x3 -> batch norm -> ReLU, 16 channels) -> ResidualBlock(16, 16) -> ResidualBlock(16, 32,
stride 2) -> ResidualBlock(32, 64, stride 2) -> global average pool -> linear 64 -> 10. The two strided
blocks use the 1x1-projection shortcut, the first the identity. Trained with Adam on the fixed 80/20
split of ``digits_cnn.py``; runs in well under a minute on a laptop CPU:

    python examples/digits_resnet.py
"""

from __future__ import annotations

import os
import sys

from glassgrad import nn
from glassgrad.explain import summary
from glassgrad.nn.blocks import ResidualBlock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the sibling example, run from anywhere
from digits_cnn import train

__all__ = ["small_resnet", "main"]


def small_resnet(width: int = 16, num_classes: int = 10) -> nn.Sequential:
    """Three residual stages (width, 2 width, 4 width channels) on 8x8 -> 8x8 -> 4x4 -> 2x2 maps.

    Shape:
        input ``(N, 1, 8, 8)``, output ``(N, num_classes)`` logits.
    """
    return nn.Sequential(
        nn.Conv2d(1, width, 3, padding=1, bias=False),  # (N, 1, 8, 8) -> (N, w, 8, 8)
        nn.BatchNorm2d(width),
        nn.ReLU(),
        ResidualBlock(width, width),  # identity shortcut
        ResidualBlock(width, 2 * width, stride=2),  # -> (N, 2w, 4, 4), projection shortcut
        ResidualBlock(2 * width, 4 * width, stride=2),  # -> (N, 4w, 2, 2)
        nn.AdaptiveAvgPool2d(1),  # -> (N, 4w, 1, 1)
        nn.Flatten(),  # -> (N, 4w)
        nn.Linear(4 * width, num_classes),
    )


def main() -> None:
    model = small_resnet()
    summary(model, (1, 1, 8, 8))
    _, acc, seconds = train(model, epochs=10, lr=3e-3, verbose=True)
    print(f"test accuracy {acc:.4f} in {seconds:.1f} s")


if __name__ == "__main__":
    main()
