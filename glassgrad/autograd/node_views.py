"""What users see of the backward graph: ``grad_fn`` and ``next_functions``.

``Node`` (``autograd/function.py``) is one class for every op inside the engine. A user who reaches
a node (``t.grad_fn``, ``grad_fn.next_functions``) gets it as PyTorch shows it:

- of a subclass of ``Node`` named after its op (``node_type``), so that ``type(grad_fn).__name__``
  is ``AddBackward0``, as graph drawers such as torchviz read it;
- the one node of a multi-output op (split's pieces, a custom Function's outputs) for each of its
  outputs, with the output number in ``next_functions``' pairs;
- an ``AccumulateGrad`` for a leaf that wants a gradient, one per leaf;
- with what PyTorch's node of that kind has: an op's node no ``saved_tensors`` (PyTorch's
  generated nodes show their saved values only as ``_saved_<name>``), a custom Function's node
  its ``ctx.saved_tensors`` as Tensors and no ``_saved_self``/``_other``/``_result``; ``dir()``
  lists only the ``_saved_*`` that the node holds, so a walk that reads every ``_saved_*`` name
  that ``dir`` gives (torchviz's ``show_attrs``/``show_saved``) reads values, not errors.
"""

from __future__ import annotations

import weakref
from typing import Any

from glassgrad.autograd.function import Node, call_name
from glassgrad.autograd.node_hooks import AccumulateGradHooks
from glassgrad.autograd.saved_args import properties
from glassgrad.errors import GraphError

__all__ = ["AccumulateGrad", "OpNodeView", "UserNodeView", "edge", "node_type", "shown"]


_ROLES = ("_saved_self", "_saved_other", "_saved_result")

# Nodes whose PyTorch counterpart has no edge for a Python-number operand (or where's condition):
# name -> (glassgrad's input count, the inputs PyTorch shows). ``x ** 2``: PowBackward0 has one
# edge in PyTorch, ``x + 2``'s AddBackward0 two; the count guards other ops of the same name.
_SHOWN_EDGES = {
    "PowBackward0": (2, (0,)), "PowBackward2": (2, (1,)), "RsubBackward1": (2, (1,)),
    "WhereBackward0": (3, (1, 2)),
}  # fmt: skip


def shown_edges(node: Any, items: tuple) -> tuple:
    """Of ``items`` (one per input of ``node``), those PyTorch's node of that name has."""
    keep = _SHOWN_EDGES.get(type(node).__name__)
    if keep is None or len(items) != keep[0]:
        return items
    return tuple(items[i] for i in keep[1])


class OpNodeView(Node):
    """Base of the classes a shown op node takes (``node_type``): ``Node`` as PyTorch's generated
    nodes look from outside. The engine never reads what this class changes."""

    __slots__ = ()

    @property
    def saved_tensors(self) -> tuple:
        # PyTorch's generated nodes have none (hasattr is False): their saved values are _saved_*
        raise AttributeError(f"'{type(self).__name__}' object has no attribute 'saved_tensors'")

    def __dir__(self) -> list:
        # a _saved_* this node cannot give (AttributeError: no such input, an argument its op did
        # not record) is not listed, nor a _saved_self/_other/_result this op did not save (None),
        # as PyTorch lists only what a node's formula keeps
        names = super().__dir__()
        return [n for n in names if not n.startswith("_saved_") or _holds(self, n)]

    @property
    def next_functions(self) -> tuple:
        return shown_edges(self, Node.next_functions.fget(self))

    def __call__(self, *grads: Any) -> Any:
        """``grad_fn(grad_output)``: this node's backward alone, as PyTorch's (node_call.py)."""
        from glassgrad.autograd.node_call import call_node  # (it imports the engine)

        return call_node(self, grads)


def _holds(node: Any, attr: str) -> bool:
    try:
        return getattr(node, attr) is not None or attr not in _ROLES
    except GraphError:  # freed by a backward: still listed, reading raises (as PyTorch)
        return True
    except AttributeError:
        return False


