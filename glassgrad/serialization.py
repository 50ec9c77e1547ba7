"""``save`` / ``load`` in the safetensors format: no pickle, so loading a file never runs code.

What a file holds:

* every tensor (and NumPy array) as a safetensors tensor under a string key: the path of keys that
  leads to it, joined by ``/``. A model's ``state_dict`` keeps its own keys (``fc.weight``), so any
  safetensors reader (``safetensors.torch.load_file``) sees the usual names; nested ones read
  ``model/fc.weight``, ``optimizer/state/0/exp_avg``.
* everything else (numbers, strings, bools, None, lists, tuples, dicts with int keys, ...) as JSON
  in the header's ``__metadata__`` (``glassgrad.structure``), with tensors replaced by references to
  their keys. Tags restore what JSON lacks: ``{"__tuple__": [...]}`` for tuples, ``{"__dict__":
  [[key, value], ...]}`` for dicts with non-string keys, ``{"__tensor__": key}`` for tensors.

Writes are atomic: the bytes go to a temporary file in the same folder, are flushed and fsynced,
then ``os.replace`` puts the file in place, so a crash never leaves a truncated checkpoint.
A file from elsewhere (no glassgrad metadata) loads as a dict of tensors.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import tempfile
from typing import Any, BinaryIO

import numpy as np

from glassgrad.errors import CheckpointError
from glassgrad.tensor import Tensor

__all__ = ["save", "load", "SAFETENSORS_HINT"]

SAFETENSORS_HINT = "save/load: needs safetensors; pip install glassgrad[train] (or pip install safetensors)"
_FORMAT_KEY, _STRUCT_KEY, _FORMAT = "glassgrad.format", "glassgrad.structure", "1"
_TAGS = ("__tensor__", "__ndarray__", "__tuple__", "__dict__", "__np__")
_SCALARS = (bool, int, float, str, type(None))
# The safetensors dtypes that NumPy has.
_NUMPY_DTYPES = frozenset(("BOOL", "U8", "I8", "U16", "I16", "U32", "I32", "U64", "I64", "F16", "F32", "F64"))


def _safetensors_numpy():
    try:
        import safetensors.numpy as stn
    except ImportError as e:  # optional dependency: say how to get it
        raise ImportError(SAFETENSORS_HINT) from e
    return stn


class _MissingCheckpointError(CheckpointError, FileNotFoundError):
    """No file at the path: both a ``CheckpointError`` and a ``FileNotFoundError``."""


# ---------------------------------------------------------------------------------------- encode
class _Encoder:
    """Walks the object once, moving arrays into ``tensors`` and returning the JSON skeleton."""

    def __init__(self) -> None:
        self.tensors: dict[str, np.ndarray] = {}
        self.seen: dict[int, str] = {}  # id(tensor) -> key: a tensor held twice is stored once

    def _key(self, path: tuple) -> str:
        key = "/".join(str(p) for p in path) or "tensor"
        base, n = key, 1
        while key in self.tensors:  # only when a key itself contains "/": keep keys unique
            key, n = f"{base}#{n}", n + 1
        return key

    def _array(self, obj: Any, path: tuple, tag: str) -> dict:
        key = self.seen.get(id(obj))
        if key is None:
            arr = obj._data if isinstance(obj, Tensor) else obj
            if arr.dtype.kind not in "biuf":
                raise TypeError(
                    f"save: expected numeric or bool data at '{'/'.join(map(str, path))}', got {arr.dtype}"
                )
            key = self._key(path)
            # ascontiguousarray would turn a 0-d array into 1-d; copy(order="C") keeps the shape.
            self.tensors[key] = arr if arr.flags.c_contiguous else arr.copy(order="C")
            self.seen[id(obj)] = key
        out: dict = {tag: key}
        if isinstance(obj, Tensor) and obj.requires_grad:
            out["requires_grad"] = True
        return out

    def encode(self, obj: Any, path: tuple = ()) -> Any:
        if isinstance(obj, Tensor):
            return self._array(obj, path, "__tensor__")
        if isinstance(obj, np.ndarray):
            return self._array(obj, path, "__ndarray__")
        if isinstance(obj, np.generic):
            return {"__np__": obj.dtype.str, "value": obj.item()}
        if isinstance(obj, _SCALARS):
            return obj
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, (*path, i)) for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self.encode(v, (*path, i)) for i, v in enumerate(obj)]
        if isinstance(obj, dict):
            if all(isinstance(k, str) for k in obj) and not any(k in _TAGS for k in obj):
                return {k: self.encode(v, (*path, k)) for k, v in obj.items()}
            items = []
            for k, v in obj.items():
                if not isinstance(k, _SCALARS + (tuple,)):
                    raise TypeError(
                        f"save: expected dict keys of str, int, float, bool or tuple, got {type(k).__name__}"
                    )
                items.append([self.encode(k, (*path, "key")), self.encode(v, (*path, k))])
            return {"__dict__": items}
        where = "/".join(map(str, path)) or "the top level"
        hint = (
            "; save its state_dict() instead (no pickled objects: load it into a new one)"
            if callable(getattr(obj, "state_dict", None))
            else ""
        )
        raise TypeError(
            f"save: expected tensors, arrays, numbers, strings, bools, None, lists, tuples or dicts, "
            f"got {type(obj).__name__} at {where}{hint}"
        )


def _write_bytes(f: BinaryIO, data: bytes) -> None:
    """Write all of ``data`` (a seam the tests replace to simulate a crash mid-write)."""
    f.write(data)


def _file_mode(path: str) -> int:
    """The mode the file would get from a plain ``open``: the old file's, else 0o666 minus the umask."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _atomic_write(path: str, data: bytes) -> None:
    # Through a symlink to its target, as a plain open() would write (not over the link itself).
    path = os.path.realpath(path)
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: {path}: no such folder {folder}")
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        if hasattr(os, "fchmod"):  # mkstemp makes the file private (0o600); give it the usual mode
            os.fchmod(fd, _file_mode(path))
        with os.fdopen(fd, "wb") as f:
            _write_bytes(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable; not every platform lets a folder be opened
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def save(obj: Any, f: str | os.PathLike | BinaryIO) -> None:
    """Save tensors and plain Python data to a safetensors file, atomically.

    Args:
        obj: a ``state_dict`` (name -> Tensor), an optimizer ``state_dict``, or any nesting of dicts,
            lists and tuples holding tensors, NumPy arrays, numbers, strings, bools and None.
        f: a path (written atomically) or a binary file object (written as is).

    >>> import glassgrad as gg, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
    >>> save({"w": gg.ones(2), "step": 3, "betas": (0.9, 0.999)}, path)
    >>> load(path)
    {'w': tensor([1., 1.]), 'step': 3, 'betas': (0.9, 0.999)}
    """
    stn = _safetensors_numpy()
    enc = _Encoder()
    skeleton = enc.encode(obj)
    metadata = {_FORMAT_KEY: _FORMAT, _STRUCT_KEY: json.dumps(skeleton)}
    data = stn.save(enc.tensors, metadata=metadata)
    if hasattr(f, "write"):
        _write_bytes(f, data)  # type: ignore[arg-type]
    else:
        _atomic_write(os.fspath(f), data)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------- decode
def _torch_file_hint(raw: bytes) -> str:
    """A hint when the bytes are a torch.save file (a zip archive, or a pickle: the legacy format)."""
    if raw[:4] != b"PK\x03\x04" and not (raw[:1] == b"\x80" and b"\x02" <= raw[1:2] <= b"\x05"):
        return ""
    return (
        "; it looks like a torch.save file (a zip or pickle), which glassgrad does not read: in "
        "PyTorch, write it again with safetensors.torch.save_file(state_dict, path)"
    )


def _header(raw: bytes, where: str) -> dict:
    """Parse and check the safetensors header: 8-byte little-endian length, then JSON."""
    if len(raw) < 8:
        raise CheckpointError(f"load: {where}: truncated: expected at least 8 bytes, got {len(raw)}")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise CheckpointError(
            f"load: {where}: truncated or not a safetensors file: header says {n} bytes, file has "
            f"{len(raw) - 8}{_torch_file_hint(raw)}"
        )
    try:
        header = json.loads(raw[8 : 8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(
            f"load: {where}: corrupted header (not valid JSON: {e}){_torch_file_hint(raw)}"
        ) from None
    if not isinstance(header, dict):
        raise CheckpointError(f"load: {where}: corrupted header (expected a JSON object)")
    try:
        ends = [int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"]
    except (KeyError, IndexError, TypeError, ValueError):
        raise CheckpointError(
            f"load: {where}: corrupted header (a tensor entry lacks valid data_offsets)"
        ) from None
    if not isinstance(header.get("__metadata__", {}), dict):
        raise CheckpointError(f"load: {where}: corrupted header (__metadata__ is not a JSON object)")
    for key, entry in header.items():  # BF16, F8_*: valid safetensors, but not NumPy dtypes
        if key != "__metadata__" and entry.get("dtype") not in _NUMPY_DTYPES:
            raise CheckpointError(
                f"load: {where}: tensor {key!r} has dtype {entry.get('dtype')}, which NumPy (so "
                "glassgrad) cannot hold; save it as float32 (in PyTorch: t.float())"
            )
    have = len(raw) - 8 - n
    if ends and max(ends) > have:
        raise CheckpointError(
            f"load: {where}: truncated: tensor data needs {max(ends)} bytes, file has {have}"
        )
    return header


class _Decoder:
    def __init__(self, arrays: dict[str, np.ndarray], where: str) -> None:
        self.arrays, self.where = arrays, where
        self.made: dict[str, Any] = {}  # key -> object, so a tensor stored once comes back shared

    def _array(self, node: dict, tag: str) -> Any:
        key = node[tag]
        if key not in self.arrays:
            raise CheckpointError(
                f"load: {self.where}: corrupted: the structure names tensor {key!r}, which is not in the file"
            )
        if key not in self.made:
            arr = self.arrays[key]
            self.made[key] = Tensor(arr, _wrap=True) if tag == "__tensor__" else arr
            if node.get("requires_grad"):
                self.made[key].requires_grad_(True)
        return self.made[key]

    def decode(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            return node
        if "__tensor__" in node:
            return self._array(node, "__tensor__")
        if "__ndarray__" in node:
            return self._array(node, "__ndarray__")
        if "__tuple__" in node:
            return tuple(self.decode(v) for v in node["__tuple__"])
        if "__np__" in node:
            return np.dtype(node["__np__"]).type(node["value"])
        if "__dict__" in node:
            return {_hashable(self.decode(k)): self.decode(v) for k, v in node["__dict__"]}
        return {k: self.decode(v) for k, v in node.items()}


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, list | tuple) else key


def load(f: str | os.PathLike | BinaryIO, map_location: Any = None, weights_only: bool = True) -> Any:
    """Load what :func:`save` wrote (or any safetensors file) as glassgrad Tensors and Python data.

    Nothing is executed: the file holds raw tensor bytes and JSON. Dtypes are kept (int64 stays
    int64), ints stay ints and tuples come back as tuples.

    Args:
        f: a path or a binary file object.
        map_location: accepted for PyTorch code; only ``None`` or ``"cpu"``.
        weights_only: accepted for PyTorch code; loading is always weights-only safe.

    Returns:
        The saved object; a file without glassgrad metadata gives a dict of name -> Tensor.

    Raises:
        CheckpointError: the file is missing (also a ``FileNotFoundError``), truncated or corrupted;
            the message names the file and what is wrong.
    """
    if map_location not in (None, "cpu"):
        raise ValueError(f"load: expected map_location None or 'cpu', got {map_location!r}")
    stn = _safetensors_numpy()
    if hasattr(f, "read"):
        where, raw = getattr(f, "name", "<file object>"), f.read()  # type: ignore[union-attr]
    else:
        where = os.fspath(f)  # type: ignore[arg-type]
        try:
            with open(where, "rb") as fh:
                raw = fh.read()
        except FileNotFoundError:
            raise _MissingCheckpointError(f"load: {where}: no such checkpoint file") from None
    header = _header(raw, where)
    try:
        arrays = stn.load(raw)
    except Exception as e:  # safetensors' own error type is not importable on every version
        raise CheckpointError(f"load: {where}: corrupted safetensors data ({e})") from None
    # Own, writable copies: optimizers update loaded state in place.
    arrays = {k: np.array(v) for k, v in arrays.items()}
    meta = header.get("__metadata__") or {}
    if meta.get(_FORMAT_KEY) is None:
        return {k: Tensor(v, _wrap=True) for k, v in arrays.items()}
    if meta[_FORMAT_KEY] != _FORMAT:
        raise CheckpointError(
            f"load: {where}: expected glassgrad format {_FORMAT}, got {meta[_FORMAT_KEY]!r}"
        )
    try:
        skeleton = json.loads(meta[_STRUCT_KEY])
    except (KeyError, json.JSONDecodeError) as e:
        raise CheckpointError(f"load: {where}: corrupted structure metadata ({e})") from None
    try:
        return _Decoder(arrays, where).decode(skeleton)
    except CheckpointError:
        raise
    except (TypeError, ValueError, KeyError) as e:
        raise CheckpointError(f"load: {where}: corrupted structure metadata ({e})") from None
