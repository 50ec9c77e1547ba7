"""Where a warning should point: the user's line, not glassgrad's.

``warnings.warn(..., stacklevel=k)`` counts frames, and a fixed ``k`` goes wrong as soon as a
public function gains a wrapper frame (the generated ``numpy_names``/``out_keyword`` wrappers, whose
globals name the wrapped function's module) or is reached through another op. ``user_stacklevel``
walks out of glassgrad instead.
"""

from __future__ import annotations

import sys

__all__ = ["user_stacklevel"]


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a ``warnings.warn`` in the calling function name the first
    frame outside glassgrad (call it as the argument: ``stacklevel=user_stacklevel()``)."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and _ours(frame.f_globals.get("__name__", "")):
        frame, level = frame.f_back, level + 1
    return level


def _ours(module: str) -> bool:
    """Whether ``module`` is glassgrad or one of its modules (a user's ``glassgrad_utils`` is not)."""
    return module == "glassgrad" or module.startswith("glassgrad.")
