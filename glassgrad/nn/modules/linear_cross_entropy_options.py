"""``torch.nn.modules.linear_cross_entropy_options``'s import path."""

from glassgrad.nn.linear_cross_entropy_options import LinearCrossEntropyOptions

__all__ = ["LinearCrossEntropyOptions"]
