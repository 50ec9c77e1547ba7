"""``torch.nn.parallel.parallel_apply``, importable as PyTorch's submodule (``parallel_functions.py``),
with its helper ``get_a_var`` (the first tensor found in nested lists, tuples and dicts)."""

from __future__ import annotations

from typing import Any

from glassgrad.nn.parallel_functions import parallel_apply
from glassgrad.tensor import Tensor

__all__ = ["parallel_apply", "get_a_var"]


def get_a_var(obj: Any) -> Tensor | None:
    """The first tensor in ``obj``, walking lists, tuples and dict items in order; ``None`` when
    there is none (PyTorch uses it to find the device a replica's inputs are on)."""
    if isinstance(obj, Tensor):
        return obj
    if isinstance(obj, (list, tuple)):
        for result in map(get_a_var, obj):
            if isinstance(result, Tensor):
                return result
    if isinstance(obj, dict):
        for result in map(get_a_var, obj.items()):
            if isinstance(result, Tensor):
                return result
    return None
