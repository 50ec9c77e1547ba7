"""``glassgrad.xpu``: there is no Intel GPU backend, so a script's ``elif torch.xpu.is_available():``
branch is skipped, as on a PyTorch build without XPU, and seeding or synchronising does nothing.

>>> import glassgrad as gg
>>> gg.xpu.is_available(), gg.xpu.device_count()
(False, 0)
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "is_available", "device_count", "is_initialized", "manual_seed", "manual_seed_all",
    "synchronize", "empty_cache",
]  # fmt: skip


def is_available() -> bool:
    """False: glassgrad computes on the CPU."""
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Nothing to seed: there is no XPU generator."""


def manual_seed_all(seed: int) -> None:
    """Nothing to seed: there is no XPU generator."""


def synchronize(device: Any = None) -> None:
    """Nothing to wait for."""


def empty_cache() -> None:
    """No device memory is cached."""
