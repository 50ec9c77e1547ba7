"""``glassgrad.amp`` (PyTorch's ``torch.amp``): ``autocast`` and ``GradScaler``.

``GradScaler("cpu")`` scales losses and skips non-finite steps exactly as PyTorch's does.
``autocast`` accepts PyTorch's arguments and keeps its state, but casts nothing: NumPy has no
bfloat16 and no fast float16 matrix product, so ops run in their inputs' dtypes at full precision
(an enabled 'cpu' region warns once saying so). ``cuda_amp`` and ``cpu_amp`` hold the deprecated
``torch.cuda.amp`` / ``torch.cpu.amp`` spellings (``glassgrad.cuda.amp`` is ``cuda_amp``).
"""

from glassgrad.amp.autocast_mode import (
    autocast,
    clear_autocast_cache,
    custom_bwd,
    custom_fwd,
    get_autocast_dtype,
    is_autocast_available,
    is_autocast_cache_enabled,
    is_autocast_enabled,
    set_autocast_cache_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
)
from glassgrad.amp.grad_scaler import GradScaler

__all__ = [
    "autocast", "custom_bwd", "custom_fwd", "is_autocast_available", "GradScaler",
    "is_autocast_enabled", "set_autocast_enabled", "get_autocast_dtype", "set_autocast_dtype",
    "is_autocast_cache_enabled", "set_autocast_cache_enabled", "clear_autocast_cache",
]  # fmt: skip
