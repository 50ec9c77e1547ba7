"""``Compare``: many ``Measurement`` s as one table per label, laid out as PyTorch lays it out::

    [------------- Batched dot --------------]
                       |  mul/sum  |    bmm
    1 threads: ------------------------------
          [1, 1]       |      5.9  |    11.2
          [64, 1024]   |     39.4  |   204.4
    2 threads: ------------------------------
          ...
    Times are in microseconds (us).

Rows are ``(num_threads, env, sub_label or stmt)``, grouped under a ``N threads:`` rule;
columns are ``description`` s; a cell is the median. Replicates of one task (same
``TaskSpec``) are pooled first (``Measurement.merge``). ``trim_significant_figures()`` prints
each cell with the digits its spread supports; ``colorize()`` marks each column's (or with
``rowwise=True`` each row's) best cell green and slow ones red, with ANSI codes;
``highlight_warnings()`` appends ``(! XX%)`` to cells whose IQR is over 10% of the median.
"""

from __future__ import annotations

import collections
import enum
import itertools
import math

from glassgrad.utils.benchmark.measurement import (
    Measurement,
    ordered_unique,
    select_unit,
    trim_sigfig,
    unit_to_english,
)

__all__ = ["Colorize", "Compare"]

BEST = "\033[92m"
GOOD = "\033[34m"
BAD = "\033[2m\033[91m"
VERY_BAD = "\033[31m"
BOLD = "\033[1m"
TERMINATE = "\033[0m"


class Colorize(enum.Enum):
    """Which cells ``Compare.colorize`` marks against: none, each column's best, or each row's."""

    NONE = "none"
    COLUMNWISE = "columnwise"
    ROWWISE = "rowwise"


def _digits(x: float) -> int:
    """Digits left of the point: ceil(log10 x)."""
    return math.ceil(math.log10(x))


class _Column:
    """One description's cells: the number format shared by its rows."""

    def __init__(
        self, groups: list[tuple[Measurement | None, ...]], scale: float, trim: bool, warn: bool
    ) -> None:
        self.groups = groups
        flat = [m for m in itertools.chain.from_iterable(groups) if m is not None]
        self.trim = trim
        self.warn = warn and any(m.has_warnings for m in flat)
        leading = [_digits(m.median / scale) for m in flat]
        decimals = min(max(m.significant_figures - d, 0) for d, m in zip(leading, flat)) if trim else 1
        width = max(leading) + decimals + (1 if decimals else 0)
        self.template = f"{{:>{width}.{decimals}f}}{{:>{7 if self.warn else 0}}}"

    def cell(self, value: float | None, figures: int, spread: float | None) -> str:
        if value is None:
            return " " * len(self.cell(1.0, figures, None))
        if self.trim:
            value = trim_sigfig(value, figures)
        note = f" (! {spread * 100:.0f}%)" if self.warn and spread is not None else ""
        return self.template.format(value, note)


class _Row:
    """One (threads, env, name) row; knows whether it opens a thread group or a new env."""

    def __init__(self, results, group, show_env, env_width, scale, colorize, threads) -> None:
        self.results = results
        self.group = group
        self.show_env = show_env
        self.env_width = env_width
        self.scale = scale
        self.colorize = colorize
        self.threads = threads  # set on the first row of a thread group only
        self.columns: tuple[_Column, ...] = ()

    def strings(self) -> list[str]:
        first = next(m for m in self.results if m is not None)
        env = f"({first.env})" if self.show_env else ""
        out = ["  " + env.ljust(self.env_width + 4) + first.as_row_name]
        for m, col in zip(self.results, self.columns):
            if m is None:
                out.append(col.cell(None, 1, None))
            else:
                spread = m.iqr / m.median if m.has_warnings else None
                out.append(col.cell(m.median / self.scale, m.significant_figures, spread))
        return out

    def separator(self, width: int) -> list[str]:
        return [] if self.threads is None else [f"{self.threads} threads: ".ljust(width, "-")]

    @staticmethod
    def paint(text: str, value: float, best: float) -> str:
        if value <= best * 1.01 or value <= best + 100e-9:
            return BEST + BOLD + text + TERMINATE * 2
        if value <= best * 1.1:
            return GOOD + BOLD + text + TERMINATE * 2
        if value >= best * 5:
            return VERY_BAD + BOLD + text + TERMINATE * 2
        if value >= best * 2:
            return BAD + text + TERMINATE * 2
        return text

    def finish(self, strings: list[str], widths: list[int]) -> list[str]:
        if self.colorize == Colorize.ROWWISE:
            row_best = min(m.median for m in self.results if m is not None)
            bests: list[float | None] = [row_best] * len(self.results)
        elif self.colorize == Colorize.COLUMNWISE:
            bests = []
            for col in self.columns:
                medians = [m.median for m in col.groups[self.group] if m is not None]
                bests.append(min(medians) if medians else None)
        else:
            bests = [None] * len(self.results)
        out = [strings[0].ljust(widths[0])]
        for text, width, m, best in zip(strings[1:], widths[1:], self.results, bests):
            text = text.center(width)
            if m is not None and best is not None:
                text = self.paint(text, m.median, best)
            out.append(text)
        return out


