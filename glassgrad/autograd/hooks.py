"""Tensor hooks: ``register_hook`` (a function of the gradient that may replace it),
``retain_grad`` (keep a non-leaf's gradient in ``.grad``) and the handle that removes a hook.

A non-leaf tensor's hooks live on the node that made it (the engine runs them on the node's
summed output gradient before its backward); a leaf's live on the tensor (run before the
gradient is accumulated into ``.grad``). A hook must return None or a gradient of the same shape.
"""

from __future__ import annotations

import itertools
import warnings
import weakref
from typing import Any, Callable

from glassgrad.errors import GraphError
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "register_hook",
    "retain_grad",
    "retains_grad",
    "move_retain_grad",
    "warn_unretained_grad",
    "RemovableHandle",
]


class RemovableHandle:
    """``torch.utils.hooks.RemovableHandle``, what every ``register_*_hook`` returns (tensors,
    nodes, modules, optimizers): ``.remove()`` (or calling it, or leaving a ``with`` block) takes
    the hook off. One class for all, as PyTorch's, so ``isinstance`` checks hold for each.

    ``tables`` are where the hook is kept: dicts and sets keyed by ``id`` (module, optimizer and
    global hooks), or, given ``hook``, lists holding the hook itself (a tensor's or a node's hooks,
    kept in running order).
    """

    _next_id = itertools.count()

    def __init__(self, *tables: Any, hook: Callable | None = None) -> None:
        self.id = next(RemovableHandle._next_id)
        self.tables = tables  # the hook's table first, then side tables (with_kwargs, always_call)
        self.hook = hook

    def remove(self) -> None:
        for table in self.tables:
            if isinstance(table, list):
                if self.hook in table:
                    table.remove(self.hook)
            elif isinstance(table, dict):
                table.pop(self.id, None)
            else:
                table.discard(self.id)

    __call__ = remove

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def register_hook(t: Any, hook: Callable) -> RemovableHandle:
    """Add ``hook(grad) -> grad | None`` to tensor ``t`` (see ``Tensor.register_hook``)."""
    if not t.requires_grad:
        raise GraphError("register_hook: expected a tensor that requires grad")
    if t._node is not None:
        if t._node.hooks is None:
            t._node.hooks = []
        hooks = t._node.hooks
    else:
        if t._hooks is None:
            t._hooks = []
        hooks = t._hooks
    if hooks and getattr(hooks[-1], "retains_grad", False):
        hooks.insert(len(hooks) - 1, hook)  # .grad keeps the gradient after every hook (PyTorch)
    else:
        hooks.append(hook)
    return RemovableHandle(hooks, hook=hook)


def retains_grad(t: Any) -> bool:
    hooks = t._node.hooks if t._node is not None else None
    return bool(hooks) and getattr(hooks[-1], "retains_grad", False)


def warn_unretained_grad(t: Any) -> None:
    """Warn that ``t.grad`` was read on a non-leaf that keeps no gradient (PyTorch warns too: the
    value is None whatever backward does, which usually means the wrong tensor was read)."""
    if retains_grad(t):
        return
    warnings.warn(
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed: backward() "
        f"stores no gradient in a tensor made by an op (here {t._node.name()}), so it stays None. "
        "Call .retain_grad() on it before backward() to keep its gradient, or read the .grad of "
        "the leaf tensor (a parameter or an input made with requires_grad=True) instead.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def retain_grad(t: Any) -> None:
    """Keep non-leaf ``t``'s gradient in ``t.grad`` after backward, after its other hooks ran."""
    if not t.requires_grad:  # PyTorch refuses at once (its .grad would silently stay None)
        raise GraphError("retain_grad: can't retain_grad on Tensor that has requires_grad=False")
    if t._node is None or retains_grad(t):
        return
    ref = weakref.ref(t)

    def keep(grad: Any) -> None:
        owner = ref()
        if owner is not None and grad.requires_grad:  # a create_graph pass: keep its graph
            owner._grad = grad.clone() if owner._grad is None else owner._grad + grad  # (as PyTorch)
        elif owner is not None:
            copy = type(grad)(grad._data.copy(), _wrap=True)
            owner._grad = copy if owner._grad is None else owner._grad + grad._data

    keep.retains_grad = True  # type: ignore[attr-defined]  # register_hook keeps it last
    register_hook(t, keep)


def move_retain_grad(old_node: Any, t: Any) -> None:
    """After a recorded in-place op gave ``t`` a new node: ``retain_grad`` moves with ``t`` (its
    ``.grad`` is the new version's gradient, as in PyTorch); other hooks stay on the old version."""
    hooks = old_node.hooks if old_node is not None else None
    if hooks and getattr(hooks[-1], "retains_grad", False) and t._node is not old_node:
        keep = hooks.pop()
        if t._node is not None:
            if t._node.hooks is None:
                t._node.hooks = []
            t._node.hooks.append(keep)
