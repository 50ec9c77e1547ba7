"""Plain Python values in checkpoints beyond JSON's: ``pathlib`` paths, sets and frozensets, complex
numbers (Python's and NumPy's), glassgrad dtypes, ``bytes``/``bytearray``, and classes and functions
by reference.

``torch.save`` pickles them (pykeen's ``TriplesFactory.to_path_binary`` saves
``metadata={"path": PosixPath(...)}``); ``save`` writes each as a tagged JSON value and ``load``
builds it again from a fixed table of types, so a file still never names code to run:

* ``{"__path__": "a/b", "flavour": "posix" | "windows", "pure": bool}``: a concrete path comes
  back concrete when this system can make one (a ``WindowsPath`` on Linux loads as
  ``PureWindowsPath``, which PyTorch's unpickler would refuse outright);
* ``{"__set__": [...], "frozen": bool}``;
* ``{"__complex__": [re, im], "np": "<c16"}`` (``np`` only for a NumPy scalar);
* ``{"__dtype__": "float32"}``: the module-level dtype object (``gg.float32``);
* ``{"__size__": [2, 3]}``: a ``Size``; ``{"__device__": "cuda:0"}``: a ``device`` (a training
  script's config saves its device, which PyTorch pickles);
* ``{"__odict__": {...}, "state": {...}}``: an ``OrderedDict`` (the dict encoded as any dict, so
  a state_dict's tensors keep their keys) and its attributes: a ``state_dict``'s ``_metadata``,
  the module versions that ``load_state_dict`` hands each ``_load_from_state_dict`` (PyTorch's
  pickle keeps both; without them a module that migrates old checkpoints by version would
  migrate a current one again);
* ``{"__global__": [module, qualname]}``: a class or function, ``{"__enum__": [module, qualname,
  name]}``: an enum member (``serialization_globals.py``);
* ``{"__bytes__": "<base64>", "mutable": bool}``: ``bytes`` or (mutable) ``bytearray`` (stanza's
  lemmatizer saves its dictionaries as gzipped bytes, which PyTorch's weights-only load accepts).
* ``{"__object__": [module, qualname], "state": {...}}``: an instance of a plain class (timm's
  ``argparse.Namespace`` of training arguments), written by ``save``'s last resort
  (``serialization_objects.py``) and made here when its class is allowed.
* ``{"__sparse_coo__": size, "indices": ..., "values": ...}``: a sparse COO tensor
  (``serialization_sparse.py``);
* ``{"__container__": [module, qualname], "base": ..., "items": ...}``: a subclass of tuple, list
  or dict (a namedtuple, a ``Counter``), made when its class is allowed
  (``serialization_containers.py``).
"""

from __future__ import annotations

import base64
import binascii
import os
import pathlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.device import device
from glassgrad.errors import CheckpointError
from glassgrad.serialization_containers import CONTAINER_TAG, decode_container, encode_container
from glassgrad.serialization_globals import ENUM_TAG, GLOBAL_TAG, GLOBAL_TYPES, decode_global, encode_global
from glassgrad.serialization_objects import OBJECT_TAG, decode_object
from glassgrad.serialization_sparse import SPARSE_TAG, decode_sparse
from glassgrad.size import Size

__all__ = ["HASHABLE_VALUES", "VALUE_TAGS", "encode_value", "is_value", "decode_value", "hashable_key"]

VALUE_TAGS = (
    "__path__",
    "__set__",
    "__complex__",
    "__dtype__",
    "__bytes__",
    "__size__",
    "__device__",
    "__odict__",
    GLOBAL_TAG,
    ENUM_TAG,
    OBJECT_TAG,
    CONTAINER_TAG,
    SPARSE_TAG,
)
#: the ones that can be dict keys
HASHABLE_VALUES = (pathlib.PurePath, frozenset, complex, dtypes.DType, bytes, Size, device, *GLOBAL_TYPES)
_NOT_A_VALUE = object()


def encode_value(obj: Any, encode: Callable[[Any, tuple], Any], path: tuple) -> Any:
    """The tagged JSON of ``obj``, or ``_NOT_A_VALUE`` (see :func:`is_value`) when it is none of
    these types; ``encode`` encodes a set's elements."""
    if isinstance(obj, pathlib.PurePath):
        windows = isinstance(obj, pathlib.PureWindowsPath)
        return {
            "__path__": str(obj),
            "flavour": "windows" if windows else "posix",
            "pure": not isinstance(obj, pathlib.Path),
        }
    if isinstance(obj, set | frozenset):
        items = [encode(v, (*path, i)) for i, v in enumerate(obj)]
        return {"__set__": items, "frozen": isinstance(obj, frozenset)}
    if isinstance(obj, complex | np.complexfloating):
        out: dict = {"__complex__": [float(obj.real), float(obj.imag)]}
        if isinstance(obj, np.complexfloating):
            out["np"] = obj.dtype.str
        return out
    if isinstance(obj, dtypes.DType):
        return {"__dtype__": obj.name}
    if isinstance(obj, bytes | bytearray):
        return {"__bytes__": base64.b64encode(obj).decode("ascii"), "mutable": isinstance(obj, bytearray)}
    if isinstance(obj, Size):
        return {"__size__": list(obj)}
    if isinstance(obj, device):
        return {"__device__": str(obj)}
    if type(obj) is OrderedDict:  # a subclass is its class by reference (serialization_containers)
        out = {"__odict__": encode(dict(obj), path)}
        if vars(obj):
            out["state"] = encode(dict(vars(obj)), (*path, "__dict__"))
        return out
    container = encode_container(obj, encode, path)  # a namedtuple, Counter, dict subclass
    if container is not None:
        return container
    ref = encode_global(obj, path)
    return _NOT_A_VALUE if ref is None else ref


