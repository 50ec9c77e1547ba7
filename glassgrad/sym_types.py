"""``torch.SymInt``/``SymFloat``/``SymBool`` and the ``torch.sym_*`` helpers.

PyTorch's symbolic numbers appear only while ``torch.compile``/``torch.export`` traces with dynamic
shapes; in eager code shapes are plain ints. glassgrad always runs eagerly, so these classes exist
for ``isinstance(n, (int, torch.SymInt))`` checks (torchrl's ``MLP``, tensordict's probabilistic
modules) and nothing is ever an instance of them; the helpers act on plain Python numbers.

>>> import glassgrad as gg
>>> isinstance(3, (int, gg.SymInt)), isinstance(3, gg.SymInt)
(True, False)
>>> gg.sym_max(2, 5), gg.sym_int(2.7), gg.sym_not(True)
(5, 2, False)
"""

from __future__ import annotations

import builtins
import math
from typing import Any

__all__ = ["SymBool", "SymFloat", "SymInt", "sym_float", "sym_int", "sym_max", "sym_min", "sym_not"]


class _SymNumber:
    """A traced symbolic number: glassgrad never makes one (it has no tracing of dynamic shapes)."""

    def __init__(self, node: Any) -> None:
        raise TypeError(
            f"{type(self).__name__}: glassgrad runs eagerly and has no symbolic shapes; "
            "use a plain Python number"
        )


class SymInt(_SymNumber):
    """``torch.SymInt``: a symbolic int (never an instance here)."""


class SymFloat(_SymNumber):
    """``torch.SymFloat``: a symbolic float (never an instance here)."""


class SymBool(_SymNumber):
    """``torch.SymBool``: a symbolic bool (never an instance here)."""


def sym_int(a: Any) -> int:
    """``int(a)`` rounding toward zero, as ``torch.sym_int``."""
    return a if isinstance(a, int) else math.trunc(a)


def sym_float(a: Any) -> float:
    """``float(a)``, as ``torch.sym_float``."""
    return float(a)


def sym_max(a: Any, b: Any) -> Any:
    """The larger of two numbers, as ``torch.sym_max``."""
    return builtins.max(a, b)


def sym_min(a: Any, b: Any) -> Any:
    """The smaller of two numbers, as ``torch.sym_min``."""
    return builtins.min(a, b)


def sym_not(a: Any) -> bool:
    """``not a``, as ``torch.sym_not``."""
    return not a
