"""PyTorch's top-level autocast state functions beside ``torch.is_autocast_enabled`` /
``torch.get_autocast_dtype``: the per-device spellings PyTorch 2.13 still has but deprecates
(``torch.get_autocast_gpu_dtype()``, ``torch.is_autocast_cpu_enabled()``, ``set_autocast_cpu_dtype``
... for 'cpu', 'cuda', 'ipu' and 'xla', each warning ``DeprecationWarning`` with PyTorch's message),
the cast-cache switches and the nesting counter (``autocast_increment_nesting``).

They read and write the same per-thread state as ``glassgrad.autocast`` (``autocast_mode.py``), so
``with autocast("cpu"):`` is seen by ``is_autocast_cpu_enabled()`` and the other way round. Code
written for older PyTorch calls them (timm's ``fast_norm`` before ``get_autocast_dtype`` existed,
``torch.get_autocast_gpu_dtype()`` in custom CUDA-less kernels' fallbacks).

>>> import glassgrad as gg
>>> gg.autocast_increment_nesting(), gg.autocast_decrement_nesting()
(1, 0)
"""

from __future__ import annotations

import warnings
from typing import Any

from glassgrad.amp import autocast_mode
from glassgrad.amp.autocast_mode import (
    clear_autocast_cache,
    get_autocast_dtype,
    is_autocast_cache_enabled,
    is_autocast_enabled,
    set_autocast_cache_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
)
from glassgrad.dtypes import DType
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "get_autocast_cpu_dtype", "get_autocast_gpu_dtype", "get_autocast_ipu_dtype", "get_autocast_xla_dtype",
    "set_autocast_cpu_dtype", "set_autocast_gpu_dtype", "set_autocast_ipu_dtype", "set_autocast_xla_dtype",
    "is_autocast_cpu_enabled", "is_autocast_ipu_enabled", "is_autocast_xla_enabled",
    "set_autocast_cpu_enabled", "set_autocast_ipu_enabled", "set_autocast_xla_enabled",
    "is_autocast_cache_enabled", "set_autocast_cache_enabled", "clear_autocast_cache",
    "autocast_increment_nesting", "autocast_decrement_nesting",
]  # fmt: skip


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"{old} is deprecated. Please use {new} instead.", DeprecationWarning, stacklevel=user_stacklevel()
    )


def _bool_arg(name: str, value: Any) -> bool:
    """PyTorch's binding refuses anything but a bool (``1``, ``"yes"``: ``TypeError``)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name}: enabled must be a bool (got {autocast_mode._type_name(value)})")
    return value


def _dtype_arg(name: str, value: Any) -> DType:
    if not isinstance(value, DType):
        raise TypeError(f"{name}: dtype must be a glassgrad dtype (got {autocast_mode._type_name(value)})")
    return value


def _getter(kind: str, device: str) -> Any:
    def get_dtype() -> Any:
        _deprecated(f"torch.get_autocast_{kind}_dtype()", f"torch.get_autocast_dtype('{device}')")
        return get_autocast_dtype(device)

    def set_dtype(dtype: Any) -> None:
        _dtype_arg(f"set_autocast_{kind}_dtype", dtype)
        _deprecated(f"torch.set_autocast_{kind}_dtype(dtype)", f"torch.set_autocast_dtype('{device}', dtype)")
        set_autocast_dtype(device, dtype)

    def is_enabled() -> bool:
        _deprecated(f"torch.is_autocast_{kind}_enabled()", f"torch.is_autocast_enabled('{device}')")
        return is_autocast_enabled(device)

    def set_enabled(enabled: bool) -> None:
        _bool_arg(f"set_autocast_{kind}_enabled", enabled)
        _deprecated(
            f"torch.set_autocast_{kind}_enabled(enabled)", f"torch.set_autocast_enabled('{device}', enabled)"
        )
        set_autocast_enabled(device, enabled)

    for fn, stem in ((get_dtype, "get_autocast_{}_dtype"), (set_dtype, "set_autocast_{}_dtype")):
        fn.__name__ = fn.__qualname__ = stem.format(kind)
    is_enabled.__name__ = is_enabled.__qualname__ = f"is_autocast_{kind}_enabled"
    set_enabled.__name__ = set_enabled.__qualname__ = f"set_autocast_{kind}_enabled"
    return get_dtype, set_dtype, is_enabled, set_enabled


get_autocast_cpu_dtype, set_autocast_cpu_dtype, is_autocast_cpu_enabled, set_autocast_cpu_enabled = _getter(
    "cpu", "cpu"
)
get_autocast_ipu_dtype, set_autocast_ipu_dtype, is_autocast_ipu_enabled, set_autocast_ipu_enabled = _getter(
    "ipu", "ipu"
)
get_autocast_xla_dtype, set_autocast_xla_dtype, is_autocast_xla_enabled, set_autocast_xla_enabled = _getter(
    "xla", "xla"
)
# CUDA's: only the dtype pair (PyTorch's ``is_autocast_enabled()`` without a device is CUDA's)
get_autocast_gpu_dtype, set_autocast_gpu_dtype = _getter("gpu", "cuda")[:2]


def autocast_increment_nesting() -> int:
    """One more open autocast region in this thread; returns the new count (PyTorch's counter,
    the one ``autocast.__enter__`` raises)."""
    autocast_mode._state.nesting += 1
    return autocast_mode._state.nesting


def autocast_decrement_nesting() -> int:
    """One autocast region fewer; returns the new count (PyTorch lets it go below 0, and so does this)."""
    autocast_mode._state.nesting -= 1
    return autocast_mode._state.nesting
