"""``glassgrad.cpu`` (PyTorch's ``torch.cpu``): the device glassgrad always computes on, and the
deprecated ``torch.cpu.amp`` spellings (``cpu.amp.autocast``, ``cpu.amp.GradScaler``).

>>> import glassgrad as gg
>>> gg.cpu.is_available(), gg.cpu.device_count(), gg.cpu.current_device()
(True, 1, 'cpu')
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["is_available", "is_initialized", "device_count", "current_device", "synchronize", "amp"]


def is_available() -> bool:
    return True


def is_initialized() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def synchronize(device: Any = None) -> None:
    """Wait for the CPU's queued work: NumPy runs every op before it returns, so there is none."""


# Registered as a module so ``from glassgrad.cpu.amp import autocast`` works, as in PyTorch.
from glassgrad.amp import cpu_amp as amp  # noqa: E402

sys.modules[__name__ + ".amp"] = amp
# A package, as torch.cpu is, so `torch.cpu.amp` imports through a `torch` -> `glassgrad` hook.
__path__: list[str] = []
