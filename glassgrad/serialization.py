"""``save`` / ``load`` in the safetensors format: no pickle, so loading a file never runs code.

What a file holds:

* every tensor (and NumPy array) as a safetensors tensor under a string key: the path of keys that
  leads to it, joined by ``/``. A model's ``state_dict`` keeps its own keys (``fc.weight``), so any
  safetensors reader (``safetensors.torch.load_file``) sees the usual names; nested ones read
  ``model/fc.weight``, ``optimizer/state/0/exp_avg``.
* a complex64 tensor as safetensors' ``C64`` (where the installed safetensors has it), a complex128
  one as its ``view_as_real`` floats ``(..., 2)``, its reference in the structure marked
  ``"complex": true`` so that it loads complex again (``serialization_complex.py``); one laid out
  densely but not C-ordered (channels-last) with its strides (``serialization_layout.py``); which
  tensors overlap in memory (views of one base), so that they load as views of one buffer, as
  PyTorch's storages (``serialization_sharing.py``).
* everything else (numbers, strings, bools, None, lists, tuples, dicts with int keys, ...) as JSON
  in the header's ``__metadata__`` (``glassgrad.structure``), with tensors replaced by references to
  their keys. Tags restore what JSON lacks: ``{"__tuple__": [...]}`` for tuples, ``{"__dict__":
  [[key, value], ...]}`` for dicts with non-string keys, ``{"__tensor__": key}`` for tensors;
  paths, sets, complex numbers, dtypes and bytes have their own tags (``serialization_values.py``),
  and a plain object (an ``argparse.Namespace``) is its class by reference and its attributes
  (``serialization_objects.py``), made again on load only when the class is allowed.
* a tensor's class when it is not a plain tensor (a ``Parameter``, a user's subclass) and its own
  attributes (``__dict__``), as PyTorch's pickle keeps them; load makes such a class only when it is
  allowed (``serialization_subclass.py``).

Writes are atomic: the bytes go to a temporary file in the same folder
(``.<name>.glassgrad-tmp-<pid>-<random>``), are flushed and fsynced, then ``os.replace`` puts the
file in place, so a crash never leaves a truncated checkpoint; the next save to that path removes
the temporaries that killed saves left behind. A target that ``open(path, "wb")`` would refuse (a
read-only file) is refused, not replaced.
A file from elsewhere (no glassgrad metadata) loads as a dict of tensors.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from typing import Any, BinaryIO

import numpy as np

from glassgrad.errors import CheckpointError, corrupt_file_errors, runtime_os_error
from glassgrad.mapped_read import read_mapped
from glassgrad.meta_array import MetaArray
from glassgrad.safe_globals import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from glassgrad.safe_read import MAX_DEPTH, parse_json, read_checkpoint, too_deep
from glassgrad.serialization_canonical import canonical_header
from glassgrad.serialization_complex import real_pairs, writes_complex64
from glassgrad.serialization_decode import Decoder as _Decoder
from glassgrad.serialization_layout import layout_fields
from glassgrad.serialization_objects import encode_object
from glassgrad.serialization_options import (
    MAP_PRIVATE,
    MAP_SHARED,
    LoadEndianness,
    SourceChangeWarning,
    check_load_kwargs,
    check_module_version_greater_or_equal,
    check_save_target,
    get_crc32_options,
    get_default_load_endianness,
    get_default_mmap_options,
    get_unsafe_globals_in_checkpoint,
    set_crc32_options,
    set_default_load_endianness,
    set_default_mmap_options,
    skip_data,
    skipped,
)
from glassgrad.serialization_sharing import STORAGES_KEY, Blocks, shared_blocks
from glassgrad.serialization_sparse import encode_sparse
from glassgrad.serialization_subclass import class_fields
from glassgrad.serialization_temporaries import _file_mode, _remove_stale_temporaries, _tmp_prefix
from glassgrad.serialization_types import DEFAULT_PROTOCOL, MAP_LOCATION, FileLike  # noqa: F401 (torch.serialization's)
from glassgrad.serialization_types import map_location_function as _map_location
from glassgrad.serialization_types import (
    normalize_storage_type as normalize_storage_type,  # torch.serialization's
)
from glassgrad.serialization_values import HASHABLE_VALUES, VALUE_TAGS, encode_value, is_value
from glassgrad.tensor import Tensor

__all__ = [
    "save",
    "load",
    "SAFETENSORS_HINT",
    # torch.serialization's weights-only allowlist (kept for PyTorch code; load never unpickles)
    "add_safe_globals",
    "get_safe_globals",
    "clear_safe_globals",
    "safe_globals",
    # and its switches and helpers (serialization_options.py)
    "MAP_PRIVATE",
    "MAP_SHARED",
    "LoadEndianness",
    "get_default_load_endianness",
    "set_default_load_endianness",
    "get_crc32_options",
    "set_crc32_options",
    "get_default_mmap_options",
    "set_default_mmap_options",
    "skip_data",
    "get_unsafe_globals_in_checkpoint",
    "SourceChangeWarning",
    "check_module_version_greater_or_equal",
]

SAFETENSORS_HINT = "save/load: needs safetensors; pip install glassgrad[train] (or pip install safetensors)"
_FORMAT_KEY, _STRUCT_KEY, _FORMAT = "glassgrad.format", "glassgrad.structure", "1"
_TAGS = ("__tensor__", "__ndarray__", "__tuple__", "__dict__", "__np__", *VALUE_TAGS)
_SCALARS = (bool, int, float, str, type(None))


def _safetensors_numpy():
    try:
        import safetensors.numpy as stn
    except ImportError as e:  # optional dependency: say how to get it
        raise ImportError(SAFETENSORS_HINT) from e
    return stn


# ---------------------------------------------------------------------------------------- encode
class _Encoder:
    """Walks the object once, moving arrays into ``tensors`` and returning the JSON skeleton."""

    def __init__(self) -> None:
        self.tensors: dict[str, np.ndarray] = {}
        self.seen: dict[int, str] = {}  # id(tensor) -> key: a tensor held twice is stored once
        # An id is unique only while its object lives: a __getstate__ may hand over fresh tensors
        # that die mid-walk, and a later one at the same address would be taken for a stored one.
        self.held: list[Any] = []
        self.fields: dict[str, dict] = {}  # key -> what its data alone loses (complex, strides)
        self.memory: dict[str, np.ndarray] = {}  # key -> a tensor's own data: views share it on load

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
            from glassgrad.nn.parameter import is_lazy  # (glassgrad.nn imports this module)

            if is_lazy(obj):  # written as data it would load back as an empty (0,) tensor
                raise NotImplementedError(
                    f"save: the tensor at '{'/'.join(map(str, path))}' is an uninitialized parameter or "
                    "buffer of a lazy layer; call the model on a batch first so that it has a shape"
                )
            if arr.__class__ is MetaArray:  # PyTorch pickles the metadata; safetensors needs data
                raise NotImplementedError(
                    f"save: the tensor at '{'/'.join(map(str, path))}' is on the meta device and has no "
                    "data to write; give the module storage first (to_empty + init, or load_state_dict)"
                )
            key = self._key(path)
            if tag == "__tensor__":  # (NumPy's pickle shares no memory between arrays; PyTorch's does)
                self.memory[key] = arr
            fields = layout_fields(arr, tag == "__tensor__")
            if "complex" in fields and arr.dtype == np.complex64 and writes_complex64(_safetensors_numpy()):
                del fields["complex"]  # safetensors' own C64, which PyTorch's load_file reads as cfloat
            elif "complex" in fields:  # no complex128 in safetensors: stored as view_as_real's floats
                arr = real_pairs(arr)
            if arr.dtype.kind not in "biufc":
                raise TypeError(
                    f"save: expected numeric or bool data at '{'/'.join(map(str, path))}', got {arr.dtype}"
                )
            # ascontiguousarray would turn a 0-d array into 1-d; copy(order="C") keeps the shape.
            self.tensors[key] = arr if arr.flags.c_contiguous else arr.copy(order="C")
            self.seen[id(obj)] = key
            self.held.append(obj)
            self.fields[key] = fields
        out: dict = {tag: key, **self.fields[key]}
        if isinstance(obj, Tensor):
            if obj.requires_grad:
                out["requires_grad"] = True
            out.update(class_fields(obj, path, self.encode))  # a subclass, a Parameter, attributes
        return out

    def encode(self, obj: Any, path: tuple = ()) -> Any:
        if isinstance(obj, Tensor):
            sparse = encode_sparse(obj, self.encode, path)  # a sparse COO tensor: indices and values
            return self._array(obj, path, "__tensor__") if sparse is None else sparse
        if isinstance(obj, np.ndarray):
            return self._array(obj, path, "__ndarray__")
        value = encode_value(obj, self.encode, path)  # a path, set, complex number or dtype
        if is_value(value):
            return value
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
                if not isinstance(k, _SCALARS + HASHABLE_VALUES + (tuple,)):
                    raise TypeError(
                        "save: expected dict keys of str, int, float, bool, tuple, frozenset, complex, path, "
                        f"dtype, bytes, class or function, got {type(k).__name__}"
                    )
                items.append([self.encode(k, (*path, "key")), self.encode(v, (*path, k))])
            return {"__dict__": items}
        return encode_object(obj, self.encode, path)  # a plain object (argparse's Namespace), or TypeError


def _write_bytes(f: BinaryIO, data: bytes) -> None:
    """Write all of ``data`` (a seam the tests replace to simulate a crash mid-write)."""
    f.write(data)


def _atomic_write(path: str, data: bytes) -> None:
    # Through a symlink to its target, as a plain open() would write (not over the link itself).
    path = os.path.realpath(path)
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: {path}: no such folder {folder}")
    if os.path.exists(path):
        if not os.path.isfile(path):
            # A device (/dev/null), a FIFO, a folder: nothing to replace; open() writes through it
            # (or raises IsADirectoryError), and so does save.
            with open(path, "wb") as f:
                _write_bytes(f, data)
            return
        # Refuse what open(path, "wb") refuses (a read-only file), before writing anything: the
        # rename below would replace a file that could not be opened for writing.
        os.close(os.open(path, os.O_WRONLY))
    fd, tmp = tempfile.mkstemp(prefix=f"{_tmp_prefix(path)}{os.getpid()}-", dir=folder)
    try:
        # the file object owns the descriptor first, so whatever fails below (fchmod too) closes it
        with os.fdopen(fd, "wb") as f:
            if hasattr(os, "fchmod"):  # mkstemp makes the file private (0o600); give it the usual mode
                os.fchmod(f.fileno(), _file_mode(path))
            _write_bytes(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _remove_stale_temporaries(path)
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


def save(
    obj: Any,
    f: str | os.PathLike | BinaryIO,
    pickle_module: Any = None,
    pickle_protocol: int = 2,
    _use_new_zipfile_serialization: bool = True,
    _disable_byteorder_record: bool = False,
) -> None:
    """Save tensors and plain Python data to a safetensors file, atomically.

    Args:
        obj: a ``state_dict`` (name -> Tensor), an optimizer ``state_dict``, or any nesting of dicts,
            lists and tuples holding tensors, NumPy arrays, numbers, strings, bools and None.
        f: a path (written atomically) or a binary file object (written as is, then flushed).
        pickle_module, pickle_protocol, _use_new_zipfile_serialization, _disable_byteorder_record:
            PyTorch's (pytorch-ignite's ``DiskSaver`` passes the zipfile switch); accepted and unused:
            the file is safetensors, neither a pickle nor a zip.

    Raises:
        AttributeError: ``f`` is neither a path nor has ``write`` (PyTorch's check), before writing.
        OSError: a path that cannot be written (a missing folder, a folder); the error is its own
            kind (``FileNotFoundError``, ``IsADirectoryError``) and a ``RuntimeError``, as PyTorch's.

    >>> import glassgrad as gg, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
    >>> save({"w": gg.ones(2), "step": 3, "betas": (0.9, 0.999)}, path)
    >>> load(path)
    {'w': tensor([1., 1.]), 'step': 3, 'betas': (0.9, 0.999)}
    """
    check_save_target(f)  # PyTorch's AttributeError, before anything is written
    stn = _safetensors_numpy()
    enc = _Encoder()
    skeleton = enc.encode(obj)
    if too_deep(skeleton):  # load would refuse the file
        raise ValueError(f"save: expected data nested at most {MAX_DEPTH} levels deep (as JSON), got deeper")
    metadata = {_FORMAT_KEY: _FORMAT, _STRUCT_KEY: json.dumps(skeleton)}
    metadata.update(shared_blocks(enc.memory, sum(a.nbytes for a in enc.tensors.values())))
    data = canonical_header(stn.save(skipped(enc.tensors), metadata=metadata))  # the same bytes each time
    if hasattr(f, "write"):
        _write_bytes(f, data)  # type: ignore[arg-type]
        if callable(getattr(f, "flush", None)):  # as PyTorch's writer: readable by name at once
            f.flush()  # type: ignore[union-attr]
        return
    path = os.fspath(f)  # type: ignore[arg-type]
    try:
        _atomic_write(path, data)
    except OSError as e:
        raise runtime_os_error(e, f"save: {path}") from None


def load(
    f: str | os.PathLike | BinaryIO,
    map_location: Any = None,
    pickle_module: Any = None,
    *,
    weights_only: bool = True,
    mmap: bool | None = None,
    **pickle_load_args: Any,
) -> Any:
    """Load what :func:`save` wrote (or any safetensors file) as glassgrad Tensors and Python data.

    Nothing is executed: the file holds raw tensor bytes and JSON. Dtypes are kept (int64 stays
    int64), ints stay ints and tuples come back as tuples.

    Args:
        f: a path or a binary file object.
        map_location: where tensors go, as in PyTorch: None, ``"cpu"``, a ``device``, a dict
            from saved locations to targets (tensors here are saved on ``"cpu"``), or a function
            ``(tensor, "cpu") -> tensor`` (None keeps the tensor). ``"meta"`` gives meta tensors
            (shape and dtype, no data); any other device than the CPU raises ``RuntimeError``.
        pickle_module, pickle_load_args: accepted for PyTorch's signature and not used: nothing
            is unpickled. As PyTorch's (which hands them to its unpickler), only ``encoding`` is
            taken, and with ``weights_only=False`` also ``errors``, ``fix_imports`` and ``buffers``:
            a misspelt keyword is a ``TypeError``, not silently dropped (unless ``pickle_module``
            is a user's own).
        weights_only: loading never unpickles or imports; this only decides which saved tensor
            classes load: with True (the default, as PyTorch's) a subclass must be on the
            ``add_safe_globals`` list; with False one from a module already imported will do.
        mmap: map the file into memory instead of reading it (``f`` must be a path): tensors are
            views of the mapping, paged in when first read; writing to one copies the page and
            never changes the file (``mapped_read.py``).

    Returns:
        The saved object; a file without glassgrad metadata gives a dict of name -> Tensor.

    Raises:
        CheckpointError: the file is missing (also a ``FileNotFoundError``), truncated or corrupted
            (a ``CorruptCheckpointError``, also a ``RuntimeError`` as PyTorch's); the message names
            the file and what is wrong.
        UnsafeGlobalError: a tensor was saved as a class that may not be made (also a
            ``pickle.UnpicklingError``, as PyTorch raises).
    """
    check_load_kwargs(pickle_module, weights_only, pickle_load_args)
    relocate = _map_location(map_location)
    with corrupt_file_errors():
        return _read(f, relocate, weights_only is not False, mmap)


def _read(f: Any, relocate: Any, weights_only: bool, mmap: Any) -> Any:
    if mmap:
        where, arrays, header = read_mapped(f)  # writable copy-on-write views of the file
    else:
        stn = _safetensors_numpy()
        where, raw, header = read_checkpoint(f)
        try:
            arrays = stn.load(raw)
        except Exception as e:  # safetensors' own error type is not importable on every version
            raise CheckpointError(f"load: {where}: corrupted safetensors data ({e})") from None
        # Own, writable copies: optimizers update loaded state in place.
        arrays = {k: np.array(v) for k, v in arrays.items()}
    meta = header.get("__metadata__") or {}
    if meta.get(_FORMAT_KEY) is None:
        return {k: relocate(Tensor(v, _wrap=True)) for k, v in arrays.items()}
    if meta[_FORMAT_KEY] != _FORMAT:
        raise CheckpointError(
            f"load: {where}: expected glassgrad format {_FORMAT}, got {meta[_FORMAT_KEY]!r}"
        )
    if _STRUCT_KEY not in meta:
        raise CheckpointError(f"load: {where}: corrupted structure metadata (no {_STRUCT_KEY!r})")
    skeleton = parse_json(meta[_STRUCT_KEY], where, "structure metadata")
    blocks = Blocks(meta.get(STORAGES_KEY), sum(a.nbytes for a in arrays.values()), where)
    try:
        return _Decoder(arrays, where, relocate, weights_only, blocks).decode(skeleton)
    except CheckpointError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        raise CheckpointError(f"load: {where}: corrupted structure metadata ({e})") from None
