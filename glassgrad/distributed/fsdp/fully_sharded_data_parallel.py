"""``glassgrad.distributed.fsdp.fully_sharded_data_parallel``: the module path PyTorch defines FSDP1's
class in (``from torch.distributed.fsdp.fully_sharded_data_parallel import FullyShardedDataParallel``,
as TRL and accelerate write it). It is the same class as ``glassgrad.distributed.fsdp``'s, so an
``isinstance`` check answers alike through either path; wrapping a module is refused (``_fsdp1.py``).

>>> import glassgrad.distributed.fsdp as fsdp
>>> FullyShardedDataParallel is fsdp.FullyShardedDataParallel
True
"""

from __future__ import annotations

from enum import Enum, auto

from glassgrad.distributed.fsdp._fsdp1 import FullyShardedDataParallel
from glassgrad.distributed.fsdp.api import (  # noqa: F401  PyTorch's module imports them too
    BackwardPrefetch,
    CPUOffload,
    FullOptimStateDictConfig,
    FullStateDictConfig,
    LocalOptimStateDictConfig,
    LocalStateDictConfig,
    MixedPrecision,
    OptimStateDictConfig,
    ShardedOptimStateDictConfig,
    ShardedStateDictConfig,
    ShardingStrategy,
    StateDictConfig,
    StateDictSettings,
    StateDictType,
)

__all__ = ["FullyShardedDataParallel", "OptimStateKeyType"]


class OptimStateKeyType(Enum):
    """How FSDP1's optimizer state dict keys its parameters (PyTorch's members and values)."""

    PARAM_NAME = auto()
    PARAM_ID = auto()
