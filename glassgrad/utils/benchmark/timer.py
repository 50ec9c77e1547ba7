"""``Timer``: ``timeit.Timer`` with warm-up, a fixed thread count and labelled results.

Built on the standard library's ``timeit.Timer`` (which also switches the garbage collector
off while it times), with ``torch.utils.benchmark.Timer``'s API and algorithms:

- ``timeit(number)`` runs ``number // 100`` (at least 2) warm-up runs, then times ``number``
  runs once, and returns the time *per run* as a ``Measurement`` (``timeit.Timer.timeit``
  returns the total).
- ``blocked_autorange(min_run_time=0.2)`` first picks a block size: 1, 10, 100 ... runs until
  one block takes at least ``min_run_time / 1000`` with the timer's own overhead under 0.01% of
  it, or takes longer than ``min_run_time``. It then times blocks of that size until they add
  up to ``min_run_time``; each block is one replicate.
- ``adaptive_autorange(threshold=0.1)`` times blocks until there are more than three, at least
  ``min_run_time`` in all, and IQR / median is below ``threshold`` (or ``max_run_time`` is spent).

All three run with ``num_threads`` BLAS threads (default 1) and restore the previous count.
The names ``torch`` and ``glassgrad`` are bound to glassgrad in the statement's globals unless
``globals`` binds them, so ``setup="x = torch.ones(128)"`` in a ported script runs on glassgrad;
so does ``setup="import torch; x = torch.ones(128)"``: there ``import torch`` (and ``torch.xxx``)
imports glassgrad (and ``glassgrad.xxx``) unless ``globals`` binds ``torch`` to something else.

``Language.CPP`` and ``collect_callgrind`` need PyTorch's C++ library and Valgrind's view of
it; glassgrad has neither, so they raise ``NotImplementedError``.
"""

from __future__ import annotations

import builtins
import enum
import statistics
import textwrap
import timeit as _timeit
from collections.abc import Callable
from typing import Any

import glassgrad
from glassgrad.utils.benchmark.measurement import Measurement, TaskSpec, set_torch_threads

__all__ = ["Timer", "timer", "Language"]

_MAX_BLOCK = 2**31 - 1

timer = _timeit.default_timer  # no accelerator to synchronise: the host clock is the clock


