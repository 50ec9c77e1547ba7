"""Anomaly detection: stop at the first backward node whose gradient holds NaN, as PyTorch's.

Only backward gradients are checked, and for NaN only, as PyTorch's engine checks them: a forward
output may hold NaN or Inf legitimately (attention scores ``masked_fill``-ed with ``-inf`` before a
softmax; ``where(x > 0, x.log(), 0)``), and an infinite gradient that a later op masks is
legitimate too (e3nn's ``Norm`` is ``out.relu().sqrt()``: at zero, ``SqrtBackward0`` returns Inf
and ``ReluBackward0`` zeroes it).

PyTorch's names: ``detect_anomaly(check_nan=True)`` (context manager and decorator),
``set_detect_anomaly(mode, check_nan=True)`` (function or context manager) and
``is_anomaly_enabled()``. While on, every op records the user's source line that created it and,
when ``nn`` is imported, the module path it ran in (through global forward hooks installed only
while anomaly mode is on); the backward error names them. Off, nothing is installed and the engine
pays nothing.

>>> import glassgrad as gg
>>> x = gg.tensor([0.0, 1.0], requires_grad=True)
>>> import numpy as np, warnings
>>> with warnings.catch_warnings(), np.errstate(all="ignore"):  # doctest: +ELLIPSIS
...     warnings.simplefilter("ignore")
...     with detect_anomaly():
...         (x.sqrt() * 0.0).sum().backward()
Traceback (most recent call last):
...
glassgrad.autograd.anomaly.AnomalyError: Function 'SqrtBackward0' returned nan values in its 0th output...
"""

from __future__ import annotations

import functools
import os
import traceback
import warnings
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
    """A backward node returned a gradient holding NaN (anomaly mode)."""


# PyTorch's words (torch/autograd/anomaly_mode.py), said when detect_anomaly() is made
_ENABLED_WARNING = "Anomaly Detection has been enabled. This mode will increase the runtime and should only be enabled for debugging."


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


def _has_nan(a: Any) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind in "fc" and bool(np.isnan(a).any())


def _where(path: str | None, line: str) -> str:
    return (f" in module {path}" if path else "") + f"\n  created at {line}"


def _on_forward(fn: Any, node: Any, inputs: tuple, output: Any, attrs: dict) -> None:
    # Only remembers where the node was made: a NaN or Inf forward output is no anomaly to
    # PyTorch (a -inf attention mask, a log() that where() discards), only a NaN gradient is.
    if node is not None:
        _state.origins[node] = (_state.tracker[2]() if _state.tracker else None, _user_line())


def _on_backward(node: Any, grad: Any, in_grads: tuple) -> None:
    if not _state.check_nan:
        return
    for i, g in enumerate(in_grads):
        if _has_nan(g):  # NaN only, as PyTorch's: an Inf gradient may be masked further back
            name = node.name()
            path, line = _state.origins.get(node, (None, "(op recorded before anomaly mode was on)"))
            # PyTorch warns with the forward traceback of the failing node, then raises
            warnings.warn(
                f"Error detected in {name}. Traceback of forward call that caused the error:\n  {line}",
                UserWarning,
                stacklevel=2,
            )
            raise AnomalyError(
                f"Function '{name}' returned nan values in its {i}th output.{_where(path, line)}"
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
        warnings.warn(_ENABLED_WARNING, UserWarning, stacklevel=2)

    def __enter__(self) -> None:
        self.prev = (_state.enabled, _state.check_nan)
        _set(True, self.check_nan)

    def __exit__(self, *exc: object) -> None:
        _set(*self.prev)

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = (_state.enabled, _state.check_nan)  # warned once, when the decorator was made
            _set(True, self.check_nan)
            try:
                return func(*args, **kwargs)
            finally:
                _set(*prev)

        return wrapper
