"""``torch.nn.modules.linear``'s import path: the same classes as ``glassgrad.nn``."""

from glassgrad.nn.lazy import LazyLinear
from glassgrad.nn.linear import Bilinear, Identity, Linear

__all__ = ["Bilinear", "Identity", "LazyLinear", "Linear"]
