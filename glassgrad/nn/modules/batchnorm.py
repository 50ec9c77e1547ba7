"""``torch.nn.modules.batchnorm``'s import path: the same classes as ``glassgrad.nn``."""

from glassgrad.nn.layers3d import BatchNorm3d
from glassgrad.nn.lazy import LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d
from glassgrad.nn.normalization import BatchNorm1d, BatchNorm2d, _BatchNorm, _NormBase
from glassgrad.nn.sync_batchnorm import SyncBatchNorm

__all__ = [
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
    "SyncBatchNorm", "_BatchNorm", "_NormBase",
]  # fmt: skip
