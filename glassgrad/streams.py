"""``glassgrad.Stream`` and ``glassgrad.Event``: PyTorch's device-generic stream and event, as its
CPU build has them. glassgrad runs every op at once, in order, on the CPU, so a CPU stream is a
queue with nothing pending: ``query()`` is True, ``synchronize()`` and ``with stream:`` do nothing.
As in PyTorch, the CPU backend has no events: making an ``Event`` works, but recording or waiting
on one raises ``RuntimeError``; a CUDA (or other accelerator) device raises at construction.

Library code names them in annotations and defaults (diffusers' group offloading:
``stream: torch.cuda.Stream | torch.Stream | None = None``, port round 39).

>>> import glassgrad as gg
>>> s = gg.Stream()
>>> s.device, s.query()
(device(type='cpu'), True)
"""

from __future__ import annotations

from typing import Any

from glassgrad.device import device as _device

__all__ = ["Stream", "Event"]


def _cpu_only(op: str, where: Any) -> _device:
    if where is None:
        return _device("cpu")
    if isinstance(where, int) and not isinstance(where, bool):
        raise RuntimeError(f"{op}: cannot access accelerator device {where} when none is available")
    dev = _device(where)
    if dev.type not in ("cpu", "meta"):
        raise RuntimeError(
            f"{op}: glassgrad computes on the CPU only, there is no {dev.type} device (got {where!r})"
        )
    return dev


# PyTorch's c10::DeviceType numbers, which Stream.device_type holds
_DEVICE_TYPE = {"cpu": 0, "meta": 14}


def _no_events(op: str) -> RuntimeError:
    return RuntimeError(f"{op}: cpu backend doesn't support events.")


class Stream:
    """An in-order queue of work on a device; on the CPU nothing is ever pending."""

    def __init__(self, device: Any = None, *, priority: int = 0) -> None:
        self.device = _cpu_only("Stream", device)
        self.device_type = _DEVICE_TYPE[self.device.type]
        self.device_index = -1
        self.stream_id = 0

    def query(self) -> bool:
        return True

    def synchronize(self) -> None:
        return None

    def wait_event(self, event: Event) -> None:
        return None

    def wait_stream(self, stream: Stream) -> None:
        raise _no_events("Stream.wait_stream")

    def record_event(self, event: Event | None = None) -> Event:
        raise _no_events("Stream.record_event")

    def is_capturing(self) -> bool:
        return False

    @property
    def native_handle(self) -> int:
        raise RuntimeError("Stream.native_handle: Backend doesn't support getting stream native handle.")

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Stream):
            return NotImplemented
        return (self.device_type, self.device_index, self.stream_id) == (
            other.device_type,
            other.device_index,
            other.stream_id,
        )

    def __hash__(self) -> int:
        return hash((self.device_type, self.device_index, self.stream_id))

    def __repr__(self) -> str:
        return (
            f"torch.Stream device_type={self.device.type}, device_index={self.device_index}, "
            f"stream_id={self.stream_id}"
        )


class Event:
    """A synchronisation marker on a stream; the CPU backend has none, so recording one raises."""

    def __init__(
        self,
        device: Any = None,
        *,
        enable_timing: bool = False,
        blocking: bool = False,
        interprocess: bool = False,
    ) -> None:
        self.device = _cpu_only("Event", device)
        self.event_id = 0
        self._flag = int(bool(enable_timing))

    def query(self) -> bool:
        return True

    def synchronize(self) -> None:
        return None

    def wait(self, stream: Stream | None = None) -> None:
        return None

    def record(self, stream: Stream | None = None) -> None:
        raise _no_events("Event.record")

    def elapsed_time(self, end_event: Event) -> float:
        if not (self._flag and getattr(end_event, "_flag", 0)):
            raise ValueError(
                "Event.elapsed_time: Both events must be created with argument 'enable_timing=True'."
            )
        raise _no_events("Event.elapsed_time")

    def __repr__(self) -> str:
        return (
            f"torch.Event device_type={self.device.type}, device_index=-1, "
            f"event_flag={self._flag}, event_id={self.event_id}"
        )
