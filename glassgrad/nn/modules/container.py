"""``torch.nn.modules.container``'s import path: the same classes as ``glassgrad.nn``."""

from glassgrad.nn.container import Container, ModuleDict, ModuleList, Sequential
from glassgrad.nn.param_containers import ParameterDict, ParameterList

__all__ = ["Container", "ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "Sequential"]
