"""``torch.backends.opt_einsum``: PyTorch's switches for ``einsum``'s contraction-path search.

glassgrad's ``einsum`` is one op (NumPy's), so the switches change no result; they read and set as
PyTorch documents them: ``is_available()`` says whether the ``opt_einsum`` package imports,
``enabled`` (True when it does) and ``strategy`` (``"auto"``, ``"greedy"`` or ``"optimal"``; None
without the package) are plain attributes, as PyTorch's are in effect; ``set_flags(...)`` and the
block form ``flags(...)`` check them as PyTorch's setters do (port round 56: opt_einsum's torch
backend).

>>> import glassgrad as gg
>>> gg.backends.opt_einsum.enabled == gg.backends.opt_einsum.is_available()
True
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from glassgrad.backends import _allow_mutation

try:
    import opt_einsum as _opt_einsum  # type: ignore[import-not-found]
except ImportError:
    _opt_einsum = None

__all__ = ["is_available", "get_opt_einsum", "set_flags", "flags", "enabled", "strategy"]

_STRATEGIES = ("auto", "greedy", "optimal")


@lru_cache
def is_available() -> bool:
    """Whether the ``opt_einsum`` package imported."""
    return _opt_einsum is not None


def get_opt_einsum() -> Any:
    """The ``opt_einsum`` package, or None where it is not installed."""
    return _opt_einsum


def _set_enabled(value: bool) -> None:
    global enabled
    if not is_available() and value:
        raise ValueError(
            f"opt_einsum is not available, so setting `enabled` to {value} will not reap "
            "the benefits of calculating an optimal path for einsum. torch.einsum will "
            "fall back to contracting from left to right. To enable this optimal path "
            "calculation, please install opt-einsum."
        )
    enabled = value


def _set_strategy(value: str) -> None:
    global strategy
    if not is_available():
        raise ValueError(
            f"opt_einsum is not available, so setting `strategy` to {value} will not be meaningful. "
            "torch.einsum will bypass path calculation and simply contract from left to right. "
            "Please install opt_einsum or unset `strategy`."
        )
    if not enabled:
        raise ValueError(
            f"opt_einsum is not enabled, so setting a `strategy` to {value} will not be meaningful. "
            "torch.einsum will bypass path calculation and simply contract from left to right. "
            "Please set `enabled` to `True` as well or unset `strategy`."
        )
    if value not in _STRATEGIES:
        raise ValueError(f"`strategy` must be one of the following: [auto, greedy, optimal] but is {value}")
    strategy = value


def set_flags(_enabled: bool | None = None, _strategy: str | None = None) -> tuple[Any, Any]:
    """Set the switches that are not None, checked; returns the previous ``(enabled, strategy)``."""
    orig = (enabled, strategy if is_available() else None)
    if _enabled is not None:
        _set_enabled(_enabled)
    if _strategy is not None:
        _set_strategy(_strategy)
    return orig


@contextmanager
def flags(enabled: bool | None = None, strategy: str | None = None) -> Iterator[None]:
    """Set the switches for the block (also under frozen global flags), then restore them."""
    with _allow_mutation():
        orig = set_flags(enabled, strategy)
    try:
        yield
    finally:
        with _allow_mutation():
            set_flags(*orig)


# Plain module attributes, as PyTorch 2.13's are in effect: its OptEinsumModule declares
# ``enabled``/``strategy`` under ``global``, so its ContextProps end up module globals that the
# last lines overwrite. An assignment (``torch.backends.opt_einsum.enabled = True``) is thus not
# checked there (nor frozen by ``disable_global_flags``); ``set_flags``/``flags`` check.
enabled: bool = is_available()
strategy: str | None = "auto" if is_available() else None
