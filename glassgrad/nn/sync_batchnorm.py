"""``SyncBatchNorm``: batch norm whose statistics PyTorch all-reduces over the process group.

glassgrad's ``torch.distributed`` is a world of one process, so the synchronised statistics are the
local batch's: ``SyncBatchNorm`` computes what ``BatchNorm{1,2,3}d`` computes, over any
``(N, C, *)`` input. (PyTorch refuses CPU input in training once a process group is initialised; a
world of one on its GPUs gives these numbers.) ``convert_sync_batchnorm`` swaps every batch norm of a
model for one, sharing its parameters and buffers, as PyTorch's does.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.nn.module import Module
from glassgrad.nn.normalization import _BatchNorm

__all__ = ["SyncBatchNorm"]


class SyncBatchNorm(_BatchNorm):
    """Batch norm over ``(N, C, *)`` with statistics over every dim but C (see BatchNorm1d).

    Args:
        num_features, eps, momentum, affine, track_running_stats: as ``BatchNorm1d``.
        process_group: kept for PyTorch's signature; one process means nothing to synchronise.

    Shape:
        input ``(N, C, *)`` (at least 2-D), output the same.

    >>> SyncBatchNorm(3)
    SyncBatchNorm(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """

    _dims = tuple(range(2, 33))
    _layout = "(N, {C}, *)"

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        process_group: Any = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """``module`` with each ``_BatchNorm`` inside replaced by a ``SyncBatchNorm`` holding the same
        Parameters and buffers (``module`` itself when it is one), in its training mode."""
        out = module
        if isinstance(module, _BatchNorm):
            out = cls(
                module.num_features,
                module.eps,
                module.momentum,
                module.affine,
                module.track_running_stats,
                process_group,
            )
            if module.affine:
                with no_grad():
                    out.weight = module.weight
                    out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
            if hasattr(module, "qconfig"):
                out.qconfig = module.qconfig
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        del module
        return out
