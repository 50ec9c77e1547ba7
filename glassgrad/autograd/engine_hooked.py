"""Two of PyTorch's behaviours kept out of the engine's hot loop (``engine.run_backward``):

- ``run_hooked``: the step of a node with ``grad_fn`` hooks (autograd/node_hooks.py). The plain
  loop pays one truth test per node for it.
- ``prune``: a pass with ``inputs`` (``autograd.grad``, ``backward(inputs=...)``) runs only the
  nodes from which an input can be reached, as PyTorch's engine does: the hooks of the others do
  not run, their saved arrays are kept, and a hook's ``grad_inputs`` holds None for an input that
  leads to none. An input's own node runs for ``backward(inputs=...)`` (PyTorch marks it needed,
  and with it the node a multi-output op's outputs share) and not for ``autograd.grad``, which
  only takes its gradient (``take_input``).
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.engine_checks import _check_versions
from glassgrad.autograd.engine_modes import passes
from glassgrad.autograd.function import Node
from glassgrad.autograd.node_hooks import run_posthooks, run_prehooks
from glassgrad.errors import GraphError

__all__ = ["Needed", "input_floor", "prune", "run_hooked", "take_input", "refuse_reentrant_checkpoint"]

#: The pending count of a node a pruned pass does not run: it never reaches 0.
_NEVER = 1 << 62


def input_floor(inputs: list | None, accumulate: bool) -> int:
    """The oldest node (``seq``) a pass needs to look at: for ``autograd.grad`` with inputs that all
    have nodes (``jacobian``/``hessian`` take the gradient of a view of their input), the oldest of
    those nodes and of their multi-output hubs. A node records edges only to older nodes, so a node
    older than every input's cannot lead to one: the pass neither counts nor walks past it, and its
    cost no longer grows with the history behind the inputs (torchdyn's Lagrangian network takes
    a Hessian per sample at each solver step, with the graph of every earlier step behind it). -1:
    no floor (an input leaf, or ``backward``, whose leaves may sit anywhere)."""
    if not inputs or accumulate or any(t._node is None for t in inputs):
        return -1
    floor = min(t._node.seq for t in inputs)
    for t in inputs:
        of = getattr(t._node.fn, "grad_fn_of", None)
        if of is not None:
            floor = min(floor, of(t._node).seq)
    return floor


class Needed:
    """What a pass with ``inputs`` runs: ``nodes`` (those that lead to an input), and what it
    delivers to: those nodes, the inputs' own nodes (``capture``) and the input leaves' ids;
    ``run_inputs``: whether the inputs' own nodes run (``backward(inputs=...)``)."""

    __slots__ = ("capture", "leaves", "nodes", "run_inputs")

    def __init__(self, nodes: set, capture: dict, leaves: set, run_inputs: bool = False) -> None:
        self.nodes, self.capture, self.leaves, self.run_inputs = nodes, capture, leaves, run_inputs

    def wants(self, nxt: Any) -> bool:
        """Whether a gradient sent to ``nxt`` (a node or a leaf) reaches an input."""
        if isinstance(nxt, Node):
            return nxt in self.nodes or id(nxt) in self.capture
        return id(nxt) in self.leaves

    def computed(self, node: Node, in_grads: tuple) -> tuple:
        """``in_grads`` as PyTorch computes them (what hooks and observers such as anomaly mode
        and the tracer see): None for an input that leads to no input of the pass, but all of a
        user Function's and of an op whose inputs are one list (cat, stack: ``grads_together``),
        which PyTorch computes together."""
        fn = node.fn
        if getattr(fn, "grads_as_returned", False):
            return in_grads
        wanted = [nxt is not None and self.wants(nxt) for nxt in node.next]
        if getattr(fn, "grads_together", False) and any(wanted):
            return in_grads
        return tuple(g if w or nxt is None else None for nxt, g, w in zip(node.next, in_grads, wanted))


def refuse_reentrant_checkpoint() -> None:
    """Raise PyTorch's error when a reentrant checkpoint's backward runs in a pass with
    ``inputs``: its nested backward would fill the ``.grad`` of every parameter inside."""
    if passes.pruned == passes.id:
        raise RuntimeError(
            "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or passing "
            "an `inputs` parameter to .backward(). To resolve this error, you can either set "
            "use_reentrant=False, or call .backward() without passing the `inputs` argument."
        )


def take_input(node: Node, grad: Any, capture: dict, leaves: dict, need: Needed) -> Any:
    """Take the gradient of the input whose node is ``node``, as PyTorch's engine does: for
    ``autograd.grad``, before the tensor's hooks when the node runs for another input (they run
    with it), after them when it does not run; for ``backward(inputs=...)`` after them (its
    ``retain_grad`` hook stores it). Returns the gradient the node goes on with, None if it does
    not run."""
    from glassgrad.autograd import engine

    t = capture[id(node)]
    runs = node in need.nodes  # (with run_inputs, every input's node is)
    if t is None:  # another output of an input's multi-output op (_siblings): its hooks run
        if node.hooks:
            grad = engine._run_hooks(node.hooks, grad)
        return grad if runs else None
    if runs and not need.run_inputs:
        leaves[id(t)] = [t, grad]
        return engine._run_hooks(node.hooks, grad) if node.hooks else grad
    if node.hooks:
        grad = engine._run_hooks(node.hooks, grad)
    leaves[id(t)] = [t, grad]
    return grad if runs else None


