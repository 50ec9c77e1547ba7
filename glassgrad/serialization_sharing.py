"""Saved tensors that share memory load sharing it again, as PyTorch's ``torch.save`` keeps them.

PyTorch pickles each storage once and every tensor as (storage, offset, size, stride): a view saved
beside its base, or two views of one tensor, load as views of one storage, so a write through one
shows in the others (an in-place update of a ``state_dict`` entry reaches its tied twin). glassgrad
loaded each as its own copy.

safetensors holds each tensor's values only, and other readers (``safetensors.torch.load_file``)
must keep seeing exactly those. So the file keeps them as they are, and the header's metadata
(``glassgrad.storages``) says which tensors overlap in memory: ``{"sizes": [nbytes, ...], "views":
{key: [block, byte offset, [byte strides]]}}``. ``load`` makes one zeroed buffer per block and each
of those tensors a view of it at its offset and strides, filled with its saved values (tensors that
overlap were read from the same memory, so their values agree where they meet; bytes no saved
tensor covers stay zero, where PyTorch keeps the rest of the storage).

A block is a group of tensors whose byte ranges overlap, directly or through others. A block
that would take the blocks past all the file's tensor data together (two rows far apart in a huge
base) is left unshared, so that a load never allocates more memory than the file holds; ``load``
refuses such sizes in a file as corrupted.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from glassgrad.errors import CheckpointError
from glassgrad.ops.as_strided import memory_root
from glassgrad.safe_read import parse_json

__all__ = ["STORAGES_KEY", "shared_blocks", "Blocks"]

STORAGES_KEY = "glassgrad.storages"
_MAX_STRIDE = 1 << 48  # as serialization_layout's: never step past what NumPy's strides hold


def _span(start: int, shape: tuple, strides: Any, itemsize: int) -> tuple[int, int]:
    """The byte range ``[lo, hi)`` that a non-empty array at ``start`` with these byte strides spans."""
    lo = hi = start
    for n, st in zip(shape, strides, strict=True):
        lo, hi = (lo + (n - 1) * st, hi) if st < 0 else (lo, hi + (n - 1) * st)
    return lo, hi + itemsize


def _extent(arr: np.ndarray) -> tuple[int, int]:
    return _span(arr.__array_interface__["data"][0], arr.shape, arr.strides, arr.itemsize)


def shared_blocks(arrays: dict[str, np.ndarray], limit: int) -> dict[str, str]:
    """``{"glassgrad.storages": <JSON record>}`` for ``arrays`` (key -> a saved tensor's own data,
    alive for the call), or ``{}`` when no two overlap. Blocks past ``limit`` bytes in all stay
    unshared."""
    spans = sorted((*_extent(a), key) for key, a in arrays.items() if isinstance(a, np.ndarray) and a.size)
    groups: list[list] = []  # [lo, hi, keys]: merged runs of overlapping ranges
    for lo, hi, key in spans:
        if groups and lo < groups[-1][1]:
            groups[-1][1] = max(groups[-1][1], hi)
            groups[-1][2].append(key)
        else:
            groups.append([lo, hi, [key]])
    sizes: list[int] = []
    views: dict[str, list] = {}
    for lo, hi, keys in groups:
        # From the start of the memory they view, where it fits: offsets then read as PyTorch's
        # storage_offset() (a row and its tail, saved without their base, load at offsets 6 and 8).
        root = memory_root(arrays[keys[0]]).__array_interface__["data"][0]
        lo = root if root <= lo and hi - root <= limit else lo
        if len(keys) < 2 or hi - lo > limit - sum(sizes):
            continue
        for key in keys:
            a = arrays[key]
            start = a.__array_interface__["data"][0]
            views[key] = [len(sizes), start - lo, list(a.strides)]
        sizes.append(hi - lo)
    return {STORAGES_KEY: json.dumps({"sizes": sizes, "views": views})} if views else {}


class Blocks:
    """The buffers of a file's shared blocks, made on first use; ``place`` puts a loaded array in
    its block (or returns it as it is when it shares nothing)."""

    def __init__(self, text: Any, data_bytes: int, where: str) -> None:
        """``text``: the file's ``glassgrad.storages`` metadata, or None (nothing shared)."""
        self.where = where
        self.sizes: list = []
        self.views: dict = {}
        self.buffers: dict[int, np.ndarray] = {}
        if text is None:
            return
        record = parse_json(text, where, f"{STORAGES_KEY} metadata")
        ok = isinstance(record, dict) and isinstance(record.get("sizes"), list)
        ok = ok and isinstance(record.get("views"), dict)
        if ok:
            self.sizes, self.views = record["sizes"], record["views"]
            ok = all(type(n) is int and n > 0 for n in self.sizes) and sum(self.sizes) <= data_bytes
        if not ok:
            raise CheckpointError(
                f"load: {where}: corrupted {STORAGES_KEY} metadata: expected shared blocks of at most "
                f"{data_bytes} bytes in all (the file's tensor data), got {str(record)[:80]}"
            )

    def place(self, key: str, arr: np.ndarray) -> np.ndarray:
        entry = self.views.get(key)
        if entry is None or not arr.size:  # (an empty tensor has no memory to share)
            return arr
        block, offset, strides = self._checked(key, entry, arr)
        buf = self.buffers.get(block)
        if buf is None:
            buf = self.buffers[block] = np.zeros(self.sizes[block], np.uint8)
        out = np.ndarray(arr.shape, arr.dtype, buffer=buf, offset=offset, strides=tuple(strides))
        out[...] = arr
        return out

    def _checked(self, key: str, entry: Any, arr: np.ndarray) -> tuple[int, int, list]:
        """``entry`` checked to place ``arr`` inside its block (a crafted file must not reach
        memory outside the buffer)."""
        ok = isinstance(entry, list) and len(entry) == 3 and isinstance(entry[2], list)
        if ok:
            block, offset, strides = entry
            ok = type(block) is int and 0 <= block < len(self.sizes) and type(offset) is int and offset >= 0
            ok = (
                ok
                and len(strides) == arr.ndim
                and all(type(s) is int and abs(s) < _MAX_STRIDE for s in strides)
            )
        if ok:
            lo, hi = _span(offset, arr.shape, strides, arr.itemsize)
            ok = lo >= 0 and hi <= self.sizes[block]
        if not ok:
            raise CheckpointError(
                f"load: {self.where}: corrupted {STORAGES_KEY} metadata: tensor {key!r} of shape "
                f"{tuple(arr.shape)} and dtype {arr.dtype} cannot be placed at {str(entry)[:80]}"
            )
        return block, offset, strides
