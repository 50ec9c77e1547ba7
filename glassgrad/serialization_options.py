"""``torch.serialization``'s switches and helpers besides the allowlist (``safe_globals.py``).

* ``LoadEndianness``, ``get/set_default_load_endianness``: PyTorch's fallback byte order for a
  checkpoint written without a byte-order record. A safetensors file is little-endian by
  definition (``<f4`` ...), so every glassgrad file has one and the setting never changes what a
  file loads as; it is kept, type-checked and read back as PyTorch's.
* ``get/set_crc32_options``: whether PyTorch's zip writer computes each record's CRC-32.
  safetensors has no checksums; kept for the same reason.
* ``get/set_default_mmap_options``: ``MAP_PRIVATE`` (the default: writes to tensors loaded with
  ``mmap=True`` stay in memory) or ``MAP_SHARED`` (they go to the file), read by ``mapped_read``.
  ``set_default_mmap_options`` is a call and a context manager, as PyTorch's.
* ``skip_data``: inside it ``save`` writes every tensor's bytes as zeros (the layout, dtypes and
  structure as usual), PyTorch's "space left empty, filled in a later pass"; a later ``load``
  gives zeros, as PyTorch's (whose test expects them). ``load`` inside it reads as usual: the values
  of storages it does not fill are unspecified in PyTorch.
* ``get_unsafe_globals_in_checkpoint``: the classes and functions a file names that ``load``
  with ``weights_only=True`` would refuse, as ``"module.qualname"`` strings.
* ``SourceChangeWarning`` (old code filters it: ``warnings.filterwarnings("ignore",
  category=torch.serialization.SourceChangeWarning)``; nothing here issues it, as no class source
  is saved) and ``check_module_version_greater_or_equal``.
* ``check_save_target`` / ``check_load_kwargs``: PyTorch's checks of ``save``'s ``f`` (a path or
  an object with ``write``: ``AttributeError``) and of ``load``'s extra keywords (those of
  ``pickle.Unpickler``, or only ``encoding`` unless ``weights_only=False``: a misspelt one is a
  ``TypeError``, not silently dropped).
"""

from __future__ import annotations

import enum
import mmap
import os
import threading
import warnings
from typing import Any

import numpy as np

