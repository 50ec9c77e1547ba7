"""Two of PyTorch's behaviours kept out of the engine's hot loop (``engine.run_backward``):

- ``run_hooked``: the step of a node with ``grad_fn`` hooks (autograd/node_hooks.py). The plain
  loop pays one truth test per node for it.
- ``prune``: a pass with ``inputs`` (``autograd.grad``, ``backward(inputs=...)``) runs only the
  nodes from which an input can be reached, as PyTorch's engine does: the hooks of the others do
  not run, their saved arrays are kept, and a hook's ``grad_inputs`` holds None for an input that
  leads to none. An input's own node runs for ``backward(inputs=...)`` (PyTorch marks it needed)
  and not for ``autograd.grad``, which only takes its gradient (after its tensor hooks).
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import Node
from glassgrad.autograd.node_hooks import run_posthooks, run_prehooks
from glassgrad.errors import GraphError

__all__ = ["Needed", "prune", "run_hooked"]

#: The pending count of a node a pruned pass does not run: it never reaches 0.
_NEVER = 1 << 62


class Needed:
    """What a pass with ``inputs`` runs: ``nodes`` (those that lead to an input), and what it
    delivers to: those nodes, the inputs' own nodes (``capture``) and the input leaves' ids."""

    __slots__ = ("capture", "leaves", "nodes")

    def __init__(self, nodes: set, capture: dict, leaves: set) -> None:
        self.nodes, self.capture, self.leaves = nodes, capture, leaves

    def wants(self, nxt: Any) -> bool:
        """Whether a gradient sent to ``nxt`` (a node or a leaf) reaches an input."""
        if nxt.__class__ is Node:
            return nxt in self.nodes or id(nxt) in self.capture
        return id(nxt) in self.leaves


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
            if nxt.__class__ is Node:
                c = left[nxt] - 1
                left[nxt] = c
                if not c:
                    stack.append(nxt)
    leaves = {id(t) for t in inputs if t._node is None}
    needed: set = set()
    for node in reversed(order):  # producers first
        if run_inputs and id(node) in capture:
            needed.add(node)
            continue
        for nxt in node.next:
            if nxt.__class__ is Node:
                if nxt in needed or id(nxt) in capture:
                    needed.add(node)
                    break
            elif nxt is not None and id(nxt) in leaves:
                needed.add(node)
                break
    for node in order:
        if node not in needed and id(node) not in capture:
            pending[node] = _NEVER
    return Needed(needed, capture, leaves)


def run_hooked(node: Node, grad: Any, capture: Any, leaves: dict, need: Needed | None, watch: list) -> Any:
    """One node of ``run_backward`` that has ``grad_fn`` hooks: its tensor hooks, the capture of
    its gradient for ``inputs``, its pre-hooks, backward, and its hooks (node_hooks.py). Returns
    the gradients for ``node.next``, unbroadcast to the inputs' shapes, or None when the node is
    not to run (an input's node that ``autograd.grad`` only reads)."""
    from glassgrad.autograd import engine

    if grad is not None and node.hooks:
        grad = engine._run_hooks(node.hooks, grad)
    if capture and id(node) in capture:
        if grad is not None:
            t = capture[id(node)]
            leaves[id(t)] = [t, grad]
        if need is not None and node not in need.nodes:
            return None
    hooks = node.node_hooks
    fn = node.fn
    where = node.name()
    split = getattr(fn, "hook_outputs", None)  # a multi-output op's hub: one gradient per output
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
            engine._check_versions(node)
        in_grads = getattr(fn, "hook_backward", fn.backward)(node, grad)
        if in_grads.__class__ is not tuple:
            in_grads = (in_grads,)
        if len(in_grads) != n:
            raise GraphError(f"{fn.name}: backward expected to return {n} gradients, got {len(in_grads)}")
        as_returned = getattr(fn, "grads_as_returned", False)  # a user Function's, as PyTorch
        shown = []
        for nxt, g, shape in zip(node.next, in_grads, node.shapes):
            if g is not None:
                if nxt is None:
                    g = g if as_returned else None  # PyTorch computes no gradient for it
                elif need is not None and not as_returned and not need.wants(nxt):
                    g = None  # leads to no input of this pass: PyTorch computes none
                elif g.shape != shape:
                    g = engine._unbroadcast_for(node, g, shape)
            shown.append(g)
        in_grads = tuple(shown)
    if hooks.post:
        in_grads = run_posthooks(where, hooks.post, in_grads, outs)
    if watch:  # tracers see what flows: the gradient after the pre-hooks, the inputs' after the hooks
        for obs in watch:
            obs(node, grad, in_grads)
    return in_grads
