"""``Tensor``'s dtype casts (``float``, ``double``, ``half``, ``long``, ``int``, ``short``, ``char``,
``byte``, ``bool``, ``bfloat16``, ``cfloat``, ``cdouble``): ``to(dtype)`` with PyTorch's
keyword-only ``memory_format`` (default ``preserve_format``). PyTorch's OpInfo samples pass
``x.float(memory_format=torch.contiguous_format)``; without the keyword each raised TypeError.
Attached at import, replacing the plain ``to(dtype)`` one-liners of ``tensor_methods.py`` and
``methods.py``.
"""

from __future__ import annotations

from typing import Any

from glassgrad import dtypes
from glassgrad.memory_formats import preserve_format
from glassgrad.tensor import Tensor

__all__: list[str] = []

_CASTS = {
    "float": "float32", "double": "float64", "half": "float16", "bfloat16": "bfloat16",
    "long": "int64", "int": "int32", "short": "int16", "char": "int8", "byte": "uint8",
    "bool": "bool_", "cfloat": "complex64", "cdouble": "complex128",
}  # fmt: skip


def _cast(name: str, dtype_name: str) -> Any:
    dtype = getattr(dtypes, dtype_name)

    def cast(self: Tensor, *, memory_format: Any = preserve_format) -> Tensor:
        if memory_format is preserve_format:  # the common call: no keyword for ``to`` to check
            return self.to(dtype)
        return self.to(dtype, memory_format=memory_format)

    cast.__name__, cast.__qualname__ = name, f"Tensor.{name}"
    cast.__doc__ = f"``self.to({dtype_name.rstrip('_')}, memory_format=memory_format)``; self when it is one."
    return cast


for _name, _dtype in _CASTS.items():
    setattr(Tensor, _name, _cast(_name, _dtype))