__all__ = [
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

# mmap's flags (POSIX); Windows has neither, and PyTorch refuses to change them there.
MAP_PRIVATE: int = getattr(mmap, "MAP_PRIVATE", 2)
MAP_SHARED: int = getattr(mmap, "MAP_SHARED", 1)


class LoadEndianness(enum.Enum):
    NATIVE = 1
    LITTLE = 2
    BIG = 3


_config: dict[str, Any] = {"endianness": None, "crc32": True, "mmap_flags": MAP_PRIVATE}
_tls = threading.local()  # skip_data is per thread, as PyTorch's _serialization_tls


def get_default_load_endianness() -> LoadEndianness | None:
    """The fallback byte order for files without a byte-order record (None: native)."""
    return _config["endianness"]


def set_default_load_endianness(endianness: LoadEndianness | None) -> None:
    """Set the fallback byte order (a ``LoadEndianness`` or None); glassgrad files are always
    little-endian, so this changes no load.

    Raises:
        TypeError: ``endianness`` is neither a ``LoadEndianness`` nor None.
    """
    if endianness is not None and not isinstance(endianness, LoadEndianness):
        raise TypeError(
            "set_default_load_endianness: expected a LoadEndianness or None, "
            f"got {type(endianness).__name__} {endianness!r}"
        )
    _config["endianness"] = endianness


def get_crc32_options() -> bool:
    """Whether ``save`` would compute CRC-32s (PyTorch's zip records; safetensors has none)."""
    return _config["crc32"]


def set_crc32_options(compute_crc32: bool) -> None:
    """Kept for PyTorch code: a safetensors file has no CRC-32s to compute."""
    _config["crc32"] = compute_crc32


def get_default_mmap_options() -> int:
    """The flags ``load(..., mmap=True)`` maps files with: ``MAP_PRIVATE`` or ``MAP_SHARED``."""
    return _config["mmap_flags"]


class set_default_mmap_options:  # noqa: N801 (PyTorch's name: a function that is also a context manager)
    """Set the flags for ``load(..., mmap=True)``; as a context manager, restore them on exit.

    With ``MAP_SHARED`` an in-place change of a loaded tensor is written to the file (and seen by
    later loads); with ``MAP_PRIVATE`` (the default) it stays in this process.

    Raises:
        ValueError: ``flags`` is neither ``mmap.MAP_PRIVATE`` nor ``mmap.MAP_SHARED``.
        RuntimeError: on Windows, as PyTorch's.
    """

    def __init__(self, flags: int) -> None:
        if os.name == "nt":
            raise RuntimeError("Changing the default mmap options is currently not supported for Windows")
        if flags not in (MAP_PRIVATE, MAP_SHARED):
            raise ValueError(
                f"set_default_mmap_options: expected mmap.MAP_PRIVATE or mmap.MAP_SHARED, got {flags!r}"
            )
        self.prev = _config["mmap_flags"]
        _config["mmap_flags"] = flags

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _config["mmap_flags"] = self.prev


class skip_data:  # noqa: N801 (PyTorch's name)
    """Inside the ``with`` block ``save`` writes zeros in place of every tensor's data.

    Args:
        materialize_fake_tensors: PyTorch's (for FakeTensors, which glassgrad has not); accepted.
    """

    def __init__(self, materialize_fake_tensors: bool = False) -> None:
        self.materialize_fake_tensors = materialize_fake_tensors

    def __enter__(self) -> None:
        self._old = getattr(_tls, "skip_data", False)
        _tls.skip_data = True

    def __exit__(self, *exc: object) -> None:
        _tls.skip_data = self._old


def skipped(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``arrays`` as ``save`` writes them: zeros of the same dtypes and shapes inside ``skip_data``."""
    if not getattr(_tls, "skip_data", False):
        return arrays
    return {k: np.zeros(a.shape, dtype=a.dtype) for k, a in arrays.items()}


def check_save_target(f: Any) -> None:
    """PyTorch's check of ``save``'s ``f`` before anything is written.

    Raises:
        AttributeError: ``f`` is neither a path (str, bytes, ``os.PathLike``) nor has ``write``.
    """
    if not isinstance(f, str | bytes | os.PathLike) and not hasattr(f, "write"):
        raise AttributeError(
            "save: expected 'f' to be string, path, or a file-like object with a 'write' attribute, "
            f"got {type(f).__name__}"
        )


# The keywords PyTorch's load hands its **pickle_load_args to: pickle.Unpickler's, or with
# weights_only its own weights-only unpickler's (encoding alone).
_UNPICKLER_KWARGS = frozenset({"encoding", "errors", "fix_imports", "buffers"})
_WEIGHTS_ONLY_KWARGS = frozenset({"encoding"})


def check_load_kwargs(pickle_module: Any, weights_only: Any, kwargs: dict[str, Any]) -> None:
    """Refuse a keyword that PyTorch's unpickler would refuse (a misspelt ``map_location``).

    A user's own ``pickle_module`` may take others, so nothing is checked then.

    Raises:
        TypeError: an unknown keyword, naming it.
    """
    import pickle

    allowed = _UNPICKLER_KWARGS if weights_only is False else _WEIGHTS_ONLY_KWARGS
    unknown = sorted(set(kwargs) - allowed)
    if unknown and pickle_module in (None, pickle):
        raise TypeError(
            f"load: got an unexpected keyword argument {unknown[0]!r} (PyTorch hands extra keywords "
            f"to its unpickler, which takes {', '.join(sorted(allowed))} "
            f"{'with weights_only=False' if weights_only is False else 'when weights_only is not False'})"
        )


def _references(node: Any, out: set[tuple[str, str]]) -> None:
    """Every ``[module, qualname]`` class/function reference in a file's JSON structure."""
    stack = [node]
    while stack:  # iterative: the structure may be nested 100 levels deep
        n = stack.pop()
        if isinstance(n, list):
            stack.extend(n)
            continue
        if not isinstance(n, dict):
            continue
        for tag in ("class", "__global__", "__enum__", "__object__", "__container__"):
            if tag == "class" and "__tensor__" not in n:  # a tensor's class; else a user's own key
                continue
            ref = n.get(tag)
            if isinstance(ref, list) and len(ref) >= 2 and all(isinstance(s, str) for s in ref[:2]):
                out.add((ref[0], ref[1]))
        stack.extend(n.values())


def get_unsafe_globals_in_checkpoint(f: Any) -> list[str]:
    """``"module.qualname"`` of each class or function the file at ``f`` (a path or binary file
    object) names that ``load(weights_only=True)`` would refuse (not on the allowlist).

    Raises:
        CheckpointError: the file is missing, truncated or corrupted.
    """
    from glassgrad.safe_read import parse_json, read_checkpoint
    from glassgrad.serialization_containers import _ALWAYS
    from glassgrad.serialization_subclass import _allowed

    where, _raw, header = read_checkpoint(f)
    structure = (header.get("__metadata__") or {}).get("glassgrad.structure")
    if structure is None:  # a plain safetensors file names nothing
        return []
    refs: set[tuple[str, str]] = set()
    _references(parse_json(structure, where, "structure metadata"), refs)
    unsafe = {f"{m}.{q}" for m, q in refs if (m, q) not in _ALWAYS and _allowed(m, q) is None}
    return sorted(unsafe)


class SourceChangeWarning(Warning):
    """PyTorch's warning that a pickled module's source changed; kept so that code filtering it
    runs (glassgrad saves no module source, so it is never issued)."""


def check_module_version_greater_or_equal(
    module: Any, req_version_tuple: tuple, error_if_malformed: bool = True
) -> bool:
    """Whether ``module.__version__`` (``"x.y.z"``) is at least ``req_version_tuple``, each field
    cast to the type of the required one, as PyTorch's.

    Raises:
        RuntimeError: the version string cannot be compared and ``error_if_malformed`` (else a
            warning, and True).
    """
    try:
        fields = module.__version__.split(".")
        version = tuple(type(req)(fields[i]) for i, req in enumerate(req_version_tuple))
        return version >= req_version_tuple
    except Exception as e:
        message = (
            f"'{module.__name__}' module version string is malformed '{getattr(module, '__version__', None)}' "
            f"and cannot be compared with tuple {req_version_tuple!s}"
        )
        if error_if_malformed:
            raise RuntimeError(message) from e
        warnings.warn(message + ", but continuing assuming that requirement is met", stacklevel=2)
        return True
