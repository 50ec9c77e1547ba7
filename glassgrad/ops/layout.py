"""``restride``: a recorded copy of a tensor in a memory format (``to``/``contiguous``/``clone``
with ``memory_format=``), and ``channels_last_if``: the channels-last outputs of conv, batch norm
and pooling. The copy is ``Clone`` with a format, so ``grad_fn`` prints ``CloneBackward0``; the
values never change, only their places in memory, so the gradient passes through unchanged.
"""

from __future__ import annotations

from typing import Any

from glassgrad.memory_formats import is_channels_last_like, suggest_format
from glassgrad.ops.conversion import Clone
from glassgrad.tensor import Tensor

__all__ = ["restride", "channels_last_if"]


def restride(a: Tensor, fmt: Any) -> Tensor:
    """``a`` copied into memory format ``fmt`` (recorded; the gradient passes through unchanged)."""
    return Clone.apply(a, fmt=fmt)


def channels_last_if(out: Tensor, *inputs: Any) -> Tensor:
    """``out``, laid out channels-last (4-D) or channels-last-3d (5-D) when one of ``inputs``
    (tensors or None) of its rank is, as PyTorch's conv, batch norm, pooling, resizing and padding
    answer on the CPU; else ``out``."""
    nd = out._data.ndim
    if nd not in (4, 5):
        return out
    for t in inputs:
        if t is not None and t._data.ndim == nd and is_channels_last_like(t._data):
            fmt = suggest_format(t._data)
            return out if suggest_format(out._data) is fmt else restride(out, fmt)
    return out
