"""User-given tensor names (``q``, ``f``) for traces, graphs and the checker.

``Tensor`` has ``__slots__``; when it carries a ``name`` slot that is used, otherwise names live
in a side table keyed by the tensor's identity and dropped when the tensor dies.
"""

from __future__ import annotations

import weakref
from typing import Any

__all__ = ["set_name", "get_name"]

_NAMES: dict[int, tuple[Any, str]] = {}


def set_name(t: Any, name: str) -> Any:
    """Give ``t`` a name shown by ``explain`` tables and graphs; returns ``t``."""
    try:
        t.name = name
        return t
    except AttributeError:
        pass
    key = id(t)
    _NAMES[key] = (weakref.ref(t, lambda _r, k=key: _NAMES.pop(k, None)), name)
    return t


def get_name(t: Any) -> str | None:
    """The name given to ``t`` with :func:`set_name` (or ``t.name``), else None."""
    name = getattr(t, "name", None)
    if isinstance(name, str):
        return name
    entry = _NAMES.get(id(t))
    if entry is not None and entry[0]() is t:
        return entry[1]
    return None
