"""Views made before their base's ``requires_grad_()``: ``w = zeros(4); v = w[:2]; w.requires_grad_()``.

PyTorch's view reads its base's ``requires_grad`` (``DifferentiableViewMeta``), so ``v.requires_grad``
turns True with ``w``'s, though ``v`` keeps no ``grad_fn``: a leaf whose own flag is off, so a
backward through it fills neither ``v.grad`` nor ``w.grad`` (``(v * 3).sum().backward()`` runs).
An in-place change of ``v`` while recording is refused (a view of a leaf that requires grad); one
under no_grad, of ``v`` or of ``w`` (an optimizer's step), makes PyTorch regenerate ``v``'s
``grad_fn`` (``AsStridedBackward0`` of ``w``), and from then on ``v``'s gradient reaches ``w``.

Here ``follow_base``, called by ``requires_grad_`` of a tensor that has views, switches such views
on (or back off) and marks them ``Early`` in the base's table of views; the engine drops their
gradient as a no_grad view's (``engine_checks.no_grad_view_leaf``). They are also entered in a
table of the version counter's own (``vc[3]``; ``vc[2]`` holds split's pieces), so the next
in-place change of that memory (``stale_views.changed``) gives them their ``AsStrided`` node
(``regenerate_all``).
"""

from __future__ import annotations

import weakref
from typing import Any

from glassgrad.autograd.function import remember
from glassgrad.autograd.view_rebase import Marked, _grad_edge, _view_node, live_base

__all__ = ["Early", "follow_base", "regenerate_all"]


class Early(Marked):
    """A base's weak reference to a view made before the base's ``requires_grad_()``: it reads
    ``requires_grad=True`` and has no node; a backward through it gives no gradient."""

    __slots__ = ()


def follow_base(base: Any) -> None:
    """After ``base.requires_grad_(flag)``: its live views that have no node read ``flag`` (those
    made since have their node; a no_grad view or a split's piece keeps its own mark)."""
    views, on, vc = base._views, base.requires_grad, base._vc
    for key, ref in list(views.items()):
        v = ref()
        if v is None or v._node is not None or v._data.dtype.kind not in "fc" or live_base(v) is not base:
            continue
        if on and ref.__class__ is weakref.ref and not v.requires_grad:
            views[key] = Early(v)
            v.requires_grad = True
            while len(vc) < 4:
                vc.append({})
            remember(vc[3], v)  # revisited by the next in-place change (stale_views.changed)
        elif not on and ref.__class__ is Early:
            views[key] = weakref.ref(v)
            v.requires_grad = False


def regenerate_all(early: dict) -> None:
    """After an in-place change of their memory, each ``Early`` view in ``early`` (``{id: weakref}``)
    whose base still requires grad takes PyTorch's regenerated node: an ``as_strided`` view of the
    base's values, so that its gradient reaches the base from now on. ``early`` is emptied."""
    for ref in early.values():
        v = ref()
        base = None if v is None or v._node is not None else live_base(v)
        views = None if base is None else base._views
        mark = None if views is None else views.get(id(v))
        if mark.__class__ is Early and mark() is v and base.requires_grad:
            v._node = _view_node(base, v, _grad_edge(base))
            views[id(v)] = weakref.ref(v)
    early.clear()
