"""``glassgrad.distributed.tensor``: PyTorch's ``torch.distributed.tensor`` (DTensor) for a world of
one process. ``DTensor`` is a ``Tensor`` holding the whole tensor with its ``DeviceMesh`` and
placements (``Shard``, ``Replicate``, ``Partial``), which in one process change no value; see
``_api.py`` for what that keeps working and where it differs from PyTorch. Tensor parallelism
(``parallelize_module`` and its styles) is in ``glassgrad.distributed.tensor.parallel``.

>>> import glassgrad as gg
>>> import glassgrad.distributed as dist
>>> from glassgrad.distributed.tensor import distribute_tensor, Shard
>>> mesh = dist.init_device_mesh("cpu", (1,))
>>> d = distribute_tensor(gg.ones(4, 2), mesh, [Shard(0)])
>>> d.placements, d.to_local().shape, d.full_tensor().sum().item()
((Shard(dim=0),), glassgrad.Size([4, 2]), 8.0)
>>> dist.destroy_process_group()
"""

from __future__ import annotations

from glassgrad.distributed.device_mesh import DeviceMesh, init_device_mesh
from glassgrad.distributed.tensor._api import DTensor, DTensorParameter, distribute_module, distribute_tensor
from glassgrad.distributed.tensor.factories import empty, full, ones, rand, randn, zeros
from glassgrad.distributed.tensor.placement_types import Partial, Placement, Replicate, Shard

__all__ = [
    "DTensor", "DTensorParameter", "distribute_tensor", "distribute_module", "Shard", "Replicate", "Partial",
    "Placement", "DeviceMesh", "init_device_mesh", "ones", "empty", "full", "rand", "randn", "zeros",
]  # fmt: skip

DTensor.__module__ = DTensorParameter.__module__ = __name__  # printed and pickled as PyTorch's path
