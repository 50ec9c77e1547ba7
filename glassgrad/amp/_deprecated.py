"""The deprecated ``torch.cuda.amp`` / ``torch.cpu.amp`` classes, made for one device type: each
warns ``FutureWarning`` with PyTorch's words when constructed, then is ``amp.autocast`` /
``amp.GradScaler`` for that device (so ``cuda``'s warn again and disable themselves)."""

from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

from glassgrad import dtypes
from glassgrad.amp import autocast_mode
from glassgrad.amp.grad_scaler import GradScaler
from glassgrad.user_frames import user_stacklevel


def _deprecation(name: str, device: str) -> str:
    return (
        f"`torch.{device}.amp.{name}(args...)` is deprecated. "
        f"Please use `torch.amp.{name}('{device}', args...)` instead."
    )


def make_autocast(device: str) -> type:
    default = autocast_mode.BFLOAT16 if device == "cpu" else dtypes.float16

    class autocast(autocast_mode.autocast):  # noqa: N801 - PyTorch's name
        __doc__ = f"Deprecated: ``glassgrad.amp.autocast('{device}', ...)`` (warns ``FutureWarning``)."

        def __init__(self, enabled: bool = True, dtype: Any = default, cache_enabled: bool = True) -> None:
            warnings.warn(_deprecation("autocast", device), FutureWarning, stacklevel=user_stacklevel())
            super().__init__(device, enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)

    autocast.__qualname__ = "autocast"
    autocast.__module__ = f"glassgrad.{device}.amp"
    return autocast


def make_grad_scaler(device: str) -> type:
    class _GradScaler(GradScaler):
        __doc__ = f"Deprecated: ``glassgrad.amp.GradScaler('{device}', ...)`` (warns ``FutureWarning``)."

        def __init__(
            self,
            init_scale: float = 2.0**16,
            growth_factor: float = 2.0,
            backoff_factor: float = 0.5,
            growth_interval: int = 2000,
            enabled: bool = True,
        ) -> None:
            warnings.warn(_deprecation("GradScaler", device), FutureWarning, stacklevel=user_stacklevel())
            super().__init__(
                device,
                init_scale=init_scale,
                growth_factor=growth_factor,
                backoff_factor=backoff_factor,
                growth_interval=growth_interval,
                enabled=enabled,
            )

    _GradScaler.__name__ = _GradScaler.__qualname__ = "GradScaler"
    _GradScaler.__module__ = f"glassgrad.{device}.amp"
    return _GradScaler


def make_custom(device: str) -> tuple[Callable, Callable]:
    def custom_fwd(fwd: Callable | None = None, *, cast_inputs: Any = None) -> Callable:
        warnings.warn(
            f"`torch.{device}.amp.custom_fwd(args...)` is deprecated. "
            f"Please use `torch.amp.custom_fwd(args..., device_type='{device}')` instead.",
            FutureWarning,
            stacklevel=user_stacklevel(),
        )
        return functools.partial(autocast_mode.custom_fwd, device_type=device)(
            fwd=fwd, cast_inputs=cast_inputs
        )

    def custom_bwd(bwd: Callable) -> Callable:
        warnings.warn(
            f"`torch.{device}.amp.custom_bwd(args...)` is deprecated. "
            f"Please use `torch.amp.custom_bwd(args..., device_type='{device}')` instead.",
            FutureWarning,
            stacklevel=user_stacklevel(),
        )
        return autocast_mode.custom_bwd(bwd, device_type=device)

    return custom_fwd, custom_bwd
