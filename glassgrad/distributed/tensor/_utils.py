"""``torch.distributed.tensor._utils``: the shape and offset helpers DTensor code calls, for a world
of one process (transformers 5 imports ``compute_local_shape_and_global_offset`` at import time)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["compute_local_shape_and_global_offset"]


def compute_local_shape_and_global_offset(
    global_shape: Sequence[int],
    mesh: Any,
    placements: Sequence[Any],
    skip_offset: bool = False,
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """This process's shard shape and its offset in the global tensor: with one process every
    placement leaves the whole tensor here, so ``(global_shape, (0, ...))`` (``()`` offsets with
    ``skip_offset``, as PyTorch's)."""
    try:
        shape = tuple(int(n) for n in global_shape)
    except TypeError as err:
        raise TypeError(
            "compute_local_shape_and_global_offset: expected global_shape a sequence of ints, got "
            f"{type(global_shape).__name__}"
        ) from err
    return shape, (() if skip_offset else (0,) * len(shape))
