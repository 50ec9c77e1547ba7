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
    "HookList",
]


class HookList(list):
    """A list of hooks (a tensor's, a node's) that a ``RemovableHandle`` can point at weakly: a
    handle kept after its tensor, node or module died must not keep the hooks, and what their
    closures hold, alive (PyTorch's handles hold weak references to their tables too)."""

    __slots__ = ("__weakref__",)


def _weak(obj: Any) -> Any:
    """A callable giving ``obj`` back: a weak reference where ``obj`` takes one, else ``obj``
    held strongly (a plain dict or set of ids, a hook object without ``__weakref__``)."""
    try:
        return weakref.ref(obj)
    except TypeError:
        return lambda: obj


def _gone() -> None:
    """A dead table's reference: what ``hooks_dict_ref`` gives when the handle has no table."""
    return None


class RemovableHandle:
    """``torch.utils.hooks.RemovableHandle``, what every ``register_*_hook`` returns (tensors,
    nodes, modules, optimizers): ``.remove()`` (or calling it, or leaving a ``with`` block) takes
    the hook off. One class for all, as PyTorch's, so ``isinstance`` checks hold for each.

    ``tables`` are where the hook is kept: dicts and sets keyed by ``id`` (module, optimizer and
    global hooks), or, given ``hook``, lists holding the hook itself (a tensor's or a node's hooks,
    kept in running order). As PyTorch's, the handle holds them weakly where they allow it, and
    lets go of everything once removed: neither a removed hook nor the hooks of a tensor, node or
    module that died live on through a handle the user kept.
    """

    _next_id = itertools.count()  # (next() on it is atomic: threads registering hooks get distinct ids)

    def __init__(self, *tables: Any, hook: Callable | None = None) -> None:
        self.id = next(RemovableHandle._next_id)
        self.tables = tuple(_weak(t) for t in tables)  # the hook's table first, then side tables
        self.hook = None if hook is None else _weak(hook)
        self._table_ref = self.tables[0] if self.tables else _gone

    @property
    def hooks_dict_ref(self) -> Callable[[], Any]:
        """PyTorch's attribute: a callable giving the hook's table (None once it died), kept
        after ``remove()`` as there (``len(handle.hooks_dict_ref())`` counts the hooks left)."""
        return self._table_ref

    def remove(self) -> None:
        hook = None if self.hook is None else self.hook()
        for ref in self.tables:
            table = ref()
            if table is None:
                continue
            if isinstance(table, list):
                if hook is not None and hook in table:
                    table.remove(hook)
            elif isinstance(table, dict):
                table.pop(self.id, None)
            else:
                table.discard(self.id)
        self.tables, self.hook = (), None

    __call__ = remove

    def __getstate__(self) -> tuple:
        # weak references do not pickle: the tables themselves (a pickled module's handle comes
        # back pointing at the copy's tables, as PyTorch's)
        return self.id, tuple(ref() for ref in self.tables), None if self.hook is None else self.hook()

    def __setstate__(self, state: tuple) -> None:
        self.id, tables, hook = state
        self.tables = tuple(_weak(t) for t in tables if t is not None)
        self.hook = None if hook is None else _weak(hook)
        self._table_ref = self.tables[0] if self.tables else _gone
        # later handles of this process must not reuse the id, a key in those tables
        RemovableHandle._next_id = itertools.count(max(next(RemovableHandle._next_id), self.id + 1))

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
            t._node.hooks = HookList()
        hooks = t._node.hooks
    else:
        if t._hooks is None:
            t._hooks = HookList()
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
                t._node.hooks = HookList()
            t._node.hooks.append(keep)
