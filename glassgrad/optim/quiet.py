"""The built-in optimizers' steps run with NumPy's floating-point warnings off, as PyTorch's run
without a word: an update on a huge or infinite gradient overflows to inf (the parameter's value
is the same in both libraries), and NumPy would otherwise warn from inside the optimizer.

A user's own optimizer (a subclass with its own ``step``) is not wrapped: its Tensor ops are
quiet anyway (every op's forward is, ``Function.apply``), and NumPy code of its own keeps the
user's NumPy error state."""

from __future__ import annotations

import functools
from typing import Any

from glassgrad.backend import quiet_end, quiet_start

__all__ = ["quiet_step"]


def quiet_step(cls: type) -> type:
    """``cls.step`` (when ``cls`` defines one) wrapped to run with NumPy's warnings off."""
    step = cls.__dict__.get("step")
    if step is None or getattr(step, "__quiet__", False):
        return cls

    @functools.wraps(step)
    def quiet(self: Any, *args: Any, **kwargs: Any) -> Any:
        token = quiet_start()
        try:
            return step(self, *args, **kwargs)
        finally:
            quiet_end(token)

    quiet.__quiet__ = True  # type: ignore[attr-defined]
    cls.step = quiet
    return cls
