"""``torch.multiprocessing.spawn`` / ``start_processes``: run ``fn(i, *args)`` in ``nprocs`` new
processes, ``i = 0 .. nprocs - 1`` (re-exported by ``glassgrad.multiprocessing``).

As in PyTorch: with ``join=True`` the call waits for every process; when one raises, the others
are terminated and the parent raises ``ProcessRaisedException`` carrying the child's traceback;
when one exits with a non-zero status (or a signal), ``ProcessExitedException``. With
``join=False`` it returns a ``ProcessContext`` whose ``join()`` does the same waiting.
``nprocs=0`` starts nothing (``spawn(main, nprocs=torch.cuda.device_count())`` on a machine
without a GPU returns at once, as PyTorch's does).
"""

from __future__ import annotations

import multiprocessing as _mp
import os
import pickle
import signal
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable
from multiprocessing.connection import wait
from typing import Any

from glassgrad.user_frames import user_stacklevel

__all__ = [
    "spawn",
    "start_processes",
    "ProcessContext",
    "ProcessException",
    "ProcessRaisedException",
    "ProcessExitedException",
]


class ProcessException(Exception):  # noqa: N818 (PyTorch's name)
    """A spawned process failed; ``error_index`` is its ``i``, ``pid`` its process id."""

    def __init__(self, msg: str, error_index: int, pid: int) -> None:
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, pid

    def __reduce__(self) -> Any:
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A spawned process raised; the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """A spawned process exited with a non-zero status, or was killed by ``signal_name``."""

    def __init__(
        self, msg: str, error_index: int, error_pid: int, exit_code: int, signal_name: str | None = None
    ) -> None:
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self) -> Any:
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code, self.signal_name)


def _wrap(fn: Callable[..., Any], i: int, args: tuple, error_file: str) -> None:
    """The child's entry point: ``fn(i, *args)``; an exception's traceback goes to the parent
    through ``error_file``, as PyTorch's does: through a pipe, a traceback longer than the pipe's
    buffer (64 KiB) blocked the child in its write while the parent waited for it to exit."""
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass  # the parent is shutting the processes down
    except Exception:
        with open(error_file, "wb") as fh:
            pickle.dump(traceback.format_exc(), fh)
        sys.exit(1)


class ProcessContext:
    """The processes started by ``start_processes(..., join=False)``."""

    def __init__(self, processes: list[Any], error_files: list[str]) -> None:
        self.processes, self.error_files = processes, error_files

    def pids(self) -> list[int]:
        return [int(p.pid) for p in self.processes]

    def join(self, timeout: float | None = None) -> bool:
        """Wait until a process ends (or ``timeout``); True once all exited cleanly, False while some
        run. Raises as ``spawn`` describes when one failed."""
        running = {p.sentinel: p for p in self.processes if p.exitcode is None}
        if running:  # wait until at least one more process ends (or the timeout)
            for sentinel in wait(list(running), timeout=timeout):
                running[sentinel].join()
        failed = [(i, p) for i, p in enumerate(self.processes) if p.exitcode not in (None, 0)]
        if not failed:
            return all(p.exitcode == 0 for p in self.processes)
        index, proc = failed[0]
        for p in self.processes:  # stop the others, as PyTorch does
            if p.is_alive():
                p.terminate()
            p.join()
        if os.access(self.error_files[index], os.R_OK):  # written only when fn raised
            with open(self.error_files[index], "rb") as fh:
                trace = pickle.load(fh)
            os.unlink(self.error_files[index])
            raise ProcessRaisedException(
                f"\n\n-- Process {index} terminated with the following error:\n{trace}", index, proc.pid
            )
        code = proc.exitcode
        if code < 0:
            name = signal.Signals(-code).name
            raise ProcessExitedException(
                f"process {index} terminated with signal {name}", index, proc.pid, code, name
            )
        raise ProcessExitedException(
            f"process {index} terminated with exit code {code}", index, proc.pid, code
        )


def start_processes(
    fn: Callable[..., Any],
    args: tuple = (),
    nprocs: int = 1,
    join: bool = True,
    daemon: bool = False,
    start_method: str = "spawn",
) -> ProcessContext | None:
    """Start ``nprocs`` processes (``start_method``: "spawn", "fork" or "forkserver") running
    ``fn(i, *args)``; wait for them if ``join`` (None), else return their ``ProcessContext``."""
    ctx = _mp.get_context(start_method)
    processes, error_files = [], []
    for i in range(nprocs):
        # a fresh name, no file: the child creates it only to report an exception (PyTorch's way)
        with tempfile.NamedTemporaryFile(prefix="glassgrad-errorfile-", suffix=".pickle", delete=False) as tf:
            pass
        os.unlink(tf.name)
        proc = ctx.Process(target=_wrap, args=(fn, i, args, tf.name), daemon=daemon)
        proc.start()
        processes.append(proc)
        error_files.append(tf.name)
    context = ProcessContext(processes, error_files)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(
    fn: Callable[..., Any],
    args: tuple = (),
    nprocs: int = 1,
    join: bool = True,
    daemon: bool = False,
    start_method: str = "spawn",
) -> ProcessContext | None:
    """``start_processes`` with the "spawn" start method (another one warns, as PyTorch's)."""
    if start_method != "spawn":
        warnings.warn(
            f"This method only supports start_method=spawn (got: {start_method}).\n"
            "To use a different start_method use:\n\t\t torch.multiprocessing.start_processes(...)",
            FutureWarning,
            stacklevel=user_stacklevel(),
        )
    return start_processes(fn, args, nprocs, join, daemon, start_method="spawn")
