"""``torch.nn.modules.flatten``'s import path: the same classes as ``glassgrad.nn``."""

from glassgrad.nn.linear import Flatten, Unflatten

__all__ = ["Flatten", "Unflatten"]
