"""PyTorch's rule for the pieces of ``split``/``chunk``/``unbind`` (outputs of a function that
returns several views; ``tensor_split``'s pieces are plain slices in PyTorch): once their memory
is changed in place (through the base, another view, ``detach()``, or the piece itself under
``no_grad``), a piece that requires grad, or a view cut from one, may no longer be used in the
graph.

PyTorch raises when such a view is used after the change ("Output 0 of UnbindBackward0 is a view
and its base or another view of its base has been modified inplace"). glassgrad raises at
backward: the change (``Tensor._check_inplace``) gives every such tensor still alive a new node,
``StaleView``, whose backward raises; uses before the change hold the old node and are not
affected, as in PyTorch. The tensors are found through their shared version counter: its third
item, ``{id(t): weakref(t)}``, is set by ``register`` and extended by ``Function.apply`` to views
cut from a registered tensor, so tensors without such pieces pay nothing.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.early_views import regenerate_all
from glassgrad.autograd.function import Node, remember
from glassgrad.autograd.function import Primitive as Function
from glassgrad.errors import GraphError

__all__ = [
    "register",
    "changed",
    "poison",
    "is_multi_view",
    "refuse_view_inplace",
    "refuse_no_grad_view",
    "StaleView",
]


class StaleView(Function):
    """The node of a piece (or a view of one) used after its memory changed in place: its backward
    raises, as PyTorch refuses the use itself."""

    name = "stale_view"
    register = False

    @staticmethod
    def forward(ctx: Node, a: Any) -> Any:  # never run: poison() builds the node directly
        return a

    @staticmethod
    def backward(ctx: Node, g: Any) -> Any:
        raise GraphError(
            f"{ctx.attrs['op']}: expected a piece of split/chunk/unbind, a view made in no_grad mode "
            f"or an input a custom Function returned as is (or a view of one) whose memory was not "
            f"changed in place before it was used, got "
            f"one of shape {ctx.shapes[0]} used after an in-place change (PyTorch refuses this too; a "
            "view of another dtype, view_as_real or .real, is refused here alone); clone() the pieces, "
            "or write the change out of place"
        )


def register(pieces: tuple) -> None:
    """Mark the pieces of one split (which require grad) as views of a multi-view function."""
    vc = pieces[0]._vc if pieces else None
    if vc is None or pieces[-1]._vc is not vc:  # not the hub's one counter (all or none): one by one
        for t in pieces:
            if len(t._vc) < 3:
                t._vc.append({})
            remember(t._vc[2], t)
        return
    if len(vc) < 3:
        vc.append({})
    remember(vc[2], *pieces)  # at once: split runs every step in an LSTM


def changed(vc: list, op: str) -> None:
    """After an in-place change of the memory behind version counter ``vc`` (bumped by the caller):
    the registered pieces of it, if any, go stale, and the views made before their base's
    ``requires_grad_()`` (``vc[3]``) take their view node. One test when there are none."""
    if len(vc) > 2:
        if vc[2]:
            poison(vc, op)
        if len(vc) > 3 and vc[3]:
            regenerate_all(vc[3])


def poison(vc: list, op: str) -> None:
    """Called after an in-place change bumped ``vc``: every registered tensor still alive takes a
    ``StaleView`` node, so a later use of it raises at backward."""
    for ref in vc[2].values():
        t = ref()
        if t is None or not t.requires_grad or t._node is None or t._node.fn is StaleView:
            continue
        node = Node({"op": op})
        node.fn = StaleView
        node.next = [t._node]
        node.shapes = [t._data.shape]
        node.needs_input_grad = [True]
        node.versions = None
        t._node = node
    vc[2].clear()


def is_multi_view(t: Any) -> bool:
    """Whether ``t`` is a registered piece of split/chunk/unbind or a view of one (or was, and is
    poisoned): PyTorch refuses to change such a tensor in place while recording."""
    vc = t._vc
    if len(vc) > 2 and id(t) in vc[2] and vc[2][id(t)]() is t:
        return True
    return t._node is not None and t._node.fn is StaleView


def _is_view_of_leaf(t: Any) -> bool:
    """Whether ``t`` is a view of a leaf that requires grad: following the first input of each node
    from ``t``'s node reaches a leaf sharing ``t``'s version counter (views share their base's)."""
    n = t._node
    while isinstance(n, Node):
        n = n.next[0] if n.next else None
    return n is not None and n._vc is t._vc


def refuse_view_inplace(t: Any, op: str) -> None:
    """PyTorch's two refusals of an in-place op, while recording, on a view that requires grad:
    a piece of a multi-view function (or a view of one), and a view of a leaf that requires grad.
    Called for a tensor whose memory is shared (``_vc[1]``), by the in-place shape methods
    (``unsqueeze_``, ``t_`` ...), which keep the values and so are not refused as shared, and by
    ``Tensor._update`` for a piece."""
    if is_multi_view(t):
        raise GraphError(
            f"{op}: expected a tensor that may change in place, got a piece of split/chunk/unbind or "
            f"an input a custom Function returned as is (or a view of one) of shape {t.shape}, which "
            "requires grad (PyTorch refuses it too); change a clone(), or write it out of place"
        )
    if _is_view_of_leaf(t):
        raise GraphError(
            f"{op}: expected a tensor that may change in place, got a view of shape {t.shape} of a leaf "
            "that requires grad (PyTorch refuses it too); do it inside glassgrad.no_grad(), or change a "
            "clone()"
        )


def refuse_no_grad_view(t: Any, op: str) -> None:
    """PyTorch's refusal of an in-place change, with grad mode on, of a view made in no_grad mode
    (or cut from one) whose base requires grad: PyTorch's view then reads ``requires_grad=True``
    and the change would have to be recorded; and of any in-place change of a view, made before
    its leaf base's ``requires_grad_()``, of that leaf. A view made in no_grad mode reads
    ``requires_grad=True`` here too (a leaf: PyTorch's words, not the leaf refusal's, round 61)."""
    from glassgrad.autograd.view_rebase import Marked, live_base

    base = live_base(t)
    if base is None or not base.requires_grad:
        return
    ref = None if base._views is None else base._views.get(id(t))
    if ref.__class__ is Marked and ref() is t and (t.requires_grad or not is_multi_view(t)):
        raise GraphError(
            f"{op}: expected a tensor that may change in place with grad mode on, got a view of shape "
            f"{t.shape} made in no_grad mode of a tensor that requires grad (PyTorch refuses it too); "
            "change it inside glassgrad.no_grad(), or change a clone()"
        )
    if base._node is None:  # a view made before its leaf's requires_grad_(): PyTorch's reads True
        raise GraphError(
            f"{op}: expected a tensor that may change in place with grad mode on, got a view of shape "
            f"{t.shape} of a leaf that requires grad (made before its requires_grad_(); PyTorch refuses "
            "it too); do it inside glassgrad.no_grad(), or change a clone()"
        )
