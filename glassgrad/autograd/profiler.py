"""``torch.autograd.profiler`` for glassgrad: ``profile`` counts and times the ops that run inside
it, and ``key_averages().table()`` prints PyTorch's table (Name, Self CPU %, Self CPU, CPU total %,
CPU total, CPU time avg, # of Calls).

How an op is timed: the library calls its observers after each op (``autograd.observers``), not
before, so an op's time is the wall time since the previous event (the previous op, the start of
the profile or the end of a ``record_function`` block). In a loop of tensor ops that is the op
plus the little Python between two ops. Forward ops are named as the library names them (``mul``,
``div``; PyTorch: ``aten::mul``), backward nodes as their ``grad_fn`` (``MulBackward0``). Only the
CPU is profiled: ``use_cuda`` / ``use_device`` are accepted and ignored, there being no device
(the device and memory columns are 0, still accepted by ``table(sort_by=...)``).
``export_chrome_trace`` raises ``NotImplementedError``: only per-name totals are kept.

>>> import glassgrad as gg
>>> x = gg.ones(3, requires_grad=True)
>>> with gg.autograd.profiler.profile() as prof:
...     y = (x * 2).sum()
>>> [(e.key, e.count) for e in prof.key_averages()]
[('mul', 1), ('sum', 1)]
"""

from __future__ import annotations

import time
from typing import Any

from glassgrad.autograd.function import observers

__all__ = ["profile", "record_function", "emit_nvtx", "EventList", "FunctionEventAvg"]


class FunctionEventAvg:
    """One row of ``key_averages()``: every event of one name, times in microseconds."""

    def __init__(self, key: str, input_shapes: list | None = None) -> None:
        self.key = key
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.count = 0
        self.self_cpu_time_total = 0.0
        self.cpu_time_total = 0.0

    # PyTorch's device and memory columns, accepted by ``table(sort_by=...)``: always 0 here.
    cuda_time_total = self_cuda_time_total = device_time_total = self_device_time_total = 0.0
    cpu_memory_usage = self_cpu_memory_usage = 0

    @property
    def cpu_time(self) -> float:
        """Average CPU total per call, in microseconds."""
        return self.cpu_time_total / self.count if self.count else 0.0

    def __repr__(self) -> str:
        return (
            f"<FunctionEventAvg key={self.key} self_cpu_time={_fmt(self.self_cpu_time_total)} "
            f"cpu_time={_fmt(self.cpu_time)} count={self.count}>"
        )


_SORT_KEYS = (
    "self_cpu_time_total",
    "cpu_time_total",
    "cpu_time",
    "count",
    "cuda_time_total",
    "self_cuda_time_total",
    "device_time_total",
    "self_device_time_total",
    "cpu_memory_usage",
    "self_cpu_memory_usage",
)


