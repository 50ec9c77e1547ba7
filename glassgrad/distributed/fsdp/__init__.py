"""``glassgrad.distributed.fsdp``: PyTorch's FSDP2 (``torch.distributed.fsdp.fully_shard``) for a
world of one process. ``fully_shard(module)`` makes the parameters ``DTensor`` parameters laid out
``Shard(0)`` (a shard is the whole parameter with one process) and the module an ``FSDPModule``;
it trains exactly as before. Mixed precision and HSDP are refused; see ``_fully_shard.py``.
FSDP1's ``FullyShardedDataParallel`` is a class for ``isinstance`` checks that refuses to wrap.

>>> import glassgrad as gg
>>> import glassgrad.distributed as dist
>>> net = fully_shard(gg.nn.Linear(3, 2))
>>> type(net).__name__, isinstance(net, FSDPModule), net.weight.placements
('FSDPLinear', True, (Shard(dim=0),))
>>> dist.destroy_process_group()
"""

from __future__ import annotations

from glassgrad.distributed.fsdp._fsdp1 import (
    BackwardPrefetch,
    FullyShardedDataParallel,
    ShardingStrategy,
    StateDictType,
)
from glassgrad.distributed.fsdp._fully_shard import (
    CPUOffloadPolicy,
    FSDPModule,
    MixedPrecisionPolicy,
    OffloadPolicy,
    UnshardHandle,
    fully_shard,
)

__all__ = [
    "fully_shard",
    "FSDPModule",
    "MixedPrecisionPolicy",
    "OffloadPolicy",
    "CPUOffloadPolicy",
    "UnshardHandle",
    "FullyShardedDataParallel",
    "ShardingStrategy",
    "BackwardPrefetch",
    "StateDictType",
]