def _import_torch_as_glassgrad(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002
    """``__import__`` for timed code: a ported script's ``setup="import torch; ..."`` must time
    glassgrad, not PyTorch (which need not be installed)."""
    if level == 0 and (name == "torch" or name.startswith("torch.")):
        name = "glassgrad" + name[len("torch") :]
    return builtins.__import__(name, globals, locals, fromlist, level)


# The builtins that timed code sees when ``torch`` means glassgrad in it.
_TORCH_IS_GLASSGRAD_BUILTINS = {**vars(builtins), "__import__": _import_torch_as_glassgrad}


class Language(enum.Enum):
    """The language of a ``Timer`` statement; glassgrad runs ``PYTHON`` only."""

    PYTHON = 0
    CPP = 1


def _clean(code: str) -> str:
    """Dedent, drop one leading newline and trailing blanks, so triple-quoted code reads as typed."""
    code = textwrap.dedent(code)
    return (code[1:] if code.startswith("\n") else code).rstrip()


class Timer:
    """Time a Python statement: ``Timer("x * y", setup="x = torch.ones(128); y = x")``.

    Args:
        stmt: the code to time (a string).
        setup: code run once before timing, in the same namespace.
        global_setup: C++ only; must be empty.
        timer: the clock (seconds, a float).
        globals: the namespace ``stmt`` and ``setup`` run in (copied).
        label, sub_label, description, env: names that ``Measurement`` prints and ``Compare``
            groups by (``label`` titles a table, ``sub_label`` names a row, ``description`` a
            column, ``env`` tells apart identical tasks run in different environments).
        num_threads: BLAS threads while timing.
        language: ``Language.PYTHON`` (or ``"py"``, ``"python"``).
    """

    def __init__(
        self,
        stmt: str = "pass",
        setup: str = "pass",
        global_setup: str = "",
        timer: Callable[[], float] = timer,
        globals: dict[str, Any] | None = None,  # noqa: A002 - timeit's name
        label: str | None = None,
        sub_label: str | None = None,
        description: str | None = None,
        env: str | None = None,
        num_threads: int = 1,
        language: Language | str = Language.PYTHON,
    ) -> None:
        if not isinstance(stmt, str):
            raise ValueError(f"Timer: expected stmt as a string of code, got {type(stmt).__name__}")
        if language in (Language.CPP, "cpp", "c++"):
            raise NotImplementedError(
                "Timer: C++ statements (Language.CPP) need PyTorch's C++ library; glassgrad times Python code"
            )
        if language not in (Language.PYTHON, "py", "python"):
            raise ValueError(f"Timer: expected language Language.PYTHON or 'python', got {language!r}")
        if global_setup:
            raise ValueError(
                f"Timer: global_setup is for C++ code only, got {global_setup!r}; put it in setup"
            )
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"Timer: expected num_threads a positive int, got {num_threads!r}")
        self._globals = dict(globals or {})
        self._globals.setdefault("torch", glassgrad)  # PyTorch's implied `import torch`
        self._globals.setdefault("glassgrad", glassgrad)
        if self._globals["torch"] is glassgrad:  # the copy's builtins only: the caller's stay
            self._globals["__builtins__"] = _TORCH_IS_GLASSGRAD_BUILTINS
        stmt, setup = _clean(stmt), _clean(setup)
        self._timer = _timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=self._globals)
        self._task_spec = TaskSpec(
            stmt=stmt,
            setup=setup,
            global_setup=global_setup,
            label=label,
            sub_label=sub_label,
            description=description,
            env=env,
            num_threads=num_threads,
        )

    def _timeit(self, number: int) -> float:
        return max(self._timer.timeit(number), 1e-9)  # a zero would break log-scaled units

    def timeit(self, number: int = 1000000) -> Measurement:
        """Time ``number`` runs in one block, after ``number // 100`` (at least 2) warm-up runs."""
        with set_torch_threads(self._task_spec.num_threads):
            self._timeit(max(number // 100, 2))
            return Measurement(
                number_per_run=number, raw_times=[self._timeit(number)], task_spec=self._task_spec
            )

    def repeat(self, repeat: int = -1, number: int = -1) -> None:
        raise NotImplementedError("Timer.repeat: use Timer.blocked_autorange, which repeats blocks itself")

    def autorange(self, callback: Callable[[int, float], Any] | None = None) -> None:
        raise NotImplementedError("Timer.autorange: use Timer.blocked_autorange")

    def _estimate_block_size(self, min_run_time: float) -> int:
        with set_torch_threads(self._task_spec.num_threads):
            overhead = statistics.median(self._timeit(0) for _ in range(5))
            number = 1
            while True:
                took = self._timeit(number)
                if overhead / took <= 1e-4 and took >= min_run_time / 1000:
                    break
                if took > min_run_time or number * 10 > _MAX_BLOCK:
                    break
                number *= 10
        return number

    def _measure(
        self,
        number: int,
        stop: Callable[[list[float]], bool],
        min_run_time: float,
        max_run_time: float | None,
        callback: Callable[[int, float], Any] | None,
    ) -> Measurement:
        times: list[float] = []
        total, can_stop = 0.0, False
        with set_torch_threads(self._task_spec.num_threads):
            while total < min_run_time or not can_stop:
                took = self._timeit(number)
                times.append(took)
                total += took
                if callback is not None:
                    callback(number, took)
                can_stop = stop(times)
                if max_run_time and total > max_run_time:
                    break
        return Measurement(number_per_run=number, raw_times=times, task_spec=self._task_spec)

    def blocked_autorange(
        self, callback: Callable[[int, float], Any] | None = None, min_run_time: float = 0.2
    ) -> Measurement:
        """Blocks of a self-chosen size until ``min_run_time`` seconds are spent; one replicate each.

        ``callback(number, seconds)`` is called after every block.
        """
        number = self._estimate_block_size(min_run_time)
        return self._measure(number, lambda times: True, min_run_time, None, callback)

    def adaptive_autorange(
        self,
        threshold: float = 0.1,
        *,
        min_run_time: float = 0.01,
        max_run_time: float = 10.0,
        callback: Callable[[int, float], Any] | None = None,
    ) -> Measurement:
        """Like ``blocked_autorange``, but goes on until IQR / median < ``threshold`` (with more
        than 3 blocks) or ``max_run_time`` seconds are spent."""
        number = self._estimate_block_size(min_run_time=0.05)

        def steady(times: list[float]) -> bool:
            if len(times) <= 3:
                return False
            return Measurement(number, list(times), self._task_spec).meets_confidence(threshold)

        return self._measure(number, steady, min_run_time, max_run_time, callback)

    def collect_callgrind(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "Timer.collect_callgrind: instruction counts need Valgrind and PyTorch's C++ symbols; "
            "use blocked_autorange for wall times (glassgrad.autograd.profiler.profile for a per-op breakdown)"
        )
