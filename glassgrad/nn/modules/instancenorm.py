"""``torch.nn.modules.instancenorm``'s import path: the same classes as ``glassgrad.nn``."""

from glassgrad.nn.instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, _InstanceNorm

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "_InstanceNorm"]
