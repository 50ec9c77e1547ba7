"""``torch.nn.modules.module``'s import path: the same classes as ``glassgrad.nn``."""

from glassgrad.nn.module import Module, _addindent
from glassgrad.nn.state_dict import _IncompatibleKeys

__all__ = ["Module", "_IncompatibleKeys", "_addindent"]
