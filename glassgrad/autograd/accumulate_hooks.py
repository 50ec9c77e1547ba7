"""Post-accumulate-grad hooks: ``Tensor.register_post_accumulate_grad_hook(hook)``.

``hook(leaf)`` runs after backward has stored the leaf's new gradient in ``leaf.grad`` (after the
leaf's ``register_hook`` hooks changed it), and returns None. The classic use is an optimizer step
fused into backward: each parameter steps and drops its gradient as soon as it is ready, so no
full set of gradients is held at once.

The hooks live here, keyed by the leaf's identity and dropped when the leaf dies, rather than in a
slot of every Tensor: the engine pays one truth test per leaf when none is registered. As in
PyTorch they run only when a gradient is accumulated into ``.grad`` (``backward``), not for
``autograd.grad``, which leaves ``.grad`` alone.

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

from glassgrad.autograd.hooks import RemovableHandle
from glassgrad.errors import GraphError

__all__ = ["register_post_accumulate_grad_hook", "run_post_accumulate_hooks", "registered"]

#: ``id(leaf) -> (weakref to the leaf, [hooks])``; empty when no hook is registered anywhere.
registered: dict[int, tuple[Any, list]] = {}


class _Hooks(list):
    """One leaf's hooks. When its handles have removed the last one, the leaf's entry goes too:
    backward takes its plain path again once no leaf has hooks."""

    __slots__ = ("key",)

    def remove(self, hook: Any) -> None:
        super().remove(hook)
        if not self:
            entry = registered.get(self.key)
            if entry is not None and entry[1] is self:
                del registered[self.key]


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
        entry = registered[key] = (weakref.ref(t, forget), hooks)
    entry[1].append(hook)
    return RemovableHandle(entry[1], hook)


def run_post_accumulate_hooks(t: Any) -> None:
    """Run leaf ``t``'s post-accumulate hooks (called by the engine after storing ``t.grad``)."""
    entry = registered.get(id(t))
    if entry is None or entry[0]() is not t:
        return
    for hook in tuple(entry[1]):  # a hook may remove itself
        out = hook(t)
        if out is not None:
            name = getattr(hook, "__qualname__", type(hook).__name__)
            raise TypeError(
                f"post accumulate grad hook {name}: expected to return None, got {type(out).__name__}"
            )
