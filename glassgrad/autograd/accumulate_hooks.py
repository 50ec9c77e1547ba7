"""Post-accumulate-grad hooks: ``Tensor.register_post_accumulate_grad_hook(hook)``.

``hook(leaf)`` runs after backward has stored the leaf's new gradient in ``leaf.grad`` (after the
leaf's ``register_hook`` hooks changed it), and returns None. The classic use is an optimizer step
fused into backward: each parameter steps and drops its gradient as soon as it is ready, so no
full set of gradients is held at once.

The hooks live here, keyed by the leaf's identity and dropped when the leaf dies, rather than in a
slot of every Tensor: the engine pays one truth test per leaf when none is registered. As in
PyTorch they run only when a gradient is accumulated into ``.grad`` (``backward``), not for
``autograd.grad``, which leaves ``.grad`` alone. A leaf's entry also holds its ``AccumulateGrad``'s
pre-hooks and hooks (``grad_fn.next_functions[i][0].register_prehook``, autograd/node_hooks.py),
which ``run_accumulate_hooks`` runs around the store.

>>> import glassgrad as gg
>>> w = gg.tensor([1.0, 2.0], requires_grad=True)
>>> handle = w.register_post_accumulate_grad_hook(lambda p: print("ready:", p.grad))
>>> (3 * w).sum().backward()
ready: tensor([3., 3.])
>>> handle.remove()
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

from glassgrad.autograd.function import _tensor_cls
from glassgrad.autograd.hooks import HookList, RemovableHandle
from glassgrad.autograd.node_hooks import run_posthooks, run_prehooks
from glassgrad.autograd.sparse_grad import SparseRows, dense_each, hooked
from glassgrad.backend import user_code
from glassgrad.errors import GraphError

__all__ = [
    "register_post_accumulate_grad_hook",
    "run_post_accumulate_hooks",
    "run_accumulate_hooks",
    "hooks_of",
    "registered",
]

#: ``id(leaf) -> (weakref to the leaf, [hooks])``; empty when no hook is registered anywhere.
registered: dict[int, tuple[Any, list]] = {}


class _Hooks(HookList):
    """One leaf's hooks: its post-accumulate-grad hooks (the list), and its ``AccumulateGrad``'s
    pre-hooks and hooks (``pre``, ``post``; autograd/node_hooks.py). When its handles have removed
    the last one, the leaf's entry goes too: backward takes its plain path again once no leaf has
    hooks."""

    __slots__ = ("key", "post", "pre")

    def remove(self, hook: Any) -> None:
        super().remove(hook)
        self.forget_if_empty()

    def forget_if_empty(self) -> None:
        if not self and not self.pre and not self.post:
            entry = registered.get(self.key)
            if entry is not None and entry[1] is self:
                del registered[self.key]


class _NodeHooks(HookList):
    """An ``AccumulateGrad``'s pre-hooks or hooks, part of its leaf's ``_Hooks``, found again by
    the leaf's key (a reference back to the ``_Hooks`` would be a cycle: a dead leaf's hooks, and
    what they hold, would wait for the cyclic GC)."""

    __slots__ = ("key",)

    def remove(self, hook: Any) -> None:
        super().remove(hook)
        entry = registered.get(self.key)
        if entry is not None and (entry[1].pre is self or entry[1].post is self):
            entry[1].forget_if_empty()


def register_post_accumulate_grad_hook(t: Any, hook: Callable[[Any], None]) -> RemovableHandle:
    """Call ``hook(t)`` each time backward has accumulated a gradient into leaf ``t``'s ``.grad``.

    Args:
        t: a leaf tensor that requires grad (a parameter, typically).
        hook: a callable taking the tensor and returning None.

    Returns:
        A handle whose ``remove()`` takes the hook off.

    Raises:
        GraphError: ``t`` is not a leaf, or does not require grad.
    """
    if not t.requires_grad:
        raise GraphError(
            "register_post_accumulate_grad_hook: expected a tensor that requires grad, got one that does not"
        )
    if t._node is not None:
        raise GraphError(
            "register_post_accumulate_grad_hook: expected a leaf tensor (post accumulate grad hooks "
            f"run when .grad is stored, which only leaves have), got the output of {t._node.name()}"
        )
    hooks = hooks_of(t)
    hooks.append(hook)
    return RemovableHandle(hooks, hook=hook)


def hooks_of(t: Any) -> _Hooks:
    """Leaf ``t``'s hooks at accumulation, its entry made if it has none."""
    key = id(t)
    entry = registered.get(key)
    if entry is None or entry[0]() is not t:

        def forget(ref: Any, table: dict = registered) -> None:
            # the leaf died: drop its hooks, unless the id was reused since (``table`` is bound
            # here because module globals may already be gone when this runs at exit)
            current = table.get(key)
            if current is not None and current[0] is ref:
                del table[key]

        hooks = _Hooks()
        hooks.key = key
        hooks.pre, hooks.post = _NodeHooks(), _NodeHooks()
        hooks.pre.key = hooks.post.key = key
        entry = registered[key] = (weakref.ref(t, forget), hooks)
    return entry[1]


def run_post_accumulate_hooks(t: Any) -> None:
    """Run leaf ``t``'s post-accumulate hooks (called by the engine after storing ``t.grad``)."""
    entry = registered.get(id(t))
    if entry is None or entry[0]() is not t:
        return
    for hook in tuple(entry[1]):  # a hook may remove itself
        out = user_code(hook, t)
        if out is not None:
            name = getattr(hook, "__qualname__", type(hook).__name__)
            # PyTorch's classes: a RuntimeError for a returned Tensor ("... should return None."),
            # a TypeError for anything else ("expected Variable, but hook returned 'int'")
            kind = RuntimeError if isinstance(out, _tensor_cls[0]) else TypeError
            raise kind(f"post accumulate grad hook {name}: expected to return None, got {type(out).__name__}")


def run_accumulate_hooks(t: Any, g: Any, given: set, store: Callable) -> None:
    """Accumulate ``g`` into leaf ``t`` (``store(t, g, given)``, the engine's) with its hooks
    around it, in PyTorch's order: its ``AccumulateGrad``'s pre-hooks (which may replace ``g``;
    None: nothing is stored), the store, its post-accumulate-grad hooks, its ``AccumulateGrad``'s
    hooks (given ``()`` and ``(g,)``)."""
    entry = registered.get(id(t))
    if entry is None or entry[0]() is not t:
        store(t, g, given)
        return
    hooks = entry[1]
    if (hooks.pre or hooks.post) and hasattr(g, "requires_grad"):  # a recorded gradient (create_graph)
        raise NotImplementedError(
            "AccumulateGrad: create_graph=True with grad_fn hooks on a leaf's AccumulateGrad"
        )
    if hooks.pre:
        if g.dtype != t._data.dtype:  # as the node would receive it: in the leaf's dtype
            g = g.astype(t._data.dtype)
        if g.__class__ is SparseRows:  # Embedding(sparse=True): the hooks see the dense gradient
            g = hooked(lambda pre, d: run_prehooks("AccumulateGrad", pre, (d,))[0], hooks.pre, g)
        else:
            (g,) = run_prehooks("AccumulateGrad", hooks.pre, (g,))
    if g is not None:
        store(t, g, given)
    run_post_accumulate_hooks(t)
    if hooks.post:
        run_posthooks("AccumulateGrad", hooks.post, (), dense_each((g,)))
