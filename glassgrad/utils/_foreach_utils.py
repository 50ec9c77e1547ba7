"""``torch.utils._foreach_utils``: what code with a ``foreach`` path asks before calling the
``torch._foreach_*`` ops (``foreach_ops.py``): which devices have them (the CPU among them, as in
PyTorch, whose CPU runs them one tensor at a time) and the grouping of tensor lists by device and dtype.

Example:
    >>> import glassgrad as gg
    >>> from glassgrad.utils._foreach_utils import _has_foreach_support
    >>> _has_foreach_support([gg.ones(2), None], gg.device("cpu"))
    True
"""

from __future__ import annotations

from typing import Any

from glassgrad.optim.optimizer_internals import (
    _get_foreach_kernels_supported_devices,
    _get_fused_kernels_supported_devices,
    _group_tensors_by_device_and_dtype,
)
from glassgrad.tensor import Tensor

__all__ = [
    "_device_has_foreach_support", "_get_foreach_kernels_supported_devices", "_get_fused_kernels_supported_devices",
    "_group_tensors_by_device_and_dtype", "_has_foreach_support",
]  # fmt: skip

_foreach_supported_types = [Tensor]


def _device_has_foreach_support(device: Any) -> bool:
    """Whether the ``_foreach_*`` ops run on ``device``: the CPU's and the accelerators' do."""
    return getattr(device, "type", str(device)) in [*_get_foreach_kernels_supported_devices(), "cpu"]


def _has_foreach_support(tensors: list, device: Any) -> bool:
    """Whether ``tensors`` (None entries allowed) can go through the ``_foreach_*`` ops on ``device``."""
    return _device_has_foreach_support(device) and all(
        t is None or type(t) in _foreach_supported_types for t in tensors
    )
