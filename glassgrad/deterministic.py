"""``torch.use_deterministic_algorithms`` and its companions.

PyTorch can be told to refuse (or warn about) ops whose results vary from run to run on its
GPU kernels. Every glassgrad op runs on NumPy on the CPU and gives the same result for the same
seed, so there is nothing to refuse: the switch and its warn-only flag are kept and read back, as
scripts that set them expect (the course helpers call ``use_deterministic_algorithms(True)``).

>>> import glassgrad as gg
>>> gg.are_deterministic_algorithms_enabled()
False
>>> gg.use_deterministic_algorithms(True, warn_only=True)
>>> gg.are_deterministic_algorithms_enabled(), gg.get_deterministic_debug_mode()
(True, 1)
>>> gg.use_deterministic_algorithms(False)
"""

from __future__ import annotations

__all__ = [
    "are_deterministic_algorithms_enabled",
    "get_deterministic_debug_mode",
    "is_deterministic_algorithms_warn_only_enabled",
    "set_deterministic_debug_mode",
    "use_deterministic_algorithms",
]

_state = {"mode": False, "warn_only": False}
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
