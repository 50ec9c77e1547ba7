"""PyTorch's deprecated reading of a uint8 condition as a mask (``torch.where``): read as ``!= 0``
with a UserWarning; any other non-bool dtype is refused, as PyTorch refuses it. (A uint8 index is
read the same way in ``indexing.py``; ``masked_fill``/``masked_select`` refuse uint8, as PyTorch.)"""

from __future__ import annotations

import warnings
from typing import Any

from glassgrad.errors import DTypeError
from glassgrad.user_frames import user_stacklevel

__all__ = ["byte_condition"]


def byte_condition(op: str, cond: Any) -> Any:
    """``cond`` (an array that is not bool) as a bool array when it is uint8, else a DTypeError."""
    if str(cond.dtype) != "uint8":
        raise DTypeError(f"{op}: expected a bool (or, deprecated, uint8) condition, got {cond.dtype}")
    warnings.warn(
        f"{op}: received a uint8 condition tensor, read as a mask as PyTorch does (deprecated there "
        "too); use a bool condition",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
    return cond != 0
