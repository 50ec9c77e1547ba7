"""``glassgrad.distributed.fsdp.api``: FSDP1's configuration types at PyTorch's module path
(MMEngine's FSDP wrapper imports them at import time). The enums are ``_fsdp1.py``'s; the config
classes are dataclasses with PyTorch 2.13's fields and defaults. They configure nothing here, as
FSDP1's wrapper itself is refused (``_fsdp1.py``).

>>> FullStateDictConfig(rank0_only=True)
FullStateDictConfig(offload_to_cpu=False, rank0_only=True)
>>> FullOptimStateDictConfig().offload_to_cpu
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from glassgrad.distributed.fsdp._fsdp1 import BackwardPrefetch, ShardingStrategy, StateDictType
from glassgrad.nn.normalization import _BatchNorm

__all__ = [
    "ShardingStrategy",
    "BackwardPrefetch",
    "MixedPrecision",
    "CPUOffload",
    "StateDictType",
    "StateDictConfig",
    "FullStateDictConfig",
    "LocalStateDictConfig",
    "ShardedStateDictConfig",
    "OptimStateDictConfig",
    "FullOptimStateDictConfig",
    "LocalOptimStateDictConfig",
    "ShardedOptimStateDictConfig",
    "StateDictSettings",
]


@dataclass
class MixedPrecision:
    """FSDP1's mixed-precision settings (PyTorch's fields and defaults)."""

    param_dtype: Any = None
    reduce_dtype: Any = None
    buffer_dtype: Any = None
    keep_low_precision_grads: bool = False
    cast_forward_inputs: bool = False
    cast_root_forward_inputs: bool = True
    _module_classes_to_ignore: Any = field(default=(_BatchNorm,))


@dataclass
class CPUOffload:
    """FSDP1's CPU offload setting."""

    offload_params: bool = False


@dataclass
class StateDictConfig:
    """Base of FSDP1's model state-dict configurations."""

    offload_to_cpu: bool = False


@dataclass
class FullStateDictConfig(StateDictConfig):
    rank0_only: bool = False


@dataclass
class LocalStateDictConfig(StateDictConfig):
    pass


@dataclass
class ShardedStateDictConfig(StateDictConfig):
    _use_dtensor: bool = False


@dataclass
class OptimStateDictConfig:
    """Base of FSDP1's optimizer state-dict configurations."""

    offload_to_cpu: bool = True


@dataclass
class FullOptimStateDictConfig(OptimStateDictConfig):
    rank0_only: bool = False


@dataclass
class LocalOptimStateDictConfig(OptimStateDictConfig):
    offload_to_cpu: bool = False


@dataclass
class ShardedOptimStateDictConfig(OptimStateDictConfig):
    _use_dtensor: bool = False


@dataclass
class StateDictSettings:
    state_dict_type: StateDictType
    state_dict_config: StateDictConfig
    optim_state_dict_config: OptimStateDictConfig
