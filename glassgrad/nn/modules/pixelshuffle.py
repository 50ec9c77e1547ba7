"""``torch.nn.modules.pixelshuffle``'s import path: the same classes as ``glassgrad.nn``."""

from glassgrad.nn.shuffle import PixelShuffle, PixelUnshuffle

__all__ = ["PixelShuffle", "PixelUnshuffle"]
