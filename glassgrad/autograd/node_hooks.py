"""PyTorch's hooks on graph nodes: ``grad_fn.register_prehook(fn)``, ``grad_fn.register_hook(fn)``
and ``grad_fn.metadata``, on a ``Node`` and on the ``AccumulateGrad`` of a leaf.

- ``register_prehook(fn)``: ``fn(grad_outputs) -> tuple | None`` runs before the node's backward;
  a returned tuple (one entry per output, a Tensor or None) replaces ``grad_outputs``.
- ``register_hook(fn)``: ``fn(grad_inputs, grad_outputs) -> tuple | None`` runs after it, with one
  entry per input of glassgrad's op (``len(next_functions)``, but for the nodes that PyTorch shows
  without a Python number's edge: ``node_views._SHOWN_EDGES``), None where none is needed (PyTorch's
  formulas compute none there; a user ``Function``'s values are passed as it returned them); a
  returned tuple replaces ``grad_inputs``.

The order on one node is PyTorch's: the output tensor's ``register_hook`` hooks, then
``retain_grad`` (so ``.grad`` holds the gradient before the node's pre-hooks), then the pre-hooks,
backward, the hooks. Hooks get Tensors (under ``create_graph=True`` the recorded gradients
themselves, so what a hook computes from them is differentiated again); each returned tuple is
checked as PyTorch checks it (a tuple, its length, each entry's shape and dtype, no gradient
where there was None) and its Tensors unwrapped. The hooks of one list run in registration
order, over a copy of the list (a hook removed while they run still runs this time).

Where they live: a node's in its ``node_hooks`` slot (None until a hook or ``metadata`` is asked
for), so the engine pays one truth test per node and sends a node with hooks through
``engine_hooked.run_hooked``. A leaf has no node: its ``AccumulateGrad``'s hooks live in
``accumulate_hooks``' table beside its post-accumulate-grad hooks, so a leaf with either kind
accumulates as soon as its last feed has run, and the engine pays nothing more per leaf.

The outputs of split/chunk/unbind and of a user ``Function`` with several outputs each have a node
here, all hanging from one hub node, where PyTorch has one node for them all. ``grad_fn`` hooks on
any of them go on the hub (``fn.grad_fn_of``), whose hooks see one gradient per output
(``fn.hook_outputs``; None for an output that got none) and whose pre-hooks' replacement is turned
back into the hub's gradient (``fn.hook_grad``).

>>> import glassgrad as gg
>>> x = gg.tensor([1.0, 2.0], requires_grad=True)
>>> y = x * 3
>>> _ = y.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] * 10,))
>>> _ = y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: print(grad_inputs, grad_outputs))
>>> y.sum().backward()
(tensor([30., 30.]), None) (tensor([10., 10.]),)
>>> x.grad
tensor([30., 30.])
"""

from __future__ import annotations

from typing import Any, Callable

from glassgrad.autograd.hooks import HookList, RemovableHandle
from glassgrad.backend import ndarray, user_code
from glassgrad.errors import GraphError, ShapeError

__all__ = ["NodeHooks", "NodeHookMethods", "AccumulateGradHooks", "run_prehooks", "run_posthooks"]


class NodeHooks:
    """One node's ``pre``-hooks, ``post``-hooks (``register_hook``) and ``metadata``. False while
    it holds no hook: a node whose hooks were all removed takes the engine's plain path again."""

    __slots__ = ("metadata", "post", "pre")

    def __init__(self) -> None:
        self.pre: list = HookList()  # (weakly held by their handles)
        self.post: list = HookList()
        self.metadata: dict = {}

    def __bool__(self) -> bool:
        return bool(self.pre or self.post)


def _callable(op: str, fn: Any) -> None:
    if not callable(fn):
        raise TypeError(f"{op}: expected a callable hook, got {type(fn).__name__}")


