"""``glassgrad.futures``: PyTorch's ``torch.futures`` (``Future``, ``collect_all``, ``wait_all``).

A future completes when some code calls :meth:`Future.set_result` (or :meth:`Future.set_exception`),
on this thread or another one (Captum's tests complete them from a ``threading.Thread``):
:meth:`Future.wait` blocks until then. The callbacks registered with :meth:`Future.then` and
:meth:`Future.add_done_callback` run in the completing thread, in the order they were added (at
once, in the caller's thread, if the future is already complete). Libraries such as Captum return futures from
their ``*_future`` methods and test ``isinstance(x, torch.Future)``; ``glassgrad.Future`` is the
base class of :class:`Future`, as ``torch.Future`` is of ``torch.futures.Future``.

>>> fut = Future()
>>> doubled = fut.then(lambda f: f.value() * 2)
>>> fut.set_result(3)
>>> doubled.wait(), fut.done()
(6, True)
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Generic, TypeVar

__all__ = ["Future", "collect_all", "wait_all"]

T = TypeVar("T")
S = TypeVar("S")
_UNSET = object()
_log = logging.getLogger(__name__)


class _FutureBase(Generic[T]):
    """The core future (``torch.Future``): a value or an exception, set once, and callbacks."""

    def __init__(self, *, devices: list[Any] | None = None) -> None:
        self._value: Any = _UNSET
        self._error: BaseException | None = None
        self._callbacks: list[Callable[[Any], None]] = []
        self._lock = threading.Lock()
        self._done = threading.Event()

    def done(self) -> bool:
        """True once a result or an exception has been set."""
        return self._done.is_set()

    def value(self) -> T:
        """The result; raises the exception set with :meth:`set_exception`, or ``RuntimeError``
        when nothing has been set yet (call :meth:`wait` or read it inside a callback)."""
        if self._error is not None:
            raise self._error
        if self._value is _UNSET:
            raise RuntimeError(
                "Future.value(): the future is not complete yet (call wait(), or read it in a callback)"
            )
        return self._value

    def wait(self) -> T:
        """Block until the future completes (another thread may complete it), then its result."""
        self._done.wait()
        return self.value()

    def _complete(self, op: str, value: Any, error: BaseException | None) -> None:
        with self._lock:
            if self._done.is_set():
                raise RuntimeError(
                    f"Future.{op}: Attempting to mark a completed Future as complete again. Note that a "
                    "Future can only be marked completed once."
                )
            self._value, self._error = value, error
            self._done.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:  # outside the lock: a callback may chain onto this future
            self._run(callback)

    def _run(self, callback: Callable[[Any], None]) -> None:
        """Call a done-callback; its error is logged and dropped, as PyTorch's (``set_result``
        must not fail after completing, and later callbacks still run)."""
        try:
            callback(self)
        except Exception:
            _log.exception("Got the following error when running the callback")

    def set_result(self, result: T) -> None:
        """Complete the future with ``result`` and run its callbacks; ``RuntimeError`` if already complete."""
        self._complete("set_result", result, None)

    def set_exception(self, result: BaseException) -> None:
        """Complete the future with an error: :meth:`wait` and :meth:`value` raise ``result``."""
        if not isinstance(result, BaseException):
            raise TypeError(f"Future.set_exception: expected an exception, got {type(result).__name__}")
        self._complete("set_exception", _UNSET, result)

    def add_done_callback(self, callback: Callable[[Future[T]], None]) -> None:
        """Call ``callback(self)`` when the future completes (now, if it already has); an error it
        raises is logged, not raised (use :meth:`then` for a callback whose error should surface)."""
        with self._lock:
            if not self._done.is_set():
                self._callbacks.append(callback)
                return
        self._run(callback)

    def __reduce__(self) -> Any:
        # PyTorch's RuntimeError: the callbacks and the waiting threads cannot travel
        raise RuntimeError("Can not pickle torch.futures.Future")

    def then(self, callback: Callable[[Future[T]], S]) -> Future[S]:
        """A new future holding ``callback(self)`` once this one completes; an error raised by
        ``callback`` becomes the new future's exception (a ``RuntimeError`` naming it)."""
        chained: Future[S] = Future()

        def run(fut: Any) -> None:
            try:
                out = callback(fut)
            except Exception as exc:  # the callback's error belongs to the chained future
                wrapped = RuntimeError(f"Future.then: the callback raised {type(exc).__name__}: {exc}")
                wrapped.__cause__ = exc
                chained.set_exception(wrapped)
            else:
                chained.set_result(out)

        self.add_done_callback(run)
        return chained


class Future(_FutureBase[T]):
    """``torch.futures.Future``: a result that some code sets later (see the module docstring)."""


# printed and pickled as its public name, glassgrad.Future (torch.Future)
_FutureBase.__name__ = _FutureBase.__qualname__ = "Future"
_FutureBase.__module__ = "glassgrad"


def collect_all(futures: list[Future]) -> Future[list[Future]]:
    """A future that completes, holding the list ``futures``, once every one of them has completed
    (whether with a result or an exception)."""
    futures = list(futures)
    for fut in futures:
        if not isinstance(fut, _FutureBase):
            raise TypeError(
                f"collect_all: expected a list of Future, got an element of type {type(fut).__name__}"
            )
    out: Future[list[Future]] = Future()
    pending = [len(futures)]
    lock = threading.Lock()

    def one_done(_: Any) -> None:
        with lock:  # the futures may complete on different threads
            pending[0] -= 1
            last = pending[0] == 0
        if last:
            out.set_result(futures)

    if not futures:
        out.set_result(futures)
    for fut in futures:
        fut.add_done_callback(one_done)
    return out


def wait_all(futures: list[Future]) -> list:
    """The results of ``futures`` in order; raises the first error any of them holds."""
    return [fut.wait() for fut in collect_all(futures).wait()]
