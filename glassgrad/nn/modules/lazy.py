"""``torch.nn.modules.lazy``'s import path: ``LazyModuleMixin``."""

from glassgrad.nn.lazy import LazyModuleMixin

__all__ = ["LazyModuleMixin"]
