"""A base tensor's table of its live views (``Tensor._views``), which ``view_rebase`` walks to
rebase their graphs after a recorded in-place change of the memory they share."""

from __future__ import annotations

__all__ = ["Views", "prune"]

#: The size at which a base's table of views first drops its dead entries.
_FIRST_PRUNE = 32


class Views(dict):
    """A base's table of views, ``id(view) -> weak reference``. A view that dies leaves its entry
    behind (a callback per view would cost every view op); ``prune`` drops the dead ones once the
    table reaches ``limit``, and sets the next limit at twice what lives on: a base viewed at every
    step (an input sliced per time step, a weight cut per forward) keeps a few dozen entries, not a
    growing pile, and the pruning stays amortised O(1) per view."""

    __slots__ = ("limit",)

    def __init__(self) -> None:
        self.limit = _FIRST_PRUNE


def prune(views: Views) -> None:
    """Drop the dead entries of a base's table (``Views``; every rebase drops them too)."""
    for k in [k for k, r in views.items() if r() is None]:
        del views[k]
    views.limit = max(_FIRST_PRUNE, 2 * len(views))
