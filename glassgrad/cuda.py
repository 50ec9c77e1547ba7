"""``glassgrad.cuda``: there is no GPU backend, so code that asks whether one exists hears no.

>>> import glassgrad as gg
>>> gg.cuda.is_available()
False
"""

from __future__ import annotations

__all__ = ["is_available", "device_count"]


def is_available() -> bool:
    """False: glassgrad computes on the CPU (``device = "cuda" if is_available() else "cpu"`` ports)."""
    return False


def device_count() -> int:
    return 0
