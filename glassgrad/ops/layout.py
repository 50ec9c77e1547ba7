"""``restride``: a recorded copy of a tensor in a memory format (``to``/``contiguous``/``clone``
with ``memory_format=``), and ``channels_last_if``: the channels-last outputs of conv, batch norm
and pooling. The copy is ``Clone`` with a format, so ``grad_fn`` prints ``CloneBackward0``; the
values never change, only their places in memory, so the gradient passes through unchanged.
"""

from __future__ import annotations

from typing import Any

from glassgrad.memory_formats import channels_last, is_channels_last_like, suggest_format
from glassgrad.ops.conversion import Clone
from glassgrad.tensor import Tensor

__all__ = ["restride", "channels_last_if"]


def restride(a: Tensor, fmt: Any) -> Tensor:
    """``a`` copied into memory format ``fmt`` (recorded; the gradient passes through unchanged)."""
    return Clone.apply(a, fmt=fmt)


def channels_last_if(out: Tensor, *inputs: Any) -> Tensor:
    """``out``, laid out channels-last when it is 4-D and one of ``inputs`` (tensors or None) is
    channels-last, as PyTorch's conv, batch norm and pooling answer on the CPU; else ``out``."""
    if out._data.ndim != 4 or suggest_format(out._data) is channels_last:
        return out
    for t in inputs:
        if t is not None and is_channels_last_like(t._data):
            return restride(out, channels_last)
    return out
