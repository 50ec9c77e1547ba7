"""Reading a checkpoint file that may be hostile: every failure is a ``CheckpointError`` naming the
file, and no file makes ``load`` do unbounded work.

* only regular files are opened by path (``/dev/zero`` would be read forever, a folder is no file);
* the header is at most 100 MB (the cap the safetensors format itself sets), checked before it
  is read, and the tensor data is read only as far as the header asks and the file holds;
* JSON (the header, and glassgrad's structure metadata inside it) nests at most
  :data:`MAX_DEPTH` levels, so no crafted file reaches Python's recursion limit;
* a ``{"__np__": dtype, "value": v}`` scalar is a bool, integer, float or string type of at most
  16 bytes whose value fits it, checked before NumPy builds it.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import struct
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np

from glassgrad.errors import CheckpointError

__all__ = ["MAX_DEPTH", "MAX_HEADER_BYTES", "read_checkpoint", "too_deep", "np_scalar"]

MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit
MAX_DEPTH = 100  # JSON levels; a saved optimizer state_dict nests about 8
_CHUNK = 1 << 24  # a stream is read in 16 MB pieces: a short file never costs a huge allocation
# The safetensors dtypes that NumPy has.
_NUMPY_DTYPES = frozenset(
    ("BOOL", "U8", "I8", "U16", "I16", "U32", "I32", "U64", "I64", "F16", "F32", "F64", "C64")
)


class MissingCheckpointError(CheckpointError, FileNotFoundError):
    """No file at the path: both a ``CheckpointError`` and a ``FileNotFoundError``."""


class UnreadableCheckpointError(CheckpointError, OSError):
    """A path that is no readable regular file: both a ``CheckpointError`` and an ``OSError``."""


class FolderCheckpointError(UnreadableCheckpointError, IsADirectoryError):
    """A folder where a checkpoint file was expected: also the ``IsADirectoryError`` that
    PyTorch's ``load`` raises there."""


def torch_file_hint(raw: bytes) -> str:
    """A hint when the bytes are a torch.save file (a zip archive, or a pickle: the legacy format)."""
    if raw[:4] != b"PK\x03\x04" and not (raw[:1] == b"\x80" and b"\x02" <= raw[1:2] <= b"\x05"):
        return ""
    return (
        "; it looks like a torch.save file (a zip or pickle), which glassgrad does not read: in "
        "PyTorch, write it again with safetensors.torch.save_file(state_dict, path)"
    )


