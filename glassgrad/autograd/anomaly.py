"""Anomaly detection: stop at the first op whose output holds NaN or Inf, or whose gradient holds NaN.

Backward gradients are checked for NaN only, as PyTorch's engine checks them: an infinite gradient
that a later op masks is legitimate (e3nn's ``Norm`` is ``out.relu().sqrt()``: at zero,
``SqrtBackward0`` returns Inf and ``ReluBackward0`` zeroes it).

PyTorch's names: ``detect_anomaly(check_nan=True)`` (context manager and decorator),
``set_detect_anomaly(mode, check_nan=True)`` (function or context manager) and
``is_anomaly_enabled()``. While on, every op records the user's source line that created it and,
when ``nn`` is imported, the module path it ran in (through global forward hooks installed only
while anomaly mode is on). Off, nothing is installed and the engine pays nothing.

>>> import glassgrad as gg
>>> x = gg.tensor([1.0, -1.0], requires_grad=True)
>>> import numpy as np
>>> with detect_anomaly(), np.errstate(invalid="ignore"):  # doctest: +ELLIPSIS
...     y = x.log()
Traceback (most recent call last):
...
glassgrad.autograd.anomaly.AnomalyError: log: forward produced NaN (output of shape (2,))...
"""

from __future__ import annotations

import functools
import os
import traceback
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from glassgrad.autograd.function import observers
from glassgrad.errors import GraphError

__all__ = [
    "AnomalyError",
    "detect_anomaly",
    "set_detect_anomaly",
    "is_anomaly_enabled",
    "is_anomaly_check_nan_enabled",
]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class AnomalyError(GraphError):
    """An op's forward output contained NaN or Inf, or its backward gradient NaN (anomaly mode)."""


class _State:
    def __init__(self) -> None:
        self.enabled = False
        self.check_nan = True
        self.tracker: tuple[Callable, Callable, Callable] | None = None  # (install, uninstall, path) from nn
        self.origins: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # node -> (module path, line)


_state = _State()


def set_module_tracker(install: Callable, uninstall: Callable, path: Callable) -> None:
    """Called by ``glassgrad.nn`` at import: how to follow the module being called."""
    _state.tracker = (install, uninstall, path)
    if _state.enabled:
        install()


def is_anomaly_enabled() -> bool:
    return _state.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return _state.check_nan


def _user_line() -> str:
    """The innermost stack frame outside the glassgrad package: the user's line that made the op."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR + os.sep):
            return (
                f'File "{frame.filename}", line {frame.lineno}, in {frame.name}: {(frame.line or "").strip()}'
            )
    return "(no user frame)"


def _bad(a: Any) -> str | None:
    if isinstance(a, np.ndarray) and a.dtype.kind == "f" and not np.isfinite(a).all():
        return "NaN" if np.isnan(a).any() else "Inf"
    return None


def _has_nan(a: Any) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind in "fc" and bool(np.isnan(a).any())


def _where(path: str | None, line: str) -> str:
    return (f" in module {path}" if path else "") + f"\n  created at {line}"


def _on_forward(fn: Any, node: Any, inputs: tuple, output: Any, attrs: dict) -> None:
    path = _state.tracker[2]() if _state.tracker else None
    line = _user_line()
    if node is not None:
        _state.origins[node] = (path, line)
    if _state.check_nan:
        what = _bad(output._data)
        if what is not None:
            seen = any(_bad(getattr(x, "_data", None)) for x in inputs)
            note = " (an input already held non-finite values)" if seen else ""
            raise AnomalyError(
                f"{fn.name}: forward produced {what} (output of shape {tuple(output.shape)}){note}{_where(path, line)}"
            )


def _on_backward(node: Any, grad: Any, in_grads: tuple) -> None:
    if not _state.check_nan:
        return
    for i, g in enumerate(in_grads):
        if _has_nan(g):  # NaN only, as PyTorch's: an Inf gradient may be masked further back
            path, line = _state.origins.get(node, (None, "(op recorded before anomaly mode was on)"))
            raise AnomalyError(
                f"{node.fn.name}: backward returned NaN in the gradient of input {i} "
                f"(shape {tuple(g.shape)}){_where(path, line)}"
            )


def _set(mode: bool, check_nan: bool) -> None:
    _state.check_nan = check_nan
    if mode == _state.enabled:
        return
    _state.enabled = mode
    if mode:
        observers.forward.append(_on_forward)
        observers.backward.append(_on_backward)
        if _state.tracker:
            _state.tracker[0]()
    else:
        observers.forward.remove(_on_forward)
        observers.backward.remove(_on_backward)
        if _state.tracker:
            _state.tracker[1]()


class set_detect_anomaly:  # noqa: N801 - PyTorch's name
    """Turn anomaly detection on or off; takes effect at once, and restores on ``with`` exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = (_state.enabled, _state.check_nan)
        _set(bool(mode), check_nan)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        _set(*self.prev)


class detect_anomaly:  # noqa: N801 - PyTorch's name
    """Context manager (and decorator) that turns anomaly detection on inside its block."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self.prev = (False, True)

    def __enter__(self) -> None:
        self.prev = (_state.enabled, _state.check_nan)
        _set(True, self.check_nan)

    def __exit__(self, *exc: object) -> None:
        _set(*self.prev)

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__(self.check_nan):
                return func(*args, **kwargs)

        return wrapper
