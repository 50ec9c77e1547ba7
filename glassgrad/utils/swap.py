"""``swap_tensors(t1, t2)``: exchange everything two Tensor objects hold, keeping their identities.

After the swap ``t1`` has ``t2``'s class, array, gradient, graph node, version counter, hooks
and attributes, and the other way round, while every reference to the object ``t1`` (an
optimizer's parameter list, a module's attribute) still points at it. So a module can replace a
parameter's contents, even with another class or shape, without the optimizer losing track.

>>> import glassgrad as gg
>>> a, b = gg.arange(2), gg.arange(3)
>>> held = a
>>> gg.utils.swap_tensors(a, b)
>>> held, b
(tensor([0, 1, 2]), tensor([0, 1]))

As PyTorch's, it refuses tensors with weak references (a weak reference would silently follow
the contents elsewhere) and tensors of classes with different ``__slots__``. A graph recorded
before the swap cannot be run backward afterwards: its gradient for a swapped leaf would land in
the object that now holds the other contents, so, as PyTorch poisons the leaf's
``AccumulateGrad`` node, that backward raises instead.
"""

from __future__ import annotations

import contextlib
import copyreg
import gc
import threading
import weakref
from collections.abc import Iterator

from glassgrad.autograd.function import Node
from glassgrad.errors import GraphError
from glassgrad.tensor import Tensor

__all__ = ["swap_tensors", "batched_swaps"]


def _slots(cls: type) -> set[str]:
    return set(copyreg._slotnames(cls)) - {"__weakref__", "__dict__"}  # type: ignore[attr-defined]


def _refuse_gradient(grad: Tensor) -> None:
    raise GraphError(
        "backward: expected the graph's leaves to be the tensors it was recorded with, got one "
        "swapped by swap_tensors since; run backward before swapping"
    )


_batch = threading.local()  # .pending: (leaf, its array before the swap) while swaps are batched


@contextlib.contextmanager
def batched_swaps() -> Iterator[None]:
    """Swaps made inside share one walk of the garbage collector's objects (on leaving) instead
    of one walk each. ``load_state_dict`` under the swap flag swaps every parameter: a walk per
    parameter made loading a 1,000-layer model's 2,000 parameters take 33 s. The swaps inside
    must record no graph (``module_load`` runs under ``no_grad``): the walk happens after them."""
    if getattr(_batch, "pending", None) is not None:  # nested: the outer batch walks
        yield
        return
    _batch.pending = []
    try:
        yield
    finally:
        pending, _batch.pending = _batch.pending, None
        _poison_recorded_edges(pending)


def _leaves(*tensors: Tensor) -> list[tuple[Tensor, object]]:
    """The leaves among ``tensors`` that a recorded graph may hold, each with its array now."""
    return [(t, t._data) for t in tensors if t._node is None and t.requires_grad]


def _poison_recorded_edges(leaves: list[tuple[Tensor, object]]) -> None:
    """Point every recorded graph edge to these leaves at a stand-in whose gradient raises.

    A node's ``next`` list holds a leaf that wants a gradient as the Tensor object itself (the
    record hot path stores nothing else), so finding them takes a walk of the garbage collector's
    objects; it is done only when a leaf that requires grad is swapped. Each stand-in has the
    array the leaf had before its swap.
    """
    if not leaves:
        return
    arrays: dict[int, object] = {}
    for t, data in leaves:  # a tensor swapped twice in a batch: its array before the first swap
        arrays.setdefault(id(t), data)
    ids = set(arrays)
    leaves = [t for t, _ in leaves]
    # lists holding a leaf (Node.next is always a list); compared by id, as Tensor == is elementwise
    lists = [r for r in gc.get_referrers(*leaves) if r.__class__ is list and any(id(x) in ids for x in r)]
    if not lists:
        return
    list_ids = {id(lst) for lst in lists}
    stand_ins: dict[int, Tensor] = {}
    for node in gc.get_referrers(*lists):
        if isinstance(node, Node) and id(node.next) in list_ids:
            edges = []
            for x in node.next:
                if id(x) in ids:
                    if id(x) not in stand_ins:
                        stand = Tensor(arrays[id(x)], _wrap=True)
                        stand._hooks = [_refuse_gradient]  # the engine runs a leaf's hooks first
                        stand_ins[id(x)] = stand
                    x = stand_ins[id(x)]
                edges.append(x)
            node.next = edges


def swap_tensors(t1: Tensor, t2: Tensor) -> None:
    """Swap the contents (class, slots, ``__dict__``) of two Tensors in place.

    Raises:
        TypeError: either argument is not a Tensor.
        RuntimeError: either has a weak reference, or their classes have different slots.
    """
    for name, t in (("t1", t1), ("t2", t2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"swap_tensors: expected {name} a Tensor, got {type(t).__name__}")
        if weakref.getweakrefs(t):
            raise RuntimeError(f"swap_tensors: cannot swap {name}: it has weak references")
    slots = _slots(type(t1))
    if slots != _slots(type(t2)):
        raise RuntimeError(
            f"swap_tensors: expected classes with the same slots, got {type(t1).__name__} "
            f"{sorted(slots)} and {type(t2).__name__} {sorted(_slots(type(t2)))}"
        )
    if t1 is t2:
        return  # nothing moves: a graph recorded with it stays valid
    pending = getattr(_batch, "pending", None)
    if pending is None:
        _poison_recorded_edges(_leaves(t1, t2))
    else:
        pending.extend(_leaves(t1, t2))
    t1.__class__, t2.__class__ = t2.__class__, t1.__class__
    d1, d2 = getattr(t1, "__dict__", None), getattr(t2, "__dict__", None)
    if d1 is not None and d2 is not None:
        t1.__dict__, t2.__dict__ = d2, d1
    missing = object()
    for slot in slots:
        v1, v2 = getattr(t1, slot, missing), getattr(t2, slot, missing)
        for obj, value in ((t1, v2), (t2, v1)):
            if value is missing:
                if hasattr(obj, slot):
                    delattr(obj, slot)
            else:
                setattr(obj, slot, value)
