"""PyTorch's node names for calls that glassgrad runs through one shared primitive.

PyTorch names a node after the ATen op a call lands on: ``x[0]`` is a ``SelectBackward0``,
``x[1:]`` a ``SliceBackward0``, ``x[[0, 2]]`` an ``IndexBackward0``, ``a @ b`` of two matrices an
``MmBackward0``. glassgrad has one getitem and one matmul primitive; their ``node_name_by`` (these
functions) makes the name PyTorch would show from the node's attrs, only when a user looks at the
node (``autograd.function.call_name``), so the hot path pays nothing. Calls whose name their
arguments decide (``view``, ``squeeze``, ``sum(dim)``) set it with ``autograd.function.named``.
"""

from __future__ import annotations

__all__ = ["getitem_name", "matmul_name", "setitem_name"]

# (a.ndim, b.ndim) -> PyTorch's node; any other pair goes through bmm and a view: UnsafeViewBackward0
_MATMUL = {(2, 2): "MmBackward0", (1, 1): "DotBackward0", (2, 1): "MvBackward0", (1, 2): "SqueezeBackward4"}


def matmul_name(attrs: dict) -> str:
    """The node of ``a @ b`` from its matmul's attrs (``ndims``: the operands' ranks)."""
    return _MATMUL.get(attrs.get("ndims"), "UnsafeViewBackward0")


def getitem_name(attrs: dict) -> str:
    """The node of ``x[key]`` from its getitem's attrs (``key``, a tuple, and ``advanced``):
    PyTorch applies the basic parts of the key one by one (the last one applied names the node: an
    int selects, a slice slices, None unsqueezes; full slices and Ellipsis apply nothing, but
    ``x[:]`` alone is a slice) and then any advanced part (``IndexBackward0``)."""
    parts = attrs["key"]
    if attrs.get("advanced") or not isinstance(parts, tuple):  # (a SplitKey: ints, then arrays)
        return "IndexBackward0"
    for k in reversed(parts):
        if k is None:
            return "UnsqueezeBackward0"
        if isinstance(k, slice):
            if k != slice(None):
                return "SliceBackward0"
        elif k is not Ellipsis:
            return "SelectBackward0"  # an int, or a one-element integer tensor
    return "SliceBackward0" if parts == (slice(None),) else "AliasBackward0"


def setitem_name(attrs: dict) -> str:
    """The node of ``x[key] = v`` from its setitem's attrs (those of getitem): PyTorch writes a
    tensor key with ``index_put_`` (``IndexPutBackward0``) and a basic one with ``copy_`` into the
    view ``x[key]``, whose base takes a ``CopySlices``. (A key PyTorch applies as ``x`` itself,
    ``x[:]``, ``x[...]``, is no setitem here: ``ops/overwrite.py``.)"""
    if attrs.get("advanced") or not isinstance(attrs["key"], tuple):
        return "IndexPutBackward0"
    return "CopySlices"