def _hooks_of(node: Any) -> NodeHooks:
    of = getattr(node.fn, "grad_fn_of", None)  # an output of a multi-output op: its hub
    if of is not None:
        node = of(node)
    hooks = node.node_hooks
    if hooks is None:
        hooks = node.node_hooks = NodeHooks()
    return hooks


class NodeHookMethods:
    """``Node``'s public hook methods (a base class, so that function.py stays short)."""

    __slots__ = ()

    def register_prehook(self, fn: Callable[[tuple], tuple | None]) -> RemovableHandle:
        """Call ``fn(grad_outputs)`` before this node's backward; a returned tuple replaces
        ``grad_outputs``. Returns a handle whose ``remove()`` takes the hook off."""
        _callable("register_prehook", fn)
        hooks = _hooks_of(self).pre
        hooks.append(fn)
        return RemovableHandle(hooks, hook=fn)

    def register_hook(self, fn: Callable[[tuple, tuple], tuple | None]) -> RemovableHandle:
        """Call ``fn(grad_inputs, grad_outputs)`` after this node's backward; a returned tuple
        replaces ``grad_inputs``. Returns a handle whose ``remove()`` takes the hook off."""
        _callable("register_hook", fn)
        hooks = _hooks_of(self).post
        hooks.append(fn)
        return RemovableHandle(hooks, hook=fn)

    @property
    def metadata(self) -> dict:
        """A dict of the user's own, kept with the node (PyTorch's ``grad_fn.metadata``)."""
        return _hooks_of(self).metadata

    def _sequence_nr(self) -> int:
        """The node's creation number (PyTorch's ``grad_fn._sequence_nr()``): later nodes have
        larger ones, and of the nodes ready in backward the engine runs the largest first."""
        return self.seq  # type: ignore[attr-defined]


class AccumulateGradHooks:
    """``AccumulateGrad``'s hook methods: ``register_prehook(fn(grad_outputs))`` sees the leaf's
    gradient (after its ``Tensor.register_hook`` hooks) before it is added into ``.grad`` and may
    replace it (None: nothing is added); ``register_hook(fn((), grad_outputs))`` runs after
    ``.grad`` is written and the post-accumulate-grad hooks ran. Neither runs for
    ``autograd.grad``, which leaves ``.grad`` alone (PyTorch runs no AccumulateGrad there)."""

    __slots__ = ("_metadata",)

    def _hooks(self, op: str) -> Any:
        leaf = self.variable
        if leaf is None:
            raise GraphError(f"AccumulateGrad.{op}: expected a live leaf, got one that no longer exists")
        from glassgrad.autograd.accumulate_hooks import hooks_of

        return hooks_of(leaf)

    def register_prehook(self, fn: Callable[[tuple], tuple | None]) -> RemovableHandle:
        """Call ``fn((grad,))`` before the leaf's gradient is accumulated; see the class."""
        _callable("register_prehook", fn)
        hooks = self._hooks("register_prehook").pre
        hooks.append(fn)
        return RemovableHandle(hooks, hook=fn)

    def register_hook(self, fn: Callable[[tuple, tuple], tuple | None]) -> RemovableHandle:
        """Call ``fn((), (grad,))`` after the leaf's ``.grad`` was written; see the class."""
        _callable("register_hook", fn)
        hooks = self._hooks("register_hook").post
        hooks.append(fn)
        return RemovableHandle(hooks, hook=fn)

    def _sequence_nr(self) -> int:
        """PyTorch's ``AccumulateGrad._sequence_nr()``: the largest 64-bit number (it runs first
        of the ready nodes)."""
        return 2**64 - 1

    @property
    def metadata(self) -> dict:
        """A dict of the user's own, kept with the node (PyTorch's ``grad_fn.metadata``)."""
        try:
            return self._metadata
        except AttributeError:
            self._metadata = {}
            return self._metadata


def _wrap(arrays: tuple) -> tuple:
    from glassgrad.autograd.function import _tensor_cls

    tensor_cls = _tensor_cls[0]  # (a create_graph pass's gradients are Tensors already: given as they are)
    return tuple(a if a is None or a.__class__ is tensor_cls else tensor_cls(a, _wrap=True) for a in arrays)


