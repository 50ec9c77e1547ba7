"""``TaskSpec`` and ``Measurement``: what was timed, and the times it took.

A ``Measurement`` holds ``raw_times``, each the wall time of one block of ``number_per_run``
runs of the statement; ``times`` are those per run. Its statistics (median, mean, IQR: linear
quantiles, as ``torch.quantile``) and its printed form follow ``torch.utils.benchmark``'s, so a
ported benchmark prints the same layout::

    <glassgrad.utils.benchmark.measurement.Measurement object at 0x7f...>
    x * y
      Median: 2.34 us
      IQR:    0.07 us (2.31 to 2.38)
      424 measurements, 1000 runs per measurement, 1 thread

Both classes are plain dataclasses of numbers and strings, so they pickle (for A/B runs in
two environments) and compare by value.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import math
import textwrap
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from glassgrad.threads import get_num_threads, set_num_threads
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "TaskSpec",
    "Measurement",
    "select_unit",
    "unit_to_english",
    "trim_sigfig",
    "ordered_unique",
    "set_torch_threads",
]

_MAX_SIGNIFICANT_FIGURES = 4
_MIN_CONFIDENCE_INTERVAL = 25e-9  # below the timer's resolution: never claim more digits
_IQR_WARN_THRESHOLD = 0.1
_IQR_GROSS_WARN_THRESHOLD = 0.25


@dataclasses.dataclass(frozen=True, repr=False)
class TaskSpec:
    """What a ``Timer`` runs and how it is labelled (everything but its globals)."""

    stmt: str
    setup: str
    global_setup: str = ""
    label: str | None = None
    sub_label: str | None = None
    description: str | None = None
    env: str | None = None
    num_threads: int = 1

    @property
    def title(self) -> str:
        """``label: sub_label``, else the one-line ``stmt``, else ``stmt:`` and the indented code."""
        suffix = f": {self.sub_label}" if self.sub_label else ""
        if self.label is not None:
            return self.label + suffix
        if "\n" not in self.stmt:
            return self.stmt + suffix
        sub = f" ({self.sub_label})" if self.sub_label else ""
        return f"stmt:{sub}\n{textwrap.indent(self.stmt, '  ')}"

    def setup_str(self) -> str:
        if not self.setup or self.setup == "pass":
            return ""
        if "\n" in self.setup:
            return "setup:\n" + textwrap.indent(self.setup, "  ")
        return f"setup: {self.setup}"

    def summarize(self) -> str:
        """The title, description and setup lines of a printed result."""
        parts = [self.title, self.description or "", self.setup_str()]
        # a multi-line part is followed by a blank line, as PyTorch prints it
        return "\n".join(p + "\n" if "\n" in p else p for p in parts if p)


_TASKSPEC_FIELDS = tuple(f.name for f in dataclasses.fields(TaskSpec))


@dataclasses.dataclass(repr=False)
class Measurement:
    """The wall times of one timed statement: ``raw_times[i]`` covers ``number_per_run`` runs.

    The ``TaskSpec`` fields (``stmt``, ``label``, ``num_threads`` ...) read through, as
    ``m.label``.
    """

    number_per_run: int
    raw_times: list[float]
    task_spec: TaskSpec
    metadata: dict[Any, Any] | None = None  # the caller's own payload; never read here

    def __post_init__(self) -> None:
        self._sorted_times: tuple[float, ...] = ()
        self._warnings: tuple[str, ...] = ()
        self._median = self._mean = self._p25 = self._p75 = -1.0

    def __getattr__(self, name: str) -> Any:
        # only reached when normal lookup fails, so the dataclass fields are never forwarded
        if name in _TASKSPEC_FIELDS:
            return getattr(self.task_spec, name)
        raise AttributeError(f"'Measurement' object has no attribute '{name}'")

    @property
    def times(self) -> list[float]:
        """Seconds per run, one value per block."""
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def median(self) -> float:
        self._lazy_init()
        return self._median

    @property
    def mean(self) -> float:
        self._lazy_init()
        return self._mean

    @property
    def iqr(self) -> float:
        self._lazy_init()
        return self._p75 - self._p25

    @property
    def significant_figures(self) -> int:
        """How many digits of the median the spread supports (1 to 4), for ``Compare``.

        A rough 90% interval of the median, ``1.645 std / sqrt(n)`` over the middle half of the
        times (the tails are where the noise lives), floored at 25 ns.
        """
        self._lazy_init()
        n = len(self._sorted_times)
        middle = np.asarray(self._sorted_times[n // 4 : math.ceil(3 * n / 4)], dtype=np.float64)
        interval = max(1.645 * float(middle.std()) / math.sqrt(len(middle)), _MIN_CONFIDENCE_INTERVAL)
        figures = math.floor(math.log10(self._median / interval))
        return min(max(figures, 1), _MAX_SIGNIFICANT_FIGURES)

    @property
    def has_warnings(self) -> bool:
        self._lazy_init()
        return bool(self._warnings)

    def _lazy_init(self) -> None:
        if not self.raw_times or self._sorted_times:
            return
        self._sorted_times = tuple(sorted(self.times))
        times = np.asarray(self._sorted_times, dtype=np.float64)
        self._p25, self._median, self._p75 = (float(q) for q in np.quantile(times, (0.25, 0.5, 0.75)))
        self._mean = float(times.mean())
        if not self.meets_confidence(_IQR_GROSS_WARN_THRESHOLD):
            self._add_warning("This suggests significant environmental influence.")
        elif not self.meets_confidence(_IQR_WARN_THRESHOLD):
            self._add_warning("This could indicate system fluctuation.")

    def _add_warning(self, why: str) -> None:
        spread = self.iqr / self.median * 100
        self._warnings += (
            f"  WARNING: Interquartile range is {spread:.1f}% of the median measurement.\n           {why}",
        )

    def meets_confidence(self, threshold: float = _IQR_WARN_THRESHOLD) -> bool:
        """Whether IQR / median is below ``threshold``."""
        return self.iqr / self.median < threshold

    @property
    def title(self) -> str:
        return self.task_spec.title

    @property
    def as_row_name(self) -> str:
        return self.sub_label or self.stmt or "[Unknown]"

    def __repr__(self) -> str:
        self._lazy_init()
        n = len(self._sorted_times)
        unit, scale = select_unit(self._median)
        threads = self.num_threads
        lines = [object.__repr__(self), self.task_spec.summarize()]
        lines.append(f"  {'Median: ' if n > 1 else ''}{self._median / scale:.2f} {unit}")
        if n >= 4:  # a spread of fewer than four blocks says little
            lines.append(
                f"  IQR:    {self.iqr / scale:.2f} {unit} ({self._p25 / scale:.2f} to {self._p75 / scale:.2f})"
            )
        runs = "runs per measurement," if n > 1 else "runs ,"
        lines.append(
            f"  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} {runs} "
            f"{threads} thread{'s' if threads > 1 else ''}"
        )
        lines.extend(self._warnings)
        return "\n".join(lines).strip()

    @staticmethod
    def merge(measurements: Iterable[Measurement]) -> list[Measurement]:
        """One ``Measurement`` per distinct ``TaskSpec``, pooling the per-run times of replicates
        (``number_per_run`` becomes 1; metadata is dropped, as replicates may differ in it)."""
        groups: dict[TaskSpec, list[float]] = collections.defaultdict(list)
        for m in measurements:
            groups[m.task_spec].extend(m.times)
        return [Measurement(number_per_run=1, raw_times=t, task_spec=spec) for spec, t in groups.items()]


# select_unit, trim_sigfig, significant_figures (and Compare's column widths) work in float64;
# PyTorch's go through float32 tensors, so the two can differ only for a value within float32
# rounding (6e-8 relative) of a power of ten or of a rounding midpoint: 999.99999 ns is "ns"
# here, "us" there. Timings land there by chance only; float32 rounding would be no truer.
def select_unit(t: float) -> tuple[str, float]:
    """The unit that puts ``t`` seconds in [1, 1000): ``("us", 1e-6)`` for 2.5e-6."""
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(int(math.log10(t) // 3), "s")
    return unit, {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


def unit_to_english(u: str) -> str:
    """The unit's name: ``unit_to_english("us") == "microsecond"``."""
    return {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}[u]


def trim_sigfig(x: float, n: int) -> float:
    """``x`` rounded to ``n`` significant figures: ``trim_sigfig(3.14159, 2) == 3.1``."""
    if n != int(n):
        raise ValueError(f"trim_sigfig: expected an integer number of figures, got {n}")
    scale = 10.0 ** (math.ceil(math.log10(abs(x))) - n)
    return float(np.round(x / scale) * scale)


def ordered_unique(elements: Iterable[Any]) -> list[Any]:
    """The distinct elements in order of first appearance."""
    return list(dict.fromkeys(elements))


@contextlib.contextmanager
def set_torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` BLAS threads, restoring the previous count after.

    Without threadpoolctl the pool cannot be resized: the block runs with the threads the
    process has, after a warning (a measurement is still worth having).
    """
    prior = get_num_threads()
    try:
        set_num_threads(n)
        resized = True
    except RuntimeError as e:
        resized = False
        if n != prior:
            warnings.warn(
                f"benchmark: timing with {prior} threads, not {n}: {e}",
                RuntimeWarning,
                stacklevel=user_stacklevel(),
            )
    try:
        yield
    finally:
        if resized:
            set_num_threads(prior)
