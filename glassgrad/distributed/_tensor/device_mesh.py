"""``torch.distributed._tensor.device_mesh`` (``tensor_parallel_example.py`` imports from here)."""

from __future__ import annotations

from glassgrad.distributed.device_mesh import DeviceMesh, init_device_mesh

__all__ = ["DeviceMesh", "init_device_mesh"]