def _unwrap(where: str, hook: Any, out: Any, old: tuple) -> tuple:
    """The arrays of the tuple ``hook`` returned in place of ``old``, checked as PyTorch checks."""
    from glassgrad.autograd.function import _tensor_cls

    name = getattr(hook, "__name__", "<unknown>")
    if not isinstance(out, tuple):
        raise TypeError(f"{where}: expected tuple, but hook '{name}' returned '{type(out).__name__}'")
    if len(out) != len(old):
        raise GraphError(
            f"{where}: hook '{name}' has returned an incorrect number of values "
            f"(got {len(out)}, but expected {len(old)})"
        )
    tensor_cls = _tensor_cls[0]
    new = []
    for o, prev in zip(out, old):
        if o is None:
            new.append(None)
            continue
        if isinstance(o, tensor_cls):
            a = o._data
        elif isinstance(o, ndarray):
            a = o
        else:
            raise TypeError(
                f"{where}: expected Tensor or None, but hook '{name}' returned '{type(o).__name__}'"
            )
        if prev is None:
            raise GraphError(f"{where}: hook '{name}' can't replace a None gradient with a non-None value")
        recorded = prev.__class__ is tensor_cls  # create_graph: the hook's Tensor, graph and all
        if recorded:
            prev = prev._data
        if a.shape != prev.shape:
            raise ShapeError(
                f"{where}: hook '{name}' has changed the size of value (expected shape "
                f"{tuple(prev.shape)}, got {tuple(a.shape)})"
            )
        if a.dtype != prev.dtype:
            raise GraphError(
                f"{where}: hook '{name}' has changed the type of value (was {prev.dtype}, got {a.dtype})"
            )
        if recorded:
            new.append(o if isinstance(o, tensor_cls) else tensor_cls(a, _wrap=True))
            continue
        if a is not prev and a.base is None:
            a = a.copy()  # the user may keep it: it must not become a .grad changed in place
        new.append(a)
    return tuple(new)


def _own(grads: tuple, shown: list) -> tuple:
    """``grads`` with a copy of each array a hook was given (in one of the tuples ``shown``): the
    hook may keep it (a log of gradients), and PyTorch's AccumulateGrad copies a gradient someone
    else holds, so a later in-place change of ``.grad`` (zero_grad, clip_grad_norm_) must not reach
    it, nor its change the ``.grad``. Changes the hook made in place are kept."""
    ids = {id(a) for given in shown for a in given if a is not None}
    if not any(a is not None and id(a) in ids for a in grads):
        return grads
    from glassgrad.autograd.function import _tensor_cls

    if any(a.__class__ is _tensor_cls[0] for a in grads):
        # create_graph's Tensors: a leaf's .grad is a clone of its gradient (recorded.store_grad)
        return grads
    return tuple(a.copy() if a is not None and id(a) in ids else a for a in grads)


def run_prehooks(where: str, hooks: list, grads: tuple) -> tuple:
    """``grads`` (arrays or None) through pre-hooks ``fn(grad_outputs)``; ``grads`` itself when
    no hook was given an array."""
    shown = []
    for hook in tuple(hooks):
        shown.append(grads)
        out = user_code(hook, _wrap(grads))
        if out is not None:
            grads = _unwrap(where, hook, out, grads)
    return _own(grads, shown)


def run_posthooks(where: str, hooks: list, grad_inputs: tuple, grad_outputs: tuple) -> tuple:
    """``grad_inputs`` through hooks ``fn(grad_inputs, grad_outputs)``."""
    outs = _wrap(grad_outputs)
    shown = [grad_outputs]  # (a backward may hand its output's gradient on as it is: add's)
    for hook in tuple(hooks):
        shown.append(grad_inputs)
        out = user_code(hook, _wrap(grad_inputs), outs)
        if out is not None:
            grad_inputs = _unwrap(where, hook, out, grad_inputs)
    return _own(grad_inputs, shown)
