"""``meshgrid``: coordinate grids from 1-D tensors, as expanded views (so each grid's gradient
sums back into its tensor through ``expand``); re-exported by ``composite.py``."""

from __future__ import annotations

import warnings
from typing import Any

from glassgrad.errors import DTypeError, ShapeError
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["meshgrid"]

_meshgrid_warned = [False]


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors (``indexing="ij"`` as PyTorch's default, or ``"xy"``).

    Without ``indexing`` it uses "ij" and warns once per process, as PyTorch does."""
    if indexing is None:
        if not _meshgrid_warned[0]:
            _meshgrid_warned[0] = True
            warnings.warn(
                "torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        indexing = "ij"
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: expected indexing 'ij' or 'xy', got {indexing!r}")
    tensors = _checked(tensors)
    n = len(tensors)
    shape = [t.shape[0] for t in tensors]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, t in enumerate(tensors):
        axis = i
        if indexing == "xy" and n >= 2 and i < 2:
            axis = 1 - i
        view = [1] * n
        view[axis] = t.shape[0]
        out.append(t.reshape(*view).expand(*shape))  # (len,) -> (1, .., len, .., 1) -> grid
    return tuple(out)


def _checked(tensors: tuple) -> tuple:
    """PyTorch's checks: a non-empty list of 0-D or 1-D tensors of one dtype (no promotion); a
    0-D tensor counts as one of length 1."""
    if not tensors:
        raise ShapeError("meshgrid: expected a non-empty list of tensors, got none")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"meshgrid: expected Tensor as element {i}, got {type(t).__name__}")
        if t.ndim > 1:
            raise ShapeError(
                f"meshgrid: expected 0-D or 1-D tensors, got shape {tuple(t.shape)} as element {i}"
            )
        if t.dtype != tensors[0].dtype:
            raise DTypeError(
                f"meshgrid: expected all tensors to have one dtype, got {tensors[0].dtype} and {t.dtype}"
            )
    return tuple(t.reshape(1) if t.ndim == 0 else t for t in tensors)
