"""``glassgrad.xpu``: there is no Intel GPU backend, so a script's ``elif torch.xpu.is_available():``
branch is skipped, as on a PyTorch build without XPU, and seeding or synchronising does nothing.

>>> import glassgrad as gg
>>> gg.xpu.is_available(), gg.xpu.device_count()
(False, 0)
"""

from __future__ import annotations

# The same answers as glassgrad.cuda's: no device, nothing to seed, wait for or free.
from glassgrad.cuda import (
    device_count,
    empty_cache,
    is_available,
    is_initialized,
    manual_seed,
    manual_seed_all,
    synchronize,
)

__all__ = [
    "is_available", "device_count", "is_initialized", "manual_seed", "manual_seed_all",
    "synchronize", "empty_cache",
]  # fmt: skip
