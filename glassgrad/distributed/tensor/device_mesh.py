"""``torch.distributed.tensor.device_mesh``: where older scripts import the device mesh from."""

from __future__ import annotations

from glassgrad.distributed.device_mesh import DeviceMesh, init_device_mesh

__all__ = ["DeviceMesh", "init_device_mesh"]
