"""``glassgrad.distributed.autograd``: PyTorch's distributed autograd for a world of one process.

PyTorch's distributed autograd runs a backward pass across the workers that an RPC forward pass
went through, and gathers the leaves' gradients in a *context* instead of their ``.grad``.
glassgrad's RPC world has one worker (``glassgrad.distributed.rpc``), so the whole graph is local:
``backward(context_id, roots)`` differentiates the scalar ``roots`` with respect to every leaf of
their graph that requires a gradient and adds the results into the context, where
``get_gradients(context_id)`` returns them as ``{leaf: gradient}``; ``.grad`` is left alone.

>>> import glassgrad, glassgrad.distributed.rpc as rpc
>>> import glassgrad.distributed.autograd as dist_autograd
>>> rpc.init_rpc("worker0", rank=0, world_size=1)
>>> w = glassgrad.tensor([1.0, 2.0], requires_grad=True)
>>> with dist_autograd.context() as context_id:
...     dist_autograd.backward(context_id, [(w * w).sum()])
...     dist_autograd.get_gradients(context_id)[w]
tensor([2., 4.])
>>> rpc.shutdown()
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

__all__ = ["DistAutogradContext", "backward", "context", "get_gradients", "is_available"]

_lock = threading.Lock()
_contexts: dict[int, DistAutogradContext] = {}
_ids = itertools.count()
_current = threading.local()


def is_available() -> bool:
    """True: distributed autograd works in glassgrad's world of one process."""
    return True


class DistAutogradContext:
    """One distributed backward pass's gradients (PyTorch's ``DistAutogradContext``)."""

    def __init__(self, context_id: int) -> None:
        self._id = context_id
        self._grads: dict[Any, Any] = {}

    def _context_id(self) -> int:
        return self._id

    def __repr__(self) -> str:
        return f"DistAutogradContext(context_id={self._id})"


def _require_rpc() -> None:
    from glassgrad.distributed.rpc import api

    if api._agent["me"] is None:
        raise RuntimeError(
            "Need to initialize distributed autograd using torch.distributed.autograd.init() "
            "(glassgrad: call glassgrad.distributed.rpc.init_rpc first)"
        )


def _new_context() -> DistAutogradContext:
    _require_rpc()
    with _lock:
        ctx = DistAutogradContext(next(_ids))
        _contexts[ctx._id] = ctx
    _current.ctx = ctx
    return ctx


def _retrieve_context(context_id: int) -> DistAutogradContext:
    ctx = _contexts.get(context_id)
    if ctx is None:
        raise RuntimeError(f"Could not find autograd context with id: {context_id}")
    return ctx


def _is_valid_context(context_id: int) -> bool:
    return context_id in _contexts


def _current_context() -> DistAutogradContext:
    ctx = getattr(_current, "ctx", None)
    if ctx is None or ctx._id not in _contexts:
        raise RuntimeError("Current thread doesn't have a valid autograd context.")
    return ctx


def _release_context(context_id: int) -> None:
    with _lock:
        if _contexts.pop(context_id, None) is None:
            raise RuntimeError(f"Could not find autograd context with id: {context_id}")
    if getattr(getattr(_current, "ctx", None), "_id", None) == context_id:
        _current.ctx = None


class context:  # noqa: N801 - PyTorch's name
    """``with dist_autograd.context() as context_id:``: a context for one distributed backward
    pass (needs ``rpc.init_rpc``); it is released on exit, with the gradients it holds."""

    def __enter__(self) -> int:
        self.autograd_context = _new_context()
        return self.autograd_context._context_id()

    def __exit__(self, type: Any, value: Any, traceback: Any) -> None:  # noqa: A002
        _release_context(self.autograd_context._context_id())


def _leaves(roots: list) -> list:
    """The leaves that require a gradient in the graph of ``roots``, each once, in the order met."""
    found: dict[int, Any] = {}
    seen: set[int] = set()
    stack = [r.grad_fn for r in roots if r.grad_fn is not None]
    for r in roots:
        if r.grad_fn is None:  # a root that is itself a leaf
            found.setdefault(id(r), r)
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        leaf = getattr(node, "variable", None)
        if leaf is not None:
            found.setdefault(id(leaf), leaf)
        stack.extend(n for n, _ in node.next_functions)
    return list(found.values())


def backward(context_id: int, roots: Any, retain_graph: bool = False) -> None:
    """Add the gradients of the scalar tensors ``roots`` (a list) with respect to the leaves of
    their graph into the context ``context_id`` (``get_gradients``); ``.grad`` is untouched."""
    from glassgrad.autograd import grad
    from glassgrad.tensor import Tensor

    if not isinstance(roots, (list, tuple)) or not all(isinstance(r, Tensor) for r in roots):
        raise TypeError(
            "distributed.autograd.backward: expected roots to be a list of Tensors, got "
            f"{type(roots).__name__}"
        )
    ctx = _retrieve_context(context_id)
    for r in roots:
        if r.numel() != 1:
            raise RuntimeError(
                f"distributed.autograd.backward: a root of shape {tuple(r.shape)} is not a scalar, "
                "all roots need to be scalar"
            )
        if not r.requires_grad:
            raise RuntimeError("distributed.autograd.backward: requires_grad not set on root")
    leaves = _leaves(list(roots))
    if not leaves:
        return
    grads = grad(list(roots), leaves, retain_graph=retain_graph, allow_unused=True)
    with _lock:
        for leaf, g in zip(leaves, grads):
            if g is None:
                continue
            old = ctx._grads.get(leaf)
            ctx._grads[leaf] = g if old is None else old + g


def get_gradients(context_id: int) -> dict:
    """``{leaf: gradient}`` gathered in the context ``context_id`` by ``backward``."""
    return dict(_retrieve_context(context_id)._grads)
