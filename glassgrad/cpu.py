"""``glassgrad.cpu`` (PyTorch's ``torch.cpu``): the device glassgrad always computes on, the
deprecated ``torch.cpu.amp`` spellings (``cpu.amp.autocast``, ``cpu.amp.GradScaler``), and, for
device-agnostic code (``getattr(torch, device.type).stream(s)``), PyTorch's CPU ``Stream``,
``Event``, ``stream``/``StreamContext``, ``current_stream`` and ``set_device``, which do nothing
but track the selected stream, as PyTorch's.

>>> import glassgrad as gg
>>> gg.cpu.is_available(), gg.cpu.device_count(), gg.cpu.current_device()
(True, 1, 'cpu')
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = [
    "is_available",
    "is_initialized",
    "device_count",
    "current_device",
    "synchronize",
    "amp",
    "Stream",
    "Event",
    "StreamContext",
    "stream",
    "current_stream",
    "set_device",
]


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


class Stream:
    """A CPU stream: work runs in order as it is issued, so every method does nothing."""

    def __init__(self, priority: int = -1) -> None:
        pass

    def wait_stream(self, stream: Any) -> None:
        pass

    def record_event(self) -> None:
        pass

    def wait_event(self, event: Any) -> None:
        pass


class Event:
    """A CPU event: always complete (``query()`` is True)."""

    def query(self) -> bool:
        return True

    def record(self, stream: Any = None) -> None:
        pass

    def synchronize(self) -> None:
        pass

    def wait(self, stream: Any = None) -> None:
        pass


_default_cpu_stream = Stream()
_current = [_default_cpu_stream]


def current_stream(device: Any = None) -> Stream:
    """The stream ``stream(...)`` selected last (the default one outside); ``device`` is ignored."""
    return _current[0]


class StreamContext:
    """Select ``stream`` inside (None: leave the selection as it is)."""

    def __init__(self, stream: Stream | None) -> None:
        self.stream = stream
        self.prev_stream = _default_cpu_stream

    def __enter__(self) -> None:
        if self.stream is not None:
            self.prev_stream, _current[0] = _current[0], self.stream

    def __exit__(self, *exc: Any) -> None:
        if self.stream is not None:
            _current[0] = self.prev_stream


def stream(stream: Stream | None) -> StreamContext:
    """``StreamContext(stream)``."""
    return StreamContext(stream)


def set_device(device: Any) -> None:
    """Select the CPU device: there is one, so nothing."""


# Registered as a module so ``from glassgrad.cpu.amp import autocast`` works, as in PyTorch.
from glassgrad.amp import cpu_amp as amp  # noqa: E402

sys.modules[__name__ + ".amp"] = amp
# A package, as torch.cpu is, so `torch.cpu.amp` imports through a `torch` -> `glassgrad` hook.
__path__: list[str] = []
