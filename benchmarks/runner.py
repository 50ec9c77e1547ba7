"""Time each workload in glassgrad and in PyTorch (same thread count), and print one table.

Each side is built once and warmed up; then the two sides' repeats alternate (``steps`` steps
each, ``repeat`` times per side); the reported time per step is each side's median repeat.
Python's garbage collector stays on, as it is for a user. Nothing heavy is imported at module level: ``benchmarks.__main__`` sets the BLAS
thread variables before NumPy is first imported.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = [
    "Timing", "Row", "parse_args", "thread_env", "blas_env", "limit_threads", "time_builder", "run",
    "format_table", "main",
]  # fmt: skip


@dataclass
class Timing:
    """Seconds per step: the median over repeats, every repeat, and the probe after the last one."""

    median: float
    repeats: list[float] = field(default_factory=list)
    probe: float = math.nan


@dataclass
class Row:
    """One workload's result: a Timing per library, or the error that stopped it."""

    name: str
    description: str
    steps: int
    glassgrad: Timing | None = None
    torch: Timing | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        """glassgrad time / torch time (above 1: glassgrad is slower)."""
        if self.glassgrad is None or self.torch is None or self.torch.median == 0:
            return math.nan
        return self.glassgrad.median / self.torch.median


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse ``[workload ...] [--steps N] [--threads T] [--repeat R] [--warmup W] [--no-torch]``."""
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time glassgrad against PyTorch (same thread count) on the registered workloads.",
    )
    p.add_argument("workloads", nargs="*", help="workload names or groups (default: all); see --list")
    p.add_argument("--steps", type=int, default=None, help="timed steps per repeat (default: per workload)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for BLAS and torch")
    p.add_argument("--repeat", type=int, default=5, help="timed repeats; the median is reported")
    p.add_argument("--warmup", type=int, default=None, help="untimed steps first (default: steps // 10)")
    p.add_argument("--seed", type=int, default=0, help="seed for weights and data")
    p.add_argument(
        "--settle",
        type=float,
        default=None,
        help="untimed pause in seconds before each repeat, so the other library's spinning BLAS/OpenMP "
        "threads go idle (default: 0.3 with more than one thread, else 0)",
    )
    p.add_argument("--no-torch", action="store_true", help="time glassgrad only")
    p.add_argument(
        "--blas-kernels",
        choices=("auto", "env"),
        default="auto",
        help="auto (default): NumPy's OpenBLAS picks its kernels for this CPU, as PyTorch's MKL and "
        "oneDNN do (an OPENBLAS_CORETYPE in the environment is removed for this run); "
        "env: keep the environment's OPENBLAS_CORETYPE",
    )
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    args = p.parse_args(argv)
    for flag in ("steps", "threads", "repeat"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            p.error(f"--{flag}: expected a positive integer, got {value}")
    if args.settle is not None and not 0 <= args.settle <= 10:
        p.error(f"--settle: expected seconds between 0 and 10, got {args.settle}")
    if args.warmup is not None and args.warmup < 0:
        p.error(f"--warmup: expected a non-negative integer, got {args.warmup}")
    return args


def thread_env(threads: int) -> dict[str, str]:
    """The variables that fix NumPy's BLAS thread pool; they work only if set before NumPy loads."""
    return {k: str(threads) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def blas_env(kernels: str, environ: dict[str, str]) -> list[str]:
    """Remove ``OPENBLAS_CORETYPE`` from ``environ`` when ``kernels == "auto"``; the names removed.

    ``OPENBLAS_CORETYPE`` makes OpenBLAS use one CPU's kernels whatever the CPU it runs on (a
    machine image may pin ``Haswell``, AVX2, for the same rounding on every host). It reaches only
    NumPy's BLAS: PyTorch's MKL and oneDNN pick their own kernels, AVX-512 where the CPU has it. The
    comparison is like for like when each library picks its own, which is also what a user who has
    not set the variable gets. Must run before NumPy is first imported.
    """
    if kernels == "auto" and "OPENBLAS_CORETYPE" in environ:
        return [f"OPENBLAS_CORETYPE={environ.pop('OPENBLAS_CORETYPE')}"]
    return []


def blas_info(with_torch: bool) -> str:
    """One line naming the kernels each library's BLAS runs, e.g. ``OpenBLAS 0.3.31 SkylakeX``."""
    numpy_side = "numpy: BLAS kernels unknown (threadpoolctl not installed)"
    if importlib.util.find_spec("threadpoolctl") is not None:
        import numpy  # noqa: F401  (loads the BLAS so that threadpoolctl sees it)
        from threadpoolctl import threadpool_info

        libs = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if libs:
            i = libs[0]
            numpy_side = f"numpy: {i.get('internal_api')} {i.get('version')} {i.get('architecture')} kernels"
    if not with_torch:
        return numpy_side
    import torch

    return f"{numpy_side}; torch: {torch.backends.cpu.get_cpu_capability()} kernels"


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


@contextlib.contextmanager
def limit_threads(threads: int, with_torch: bool) -> Iterator[None]:
    """Hold BLAS (via threadpoolctl, when installed) and torch to ``threads`` threads inside the block.

    The environment variables set by ``__main__`` cover a fresh process; threadpoolctl covers a
    process where NumPy is already loaded (the tests).
    """
    with contextlib.ExitStack() as stack:
        if importlib.util.find_spec("threadpoolctl") is not None:
            from threadpoolctl import threadpool_limits

            stack.enter_context(threadpool_limits(limits=threads))
        if with_torch:
            import torch

            before = torch.get_num_threads()
            torch.set_num_threads(threads)
            stack.callback(torch.set_num_threads, before)
        yield


def _time_steps(step, steps: int) -> float:
    clock = time.perf_counter
    t0 = clock()
    for _ in range(steps):
        step()
    return (clock() - t0) / steps


def _warmed(build, seed: int, warmup: int) -> tuple:
    """``build(seed)``'s ``(step, probe)``, after ``warmup`` untimed steps."""
    step, probe = build(seed)
    for _ in range(warmup):
        step()
    return step, probe


def time_builder(build, seed: int, steps: int, repeat: int, warmup: int) -> Timing:
    """Build one side of a workload, run ``warmup`` steps, then time ``repeat`` x ``steps`` steps."""
    step, probe = _warmed(build, seed, warmup)
    repeats = [_time_steps(step, steps) for _ in range(repeat)]
    return Timing(median=statistics.median(repeats), repeats=repeats, probe=probe())


def _time_interleaved(
    row: Row, sides: list, seed: int, steps: int, repeat: int, warmup: int, settle: float = 0.0
) -> None:
    """Time both libraries' steps in alternation, repeat by repeat, into ``row``.

    Alternating (glassgrad's repeat, then PyTorch's, and again) exposes both sides to the same
    drift of the machine (frequency, neighbours on a shared host), so the ratio of the medians
    moves less than when one side's repeats all run before the other's. Before each repeat the
    runner sleeps ``settle`` seconds, untimed: after a call, OpenBLAS's and OpenMP's worker threads
    spin for a while before they sleep, and with more than one thread the spinning pool of the side
    that just ran would take cores from the side being timed (measured: with no pause, PyTorch's
    2-thread lstm step ran at 12.8 ms after glassgrad's repeats, against 4.9 to 6.4 ms with 0.1 to
    0.6 s of pause). An error in one side is recorded in ``row.errors`` and that side drops out; the
    other goes on.
    """
    built = {}
    for lib, build in sides:
        try:
            step, probe = _warmed(build, seed, warmup)
        except Exception as e:  # report and go on: one broken workload must not hide the rest
            row.errors[lib] = f"{type(e).__name__}: {e}"
        else:
            built[lib] = (step, probe, [])
    for _ in range(repeat):
        for lib in list(built):
            step, _, times = built[lib]
            if settle:
                time.sleep(settle)
            try:
                times.append(_time_steps(step, steps))
            except Exception as e:
                row.errors[lib] = f"{type(e).__name__}: {e}"
                del built[lib]
    for lib, (_, probe, times) in built.items():
        setattr(row, lib, Timing(median=statistics.median(times), repeats=times, probe=probe()))


def run(
    names: list[str] | tuple[str, ...] = (),
    steps: int | None = None,
    threads: int = 1,
    repeat: int = 5,
    warmup: int | None = None,
    seed: int = 0,
    with_torch: bool | None = None,
    log=None,
    settle: float | None = None,
) -> list[Row]:
    """Time the selected workloads; an error in one side is recorded in its row, not raised.

    ``settle``: untimed seconds of pause before each repeat (default 0.3 with more than one
    thread, else 0; see ``_time_interleaved``).
    """
    from benchmarks.workloads import select

    workloads = select(list(names))
    pause = (0.3 if threads > 1 else 0.0) if settle is None else settle
    if with_torch is None:
        with_torch = torch_available()
    rows = []
    with limit_threads(threads, with_torch):
        for w in workloads:
            n = steps or w.steps
            row = Row(w.name, w.description, n)
            sides = [("glassgrad", w.glassgrad)] + ([("torch", w.torch)] if with_torch else [])
            if log is not None:
                log(f"  {w.name} [{' + '.join(lib for lib, _ in sides)}] {n} steps x {repeat} ...")
            wu = n // 10 if warmup is None else warmup
            _time_interleaved(row, sides, seed, n, repeat, wu, pause)
            rows.append(row)
    return rows


def _fmt_time(seconds: float | None) -> str:
    if seconds is None or math.isnan(seconds):
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} us"
    if seconds < 1.0:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds:.3f} s"


