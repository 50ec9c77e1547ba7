"""``torch.nn.modules.utils``: the argument-normalising helpers layers use (``_pair(3) == (3, 3)``)
and ``consume_prefix_in_state_dict_if_present`` (drops a wrapper's key prefix, such as the
``module.`` that ``DataParallel`` adds, from a state_dict in place)."""

from __future__ import annotations

import collections.abc
from collections.abc import Callable
from itertools import repeat
from typing import Any

__all__ = [
    "consume_prefix_in_state_dict_if_present",
    "_ntuple",
    "_single",
    "_pair",
    "_triple",
    "_quadruple",
    "_reverse_repeat_tuple",
]


def _ntuple(n: int, name: str = "parse") -> Callable[[Any], tuple]:
    """A parser that repeats a scalar ``n`` times and turns any other iterable into a tuple as is."""

    def parse(x: Any) -> tuple:
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t: tuple, n: int) -> tuple:
    """``(a, b)`` -> ``(b, b, a, a)`` for n=2: per-dim values reversed, each repeated (F.pad's order)."""
    return tuple(x for x in reversed(t) for _ in range(n))


def consume_prefix_in_state_dict_if_present(state_dict: dict[str, Any], prefix: str) -> None:
    """Strip ``prefix`` from the start of every key that has it, in place; keys without it are kept.

    The ``_metadata`` attribute that ``Module.state_dict`` may attach (keyed by module path, ``""``
    for the root) is renamed the same way, so that loading the result sees consistent versions.

    Args:
        state_dict: an ordered mapping of names to tensors, changed in place; renamed keys move to
            the end, in their order.
        prefix: the text to remove, e.g. ``"module."``.

    Raises:
        TypeError: ``prefix`` is not a string.
    """
    if not isinstance(prefix, str):
        raise TypeError(
            f"consume_prefix_in_state_dict_if_present: expected a str prefix, got {type(prefix).__name__}"
        )
    # as in PyTorch, a renamed key moves to the end and overwrites a same-named key already there
    for key in list(state_dict.keys()):
        if key.startswith(prefix):
            state_dict[key[len(prefix) :]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        for key in list(metadata.keys()):
            if len(key) == 0:
                continue
            # a module path is the prefix without its trailing dot ("module" for "module.")
            if key == prefix.replace(".", "") or key.startswith(prefix):
                metadata[key[len(prefix) :]] = metadata.pop(key)
