"""``torch.serialization``'s type aliases and constants, for code that annotates with them, and
what ``load`` makes of a ``map_location``.

Pyro's param store, for one, does ``from torch.serialization import MAP_LOCATION``; MONAI's
``StateCacher`` does ``from torch.serialization import DEFAULT_PROTOCOL``; lit-gpt's ``utils.py``
(TinyLlama) does ``from torch.serialization import normalize_storage_type`` at import.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO, Any, Union

import glassgrad
from glassgrad.device import check_device, device, is_meta_device

# what ``load(map_location=...)`` takes: a function of (storage, location), a device, a string, a dict
MAP_LOCATION = Union[Callable[[object, str], object], device, str, dict[str, str], None]  # noqa: UP007
# what ``save``/``load`` take as a file: a path or a binary file object
FileLike = Union[str, os.PathLike[str], IO[bytes]]  # noqa: UP007
# ``save``'s default ``pickle_protocol`` (accepted and ignored: glassgrad writes safetensors)
DEFAULT_PROTOCOL = 2


def normalize_storage_type(storage_type: type) -> Any:
    """The top-level name a storage class goes by (``FloatStorage`` -> ``glassgrad.FloatStorage``),
    PyTorch's ``getattr(torch, storage_type.__name__)``."""
    return getattr(glassgrad, storage_type.__name__)


def map_location_function(where: Any) -> Any:
    """``tensor -> tensor`` for ``map_location``; refuses any target but the CPU or meta up front."""
    if callable(where) and not isinstance(where, str | device):

        def call(t: Any) -> Any:
            out = where(t, "cpu")  # PyTorch passes (storage, location); tensors here are on the CPU
            return t if out is None else out

        return call
    if isinstance(where, dict):
        where = where.get("cpu")  # saved tensors are all on "cpu": only that entry applies
    if is_meta_device(where):  # shapes and dtypes only (transformers reads a .bin's keys so)
        return lambda t: t.to("meta")
    check_device(where, "load")
    return lambda t: t
