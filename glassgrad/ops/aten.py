"""``torch.ops.aten``: the few ATen operators that published programs call by that name.

PyTorch exposes its internal operator library as ``torch.ops.aten.<name>``; programs reach for it
where the Python API lacks a form (``aten.slice`` takes the dim as an argument, which ``x[...]``
does not). Each operator here is also reachable as ``<name>.Tensor`` / ``<name>.default``, the
overload spellings PyTorch accepts. Any other name raises an error that names the missing operator
rather than guessing at an ATen signature that may differ from the Python function of that name.
"""

from __future__ import annotations

import builtins
from typing import Any

from glassgrad.autograd.function import named
from glassgrad.errors import ArgumentError, ShapeError
from glassgrad.ops.indexing import GetItem, normalize_dim
from glassgrad.tensor import Tensor

__all__ = ["slice"]


def slice(  # noqa: A001 - ATen's name for the op
    input: Tensor,  # noqa: A002
    dim: int = 0,
    start: Any = None,
    end: Any = None,
    step: int = 1,
) -> Tensor:
    """``input[..., start:end:step, ...]`` along ``dim`` (a view), with Python's clamping of
    out-of-range bounds and negative bounds counted from the end.

    Shape:
        input ``(*A, n, *B)`` -> ``(*A, m, *B)`` with m the length of ``range(n)[start:end:step]``.
    """
    if input.ndim == 0:
        raise ShapeError("aten.slice: expected a tensor with at least 1 dim, got shape ()")
    d = normalize_dim(dim, input.ndim, "aten.slice", input.shape)
    step = int(step)
    if step <= 0:
        raise ArgumentError(
            f"aten.slice: expected a positive step, got {step} (shape {input.shape}, dim {dim})"
        )
    bounds = [None if b is None else int(b) for b in (start, end)]
    key = (builtins.slice(None),) * d + (builtins.slice(bounds[0], bounds[1], step),)
    return named(GetItem.apply(input, key=key, advanced=False), "SliceBackward0")


slice.Tensor = slice  # type: ignore[attr-defined]
slice.default = slice  # type: ignore[attr-defined]


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(
        f"glassgrad.ops.aten has no operator {name!r} (only {', '.join(__all__)}); "
        f"call the public function glassgrad.{name} or the Tensor method instead"
    )
