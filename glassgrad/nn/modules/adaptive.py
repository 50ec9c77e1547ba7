"""``torch.nn.modules.adaptive``'s import path."""

from glassgrad.nn.adaptive import AdaptiveLogSoftmaxWithLoss

__all__ = ["AdaptiveLogSoftmaxWithLoss"]
