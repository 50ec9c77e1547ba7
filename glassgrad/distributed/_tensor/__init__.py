"""``torch.distributed._tensor``: DTensor's former home, kept by PyTorch for old imports
(``from torch.distributed._tensor import Shard``); the same names as ``glassgrad.distributed.tensor``."""

from __future__ import annotations

from glassgrad.distributed.tensor import (
    DeviceMesh,
    DTensor,
    Partial,
    Placement,
    Replicate,
    Shard,
    distribute_module,
    distribute_tensor,
    init_device_mesh,
)

__all__ = [
    "DTensor", "distribute_tensor", "distribute_module", "Shard", "Replicate", "Partial", "Placement",
    "DeviceMesh", "init_device_mesh",
]  # fmt: skip
