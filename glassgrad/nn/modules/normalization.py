"""``torch.nn.modules.normalization``'s import path: the same classes as ``glassgrad.nn``."""

from glassgrad.nn.cross_map_lrn import CrossMapLRN2d
from glassgrad.nn.normalization import GroupNorm, LayerNorm, LocalResponseNorm, RMSNorm

__all__ = ["CrossMapLRN2d", "GroupNorm", "LayerNorm", "LocalResponseNorm", "RMSNorm"]
