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
import importlib
import warnings
from collections.abc import Iterator
from typing import Any

from glassgrad.autograd.grad_mode import is_grad_enabled
from glassgrad.nn import parallel_functions as _pf
from glassgrad.nn.module import Module
from glassgrad.nn.parallel_functions import (
    data_parallel,
    gather,
    parallel_apply,
    replicate,
    scatter,
)
from glassgrad.user_frames import user_stacklevel

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

    # The steps PyTorch's multi-GPU forward runs, kept as methods because code patches them
    # (sync_batchnorm's ``patch_replication_callback`` wraps ``replicate``); the CPU forward above
    # never calls them, and each behaves as the functional API does without an accelerator. They
    # reach it through ``_pf``: an aliased ``import torch.nn.parallel.replicate`` may rebind the
    # package's function names to submodules.
    def replicate(self, module: Module, device_ids: Any) -> list:
        return _pf.replicate(module, device_ids, not is_grad_enabled())

    def scatter(self, inputs: tuple, kwargs: Any, device_ids: Any) -> Any:
        return _pf.scatter_kwargs(inputs, kwargs, device_ids, dim=self.dim)

    def parallel_apply(self, replicas: Any, inputs: Any, kwargs: Any) -> list:
        return _pf.parallel_apply(replicas, inputs, kwargs, self.device_ids[: len(replicas)])

    def gather(self, outputs: Any, output_device: Any) -> Any:
        return _pf.gather(outputs, output_device, dim=self.dim)


class DistributedDataParallel(Module):
    """PyTorch's ``DistributedDataParallel`` in a world of one process (``glassgrad.distributed``):
    there is nothing to synchronise, so it calls ``module`` as ``DataParallel`` does, with the same
    ``module.`` prefix on its ``state_dict`` keys. Like PyTorch's, it needs
    ``init_process_group`` first (``ValueError`` otherwise), a module with a parameter that
    requires grad (``RuntimeError``), and no ``device_ids``/``output_device`` for a CPU module
    (``ValueError``: ``device_ids=[rank]`` is for a GPU module; ``device_ids`` and
    ``output_device`` are then None, as in PyTorch). Its keywords are PyTorch's (another one is a
    ``TypeError``); the deprecated ``broadcast_buffers`` warns ``FutureWarning`` as PyTorch does and
    is a property over ``forward_sync_buffers``.

    Shape:
        whatever ``module`` takes and returns.
    """

    def __init__(
        self,
        module: Module,
        device_ids: Any = None,
        output_device: Any = None,
        dim: int = 0,
        broadcast_buffers: bool | None = None,
        # PyTorch's order: about syncs, buckets, process groups and devices, none of which a world of
        # one process has; accepted (by position too) and without effect
        init_sync: bool = True,
        process_group: Any = None,
        bucket_cap_mb: Any = None,
        find_unused_parameters: bool = False,
        check_reduction: bool = False,
        gradient_as_bucket_view: bool = False,
        static_graph: bool = False,
        delay_all_reduce_named_params: Any = None,
        param_to_hook_all_reduce: Any = None,
        mixed_precision: Any = None,
        device_mesh: Any = None,
        skip_all_reduce_unused_params: bool = False,
        bucket_cap_mb_list: Any = None,
        batched_grad_copy: bool = False,
        forward_sync_buffers: bool | None = None,
    ) -> None:
        from glassgrad import distributed

        distributed.get_world_size()  # PyTorch's ValueError before init_process_group
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected an nn.Module, got {type(module).__name__}")
        _check_devices(module, device_ids, output_device)
        if broadcast_buffers is not None:
            _warn_broadcast_buffers(forward_sync_buffers is not None)
        self.module = module
        self.device_ids = None
        self.output_device = None
        self.dim = int(dim)
        # One process has no buffers to sync; the flags are kept for code that reads them.
        if forward_sync_buffers is None:
            forward_sync_buffers = True if broadcast_buffers is None else broadcast_buffers
        self.forward_sync_buffers = bool(forward_sync_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.gradient_as_bucket_view = bool(gradient_as_bucket_view)
        self.static_graph = bool(static_graph)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True

    @property
    def broadcast_buffers(self) -> bool:
        """PyTorch's deprecated name of ``forward_sync_buffers``."""
        return self.forward_sync_buffers

    @broadcast_buffers.setter
    def broadcast_buffers(self, value: bool) -> None:
        self.forward_sync_buffers = value

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Skip the gradient all-reduce inside the block: with one process there is none."""
        yield


def _warn_broadcast_buffers(both: bool) -> None:
    """The FutureWarning PyTorch gives for the deprecated ``broadcast_buffers`` keyword (its
    opening words, which filters match)."""
    if both:
        text = (
            "Both `broadcast_buffers` and `forward_sync_buffers` were specified. `broadcast_buffers` is "
            "deprecated, and forward_sync_buffers decides: broadcast_buffers's value is ignored."
        )
    else:
        text = (
            "`broadcast_buffers` is deprecated. Use `forward_sync_buffers` instead; note that "
            "forward_sync_buffers=False still syncs the buffers once, when the module is wrapped, where "
            "broadcast_buffers=False does not."
        )
    warnings.warn(text, FutureWarning, stacklevel=user_stacklevel())


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


# PyTorch's submodules (guided-diffusion imports ``nn.parallel.distributed``, DLRM
# ``nn.parallel.parallel_apply``/``replicate``/``scatter_gather``), loaded here so that a later
# ``import torch.nn.parallel.replicate`` cannot rebind the package's function names to the modules;
# the functions are bound again after, as PyTorch's package has them.
for _sub in ("data_parallel", "distributed", "parallel_apply", "replicate", "scatter_gather"):
    importlib.import_module(f"{__name__}.{_sub}")
from glassgrad.nn.parallel_functions import data_parallel, parallel_apply, replicate  # noqa: E402, F811
