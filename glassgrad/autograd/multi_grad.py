"""``register_multi_grad_hook(tensors, fn, mode="all" | "any")``: one hook over several tensors'
gradients, as PyTorch's ``torch.autograd.graph.register_multi_grad_hook``.

- ``"all"``: ``fn(grads)`` once per backward pass, after the gradient of every tensor the pass
  computes has been computed; ``grads`` is a list in the order of ``tensors``, None for a tensor
  the pass does not reach (not in the graph of the roots, or leading to none of ``inputs``).
- ``"any"``: ``fn(grad)`` once per pass, with the first of those gradients computed.

Built from one tensor hook per tensor (``register_hook``). What "the pass computes" is asked of
the engine: each running pass leaves ``[starts, need, reach]`` in ``engine_modes.passes.running``
(its start nodes, the pruning of a pass with ``inputs``, and the nodes and leaves it reaches, found
here on the first question of the pass), so a pass without such hooks pays one list append.
Passes and the gradients collected so far are per thread, as PyTorch keys them by graph task: two
threads running backward through hooked tensors at once each get their own call.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from glassgrad.autograd.engine_modes import passes
from glassgrad.autograd.function import Node
from glassgrad.autograd.hooks import RemovableHandle, register_hook

__all__ = ["register_multi_grad_hook", "will_execute"]


def will_execute(t: Any) -> bool:
    """Whether the backward pass running now computes ``t``'s gradient (its hooks will run)."""
    running = passes.running
    if not running:
        return False
    record = running[-1]
    starts, need, reach = record
    node = t._node
    if need is not None:  # a pass with inputs: only what leads to one of them
        return need.wants(node if node is not None else t)
    if reach is None:
        record[2] = reach = _reach(starts)
    return (node if node is not None else id(t)) in reach


def _reach(starts: list) -> set:
    """The nodes reachable from ``starts``, and the ids of the leaves they send gradients to."""
    seen = set(starts)
    stack = list(starts)
    while stack:
        for nxt in stack.pop().next:
            if isinstance(nxt, Node):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
            elif nxt is not None:
                seen.add(id(nxt))
    return seen


class _PerThread(threading.local):
    def __init__(self) -> None:
        self.state: dict[int, list] = {}  # id of the running pass's record -> [grads, still to come]


class _MultiHandle(RemovableHandle):
    """Returned by :func:`register_multi_grad_hook` (PyTorch's class): ``.remove()`` takes every
    tensor's hook off."""

    def __init__(self, handles: list) -> None:  # no id of its own, as PyTorch's
        self.handles = handles

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def register_multi_grad_hook(tensors: Any, fn: Callable, *, mode: str = "all") -> _MultiHandle:
    """Call ``fn`` once per backward pass over the gradients of ``tensors`` (see the module
    docstring for ``mode``). Returns a handle whose ``remove()`` takes the hook off.

    >>> import glassgrad as gg
    >>> a, b = gg.ones(2, requires_grad=True), gg.ones(3, requires_grad=True)
    >>> seen = []
    >>> h = register_multi_grad_hook((a, b), lambda grads: seen.append([g is not None for g in grads]))
    >>> (a * 2).sum().backward()
    >>> seen
    [[True, False]]
    """
    if mode not in ("all", "any"):
        raise ValueError(f"register_multi_grad_hook: expected mode 'all' or 'any', got {mode!r}")
    tensors = tuple(tensors)
    hooked = [(i, t) for i, t in enumerate(tensors) if getattr(t, "requires_grad", False)]
    local = _PerThread()

    def make(i: int) -> Callable:
        def hook(grad: Any) -> None:
            state = local.state
            running = passes.running
            record = running[-1] if running else None
            key = id(record)
            st = state.get(key)
            if mode == "any":
                if st is None:  # the first gradient of this pass; the record lives until it ends
                    state.clear()
                    state[key] = [record]
                    fn(grad)
                return None
            if st is None:
                state.clear()  # a pass that stopped early leaves nothing behind
                expected = sum(will_execute(t) for _, t in hooked)
                st = state[key] = [[None] * len(tensors), expected, record]
            st[0][i] = grad
            st[1] -= 1
            if st[1] <= 0:
                del state[key]
                fn(st[0])
            return None

        return hook

    return _MultiHandle([register_hook(t, make(i)) for i, t in hooked])