def machine_info(threads: int, with_torch: bool) -> list[str]:
    """Lines naming the machine, thread count and library versions."""
    import numpy

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    versions = f"python {platform.python_version()}, numpy {numpy.__version__}"
    if with_torch:
        import torch

        versions += f", torch {torch.__version__}"
    return [f"machine: {cpu}, {os.cpu_count()} cores; threads: {threads}", versions, blas_info(with_torch)]


def format_table(rows: list[Row]) -> str:
    """A Markdown table: workload, steps, glassgrad time/step, torch time/step, ratio."""
    lines = [
        "| workload | steps | glassgrad / step | torch / step | glassgrad / torch |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        gg_t = "error" if "glassgrad" in r.errors else _fmt_time(r.glassgrad and r.glassgrad.median)
        th_t = "error" if "torch" in r.errors else _fmt_time(r.torch and r.torch.median)
        ratio = "-" if math.isnan(r.ratio) else f"{r.ratio:.2f}x"
        lines.append(f"| {r.name} | {r.steps} | {gg_t} | {th_t} | {ratio} |")
    for r in rows:
        for lib, err in r.errors.items():
            lines.append(f"\n{r.name} [{lib}] failed: {err}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (1 if any workload failed)."""
    args = parse_args(argv)
    removed = blas_env(args.blas_kernels, os.environ) if "numpy" not in sys.modules else []
    from benchmarks.workloads import WORKLOADS

    if args.list:
        for w in WORKLOADS.values():
            print(f"{w.name:<20} [{w.group}] {w.description} (default {w.steps} steps)")
        return 0
    with_torch = torch_available() and not args.no_torch
    try:
        from benchmarks.workloads import select

        select(args.workloads)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    for line in machine_info(args.threads, with_torch):
        print(line)
    if removed:
        print(f"removed from the environment for this run: {' '.join(removed)} (--blas-kernels env keeps it)")
    if not with_torch:
        print("torch: not timed (" + ("--no-torch" if args.no_torch else "not installed; `make torch`") + ")")
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731 - progress to stderr
    rows = run(
        args.workloads,
        args.steps,
        args.threads,
        args.repeat,
        args.warmup,
        args.seed,
        with_torch,
        log=log,
        settle=args.settle,
    )
    print(f"median of {args.repeat} repeats after warm-up; ratio above 1 means glassgrad is slower\n")
    print(format_table(rows))
    return 1 if any(r.errors for r in rows) else 0
