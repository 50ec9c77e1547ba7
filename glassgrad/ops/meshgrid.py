"""``meshgrid``: coordinate grids from 1-D tensors, as expanded views (so each grid's gradient
sums back into its tensor through ``expand``); ``cartesian_prod``, the grids' points as rows
(both re-exported by ``composite.py``); ``combinations``, the r-element subsets of a vector's
entries as rows (graph code's all-pairs edges)."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np

from glassgrad.errors import ArgumentError, DTypeError, ShapeError
from glassgrad.ops import joining
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["cartesian_prod", "combinations", "meshgrid"]

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
        raise ArgumentError(f"meshgrid: expected indexing 'ij' or 'xy', got {indexing!r}")
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


def cartesian_prod(*tensors: Any) -> Tensor:
    """The Cartesian product of 1-D tensors of one dtype, lengths ``(n_1, ..., n_k)``: a
    ``(n_1 * ... * n_k, k)`` tensor whose rows are the tuples in lexicographic order (the last
    tensor varies fastest). One tensor comes back as itself, as in PyTorch."""
    if not tensors:
        raise ShapeError("cartesian_prod: expected at least one 1-D tensor, got none")
    for i, t in enumerate(tensors):
        if isinstance(t, Tensor) and t.ndim != 1:
            raise ShapeError(
                f"cartesian_prod: expected 1-D tensors, got shape {tuple(t.shape)} as element {i}"
            )
    _checked(tensors, "cartesian_prod")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return joining.stack([g.reshape(-1) for g in grids], dim=1)


def _checked(tensors: tuple, op: str = "meshgrid") -> tuple:
    """PyTorch's checks: a non-empty list of 0-D or 1-D tensors of one dtype (no promotion); a
    0-D tensor counts as one of length 1."""
    if not tensors:
        raise ShapeError(f"{op}: expected a non-empty list of tensors, got none")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected Tensor as element {i}, got {type(t).__name__}")
        if t.ndim > 1:
            raise ShapeError(f"{op}: expected 0-D or 1-D tensors, got shape {tuple(t.shape)} as element {i}")
        if t.dtype != tensors[0].dtype:
            raise DTypeError(
                f"{op}: expected all tensors to have one dtype, got {tensors[0].dtype} and {t.dtype}"
            )
    return tuple(t.reshape(1) if t.ndim == 0 else t for t in tensors)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:  # noqa: A002
    """The ``r``-element combinations of a 1-D tensor's entries, as Python's ``itertools``
    lists them (by position; ``with_replacement`` lets a position repeat): shape ``(count, r)``,
    ``(0,)`` for r=0; differentiable (a read of the input at the positions).

    Shape:
        input ``(n,)`` -> ``(C(n, r), r)``, or ``(C(n + r - 1, r), r)`` with replacement.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"combinations: expected a Tensor, got {type(input).__name__}")
    if input.ndim != 1:
        raise ShapeError(f"combinations: expected a 1-D tensor, got shape {tuple(input.shape)}")
    if r < 0:
        raise ArgumentError(f"combinations: expected a non-negative r, got {r}")
    if r == 0:
        return input.new_empty((0,))
    make = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    # the positions, flattened by itertools at C speed (no Python loop here)
    flat = np.fromiter(itertools.chain.from_iterable(make(range(input.shape[0]), r)), dtype=np.int64)
    return input[Tensor(flat.reshape(-1, r), _wrap=True)]
