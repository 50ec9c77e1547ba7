"""``torch.nn.parallel.replicate``, importable as PyTorch's submodule (``parallel_functions.py``).

It also holds ``_broadcast_coalesced_reshape``, the private helper that packages subclassing
``DataParallel`` import by name (torchmeta's ``DataParallel`` copies its ``params`` dict to every
GPU with it): no tensors give ``[]``; tensors would be copied to GPUs, so it raises as PyTorch's CPU
build does (``AssertionError`` from ``Broadcast`` when the copies keep their graph; with
``detach=True`` ``ValueError`` for a CPU device and ``RuntimeError`` for a GPU one).
"""

from __future__ import annotations

from typing import Any

from glassgrad.nn.parallel._functions import Broadcast
from glassgrad.nn.parallel_functions import _refuse_devices, replicate

__all__ = ["replicate"]


def _broadcast_coalesced_reshape(tensors: Any, devices: Any, detach: bool = False) -> list:
    """Copies of ``tensors`` for each device in ``devices``, as a list of lists (refused for any
    tensor: glassgrad has no GPU to copy to)."""
    tensors = list(tensors)
    if not tensors:
        return []
    if detach:
        _refuse_devices("replicate._broadcast_coalesced_reshape", list(devices), "Expected a non cpu device")
    copies = Broadcast.apply(devices, *tensors)
    return [list(copies[i : i + len(tensors)]) for i in range(0, len(copies), len(tensors))]
