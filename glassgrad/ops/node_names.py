"""PyTorch's node names for calls that glassgrad runs through one shared primitive.

PyTorch names a node after the ATen op a call lands on: ``x[0]`` is a ``SelectBackward0``,
``x[1:]`` a ``SliceBackward0``, ``x[[0, 2]]`` an ``IndexBackward0``, ``a @ b`` of two matrices an
``MmBackward0``. glassgrad has one getitem and one matmul primitive; these functions give the name
PyTorch would show, which ``autograd.function.named`` puts on the node (the graph and gradients
are unchanged).
"""

from __future__ import annotations

from typing import Any

__all__ = ["getitem_name", "matmul_name"]

# (a.ndim, b.ndim) -> PyTorch's node; any other pair goes through bmm and a view: UnsafeViewBackward0
_MATMUL = {(2, 2): "MmBackward0", (1, 1): "DotBackward0", (2, 1): "MvBackward0", (1, 2): "SqueezeBackward4"}


def matmul_name(a_ndim: int, b_ndim: int) -> str:
    """The node of ``a @ b`` for operands of these ranks."""
    return _MATMUL.get((a_ndim, b_ndim), "UnsafeViewBackward0")


def _advanced(k: Any) -> bool:
    """An index that PyTorch applies as advanced indexing (a list, an array, a bool, a tensor of
    more than one element or of bools)."""
    if isinstance(k, bool | list):
        return True
    shape = getattr(k, "shape", None)
    if shape is None:
        return False
    dtype = getattr(k, "dtype", None)
    return len(shape) > 0 or str(dtype).endswith("bool")


def getitem_name(key: Any) -> str:
    """The node of ``x[key]``: PyTorch applies the basic parts of ``key`` one by one (the last
    one applied names the node: an int selects, a slice slices, None unsqueezes; full slices and
    Ellipsis apply nothing) and then any advanced part (``IndexBackward0``)."""
    parts = key if isinstance(key, tuple) else (key,)
    if any(_advanced(k) for k in parts):
        return "IndexBackward0"
    for k in reversed(parts):
        if k is None:
            return "UnsqueezeBackward0"
        if isinstance(k, slice):
            if k != slice(None):
                return "SliceBackward0"
        elif k is not Ellipsis:
            return "SelectBackward0"  # an int, or a one-element integer tensor
    return "SliceBackward0" if isinstance(key, slice) else "AliasBackward0"
