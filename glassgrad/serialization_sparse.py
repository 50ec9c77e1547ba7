"""Sparse COO tensors in checkpoints: ``{"__sparse_coo__": size, "indices": ref, "values": ref,
"coalesced": bool}``, the indices ``(sparse_dim, nnz)`` int64 and values ``(nnz, *dense_dims)``
written as any tensor (``serialization.py``), as PyTorch pickles a sparse tensor's indices, values
and size (``_rebuild_sparse_tensor``). Before, ``save`` failed deep inside on the sparse storage.

``load`` rebuilds it through ``sparse_coo_tensor``, which checks the file's claims as PyTorch's
weights-only loader does (``_validate_loaded_sparse_tensors``): indices in bounds of the size,
values matching the indices; and the ``coalesced`` flag is believed only when the indices really
are sorted and unique (a wrong flag would make ``to_dense`` and products skip summing duplicates).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from glassgrad.tensor import Tensor

__all__ = ["SPARSE_TAG", "encode_sparse", "decode_sparse"]

SPARSE_TAG = "__sparse_coo__"


def encode_sparse(obj: Tensor, encode: Callable[[Any, tuple], Any], path: tuple) -> dict | None:
    """The tagged node of a sparse COO tensor, or None for any other tensor."""
    from glassgrad.sparse_tensor import SparseTensor  # (the sparse modules import the tensor layer)

    if not isinstance(obj, SparseTensor):
        return None
    out = {
        SPARSE_TAG: [int(s) for s in obj.shape],
        "indices": encode(Tensor(obj._ix, _wrap=True), (*path, "indices")),
        "values": encode(obj._vals.detach(), (*path, "values")),
        "coalesced": bool(obj._coalesced),
    }
    if obj.requires_grad:
        out["requires_grad"] = True
    return out


def decode_sparse(node: dict, decode: Callable[[Any], Any]) -> Tensor:
    """The sparse COO tensor a node of :func:`encode_sparse` describes, after the checks above.

    Raises:
        TypeError, ValueError: a size, indices or values the file gives in the wrong form, or
            indices out of bounds (``load`` reports these as a corrupted file).
    """
    from glassgrad.ops.sparse import coalesce_index
    from glassgrad.sparse import sparse_coo_tensor

    size = node[SPARSE_TAG]
    if not (isinstance(size, list) and all(type(s) is int and s >= 0 for s in size)):
        raise TypeError(f"a sparse tensor's size is a list of non-negative ints, got {size!r:.80}")
    ix, vals = decode(node["indices"]), decode(node["values"])
    if not (isinstance(ix, Tensor) and isinstance(vals, Tensor)) or ix._data.dtype != np.int64:
        raise TypeError("a sparse tensor's indices (int64) and values are tensors")
    s = sparse_coo_tensor(ix, vals, tuple(size))  # bounds and shapes checked here
    if node.get("coalesced") is True and s._ix.shape[1] > 1:
        unique = coalesce_index(s._ix, tuple(size[: s._ix.shape[0]]))[0]
        s._coalesced = unique.shape == s._ix.shape and bool((unique == s._ix).all())
    if node.get("requires_grad"):
        s.requires_grad_(True)
    return s
