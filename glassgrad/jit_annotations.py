"""``torch.jit.annotations``: the typing names TorchScript-era model code imports from it
(``from torch.jit.annotations import List, Tuple``). They are ``typing``'s own objects, as in
PyTorch; the ``BroadcastingList`` names are plain ``List`` here, since nothing compiles. ``TensorType`` (also
``torch.TensorType``) is TorchScript's type of a tensor, ``DeviceObjType`` (``torch.DeviceObjType``) that of a device, here only what annotations and ``get()`` need.

>>> from glassgrad.jit_annotations import List
>>> import typing
>>> List is typing.List
True
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple, Union

# TorchScript reads a float/int that broadcasts to a list of N; eagerly it is just a list
BroadcastingList1 = BroadcastingList2 = BroadcastingList3 = List  # noqa: UP006 - typing's name


class _ScriptType:
    """A TorchScript type: ``get()`` is its one instance, printed as the type's name."""

    _printed = ""

    @classmethod
    def get(cls) -> _ScriptType:
        if cls.__dict__.get("_the") is None:  # one instance per class, not the base's
            cls._the = cls()
        return cls._the

    def __repr__(self) -> str:
        return self._printed


class TensorType(_ScriptType):
    """TorchScript's tensor type: ``TensorType.get()`` is its one instance, printed ``Tensor``."""

    _printed = "Tensor"


class DeviceObjType(_ScriptType):
    """TorchScript's device type (``torch.DeviceObjType``; pytorch-forecasting annotates with it):
    ``DeviceObjType.get()`` is its one instance, printed ``Device``. Not ``glassgrad.device``."""

    _printed = "Device"


__all__ = [
    "TensorType",
    "DeviceObjType",
    "Any",
    "BroadcastingList1",
    "BroadcastingList2",
    "BroadcastingList3",
    "Dict",
    "List",
    "Optional",
    "Tuple",
    "Union",
]
