"""``torch.serialization``'s allowlist of globals for weights-only loading: ``add_safe_globals``,
``get_safe_globals``, ``clear_safe_globals`` and the ``safe_globals`` context manager.

PyTorch unpickles checkpoints, and its weights-only loader refuses any class or function that is
not on this list. glassgrad's ``load`` never unpickles (safetensors bytes plus JSON), so no file can
name a function for it to run; the one thing a file can name is a tensor's class (a user's Tensor
subclass), and ``load`` makes it only when it is on this list (``serialization_subclass.py``). The
list is kept, checked and restored exactly as PyTorch's is, so code that registers its classes
ports unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = ["add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals"]

_SAFE_GLOBALS: list[Any] = []


def _checked(op: str, entries: Iterable[Any]) -> list[Any]:
    if isinstance(entries, str | bytes) or not isinstance(entries, Iterable):
        raise TypeError(
            f"{op}: expected a list of classes/functions or (obj, name) tuples, got {type(entries).__name__}"
        )
    out = list(entries)
    for e in out:
        named = isinstance(e, tuple) and len(e) == 2 and callable(e[0]) and isinstance(e[1], str)
        if not (named or callable(e)):
            raise TypeError(f"{op}: expected a class/function or an (obj, 'module.Name') tuple, got {e!r}")
    return out


def add_safe_globals(safe_globals: list[Callable | tuple[Callable, str]]) -> None:
    """Append classes/functions (or ``(obj, "module.Name")`` pairs) to the allowlist.

    Raises:
        TypeError: an entry is neither callable nor a ``(callable, str)`` pair.
    """
    _SAFE_GLOBALS.extend(_checked("add_safe_globals", safe_globals))


def get_safe_globals() -> list[Callable | tuple[Callable, str]]:
    """A copy of the allowlist, in the order entries were added."""
    return list(_SAFE_GLOBALS)


def clear_safe_globals() -> None:
    """Empty the allowlist."""
    _SAFE_GLOBALS.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: list[Callable | tuple[Callable, str]]) -> Iterator[None]:
    """Add entries to the allowlist for the ``with`` block; on exit the list is what it was before.

    >>> import glassgrad as gg
    >>> with gg.serialization.safe_globals([gg.nn.Linear]):
    ...     gg.nn.Linear in gg.serialization.get_safe_globals()
    True
    >>> gg.nn.Linear in gg.serialization.get_safe_globals()
    False
    """
    entries = _checked("safe_globals", safe_globals)
    before = list(_SAFE_GLOBALS)
    _SAFE_GLOBALS.extend(entries)
    try:
        yield
    finally:
        _SAFE_GLOBALS[:] = before
