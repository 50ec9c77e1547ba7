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
import sys
from collections.abc import Iterator
from typing import Any

from glassgrad.nn.module import Module
from glassgrad.nn.parallel_functions import data_parallel, gather, parallel_apply, replicate, scatter

__all__ = [
    "DataParallel", "DistributedDataParallel",
    # the functional API: names with PyTorch's CPU-build behaviour (parallel_functions.py)
    "data_parallel", "gather", "parallel_apply", "replicate", "scatter",
]  # fmt: skip


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
    ``init_process_group`` first (``ValueError`` otherwise), a module with a parameter that
    requires grad (``RuntimeError``), and no ``device_ids``/``output_device`` for a CPU module
    (``ValueError``: ``device_ids=[rank]`` is for a GPU module; ``device_ids`` and
    ``output_device`` are then None, as in PyTorch).

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
        _check_devices(module, device_ids, output_device)
        self.module = module
        self.device_ids = None
        self.output_device = None
        self.dim = int(dim)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Skip the gradient all-reduce inside the block: with one process there is none."""
        yield


def _check_devices(module: Module, device_ids: Any, output_device: Any) -> None:
    """PyTorch's checks of a CPU module's DDP arguments (every glassgrad module is on the CPU)."""
    params = list(module.parameters())
    if not any(p.requires_grad for p in params):
        raise RuntimeError(
            "DistributedDataParallel is not needed when a module doesn't have any parameter that requires a gradient."
        )
    if device_ids is not None and not isinstance(device_ids, list | tuple):
        raise TypeError(
            f"DistributedDataParallel: expected device_ids to be None or a list, got {type(device_ids).__name__}"
        )
    if device_ids is not None and len(device_ids) > 1:
        raise ValueError("DistributedDataParallel: device_ids can only be None or contain a single element.")
    if device_ids or output_device:
        raise ValueError(
            "DistributedDataParallel device_ids and output_device arguments only work with single-device/"
            f"multiple-device GPU modules or CPU modules, but got device_ids {device_ids!r}, output_device "
            f"{output_device}, and module parameters {set(p.device for p in params)} (a CPU module takes "
            "device_ids=None; glassgrad's modules are all on the CPU)"
        )


# torch.nn.parallel is a package whose ``distributed`` submodule defines DistributedDataParallel;
# programs import it by that path (guided-diffusion's train_util), so that name is this module too.
distributed = sys.modules[__name__]
sys.modules[__name__ + ".distributed"] = distributed
