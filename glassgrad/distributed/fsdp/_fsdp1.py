"""PyTorch's first FSDP, ``torch.distributed.fsdp.FullyShardedDataParallel``: the class, so that
the ``isinstance(module, FullyShardedDataParallel)`` checks libraries make on every call
(transformers' ``generate`` asks whether a model is FSDP-managed) answer False, as they do in
PyTorch for a model that was never wrapped. Wrapping a module in it is refused, naming FSDP2's
``fully_shard``, which glassgrad has (``_fully_shard.py``). FSDP1's configuration enums
(``ShardingStrategy``, ``BackwardPrefetch``, ``StateDictType``) are here with PyTorch's members and
values, for code that imports them (torchtune's ``training/_distributed.py``).

>>> import glassgrad as gg
>>> isinstance(gg.nn.Linear(2, 2), FullyShardedDataParallel)
False
"""

from __future__ import annotations

from enum import Enum, auto
from typing import Any

from glassgrad.nn.module import Module

__all__ = ["BackwardPrefetch", "FullyShardedDataParallel", "ShardingStrategy", "StateDictType"]


class ShardingStrategy(Enum):
    """FSDP1's sharding strategies (PyTorch's members and values)."""

    FULL_SHARD = auto()
    SHARD_GRAD_OP = auto()
    NO_SHARD = auto()
    HYBRID_SHARD = auto()
    _HYBRID_SHARD_ZERO2 = auto()


class BackwardPrefetch(Enum):
    """FSDP1's backward prefetch modes (PyTorch's members and values)."""

    BACKWARD_PRE = auto()
    BACKWARD_POST = auto()


class StateDictType(Enum):
    """FSDP1's state-dict types (PyTorch's members and values)."""

    FULL_STATE_DICT = auto()
    LOCAL_STATE_DICT = auto()
    SHARDED_STATE_DICT = auto()


class FullyShardedDataParallel(Module):
    """FSDP1's wrapper module: not implemented (use ``fully_shard``, FSDP2)."""

    def __init__(self, module: Any = None, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            f"FullyShardedDataParallel: FSDP1's wrapper (around {type(module).__name__}) is not implemented "
            "in glassgrad; use FSDP2's torch.distributed.fsdp.fully_shard(module), which is"
        )
