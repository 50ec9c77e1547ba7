"""``torch.utils.deterministic``: the ``fill_uninitialized_memory`` switch (on by default). With
``use_deterministic_algorithms(True)`` it makes ``empty*`` and a growing ``resize_`` fill their new
memory with NaN (floating, complex) or the dtype's largest value (integers; True for bool), as
PyTorch's, so that reading memory never written shows.

>>> import glassgrad as gg
>>> gg.utils.deterministic.fill_uninitialized_memory
True
"""

from __future__ import annotations

import sys
import types

from glassgrad import deterministic as _det

__all__ = ["fill_uninitialized_memory"]  # noqa: F822 - a property of the module's class, below


class _Deterministic(types.ModuleType):
    """The module's class: ``fill_uninitialized_memory`` reads and sets the flag in
    ``glassgrad.deterministic`` (as PyTorch's module property over its C++ flag)."""

    @property
    def fill_uninitialized_memory(self) -> bool:
        return _det._state["fill"]

    @fill_uninitialized_memory.setter
    def fill_uninitialized_memory(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"fill_uninitialized_memory: expected a bool, got {type(mode).__name__}")
        _det._state["fill"] = mode


sys.modules[__name__].__class__ = _Deterministic