def prune(starts: list, pending: dict, capture: dict, inputs: list, run_inputs: bool) -> Needed:
    """The nodes of the graph from ``starts`` (whose consumer counts are ``pending``) that lead to
    an input: a node whose ``next`` holds an input leaf, an input's node (``capture``) or such a
    node; with ``run_inputs``, the inputs' nodes themselves too. Every other node but the inputs'
    gets a pending count that never reaches 0, so it never runs."""
    left = dict(pending)
    stack = [n for n in starts if n not in left]
    order = []
    while stack:  # the order the engine would run them in: consumers before producers
        node = stack.pop()
        order.append(node)
        for nxt in node.next:
            if isinstance(nxt, Node):
                c = left[nxt] - 1
                left[nxt] = c
                if not c:
                    stack.append(nxt)
    passes.pruned = passes.id
    leaves = {id(t) for t in inputs if t._node is None}
    needed: set = set()
    if run_inputs:  # the inputs' nodes run, and the node PyTorch has for all of a multi-output op's
        for t in capture.values():  # (even for an output the roots do not reach)
            needed.add(t._node)
            of = getattr(t._node.fn, "grad_fn_of", None)
            if of is not None:
                needed.add(of(t._node))
    else:
        _siblings(order, capture)
    for node in reversed(order):  # producers first
        if node in needed:
            continue
        for nxt in node.next:
            if isinstance(nxt, Node):
                if nxt in needed or id(nxt) in capture:
                    needed.add(node)
                    break
            elif nxt is not None and id(nxt) in leaves:
                needed.add(node)
                break
    for node in order:
        if node not in needed and id(node) not in capture:
            pending[node] = _NEVER
    return Needed(needed, capture, leaves, run_inputs)


def _siblings(order: list, capture: dict) -> None:
    """For ``autograd.grad``: the other outputs of a multi-output op one of whose outputs is an
    input go into ``capture`` too, with no tensor. PyTorch has one node for all the outputs, which
    takes the input's gradient after the nodes feeding any output ran, and runs every output's
    tensor hooks and ``retain_grad``; so they run (``take_input``), and their consumers with them."""
    hubs = set()
    for t in capture.values():
        of = getattr(t._node.fn, "grad_fn_of", None)
        if of is not None and of(t._node) is not t._node:
            hubs.add(of(t._node))
    if hubs:
        for node in order:
            of = getattr(node.fn, "grad_fn_of", None)
            if of is not None and id(node) not in capture and of(node) in hubs:
                capture[id(node)] = None


def run_hooked(
    node: Node,
    grad: Any,
    capture: Any,
    leaves: dict,
    need: Needed | None,
    watch: list,
    create_graph: bool = False,
) -> Any:
    """One node of ``run_backward`` that has ``grad_fn`` hooks: its tensor hooks, the capture of
    its gradient for ``inputs``, its pre-hooks, backward, and its hooks (node_hooks.py). Returns
    the gradients for ``node.next``, unbroadcast to the inputs' shapes, or None when the node is
    not to run (an input's node that ``autograd.grad`` only reads). With ``create_graph`` the
    gradients are recorded Tensors: the hooks get those very Tensors (a hook's own ops on them are
    recorded, as in PyTorch) and the node runs its recorded rule."""
    from glassgrad.autograd import engine, recorded
    from glassgrad.autograd.custom import _UserHub

    if capture and id(node) in capture:
        if grad is not None:
            grad = take_input(node, grad, capture, leaves, need)
            if grad is None:
                return None
        elif node not in need.nodes:
            return None
    elif grad is not None and node.hooks:
        grad = engine._run_hooks(node.hooks, grad)
    hooks = node.node_hooks
    fn = node.fn
    where = node.name()
    split = getattr(fn, "hook_outputs", None)  # a multi-output op's hub: one gradient per output
    if create_graph and split is not None and not issubclass(fn, _UserHub):
        # (split/chunk/unbind's pieces record their gradients for the hub's hooks on arrays only)
        raise NotImplementedError(
            f"{fn.name}: create_graph=True with grad_fn hooks on the outputs of split/chunk/unbind"
        )
    outs = (grad,) if split is None else split(node, grad)
    if hooks.pre:
        new = run_prehooks(where, hooks.pre, outs)
        if new is not outs:
            grad = new[0] if split is None else fn.hook_grad(node, grad, new)
            outs = new
    n = len(node.next)
    if grad is None:
        in_grads: tuple = (None,) * n
    else:
        if node.versions:
            _check_versions(node)
        if create_graph:
            in_grads = recorded.vjp(node, grad)
        else:
            in_grads = getattr(fn, "hook_backward", fn.backward)(node, grad)
        if in_grads.__class__ is not tuple:
            in_grads = (in_grads,)
        if len(in_grads) != n:
            raise GraphError(f"{fn.name}: backward expected to return {n} gradients, got {len(in_grads)}")
        as_returned = getattr(fn, "grads_as_returned", False)  # a user Function's, as PyTorch
        if need is not None:
            in_grads = need.computed(node, in_grads)  # None for what leads to no input of this pass
        shown = []
        for nxt, g, shape in zip(node.next, in_grads, node.shapes):
            if g is not None:
                if nxt is None:
                    g = g if as_returned else None  # PyTorch computes no gradient for it
                elif g.shape != shape:
                    g = engine._unbroadcast_for(node, g, shape)
            shown.append(g)
        in_grads = tuple(shown)
    if hooks.post:
        in_grads = run_posthooks(where, hooks.post, in_grads, outs)
    if watch:  # tracers see what flows: the gradient after the pre-hooks, the inputs' after the hooks
        shown = (grad, in_grads)
        if create_graph and grad is not None:
            shown = recorded.arrays(grad, in_grads)
        for obs in watch:
            obs(node, *shown)
    return in_grads
