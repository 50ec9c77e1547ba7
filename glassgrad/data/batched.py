"""A batch of samples held as columns, and the fancy-index that makes one: what a map-style
dataset's ``__getitems__`` may answer (``TensorDataset``, ``Subset`` of one, ``MNIST``) so that
``default_collate`` hands the batched tensors on without stacking samples one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from glassgrad.tensor import Tensor

__all__ = ["BatchedSamples", "int_positions"]


def _take(t: Tensor, index: Any) -> Tensor:
    """``t[index]``; outside the graph, straight on the array (no op recorded, nothing to record)."""
    if t.requires_grad:
        return t[index]
    arr = t._data[index]
    if isinstance(arr, np.generic):  # an int index into a 1-D tensor: a 0-d view, as PyTorch's t[i]
        arr = t._data[index, ...]
    return Tensor(arr, _wrap=True)


def int_positions(indices: Any) -> np.ndarray | None:
    """A batch's indices as one ``(B,)`` int64 array for a fancy-index, or ``None`` unless they are
    all integers: floats, bools and an empty batch go sample by sample, where ``ds[i]`` refuses
    them as PyTorch's loader does (an int64 cast would take 1.7 as 1 and True as 1, silently)."""
    try:
        idx = np.asarray(indices)
    except (ValueError, TypeError):  # ragged (tensors of several shapes): not a list of positions
        return None
    if idx.ndim != 1 or idx.dtype.kind not in "iu":
        return None
    return idx.astype(np.int64, copy=False)


class BatchedSamples(Sequence):
    """A batch of samples from ``__getitems__``, held as columns (one batched tensor per field).

    It is a sequence of per-sample tuples, so any ``collate_fn`` may loop over it; ``default_collate``
    recognises it and returns the columns without re-stacking (the fast path).

    Args:
        columns: one tensor per field, each with the batch as its first dimension.
    """

    __slots__ = ("columns",)

    def __init__(self, columns: Sequence[Tensor]) -> None:
        self.columns = tuple(columns)

    def __len__(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return BatchedSamples([_take(c, i) for c in self.columns])
        return tuple(_take(c, i) for c in self.columns)

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(c.shape)) for c in self.columns)
        return f"BatchedSamples({len(self)} samples; columns {shapes})"
