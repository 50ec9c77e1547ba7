"""``torch.profiler`` for glassgrad: ``profile`` with PyTorch's keyword arguments, ``step()`` and
``schedule``, over the op counter and timer of ``glassgrad.autograd.profiler``.

Only the CPU is profiled (``ProfilerActivity.CPU``); asking for CUDA or another device is accepted
and records nothing more, as PyTorch does on a machine without one. ``record_shapes=True`` keeps
each op's input shapes for ``key_averages(group_by_input_shape=True)``; ``profile_memory``,
``with_stack``, ``with_flops`` and ``with_modules`` are accepted and ignored (the table keeps
per-name call counts and times). With a ``schedule``, ops are recorded only in the
steps where it answers RECORD or RECORD_AND_SAVE (each new cycle starts a fresh table), and
``on_trace_ready(prof)`` is called at the end of every cycle; without one, everything between
``start()`` and ``stop()`` is recorded and ``on_trace_ready`` is called at ``stop()``.

>>> import glassgrad as gg
>>> from glassgrad.profiler import profile, record_function, ProfilerActivity
>>> x = gg.ones(3)
>>> with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
...     with record_function("block"):
...         y = (x * 2).sum()
>>> [(e.key, e.count) for e in prof.key_averages()]
[('block', 1), ('mul', 1), ('sum', 1)]
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable, Iterable
from typing import Any

from glassgrad.autograd import profiler as _autograd_profiler
from glassgrad.autograd.profiler import EventList, record_function

__all__ = [
    "EventList",
    "ProfilerAction",
    "ProfilerActivity",
    "kineto_available",
    "profile",
    "record_function",
    "schedule",
    "supported_activities",
    "tensorboard_trace_handler",
]


class ProfilerActivity(enum.Enum):
    """The devices a profile may watch; glassgrad runs (and so records) only on the CPU."""

    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


def _default_schedule_fn(_: int) -> ProfilerAction:
    """PyTorch's schedule when none is given: record every step."""
    return ProfilerAction.RECORD


class ProfilerAction(enum.Enum):
    """What a schedule asks for at a step."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


_RECORDING = (ProfilerAction.WARMUP, ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)


def kineto_available() -> bool:
    """False: glassgrad's profiler is its own, not PyTorch's Kineto (Lightning reads this at import)."""
    return False


def supported_activities() -> set[ProfilerActivity]:
    """The activities glassgrad can record: the CPU."""
    return {ProfilerActivity.CPU}


def schedule(
    *, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0, skip_first_wait: int = 0
) -> Callable[[int], ProfilerAction]:
    """PyTorch's step schedule: skip ``skip_first`` steps, then cycles of ``wait`` idle steps,
    ``warmup`` steps and ``active`` recorded steps (the last one RECORD_AND_SAVE), ``repeat``
    cycles (0: forever). ``skip_first_wait=1`` drops the wait of the first cycle."""
    for name, n in (("wait", wait), ("warmup", warmup), ("repeat", repeat), ("skip_first", skip_first)):
        if n < 0:
            raise ValueError(f"schedule: expected {name} >= 0, got {n}")
    if active <= 0:
        raise ValueError(f"schedule: expected active > 0, got {active}")
    cycle = wait + warmup + active

    def action(step: int) -> ProfilerAction:
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait  # the first cycle starts at its warmup
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        pos = step % cycle
        if pos < wait:
            return ProfilerAction.NONE
        if pos < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if pos < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None, use_gzip: bool = False) -> Any:
    """Not supported: TensorBoard traces are out of glassgrad's scope; print the table instead."""
    raise NotImplementedError(
        "profiler.tensorboard_trace_handler: glassgrad writes no TensorBoard traces; "
        "use prof.key_averages().table() in on_trace_ready"
    )


class profile(_autograd_profiler.profile):  # noqa: N801 - PyTorch's name
    """Profile the ops run between ``start()`` and ``stop()`` (or inside ``with``), as
    ``torch.profiler.profile``; ``key_averages().table()`` prints PyTorch's CPU table."""

    def __init__(
        self,
        *,
        activities: Iterable[ProfilerActivity] | None = None,
        schedule: Callable[[int], ProfilerAction] | None = None,
        on_trace_ready: Callable[[profile], Any] | None = None,
        record_shapes: bool = False,
        profile_memory: bool = False,
        with_stack: bool = False,
        with_flops: bool = False,
        with_modules: bool = False,
        **kwargs: Any,
    ) -> None:
        acts = set(activities) if activities is not None else supported_activities()
        for a in acts:
            if not isinstance(a, ProfilerActivity):
                raise TypeError(f"profile: expected ProfilerActivity values, got {type(a).__name__}")
        super().__init__(enabled=ProfilerActivity.CPU in acts, record_shapes=record_shapes)
        self.activities = acts
        self.schedule = schedule
        self.on_trace_ready = on_trace_ready
        self.profile_memory, self.with_stack = profile_memory, with_stack
        self.with_flops, self.with_modules = with_flops, with_modules
        self.step_num = 0
        self.current_action = ProfilerAction.NONE
        self._attached = False

    def _action(self, step: int) -> ProfilerAction:
        return self.schedule(step) if self.schedule is not None else ProfilerAction.RECORD

    def _attach(self) -> None:
        if self.enabled and not self._attached:
            self._rows, self._shape_rows = {}, {}  # a new recording starts a fresh table
            super().__enter__()
            self._attached = True

    def _detach(self) -> None:
        if self._attached:
            super().__exit__(None, None, None)
            self._attached = False

    def start(self) -> None:
        """Begin at step 0 of the schedule (recording at once without a schedule)."""
        self.step_num = 0
        self.current_action = self._action(0)
        if self.current_action in _RECORDING:
            self._attach()

    def stop(self) -> None:
        """Stop recording; a cycle under way is handed to ``on_trace_ready``."""
        was = self.current_action
        self._detach()
        self.current_action = ProfilerAction.NONE
        if self.on_trace_ready is not None and was in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE):
            self.on_trace_ready(self)

    def step(self) -> None:
        """Mark the end of a training step and follow the schedule into the next one."""
        prev = self.current_action
        self.step_num += 1
        now = self._action(self.step_num)
        if prev is ProfilerAction.RECORD_AND_SAVE:
            self._detach()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)
        elif prev in _RECORDING and now not in _RECORDING:
            self._detach()
        if prev is ProfilerAction.WARMUP and now is not ProfilerAction.WARMUP:
            self._rows, self._shape_rows = {}, {}  # warmup steps are run, not reported
        self.current_action = now
        if now in _RECORDING:
            self._attach()

    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def events(self) -> EventList:
        """The recorded rows (glassgrad keeps per-name totals, not single events)."""
        return self.key_averages()


# ``torch.profiler.profiler`` is PyTorch's module holding ``profile`` (Lightning reads
# ``torch.profiler.profiler._default_schedule_fn``): the same names here
profiler = sys.modules[__name__]
sys.modules[__name__ + ".profiler"] = profiler
