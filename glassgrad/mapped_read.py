"""``load(path, mmap=True)``: tensors that are views of the file mapped into memory.

Only the header is read (with the checks of ``safe_read``: 100 MB cap, JSON depth, known
dtypes); then the layout gets the checks the safetensors library makes on a normal ``load``
(each tensor's bytes match its shape and dtype, and the tensors tile the data with no gap,
overlap or leftover), and only then is each tensor an ndarray over the mapping. The operating
system pages the data in when it is first touched, so loading is quick and a checkpoint larger
than free memory can be read tensor by tensor.

A mapped file must not be rewritten in place while its tensors live (``save`` to a file object
opened on it truncates it, and reading a page past the new end kills the process with SIGBUS,
as in PyTorch); ``save`` to its path is safe.

The mapping is copy-on-write (``mmap.ACCESS_COPY``, PyTorch's ``MAP_PRIVATE``): writing to a
loaded tensor (an optimizer stepping it) copies the touched pages and never changes the file.
After ``set_default_mmap_options(mmap.MAP_SHARED)`` (``serialization_options.py``) the mapping is
shared, as PyTorch's: such writes go to the file.
A later ``save`` to the same path replaces the file by a rename, so mapped tensors keep the
bytes they were loaded with.
"""

from __future__ import annotations

import math
import mmap
import os
import struct

import numpy as np

from glassgrad.errors import CheckpointError
from glassgrad.safe_read import (
    MAX_HEADER_BYTES,
    _check_entries,
    _read_up_to,
    checkpoint_file,
    parse_json,
    torch_file_hint,
)
from glassgrad.serialization_options import MAP_SHARED, get_default_mmap_options

__all__ = ["read_mapped"]

_DTYPES = {
    "BOOL": "|b1", "U8": "|u1", "I8": "|i1", "U16": "<u2", "I16": "<i2", "U32": "<u4",
    "I32": "<i4", "U64": "<u8", "I64": "<i8", "F16": "<f2", "F32": "<f4", "F64": "<f8", "C64": "<c8",
}  # fmt: skip


def _is_count(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0  # a JSON unsigned integer


def _layout(header: dict, where: str, data_size: int) -> dict[str, tuple[np.dtype, tuple[int, ...], int]]:
    """``name -> (dtype, shape, offset in the data)`` after the checks the safetensors library
    makes on a normal ``load``: shapes and offsets are unsigned integers, each tensor's bytes fit
    its shape and dtype, and the tensors tile the data exactly (no gap, no overlap: two tensors
    over the same bytes would change together, no bytes left over)."""
    meta = header.get("__metadata__", {})
    if not all(isinstance(v, str) for v in meta.values()):
        raise CheckpointError(f"load: {where}: corrupted header (__metadata__ values must be strings)")
    layout, spans = {}, []
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        shape, offsets = entry.get("shape"), entry.get("data_offsets")
        ok = isinstance(shape, list) and all(_is_count(d) for d in shape)
        if not (
            ok and isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(o) for o in offsets)
        ):
            raise CheckpointError(
                f"load: {where}: corrupted header (tensor {key!r} lacks a valid shape or data_offsets: "
                f"expected lists of non-negative integers, got {str(shape)[:40]} and {str(offsets)[:40]})"
            )
        dtype = np.dtype(_DTYPES[entry["dtype"]])
        # math.prod on Python ints cannot overflow, as np.prod on int64 would
        if offsets[1] - offsets[0] != math.prod(shape) * dtype.itemsize:
            raise CheckpointError(
                f"load: {where}: corrupted header: tensor {key!r} of shape {shape} and dtype "
                f"{entry['dtype']} does not fit its bytes {offsets}"
            )
        layout[key] = (dtype, tuple(shape), offsets[0])
        spans.append((offsets[0], offsets[1], key))
    end = 0
    for begin, stop, key in sorted(spans):
        if begin != end:
            raise CheckpointError(
                f"load: {where}: corrupted header: tensor {key!r} starts at byte {begin}, expected {end} "
                "(the tensors must tile the data without gap or overlap)"
            )
        end = stop
    if end != data_size:
        raise CheckpointError(
            f"load: {where}: corrupted: the tensors cover {end} bytes of data, the file has {data_size}"
        )
    return layout


def _header(fh, where: str, size: int) -> tuple[dict, int]:
    """The parsed header and the offset where tensor data starts."""
    head = _read_up_to(fh, 8)
    if len(head) < 8:
        raise CheckpointError(f"load: {where}: truncated: expected at least 8 bytes, got {len(head)}")
    (n,) = struct.unpack("<Q", head)
    if n > MAX_HEADER_BYTES or n > size - 8:
        raise CheckpointError(
            f"load: {where}: not a safetensors file or corrupted: the header says {n} bytes, the file "
            f"has {size - 8} after the length{torch_file_hint(head)}"
        )
    header = parse_json(_read_up_to(fh, n), where, "header", torch_file_hint(head))
    if not isinstance(header, dict):
        raise CheckpointError(f"load: {where}: corrupted header (expected a JSON object)")
    need = _check_entries(header, where)
    if 8 + n + need > size:
        raise CheckpointError(
            f"load: {where}: truncated: tensor data needs {need} bytes, file has {size - 8 - n}"
        )
    return header, 8 + n


def read_mapped(path: str | os.PathLike) -> tuple[str, dict[str, np.ndarray], dict]:
    """``(where, name -> array over the mapped file, parsed header)`` of a safetensors file.

    Raises:
        ValueError: ``path`` is a file object (a mapping needs a path).
        CheckpointError: as ``load`` without ``mmap``: missing, unreadable, truncated or corrupted.
    """
    if hasattr(path, "read"):
        raise ValueError("load: expected a file path with mmap=True, got a file object")
    where = os.fspath(path)
    with checkpoint_file(where) as (fh, size):
        header, start = _header(fh, where, size)
        layout = _layout(header, where, size - start)
        if get_default_mmap_options() == MAP_SHARED:  # set_default_mmap_options: writes reach the file
            with open(where, "r+b") as wf:
                buf = mmap.mmap(wf.fileno(), 0, access=mmap.ACCESS_WRITE)
        else:
            buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_COPY)  # the mapping outlives the fd
    arrays = {
        k: np.frombuffer(buf, dtype=dtype, count=math.prod(shape), offset=start + begin).reshape(shape)
        for k, (dtype, shape, begin) in layout.items()
    }
    return where, arrays, header
