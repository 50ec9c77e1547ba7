"""What lets ``jvp`` and ``jacfwd`` run their function more than once and still look as if it ran
once, as PyTorch's does (it vmaps jacfwd's tangents, and never reruns jvp's function).

glassgrad's forward mode carries one tangent per pass, so ``jacfwd`` runs ``f`` once per input
element, and ``jvp`` reruns ``f`` recorded when the first pass shows PyTorch's result to be
differentiable (``forward.py``). ``f`` may write the tensors it is given in place (PyTorch allows
it for every argument, differentiated or not): each rerun must then start from the values ``f``
was first given, or the write lands once per pass (``a.mul_(2)`` left the caller's tensor times
16 after a 3-column ``jacfwd``, and the Jacobian was taken at the doubled values).
"""

from __future__ import annotations

from typing import Any

from glassgrad.tensor import Tensor
from glassgrad.utils._pytree import tree_flatten

__all__ = ["ArgValues"]


class ArgValues:
    """The values and versions of every tensor in ``trees`` (f's positional and keyword
    arguments) before ``f`` first runs.

    ``restore()`` puts back the values of those ``f`` wrote (before a rerun); ``settle()`` (after
    the last run) sets their versions to what the first run left, so the caller sees one run's
    version bumps, as PyTorch's single run gives.
    """

    def __init__(self, *trees: Any) -> None:
        seen = set()
        self._items = []
        for tree in trees:
            for t in tree_flatten(tree)[0]:
                if isinstance(t, Tensor) and id(t) not in seen:
                    seen.add(id(t))
                    self._items.append((t, t._version, t._data.copy()))
        self._first: list | None = None  # the versions the first run left

    def restore(self) -> None:
        """Before a rerun: the values f was first given, in the tensors it wrote."""
        if self._first is None:
            self._first = [t._version for t, _, _ in self._items]
        for t, version, value in self._items:
            # raw: the write bumps no version and records nothing (settle() fixes the versions)
            if t._version != version:
                t._data[...] = value

    def settle(self) -> None:
        """After the last rerun: the versions the first run left."""
        if self._first is None:
            return
        for (t, _, _), first in zip(self._items, self._first):
            if t._version != first:
                t._version = first