class _Table:
    """The table of one label."""

    def __init__(self, results: list[Measurement], colorize: Colorize, trim: bool, warn: bool) -> None:
        self.results = results
        self.label = results[0].label
        self.warn = warn
        self.unit, self.scale = select_unit(min(m.median for m in results))
        self.row_keys = ordered_unique(self._row_key(m) for m in results)
        self.row_keys.sort(key=lambda k: (k[0], "" if k[1] is None else k[1]))  # stable: keeps stmt order
        self.col_keys = ordered_unique(m.description for m in results)
        cells: list[list[Measurement | None]] = [[None] * len(self.col_keys) for _ in self.row_keys]
        row_at = {k: i for i, k in enumerate(self.row_keys)}
        col_at = {k: j for j, k in enumerate(self.col_keys)}
        for m in results:
            cells[row_at[self._row_key(m)]][col_at[m.description]] = m
        envs = {m.env for m in results}
        show_env = len(envs) > 1
        env_width = max(len(str(e)) for e in envs) if show_env else 0
        self.rows: list[_Row] = []
        groups: list[list[list[Measurement | None]]] = []
        prior_threads, prior_env = -1, ""
        for (threads, env, _), row in zip(self.row_keys, cells):
            opens_group = threads != prior_threads
            if opens_group:
                prior_threads, prior_env = threads, ""
                groups.append([])
            self.rows.append(
                _Row(
                    row,
                    len(groups) - 1,
                    show_env and env != prior_env,
                    env_width,
                    self.scale,
                    colorize,
                    threads if opens_group else None,
                )
            )
            groups[-1].append(row)
            prior_env = env
        columns = tuple(
            _Column([tuple(r[j] for r in g) for g in groups], self.scale, trim, warn)
            for j in range(len(self.col_keys))
        )
        for r in self.rows:
            r.columns = columns

    @staticmethod
    def _row_key(m: Measurement) -> tuple:
        return m.num_threads, m.env, m.as_row_name

    def render(self) -> str:
        table = [["", *("" if c is None else str(c) for c in self.col_keys)]]
        table.extend(r.strings() for r in self.rows)
        ncols = max(len(t) for t in table)
        for t in table:
            t.extend([""] * (ncols - len(t)))
        widths = [max(len(s) for s in col) for col in zip(*table)]
        lines = ["  |  ".join(s.center(w) for s, w in zip(table[0], widths))]
        width = len(lines[0])
        for strings, row in zip(table[1:], self.rows):
            lines.extend(row.separator(width))
            lines.append("  |  ".join(row.finish(strings, widths)))
        title = (" " + (self.label or "") + " ").center(width - 2, "-")
        out = (
            f"[{title}]\n"
            + "\n".join(lines)
            + f"\n\nTimes are in {unit_to_english(self.unit)}s ({self.unit}).\n"
        )
        if self.warn and any(m.has_warnings for m in self.results):
            out += "(! XX%) Measurement has high variance, where XX is the IQR / median * 100.\n"
        return out


class Compare:
    """Print ``Measurement`` s side by side: ``Compare(results).print()``.

    Raises:
        ValueError: an element of ``results`` is not a ``Measurement``.
    """

    def __init__(self, results: list[Measurement]) -> None:
        self._results: list[Measurement] = []
        self.extend_results(results)
        self._trim_significant_figures = False
        self._colorize = Colorize.NONE
        self._highlight_warnings = False

    def __str__(self) -> str:
        return "\n".join(self._render())

    def extend_results(self, results: list[Measurement]) -> None:
        """Add more results to the table."""
        results = list(results)
        for r in results:
            if not isinstance(r, Measurement):
                raise ValueError(f"Compare: expected Measurement results, got {type(r).__name__}")
        self._results.extend(results)

    def trim_significant_figures(self) -> None:
        """Print each cell with only the digits its spread supports."""
        self._trim_significant_figures = True

    def colorize(self, rowwise: bool = False) -> None:
        """Colour cells against the best of their column (or of their row with ``rowwise``)."""
        self._colorize = Colorize.ROWWISE if rowwise else Colorize.COLUMNWISE

    def highlight_warnings(self) -> None:
        """Mark cells whose spread is large with ``(! XX%)``."""
        self._highlight_warnings = True

    def print(self) -> None:
        print(str(self))

    def _render(self) -> list[str]:
        by_label: dict[str | None, list[Measurement]] = collections.defaultdict(list)
        for m in Measurement.merge(self._results):
            by_label[m.label].append(m)
        return [
            _Table(group, self._colorize, self._trim_significant_figures, self._highlight_warnings).render()
            for group in by_label.values()
        ]
