"""``glassgrad.mps``: there is no Apple-GPU backend, as in a PyTorch build without MPS.

Library code builds tables of per-backend helpers at import time (diffusers' ``torch_utils``:
``{"mps": torch.mps.empty_cache, ...}``), so every name exists. As in PyTorch's CPU build,
``is_available()`` is False, ``device_count()`` 0 and ``manual_seed`` does nothing; the calls only
an MPS device can answer raise ``RuntimeError`` naming the function.

>>> import glassgrad as gg
>>> gg.mps.is_available(), gg.mps.device_count()
(False, 0)
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "is_available", "device_count", "manual_seed", "seed", "get_rng_state", "set_rng_state",
    "synchronize", "empty_cache", "current_allocated_memory", "driver_allocated_memory",
    "recommended_max_memory", "set_per_process_memory_fraction",
]  # fmt: skip


def _no_mps(op: str) -> RuntimeError:
    return RuntimeError(
        f"mps.{op}: cannot execute without the MPS backend (glassgrad computes on the CPU only; "
        "guard the call with glassgrad.mps.is_available())"
    )


def is_available() -> bool:
    """False: glassgrad computes on the CPU."""
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Does nothing, as in PyTorch without MPS (seed the CPU generator with ``manual_seed``)."""


def seed() -> None:
    raise _no_mps("seed")


def get_rng_state(device: Any = "mps") -> Any:
    raise _no_mps("get_rng_state")


def set_rng_state(new_state: Any, device: Any = "mps") -> None:
    raise _no_mps("set_rng_state")


def synchronize() -> None:
    raise _no_mps("synchronize")


def empty_cache() -> None:
    raise _no_mps("empty_cache")


def current_allocated_memory() -> int:
    raise _no_mps("current_allocated_memory")


def driver_allocated_memory() -> int:
    raise _no_mps("driver_allocated_memory")


def recommended_max_memory() -> int:
    raise _no_mps("recommended_max_memory")


def set_per_process_memory_fraction(fraction: float) -> None:
    raise _no_mps("set_per_process_memory_fraction")
