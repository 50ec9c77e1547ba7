"""``torch.use_deterministic_algorithms`` and its companions.

PyTorch can be told to refuse (or warn about) ops whose results vary from run to run on its
GPU kernels. Every glassgrad op runs on NumPy on the CPU and gives the same result for the same
seed; the switch and its warn-only flag are kept and read back, as scripts that set them expect
(the course helpers call ``use_deterministic_algorithms(True)``), and do what PyTorch's do on the
CPU: ``put_`` without ``accumulate`` and ``max_unpool1d/2d/3d`` are refused
(``alert_not_deterministic``), and new memory
(``empty*``, a ``resize_`` that grows) is filled with NaN or the dtype's largest value
(``fill_uninitialized``, switched by ``torch.utils.deterministic.fill_uninitialized_memory``).

>>> import glassgrad as gg
>>> gg.are_deterministic_algorithms_enabled()
False
>>> gg.use_deterministic_algorithms(True, warn_only=True)
>>> gg.are_deterministic_algorithms_enabled(), gg.get_deterministic_debug_mode()
(True, 1)
>>> gg.use_deterministic_algorithms(False)
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "alert_not_deterministic",
    "are_deterministic_algorithms_enabled",
    "fill_uninitialized",
    "get_deterministic_debug_mode",
    "is_deterministic_algorithms_warn_only_enabled",
    "set_deterministic_debug_mode",
    "use_deterministic_algorithms",
]

_state = {"mode": False, "warn_only": False, "fill": True}
_DEBUG_NAMES = ("default", "warn", "error")


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record the deterministic-algorithms switch (glassgrad's ops are deterministic either way)."""
    if not isinstance(mode, bool):
        raise TypeError(
            f"use_deterministic_algorithms: argument 'mode' must be bool, not {type(mode).__name__}"
        )
    if not isinstance(warn_only, bool):
        raise TypeError(
            f"use_deterministic_algorithms: argument 'warn_only' must be bool, not {type(warn_only).__name__}"
        )
    _state["mode"], _state["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled() -> bool:
    """Whether ``use_deterministic_algorithms(True)`` is in effect."""
    return _state["mode"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Whether the switch was set with ``warn_only=True``."""
    return _state["warn_only"]


def set_deterministic_debug_mode(debug_mode: str | int) -> None:
    """0/"default": off, 1/"warn": on with warn_only, 2/"error": on."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_NAMES:
            raise RuntimeError(
                "set_deterministic_debug_mode: invalid value of debug_mode, expected one of "
                f"`default`, `warn`, `error`, but got {debug_mode}"
            )
        debug_mode = _DEBUG_NAMES.index(debug_mode)
    elif isinstance(debug_mode, int):
        if debug_mode not in (0, 1, 2):
            raise RuntimeError(
                f"set_deterministic_debug_mode: invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}"
            )
    else:
        raise TypeError(
            f"set_deterministic_debug_mode: debug_mode must be str or int, but got {type(debug_mode)}"
        )
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    """0 when off, 1 when on with warn_only, 2 when on."""
    if not _state["mode"]:
        return 0
    return 1 if _state["warn_only"] else 2


def fill_uninitialized(arr: Any) -> Any:
    """``arr`` (new memory that PyTorch leaves uninitialised: ``empty*``, the grown part of a
    ``resize_``) filled in place, as PyTorch does with ``use_deterministic_algorithms(True)`` and
    ``torch.utils.deterministic.fill_uninitialized_memory`` (on by default): NaN for floating and
    complex dtypes, the largest value for integers, True for bool, so that a read of memory never
    written shows. Otherwise ``arr`` as it is (zeros here, see ``empty``)."""
    if not (_state["mode"] and _state["fill"]) or not isinstance(arr, np.ndarray) or not arr.size:
        return arr
    kind = arr.dtype.kind
    arr[...] = np.nan if kind in "fc" else True if kind == "b" else np.iinfo(arr.dtype).max
    return arr


def alert_not_deterministic(caller: str) -> None:
    """PyTorch's ``alertNotDeterministic``: with ``use_deterministic_algorithms(True)``, an op with no
    deterministic implementation raises a ``RuntimeError`` (a ``UserWarning`` with ``warn_only``).
    On the CPU PyTorch alerts only for ``put_`` without ``accumulate`` and for max unpooling
    (repeated indices keep an unspecified value); glassgrad alerts where PyTorch's CPU kernels do,
    so that a script checked here fails where it fails there."""
    if not _state["mode"]:
        return
    msg = (
        f"{caller} does not have a deterministic implementation, but you set "
        "'torch.use_deterministic_algorithms(True)'. You can turn off determinism just for this "
        "operation, or you can use the 'warn_only=True' option, if that's acceptable for your application."
    )
    if _state["warn_only"]:
        import warnings

        from glassgrad.user_frames import user_stacklevel

        warnings.warn(msg, UserWarning, stacklevel=user_stacklevel())
        return
    raise RuntimeError(msg)
