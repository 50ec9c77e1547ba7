"""PyTorch's first FSDP, ``torch.distributed.fsdp.FullyShardedDataParallel``: the class, so that
the ``isinstance(module, FullyShardedDataParallel)`` checks libraries make on every call
(transformers' ``generate`` asks whether a model is FSDP-managed) answer False, as they do in
PyTorch for a model that was never wrapped. Wrapping a module in it is refused, naming FSDP2's
``fully_shard``, which glassgrad has (``_fully_shard.py``).

>>> import glassgrad as gg
>>> isinstance(gg.nn.Linear(2, 2), FullyShardedDataParallel)
False
"""

from __future__ import annotations

from typing import Any

from glassgrad.nn.module import Module

__all__ = ["FullyShardedDataParallel"]


class FullyShardedDataParallel(Module):
    """FSDP1's wrapper module: not implemented (use ``fully_shard``, FSDP2)."""

    def __init__(self, module: Any = None, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            f"FullyShardedDataParallel: FSDP1's wrapper (around {type(module).__name__}) is not implemented "
            "in glassgrad; use FSDP2's torch.distributed.fsdp.fully_shard(module), which is"
        )
