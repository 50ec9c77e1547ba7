"""``torch.nn.modules.normalization``'s import path: the same classes as ``glassgrad.nn``."""

from glassgrad.nn.normalization import GroupNorm, LayerNorm, LocalResponseNorm, RMSNorm

__all__ = ["GroupNorm", "LayerNorm", "LocalResponseNorm", "RMSNorm"]
