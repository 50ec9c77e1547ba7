"""``glassgrad.accelerator``: PyTorch's device-agnostic accelerator API. glassgrad has none, so the
idiom ``device = torch.accelerator.current_accelerator() if torch.accelerator.is_available() else
"cpu"`` ports and picks the CPU, and what would use an accelerator raises PyTorch's
``RuntimeError`` ("Cannot access accelerator device when none is available"), as on a PyTorch
build without one: ``set_device_index(i)``, ``current_device_index()``, ``synchronize()``,
entering ``device_index(i)``.

>>> import glassgrad as gg
>>> gg.accelerator.is_available(), gg.accelerator.current_accelerator(), gg.accelerator.device_count()
(False, None, 0)
"""

from __future__ import annotations

import warnings
from typing import Any

from glassgrad.user_frames import user_stacklevel

__all__ = [
    "is_available", "current_accelerator", "device_count", "current_device_index", "current_device_idx",
    "set_device_index", "set_device_idx", "device_index", "synchronize",
]  # fmt: skip


def _none(fn: str, what: str = "") -> RuntimeError:
    return RuntimeError(
        f"accelerator.{fn}: Cannot access accelerator device when none is available{what} (glassgrad runs on "
        "the CPU; take the script's CPU branch)"
    )


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False) -> None:
    """The accelerator in use: None, as on a machine without one."""
    return None


def device_count() -> int:
    return 0


def current_device_index() -> int:
    """The index of the current accelerator: there is none (``RuntimeError``, as PyTorch's)."""
    raise _none("current_device_index")


def current_device_idx() -> int:
    """Deprecated name of ``current_device_index`` (PyTorch's FutureWarning, then its error)."""
    warnings.warn("Use `current_device_index` instead.", FutureWarning, stacklevel=user_stacklevel())
    raise _none("current_device_idx")


def set_device_index(device: Any) -> None:
    """Make accelerator ``device`` current. A negative index does nothing, as in PyTorch; any
    other index raises its ``RuntimeError``, and so does a device (PyTorch: "Accelerator expected")."""
    if device is None:
        raise ValueError(
            "accelerator.set_device_index: Expected a torch.device with a specified index or an integer, but got:None"
        )
    if isinstance(device, int) and not isinstance(device, bool):
        if device < 0:
            return None
        raise _none("set_device_index", f" (device index {device})")
    raise RuntimeError(
        f"accelerator.set_device_index: Accelerator expected, got {device!r} (glassgrad has no accelerator)"
    )


def set_device_idx(device: Any) -> None:
    """Deprecated name of ``set_device_index`` (with PyTorch's FutureWarning)."""
    warnings.warn("Use `set_device_index` instead.", FutureWarning, stacklevel=user_stacklevel())
    set_device_index(device)


class device_index:  # noqa: N801 - PyTorch's name
    """``with torch.accelerator.device_index(i):`` makes accelerator ``i`` current inside the
    block: None does nothing; an index raises PyTorch's ``RuntimeError`` on entering."""

    def __init__(self, device: Any, /) -> None:
        self.idx = device

    def __enter__(self) -> None:
        if self.idx is not None:
            raise _none("device_index", f" (device index {self.idx})")

    def __exit__(self, *exc: object) -> None:
        return None


def synchronize(device: Any = None) -> None:
    """Wait for the accelerator: there is none (``RuntimeError``, as PyTorch's without one)."""
    raise _none("synchronize")
