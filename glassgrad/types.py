"""``torch.types``: the type aliases PyTorch's annotations use, importable by the same names
(pytorch-ignite's NLP metrics import ``Number`` from here). Aliases only: nothing checks them.

>>> from glassgrad.types import Number
>>> isinstance(3, Number)
True
"""

from __future__ import annotations

import os
from typing import IO, Union

from glassgrad.device import device as _device_cls
from glassgrad.dtypes import DType
from glassgrad.size import Size
from glassgrad.tensor_storage import TypedStorage, UntypedStorage

__all__ = ["Number", "Device", "FileLike", "Storage"]

_int = int
_float = float
_bool = bool
_complex = complex
_dtype = DType
_device = _device_cls
_size = Union[Size, list[int], tuple[int, ...]]  # noqa: UP007 - a runtime alias, as PyTorch's
Number = Union[int, float, bool]  # noqa: UP007
Device = Union[_device_cls, str, int, None]  # noqa: UP007
FileLike = Union[str, os.PathLike, IO[bytes]]  # noqa: UP007
Storage = Union[TypedStorage, UntypedStorage]  # noqa: UP007
IntLikeType = int
FloatLikeType = float
BoolLikeType = bool