def hashable_key(key: Any) -> Any:
    """A decoded dict key or set item made hashable again: JSON gave its tuples back as lists."""
    return tuple(hashable_key(k) for k in key) if isinstance(key, list | tuple) else key


def is_value(encoded: Any) -> bool:
    """Whether :func:`encode_value` answered (``obj`` was one of its types)."""
    return encoded is not _NOT_A_VALUE


def _path(node: dict) -> pathlib.PurePath:
    text, flavour, pure = node["__path__"], node.get("flavour"), node.get("pure")
    if not isinstance(text, str) or flavour not in ("posix", "windows") or not isinstance(pure, bool):
        raise TypeError(f"a path is a string with flavour posix/windows and a bool 'pure', got {node!r:.80}")
    windows = flavour == "windows"
    if not pure and windows == (os.name == "nt"):  # a concrete path of this system's flavour
        return pathlib.Path(text)
    return pathlib.PureWindowsPath(text) if windows else pathlib.PurePosixPath(text)


def _complex(node: dict, where: str) -> Any:
    parts, code = node["__complex__"], node.get("np")
    if not (
        isinstance(parts, list)
        and len(parts) == 2
        and all(isinstance(p, int | float) and not isinstance(p, bool) for p in parts)
    ):
        raise TypeError(f"a complex number is [real, imag], got {parts!r:.80}")
    value = complex(parts[0], parts[1])
    if code is None:
        return value
    if code not in ("<c8", "<c16", ">c8", ">c16"):
        raise CheckpointError(
            f"load: {where}: corrupted structure metadata: expected a complex64/complex128 NumPy scalar, got {code!r:.20}"
        )
    return np.dtype(code).type(value)


def _bytes(node: dict) -> bytes | bytearray:
    text, mutable = node["__bytes__"], node.get("mutable")
    if not isinstance(text, str) or not isinstance(mutable, bool):
        raise TypeError(f"bytes are a base64 string and a bool 'mutable', got {node!r:.80}")
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise TypeError(f"bytes are a base64 string, got {text!r:.40}") from None
    return bytearray(data) if mutable else data


def _device(name: Any, where: str) -> device:
    try:
        if not isinstance(name, str):
            raise TypeError(f"expected a str, got {type(name).__name__}")
        return device(name)
    except (TypeError, ValueError, RuntimeError) as e:  # device() raises PyTorch's RuntimeError
        raise CheckpointError(
            f"load: {where}: corrupted structure metadata: a bad device {name!r:.40} ({e})"
        ) from None


def _ordered_dict(node: dict, decode: Callable[[Any], Any], where: str) -> OrderedDict:
    items, state = decode(node["__odict__"]), decode(node.get("state", {}))
    if not (isinstance(items, dict) and isinstance(state, dict) and all(isinstance(k, str) for k in state)):
        raise CheckpointError(
            f"load: {where}: corrupted structure metadata: expected an OrderedDict's items and attributes as "
            f"dicts, got {type(items).__name__} and {type(state).__name__}"
        )
    out = OrderedDict(items)
    vars(out).update(state)  # PyTorch's weights-only loader sets an OrderedDict's state so too
    return out


def decode_value(
    node: dict,
    decode: Callable[[Any], Any],
    hashable: Callable[[Any], Any],
    where: str,
    weights_only: bool = True,
) -> Any:
    """The value of a tagged node (one of :data:`VALUE_TAGS` is among its keys); ``weights_only``
    decides where a class or function is looked up (:func:`decode_global`)."""
    if GLOBAL_TAG in node or ENUM_TAG in node:
        return decode_global(node, weights_only, where)
    if OBJECT_TAG in node:
        return decode_object(node, decode, weights_only, where)
    if CONTAINER_TAG in node:
        return decode_container(node, decode, weights_only, where)
    if SPARSE_TAG in node:
        return decode_sparse(node, decode)
    if "__path__" in node:
        return _path(node)
    if "__set__" in node:
        items = node["__set__"]
        if not isinstance(items, list):
            raise TypeError(f"a set's items are a list, got {type(items).__name__}")
        made = {hashable(decode(v)) for v in items}
        return frozenset(made) if node.get("frozen") else made
    if "__complex__" in node:
        return _complex(node, where)
    if "__bytes__" in node:
        return _bytes(node)
    if "__size__" in node:
        dims = node["__size__"]
        if not (isinstance(dims, list) and all(type(v) is int for v in dims)):
            raise TypeError(f"a Size is a list of ints, got {dims!r:.80}")
        return Size(dims)
    if "__device__" in node:
        return _device(node["__device__"], where)
    if "__odict__" in node:
        return _ordered_dict(node, decode, where)
    name = node["__dtype__"]
    found = getattr(dtypes, name, None) if isinstance(name, str) and name.isidentifier() else None
    if not isinstance(found, dtypes.DType):
        raise CheckpointError(
            f"load: {where}: corrupted structure metadata: {name!r:.40} is not a glassgrad dtype"
        )
    return found
