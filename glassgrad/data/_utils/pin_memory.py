"""``torch.utils.data._utils.pin_memory``: the loader's recursive ``pin_memory``.

Libraries import it to pin their own batch types: SpeechBrain's ``PaddedBatch`` imports
``pin_memory`` from here as ``recursive_pin_memory``. glassgrad computes on the CPU, where
``Tensor.pin_memory()`` gives the tensor back, so pinning returns the same structure: tensors and
objects with a ``pin_memory`` method are asked, mappings, named and plain tuples and sequences are
rebuilt around their pinned items (PyTorch's recursion), anything else is returned as it is.
"""

from __future__ import annotations

import collections.abc
import copy
from typing import Any

__all__ = ["pin_memory"]


def pin_memory(data: Any, device: Any = None) -> Any:
    """Pin every tensor inside ``data`` (dicts, lists, tuples, namedtuples, custom batches)."""
    if hasattr(data, "pin_memory") and not isinstance(data, type):
        return data.pin_memory()
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        pinned = {k: pin_memory(v, device) for k, v in data.items()}
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update(pinned)
                return clone
            return type(data)(pinned)  # type: ignore[call-arg]
        except TypeError:  # a mapping without copy()/update()/__init__(mapping)
            return pinned
    if isinstance(data, tuple):
        items = [pin_memory(v, device) for v in data]
        return type(data)(*items) if hasattr(data, "_fields") else type(data)(items)
    if isinstance(data, collections.abc.Sequence):
        items = [pin_memory(v, device) for v in data]
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, item in enumerate(items):
                    clone[i] = item  # type: ignore[index]
                return clone
            return type(data)(items)  # type: ignore[call-arg]
        except TypeError:  # e.g. range
            return items
    return data
