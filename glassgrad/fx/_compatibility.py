"""``torch.fx._compatibility.compatibility``: the decorator that marks an fx API backward
compatible or experimental. It returns the object itself with a note added to its docstring, as
PyTorch's does; code that subclasses ``fx.Tracer`` decorates its overrides with it, reached also
as ``torch.fx._symbolic_trace.compatibility`` (PyTorch Geometric's ``nn.fx.Transformer``)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["compatibility"]

_T = TypeVar("_T")
_BACK_COMPAT_OBJECTS: dict[Any, None] = {}
_MARKED_WITH_COMPATIBILITY: dict[Any, None] = {}

_NOTES = {
    True: "\n\n.. note::\n    Backwards-compatibility for this API is guaranteed.\n",
    False: "\n\n.. warning::\n    This API is experimental and is *NOT* backward-compatible.\n",
}


def compatibility(is_backward_compatible: bool) -> Callable[[_T], _T]:
    """A decorator returning its argument unchanged but for the note appended to ``__doc__``."""
    note = _NOTES[bool(is_backward_compatible)]

    def mark(fn: _T) -> _T:
        fn.__doc__ = textwrap.dedent(getattr(fn, "__doc__", None) or "") + note
        if is_backward_compatible:
            _BACK_COMPAT_OBJECTS.setdefault(fn)
        _MARKED_WITH_COMPATIBILITY.setdefault(fn)
        return fn

    return mark
