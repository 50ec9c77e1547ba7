"""Grad mode: ``no_grad()`` / ``enable_grad()`` / ``set_grad_enabled(mode)``, as context managers
and as decorators (of a generator function too: every step of the generator runs in the mode, see
``mode_decorator``). When grad mode is off, ops record nothing.

Grad mode is per thread, as in PyTorch: ``no_grad()`` in one thread never turns recording off in
another, and every new thread starts with grad mode on.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from glassgrad.autograd.mode_decorator import decorate

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled", "state"]


class _State(threading.local):
    """The flag, one per thread. ``Function.apply`` reads ``state.enabled`` for every op: the
    class-level default answers in a thread that never switched the mode, with no per-thread set-up
    (about 0.1 us a read here, against 0.02 us for a plain attribute: noise next to an op)."""

    enabled = True
    inference = False  # inside an inference_mode(True) block (is_inference_mode_enabled)


state = _State()


def is_grad_enabled() -> bool:
    """Whether ops currently record the graph."""
    return state.enabled


class _Mode:
    """Base for the grad-mode switches: a context manager that is also a decorator."""

    mode = True

    def __new__(cls, orig_func: Callable[..., Any] | None = None) -> Any:
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)  # used bare, ``@no_grad``, as PyTorch allows

    def __init__(self) -> None:
        self._prev: list[bool] = []

    def __enter__(self) -> None:
        self._prev.append(state.enabled)
        state.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        state.enabled = self._prev.pop()

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        mode = self.mode
        return decorate(lambda: set_grad_enabled(mode), fn)


class no_grad(_Mode):  # noqa: N801 - PyTorch's name
    """Record no graph inside the block or decorated function."""

    mode = False


class enable_grad(_Mode):  # noqa: N801 - PyTorch's name
    """Record the graph inside the block, even within ``no_grad``."""

    mode = True


class set_grad_enabled(_Mode):  # noqa: N801 - PyTorch's name
    """Set grad mode to ``mode`` inside the block (also takes effect at once, as in PyTorch)."""

    def __new__(cls, mode: bool) -> Any:
        return object.__new__(cls)

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self.mode = bool(mode)
        self._prev.append(state.enabled)
        state.enabled = self.mode

    def __enter__(self) -> None:
        pass

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        state.enabled = self._prev.pop()  # a decorator must not switch the mode where it is defined
        return super().__call__(fn)


class inference_mode(_Mode):  # noqa: N801 - PyTorch's name
    """PyTorch's other name for ``no_grad``: with ``mode=True`` (the default) nothing is recorded.

    PyTorch's inference tensors carry further restrictions; here it is exactly ``no_grad`` (or, with
    ``mode=False``, ``enable_grad``).
    """

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode):
            return cls()(mode)  # used bare, ``@inference_mode``
        return object.__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        super().__init__()
        self.mode = not bool(mode)
        self._prev_inference: list[bool] = []

    def __enter__(self) -> None:
        super().__enter__()
        self._prev_inference.append(state.inference)
        state.inference = not self.mode

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        state.inference = self._prev_inference.pop()

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        on = not self.mode
        return decorate(lambda: inference_mode(on), fn)


# (PyTorch's grad_mode module holds this switch too)
from glassgrad.autograd.engine_modes import set_multithreading_enabled  # noqa: E402, F401