class EventList(list):
    """A list of ``FunctionEventAvg`` rows with PyTorch's ``table()``."""

    _source: Any = None  # the profile that recorded them (``profile.function_events``)

    def key_averages(
        self, group_by_input_shapes: bool = False, group_by_stack_n: int = 0, **_: Any
    ) -> EventList:
        """PyTorch's ``EventList.key_averages``: the rows are per-name totals already (per name
        and input shapes with ``group_by_input_shapes`` of a profile that recorded shapes)."""
        if self._source is not None:
            return self._source.key_averages(group_by_input_shape=group_by_input_shapes)
        return EventList(self)

    def export_chrome_trace(self, path: str) -> None:
        """Not implemented, as ``profile.export_chrome_trace``."""
        raise NotImplementedError(
            "glassgrad.autograd.profiler.EventList.export_chrome_trace is not implemented: the "
            "profile keeps per-name totals only; use key_averages().table() instead"
        )

    def table(
        self, sort_by: str | None = None, row_limit: int = 100, header: str | None = None, **_: Any
    ) -> str:
        """PyTorch's profiler table, sorted (descending) by ``sort_by`` when given; "" when
        nothing ran, as PyTorch."""
        rows = list(self)
        if not rows:
            return ""
        if sort_by is not None:
            if sort_by not in _SORT_KEYS:
                raise ValueError(f"EventList.table: expected sort_by in {_SORT_KEYS}, got {sort_by!r}")
            rows.sort(key=lambda e: getattr(e, sort_by), reverse=True)
        if row_limit > 0:
            rows = rows[:row_limit]
        self_total = sum(e.self_cpu_time_total for e in self) or 1.0
        name_w = min(max([len(e.key) for e in rows] + [4]) + 4, 55)
        widths = [name_w] + [12] * 6
        titles = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]
        shapes = getattr(self, "_by_shape", False)
        if shapes:  # key_averages(group_by_input_shape=True) of a profile with record_shapes=True
            widths.append(min(max(len(str(e.input_shapes)) for e in rows) + 4, 80))
            titles.append("Input Shapes")
        rule = "".join("-" * w + "  " for w in widths)
        lines = [header] if header else []
        lines += [rule, "".join(t.rjust(w) + "  " for t, w in zip(titles, widths)), rule]
        for e in rows:
            cells = [
                e.key[: name_w - 3] + "..." if len(e.key) > name_w else e.key,
                f"{100 * e.self_cpu_time_total / self_total:.2f}%",
                _fmt(e.self_cpu_time_total),
                f"{100 * e.cpu_time_total / self_total:.2f}%",
                _fmt(e.cpu_time_total),
                _fmt(e.cpu_time),
                str(e.count),
            ]
            if shapes:
                text = str(e.input_shapes)
                cells.append(text if len(text) <= widths[-1] else text[: widths[-1] - 3] + "...")
            lines.append("".join(c.rjust(w) + "  " for c, w in zip(cells, widths)))
        lines += [rule, f"Self CPU time total: {_fmt(sum(e.self_cpu_time_total for e in self))}", ""]
        return "\n".join(lines)


def _fmt(us: float) -> str:
    """PyTorch's time format: 1.602us, 3.176ms, 1.250s."""
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


_active: list[profile] = []


class profile:  # noqa: N801 - PyTorch's name
    """Record every op run inside the ``with`` block (forward and backward), as
    ``torch.autograd.profiler.profile``. ``enabled=False`` records nothing."""

    def __init__(
        self,
        enabled: bool = True,
        *,
        use_cuda: bool = False,
        use_device: Any = None,
        record_shapes: bool = False,
        **_: Any,
    ) -> None:
        self.enabled = enabled
        self.record_shapes = record_shapes
        self._rows: dict[str, FunctionEventAvg] = {}
        self._shape_rows: dict[tuple[str, str], FunctionEventAvg] = {}  # with record_shapes
        self._last = 0.0
        self._open: list[list] = []  # record_function blocks: [name, start, op time inside]

    def __enter__(self) -> profile:
        if self.enabled:
            observers.forward.append(self._on_forward)
            observers.backward.append(self._on_backward)
            _active.append(self)
            self._last = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled and self in _active:  # not already stopped by ``_disable_profiler``
            observers.forward.remove(self._on_forward)
            observers.backward.remove(self._on_backward)
            _active.remove(self)

    def _row(self, key: str, shapes: list | None) -> list[FunctionEventAvg]:
        """The row of ``key`` and, when shapes are recorded, its row for these input shapes."""
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = FunctionEventAvg(key)
        if shapes is None or not self.record_shapes:
            return [row]
        by_shape = self._shape_rows.get((key, str(shapes)))
        if by_shape is None:
            by_shape = self._shape_rows[(key, str(shapes))] = FunctionEventAvg(key, shapes)
        return [row, by_shape]

    def _add(self, key: str, self_us: float, total_us: float, shapes: list | None = None) -> None:
        for row in self._row(key, shapes if shapes is not None else []):
            row.count += 1
            row.self_cpu_time_total += self_us
            row.cpu_time_total += total_us

    def _op(self, key: str, shapes: list | None = None) -> None:
        now = time.perf_counter()
        us = (now - self._last) * 1e6
        self._last = now
        self._add(key, us, us, shapes)
        for block in self._open:
            block[2] += us

    def _on_forward(self, fn: Any, node: Any, inputs: Any, output: Any, attrs: Any) -> None:
        self._op(fn.name, _shapes(inputs) if self.record_shapes else None)

    def _on_backward(self, node: Any, grad: Any, in_grads: Any) -> None:
        self._op(node.name(), _shapes((grad,)) if self.record_shapes else None)

    def _begin(self, name: str) -> list:
        self._row(name, [])  # rows in the order they start, as PyTorch
        self._op_pending_flush()
        block = [name, self._last, 0.0]  # the block starts where the next op's time does
        self._open.append(block)
        return block

    def _end(self, block: list) -> None:
        self._op_pending_flush()
        self._open.remove(block)
        total = (time.perf_counter() - block[1]) * 1e6
        self._add(block[0], max(total - block[2], 0.0), total)
        for outer in self._open:
            outer[2] += max(total - block[2], 0.0)

    def _op_pending_flush(self) -> None:
        self._last = time.perf_counter()  # Python outside any op is not charged to the next op

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0) -> EventList:
        """One row per op name, in the order first seen; with ``group_by_input_shape`` (and
        ``record_shapes=True``) one row per name and input shapes, and an Input Shapes column."""
        if group_by_input_shape and self.record_shapes:
            rows = EventList(e for e in self._shape_rows.values() if e.count)
            rows._by_shape = True
            return rows
        return EventList(e for e in self._rows.values() if e.count)

    @property
    def function_events(self) -> EventList:
        """PyTorch's recorded events, read by Lightning's ``PyTorchProfiler``: here the per-name
        rows, whose ``key_averages()`` is this profile's."""
        rows = self.key_averages()
        rows._source = self
        return rows

    def export_chrome_trace(self, path: str) -> None:
        """Not implemented: the profile keeps per-name totals, not the timed events a trace needs."""
        raise NotImplementedError(
            "glassgrad.autograd.profiler.profile.export_chrome_trace is not implemented: the "
            "profile keeps per-name totals only; use key_averages().table() instead"
        )

    def table(self, sort_by: str | None = None, row_limit: int = 100, **kwargs: Any) -> str:
        return self.key_averages().table(sort_by=sort_by, row_limit=row_limit, **kwargs)

    @property
    def self_cpu_time_total(self) -> float:
        """Total self CPU time in microseconds."""
        return sum(e.self_cpu_time_total for e in self._rows.values())

    def __str__(self) -> str:
        return self.table()


