"""``nn.DataParallel`` (``nn.parallel.DataParallel``) on a machine without accelerators, and
``DistributedDataParallel`` over ``glassgrad.distributed``'s world of one process.

PyTorch's ``DataParallel`` splits each batch across GPUs; on a machine with none it keeps the
module and calls it directly. glassgrad runs on the CPU only, so this is that path: the wrapper
forwards every call to ``module`` unchanged, and its ``state_dict`` keys carry the ``module.``
prefix, as PyTorch's do, so checkpoints move both ways.

>>> import glassgrad as gg
>>> net = gg.nn.DataParallel(gg.nn.Linear(2, 3))
>>> list(net.state_dict())
['module.weight', 'module.bias']
>>> net(gg.zeros(4, 2)).shape
glassgrad.Size([4, 3])
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from glassgrad.nn.module import Module

__all__ = ["DataParallel", "DistributedDataParallel"]


class DataParallel(Module):
    """Wrap ``module``; calling the wrapper calls ``module`` with the same arguments.

    Args:
        module: the module to run.
        device_ids, output_device: accepted for PyTorch code; with no accelerator PyTorch ignores
            them and so does glassgrad (``device_ids`` is then ``[]``).
        dim: the batch dimension PyTorch would scatter along (kept, unused on one device).

    Shape:
        whatever ``module`` takes and returns.
    """

    def __init__(
        self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0
    ) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: expected an nn.Module, got {type(module).__name__}")
        self.module = module
        self.device_ids: list = []
        self.output_device = None
        self.dim = int(dim)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)


class DistributedDataParallel(Module):
    """PyTorch's ``DistributedDataParallel`` in a world of one process (``glassgrad.distributed``):
    there is nothing to synchronise, so it calls ``module`` as ``DataParallel`` does, with the same
    ``module.`` prefix on its ``state_dict`` keys. Like PyTorch's, it needs
    ``init_process_group`` first (``ValueError`` otherwise).

    Shape:
        whatever ``module`` takes and returns.
    """

    def __init__(
        self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0, **kwargs: Any
    ) -> None:
        from glassgrad import distributed

        distributed.get_world_size()  # PyTorch's ValueError before init_process_group
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected an nn.Module, got {type(module).__name__}")
        self.module = module
        self.device_ids = None if device_ids is None else list(device_ids)
        self.output_device = output_device
        self.dim = int(dim)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Skip the gradient all-reduce inside the block: with one process there is none."""
        yield
