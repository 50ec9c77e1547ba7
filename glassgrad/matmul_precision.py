"""``torch.set_float32_matmul_precision`` / ``get_float32_matmul_precision``.

PyTorch lets float32 products run in lower internal precision ("high": TF32 or bfloat16x3,
"medium": bfloat16) on hardware that has it. glassgrad multiplies with NumPy's float32 BLAS,
which has no such mode, so every setting computes at "highest"; the setting is kept and read
back, as scripts that set it expect, and an unknown name is ignored with a warning, as PyTorch.

>>> import glassgrad as gg
>>> gg.get_float32_matmul_precision()
'highest'
>>> gg.set_float32_matmul_precision("high")
>>> gg.get_float32_matmul_precision()
'high'
>>> gg.set_float32_matmul_precision("highest")
"""

from __future__ import annotations

import warnings

from glassgrad.user_frames import user_stacklevel

__all__ = ["get_float32_matmul_precision", "set_float32_matmul_precision"]

_PRECISIONS = ("highest", "high", "medium")
_current = ["highest"]


def set_float32_matmul_precision(precision: str) -> None:
    """Record the float32 matmul precision ("highest", "high" or "medium"); glassgrad's
    products are always computed at "highest"."""
    if not isinstance(precision, str):
        raise TypeError(f"set_float32_matmul_precision: expected a str, got {type(precision).__name__}")
    if precision not in _PRECISIONS:
        warnings.warn(
            f"set_float32_matmul_precision: {precision!r} is not one of 'highest', 'high', or "
            "'medium'; the call has no effect",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
        return
    _current[0] = precision


def get_float32_matmul_precision() -> str:
    """The precision last set with ``set_float32_matmul_precision`` ("highest" by default)."""
    return _current[0]
