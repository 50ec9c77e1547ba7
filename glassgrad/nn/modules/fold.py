"""``torch.nn.modules.fold``'s import path: the same classes as ``glassgrad.nn``."""

from glassgrad.nn.conv import Fold, Unfold

__all__ = ["Fold", "Unfold"]