class UserNodeView(OpNodeView):
    """Base of the class a custom Function's shown node takes: as PyTorch's ``BackwardCFunction``,
    ``saved_tensors`` is the Function's (``ctx.saved_tensors``: Tensors, raising once freed by a
    backward) and there are no ``_saved_self``/``_other``/``_result``."""

    __slots__ = ()

    @property
    def saved_tensors(self) -> tuple:
        saved = self.saved
        if saved and hasattr(saved[0], "_saved"):  # the FunctionCtx custom.py keeps on its node
            return saved[0].saved_tensors
        raise GraphError(f"{type(self).__name__}: its saved tensors were freed by a backward")

    def _no_role(self) -> Any:
        raise AttributeError(f"'{type(self).__name__}' object has no such _saved_ attribute")

    _saved_self = _saved_other = _saved_result = property(_no_role)

    def __call__(self, *grads: Any) -> Any:
        # PyTorch's custom Function nodes are not callable, unlike its generated op nodes
        raise TypeError(f"'{type(self).__name__}' object is not callable")


#: The subclasses of ``Node`` by (name, made by a custom Function), made once each (``node_type``).
_NODE_TYPES: dict[tuple, type] = {}


def node_type(name: str, user: bool = False) -> type:
    """The subclass of ``Node`` called ``name`` (``AddBackward0``): see ``shown``. Each op's class
    holds its own (``Primitive.node_type``); ``user``: the node of a custom Function's op."""
    t = _NODE_TYPES.get((name, user))
    if t is None:
        base = UserNodeView if user else OpNodeView
        body = {"__slots__": (), "__module__": Node.__module__, **properties(name)}  # PyTorch's _saved_<arg>
        t = _NODE_TYPES[name, user] = type(name, (base,), body)
    return t


def shown(node: Any) -> Any:
    """``node`` as ``grad_fn`` and ``next_functions`` hand it to the user: of its op's subclass of
    ``Node``, so that ``type(grad_fn).__name__`` is PyTorch's node name, as graph drawers
    (torchviz) read it. Nodes are made plain and change class only here, when a user first looks
    at one: the engine's attribute reads stay specialised on one class (a class per op made a
    graph of small ops 5 to 10% slower). An output of a multi-output op (split's pieces, a custom
    Function's outputs) is shown as the op's one node, its hub, as PyTorch has one node there."""
    of = getattr(getattr(node, "fn", None), "grad_fn_of", None)
    if of is not None:
        hub = of(node)
        if hub is not node:
            if hub.__class__ is Node:
                hub.__class__ = node.fn.node_type  # named as the outputs' op (UnbindBackward0 ...)
            return hub
    if node.__class__ is Node:
        fn = getattr(node, "fn", None)
        if fn is not None and hasattr(fn, "node_type"):
            node.__class__ = node_type(call_name(node), getattr(fn, "user_function", False))  # as PyTorch
    return node


class AccumulateGrad(AccumulateGradHooks):
    """What ``next_functions`` shows for a leaf tensor that wants a gradient, as PyTorch's
    ``AccumulateGrad`` node: ``variable`` is the leaf, and it has no ``next_functions``.

    As in PyTorch, a leaf has one ``AccumulateGrad`` for its lifetime, so ``is`` comparisons and
    walks that remember the nodes they have seen work. Unlike PyTorch, it holds its leaf weakly
    (the graph holds the leaf itself): once the leaf is gone, ``variable`` is None.
    """

    __slots__ = ("_ref",)
    next_functions: tuple = ()

    def __init__(self, variable: Any) -> None:
        key = id(variable)

        def forget(ref: Any) -> None:  # the leaf died: drop its entry (unless id reused since)
            acc = _accumulators.get(key)
            if acc is not None and acc._ref is ref:
                del _accumulators[key]

        self._ref = weakref.ref(variable, forget)

    @property
    def variable(self) -> Any:
        """The leaf tensor whose ``.grad`` this node accumulates into."""
        return self._ref()

    def name(self) -> str:
        # PyTorch's: the C++ class's qualified name (its type's __name__ is "AccumulateGrad")
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


#: ``id(leaf) -> AccumulateGrad``, an entry living as long as its leaf.
_accumulators: dict[int, AccumulateGrad] = {}


def edge(n: Any) -> tuple:
    """``(node, output number)`` as PyTorch's ``next_functions`` pairs, for one entry of a node's
    ``next``: the input's node (with the number of the output of a multi-output op that the edge
    comes from, a piece's index, else 0), the leaf's ``AccumulateGrad``, or None."""
    if n is None:
        return None, 0
    if isinstance(n, Node):
        hub = shown(n)
        nr = getattr(n.fn, "output_nr", None)
        return hub, (nr(n) if hub is not n and nr is not None else 0)
    acc = _accumulators.get(id(n))
    if acc is None or acc._ref() is not n:
        acc = _accumulators[id(n)] = AccumulateGrad(n)
    return acc, 0
