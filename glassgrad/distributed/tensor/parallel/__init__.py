"""``glassgrad.distributed.tensor.parallel``: PyTorch's tensor parallelism
(``torch.distributed.tensor.parallel``) for a world of one process: ``parallelize_module`` with the
styles ``ColwiseParallel``, ``RowwiseParallel``, ``SequenceParallel``, ``PrepareModuleInput``,
``PrepareModuleOutput`` and ``PrepareModuleInputOutput``, and ``loss_parallel``. Parameters become
``DTensor`` parameters with PyTorch's placements and keep their values, so a parallelized model
trains exactly as the plain one.

>>> import glassgrad as gg
>>> import glassgrad.distributed as dist
>>> mesh = dist.init_device_mesh("cpu", (1,))
>>> mlp = gg.nn.Sequential(gg.nn.Linear(4, 8), gg.nn.ReLU(), gg.nn.Linear(8, 2))
>>> mlp = parallelize_module(mlp, mesh, {"0": ColwiseParallel(), "2": RowwiseParallel()})
>>> mlp[0].weight.placements, mlp[2].weight.placements, mlp(gg.ones(3, 4)).shape
((Shard(dim=0),), (Shard(dim=1),), glassgrad.Size([3, 2]))
>>> dist.destroy_process_group()
"""

from __future__ import annotations

from glassgrad.distributed.tensor.parallel.api import parallelize_module
from glassgrad.distributed.tensor.parallel.loss import loss_parallel
from glassgrad.distributed.tensor.parallel.style import (
    ColwiseParallel,
    ParallelStyle,
    PrepareModuleInput,
    PrepareModuleInputOutput,
    PrepareModuleOutput,
    RowwiseParallel,
    SequenceParallel,
)

__all__ = [
    "parallelize_module", "ParallelStyle", "ColwiseParallel", "RowwiseParallel", "SequenceParallel",
    "PrepareModuleInput", "PrepareModuleOutput", "PrepareModuleInputOutput", "loss_parallel",
]  # fmt: skip