def too_deep(obj: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether parsed JSON nests deeper than ``limit`` lists/dicts (checked without recursion)."""
    stack = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return False


def parse_json(text: bytes | str, where: str, what: str, hint: str = "") -> Any:
    """``json.loads`` with a bounded depth; a failure is a ``CheckpointError`` naming ``what``."""
    try:
        value = json.loads(text)
    except RecursionError:  # the C parser stops at Python's recursion limit
        value = None
        deep = True
    except (ValueError, TypeError) as e:  # bad JSON or encoding, an int over Python's digit limit
        raise CheckpointError(f"load: {where}: corrupted {what} (not valid JSON: {e}){hint}") from None
    else:
        deep = too_deep(value)
    if deep:
        raise CheckpointError(f"load: {where}: corrupted {what}: nested deeper than {MAX_DEPTH} levels")
    return value


def np_scalar(node: dict, where: str) -> np.generic:
    """The NumPy scalar of a ``{"__np__": dtype, "value": v}`` tag, after checking both."""
    code, value = node.get("__np__"), node.get("value")
    try:
        dtype = np.dtype(code) if isinstance(code, str) and len(code) <= 8 else None
    except TypeError:
        dtype = None
    ok = dtype is not None and (
        (dtype.kind == "b" and isinstance(value, bool))
        or (dtype.kind in "iu" and isinstance(value, int) and not isinstance(value, bool))
        or (dtype.kind == "f" and isinstance(value, int | float) and not isinstance(value, bool))
        or (dtype.kind == "U" and isinstance(value, str))
    )
    if (
        not ok
        or (dtype.kind != "U" and dtype.itemsize > 16)
        or (dtype.kind == "U" and len(value) > dtype.itemsize // 4)
    ):
        raise CheckpointError(
            f"load: {where}: corrupted structure metadata: expected a numeric, bool or str NumPy scalar, "
            f"got dtype {str(code)[:20]!r} with a {type(value).__name__} value"
        )
    try:
        with np.errstate(over="raise"):
            return dtype.type(value)
    except (OverflowError, FloatingPointError, ValueError):
        raise CheckpointError(
            f"load: {where}: corrupted structure metadata: value {str(value)[:40]} does not fit {dtype}"
        ) from None


def _read_up_to(f: BinaryIO, n: int) -> bytes:
    """At most ``n`` bytes, fewer at the end of the file; never one allocation of ``n`` bytes."""
    parts, left = [], n
    while left > 0:
        part = f.read(min(left, _CHUNK))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _check_entries(header: dict, where: str) -> int:
    """Check each tensor entry of the header; returns the bytes of tensor data it asks for."""
    if not isinstance(header.get("__metadata__", {}), dict):
        raise CheckpointError(f"load: {where}: corrupted header (__metadata__ is not a JSON object)")
    end = 0
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        try:
            end = max(end, int(entry["data_offsets"][1]))
        except (KeyError, IndexError, TypeError, ValueError):
            raise CheckpointError(
                f"load: {where}: corrupted header (a tensor entry lacks valid data_offsets)"
            ) from None
        if entry.get("dtype") not in _NUMPY_DTYPES:  # BF16, F8_*: valid, but not NumPy dtypes
            raise CheckpointError(
                f"load: {where}: tensor {key!r} has dtype {entry.get('dtype')}, which NumPy (so "
                "glassgrad) cannot hold; save it as float32 (in PyTorch: t.float())"
            )
    return end


def _read_stream(f: BinaryIO, where: str, size: int | None) -> tuple[bytes, dict]:
    """The file's bytes (8-byte header length, JSON header, tensor data) and the parsed header.

    ``size``: the file's length when known (a path), else None (a stream, read no further than the
    header asks).
    """
    head = _read_up_to(f, 8)
    if len(head) < 8:
        raise CheckpointError(f"load: {where}: truncated: expected at least 8 bytes, got {len(head)}")
    (n,) = struct.unpack("<Q", head)
    if n > MAX_HEADER_BYTES:
        raise CheckpointError(
            f"load: {where}: not a safetensors file or corrupted: the header says {n} bytes, over the "
            f"format's limit of {MAX_HEADER_BYTES}{torch_file_hint(head)}"
        )
    body = _read_up_to(f, n if size is None else min(n, size - 8))
    if len(body) < n:
        raise CheckpointError(
            f"load: {where}: truncated or not a safetensors file: header says {n} bytes, file has "
            f"{(size - 8) if size is not None else len(body)}{torch_file_hint(head)}"
        )
    header = parse_json(body, where, "header", torch_file_hint(head))
    if not isinstance(header, dict):
        raise CheckpointError(f"load: {where}: corrupted header (expected a JSON object)")
    need = _check_entries(header, where)
    data = _read_up_to(f, need if size is None else size - 8 - n)
    if need > len(data):
        raise CheckpointError(
            f"load: {where}: truncated: tensor data needs {need} bytes, file has {len(data)}"
        )
    return head + body + data, header


def read_checkpoint(f: str | os.PathLike | BinaryIO) -> tuple[str, bytes, dict]:
    """``(where, raw bytes, parsed header)`` of a path or binary file object, checked as above."""
    if hasattr(f, "read"):
        where = str(getattr(f, "name", "<file object>"))
        return (where, *_read_stream(f, where, None))  # type: ignore[arg-type]
    where = os.fspath(f)  # type: ignore[arg-type]
    with checkpoint_file(where) as (fh, size):
        return (where, *_read_stream(fh, where, size))


@contextlib.contextmanager
def checkpoint_file(where: str) -> Iterator[tuple[BinaryIO, int]]:
    """The regular file at ``where`` open for binary reading, and its size; what the OS refuses,
    inside the block too, comes out as a ``CheckpointError`` naming the file (shared with
    ``mapped_read``)."""
    try:
        st = os.stat(where)
        if stat.S_ISDIR(st.st_mode):
            raise FolderCheckpointError(f"load: {where}: is a folder, not a checkpoint file")
        if not stat.S_ISREG(st.st_mode):
            raise UnreadableCheckpointError(
                f"load: {where}: not a regular file (a device, pipe or socket); expected a checkpoint file"
            )
        with open(where, "rb") as fh:
            yield fh, st.st_size
    except FileNotFoundError:
        raise MissingCheckpointError(f"load: {where}: no such checkpoint file") from None
    except CheckpointError:
        raise
    except OSError as e:
        raise UnreadableCheckpointError(f"load: {where}: cannot read the file ({e.strerror})") from None
