"""``glassgrad.accelerator``: PyTorch's device-agnostic accelerator API. glassgrad has none, so the
idiom ``device = torch.accelerator.current_accelerator() if torch.accelerator.is_available() else
"cpu"`` ports and picks the CPU.

>>> import glassgrad as gg
>>> gg.accelerator.is_available(), gg.accelerator.current_accelerator()
(False, None)
"""

from __future__ import annotations

from typing import Any

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index", "synchronize"]


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False) -> None:
    """The accelerator in use: None, as on a machine without one."""
    return None


def device_count() -> int:
    return 0


def current_device_index() -> int:
    raise RuntimeError("accelerator.current_device_index: glassgrad has no accelerator; use 'cpu'")


def synchronize(device: Any = None) -> None:
    """Wait for the accelerator: there is none."""