def _shapes(values: Any) -> list:
    """PyTorch's ``input_shapes``: each input's shape as a list, ``[]`` for a non-tensor."""
    out = []
    for v in values:
        shape = getattr(v, "shape", None)
        out.append(list(shape) if shape is not None else [])
    return out


class record_function:  # noqa: N801 - PyTorch's name
    """Label a block (or, as a decorator, a function) in the open profiles: it gets its own row,
    whose CPU total is the block's wall time and self time that less the ops inside."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name
        self._blocks: list = []

    def __enter__(self) -> record_function:
        self._blocks = [(p, p._begin(self.name)) for p in _active]
        return self

    def __exit__(self, *exc: object) -> None:
        for p, block in self._blocks:
            p._end(block)
        self._blocks = []

    def __call__(self, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with record_function(self.name):
                return fn(*args, **kwargs)

        return wrapper


class emit_nvtx:  # noqa: N801 - PyTorch's name
    """``torch.autograd.profiler.emit_nvtx``: NVTX ranges for NVIDIA's profilers. There is no GPU:
    ``enabled=False`` (the tuning guide's advice for training) runs the block as it is, and an
    enabled one raises, as PyTorch's CPU build does."""

    def __init__(self, enabled: bool = True, record_shapes: bool = False) -> None:
        self.enabled = enabled

    def __enter__(self) -> emit_nvtx:
        if self.enabled:
            raise RuntimeError("emit_nvtx: NVTX ranges need CUDA, and glassgrad has none; pass enabled=False")
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _profiler_enabled() -> bool:
    """Whether a profiler is recording now (``torch.autograd._profiler_enabled``; Lightning's
    ``PyTorchProfiler`` asks before it opens its own)."""
    return bool(_active)


def _disable_profiler() -> None:
    """Stop every profiler recording now (``torch.autograd._disable_profiler``); what they
    recorded so far stays in their tables."""
    for prof in list(_active):
        profile.__exit__(prof, None, None, None)
