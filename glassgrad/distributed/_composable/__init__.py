"""``torch.distributed._composable``: the former home of FSDP2 (``_composable.fsdp``), kept by
PyTorch for old imports (``from torch.distributed._composable.fsdp import fully_shard``)."""

from __future__ import annotations

from glassgrad.distributed._composable import fsdp

__all__ = ["fsdp"]
