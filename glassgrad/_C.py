# ruff: noqa: N999 - PyTorch's module name
"""``torch._C``: PyTorch's compiled extension. glassgrad has none; this module holds only the few
private hooks that published model code calls directly, as no-ops with PyTorch's return values.

torchvision's model constructors call ``torch._C._log_api_usage_once("torchvision.models...")``
(PyTorch's opt-in usage telemetry); here nothing is recorded.
"""

from __future__ import annotations

from typing import Any


def _log_api_usage_once(event: str) -> None:
    """Records nothing (glassgrad has no usage logging); returns None, as PyTorch's does."""
    if not isinstance(event, str):
        raise TypeError(f"_C._log_api_usage_once: expected an event name (str), got {type(event).__name__}")


def _get_tracing_state() -> None:
    """None: code under glassgrad is never traced (``torch.jit.is_tracing()`` is False)."""
    return None


def _is_tracing() -> bool:
    """False, as PyTorch's outside ``torch.jit.trace``: glassgrad never traces (asteroid-filterbanks'
    own ``script_if_tracing`` copy calls ``torch._C._is_tracing()`` on every filterbank call)."""
    return False


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(
        f"module 'glassgrad._C' has no attribute {name!r}: glassgrad has no compiled extension, "
        "only _log_api_usage_once, _get_tracing_state and _is_tracing"
    )
