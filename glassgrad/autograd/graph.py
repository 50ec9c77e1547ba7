"""``glassgrad.autograd.graph``: hooks on the values a node saves for backward, and reading them.

An op keeps some arrays for its backward (``a * b`` keeps ``a`` and ``b``, ``exp`` its output):
these *saved values* are why training takes more memory than inference.

- ``saved_tensors_hooks(pack_hook, unpack_hook)``: while active (in this thread), every array an
  op saves goes through ``pack_hook(tensor) -> anything``, and only that object is kept; before
  the node's backward runs (and at each ``grad_fn._saved_*`` read) ``unpack_hook(obj) -> Tensor``
  gives the value back. The innermost pair applies. Use it to move saved values elsewhere
  (another device, disk, a compressed form) and bring them back on demand.
- ``save_on_cpu()``: the pair that keeps saved values on the CPU (where glassgrad's already are).
- ``disable_saved_tensors_hooks(message)``: installing a pair inside it raises ``message``, and so
  does entering it while a pair is installed.
- A user ``Function``'s ``ctx.save_for_backward`` goes through the pair as well;
  ``ctx.saved_tensors`` unpacks at each read.
- ``grad_fn._saved_self``, ``._saved_other``, ``._saved_result`` (properties of ``Node``): the
  saved value of input 0, input 1, or of the output, as a Tensor (the input tensor itself when it
  is a leaf). PyTorch's other ``_saved_<argument>`` names are not on ``Node``: a ``__getattr__``
  there would slow every attribute read of every node. The shape ops' non-tensor ones
  (``_saved_dim``, ``_saved_split_sizes``, a slice's ``_saved_start`` ...) are properties of the
  per-name classes that shown nodes get (``autograd/saved_args.py``).

Pack hooks run with grad mode off, as do unpack hooks at backward. The hooks own what they keep:
the in-place check at backward applies only to a value that ``unpack_hook`` returns as the same
tensor (or a view sharing its version counter), so a pack hook that copies keeps the gradient of the
values it copied, and one that returns its input still raises on a later in-place change, be it a
write into its array or a recorded in-place op that gave the tensor a new one (``h += skip``).
PyTorch checks nothing once hooks are set, and computes with the changed values there.

>>> import glassgrad as gg
>>> a = gg.tensor([1.0, 2.0], requires_grad=True)
>>> with gg.autograd.graph.saved_tensors_hooks(lambda t: t * 4, lambda t: t / 4):
...     y = a * a
>>> y.sum().backward()
>>> a.grad
tensor([2., 4.])
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Callable

from glassgrad.autograd.function import _FREED, Node, _freed_message, _tensor_cls
from glassgrad.autograd.grad_mode import no_grad
from glassgrad.backend import ndarray
from glassgrad.errors import GraphError

__all__ = [
    "register_multi_grad_hook",
    "saved_tensors_hooks",
    "save_on_cpu",
    "disable_saved_tensors_hooks",
    "Node",
    "active",
    "pack_saved",
    "pack_user_saved",
    "saved_value",
    "GradientEdge",
    "get_gradient_edge",
    "increment_version",
    "allow_mutation_on_saved_tensors",
]


class _HookState(threading.local):
    """Per thread: the installed (pack, unpack) pairs, innermost last, and the refusal message of
    ``disable_saved_tensors_hooks`` (None when installing is allowed)."""

    stack: tuple = ()
    disabled: str | None = None


_state = _HookState()

#: How many pairs are installed now, over all threads. ``Function.apply`` reads this list item
#: (cheaper than the thread-local) for each op that saved arrays, before looking further.
active = [0]
_active_lock = threading.Lock()  # two threads entering at once must not lose a count


class saved_tensors_hooks:  # noqa: N801 (PyTorch's name)
    """Context manager: every array an op saves inside goes through ``pack_hook`` (see the module).

    Args:
        pack_hook: ``(Tensor) -> object``; its result is all the graph keeps of that value.
        unpack_hook: ``(object) -> Tensor``; must give back a tensor with the saved value.
    """

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]) -> None:
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        if _state.disabled is not None:
            raise GraphError(_state.disabled)
        _state.stack = (*_state.stack, (self.pack_hook, self.unpack_hook))
        with _active_lock:
            active[0] += 1
        return self

    def __exit__(self, *exc: Any) -> None:
        _state.stack = _state.stack[:-1]
        with _active_lock:
            active[0] -= 1


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 (PyTorch's name)
    """Keep the values saved inside on the CPU and move them back to their device for backward.

    glassgrad's tensors already live on the CPU, so this keeps each value as it is; ``pin_memory``
    and ``device_type`` are accepted for PyTorch code and change nothing here. It keeps the array,
    not the Tensor (PyTorch's ``t.cpu()`` is ``t`` itself there): a recorded in-place op (``h +=
    skip``) gives the Tensor a new array and leaves the saved one as it was, so the gradient is
    right where PyTorch computes with the changed values.
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack(t: Any) -> tuple:
            kept = _tensor_cls[0](t._data, _wrap=True)
            kept._vc = t._vc  # a write into the array itself is still caught at backward
            return t.device, kept

        def unpack(packed: tuple) -> Any:
            device, t = packed
            return t.to(device)

        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:  # noqa: N801 (PyTorch's name)
    """Context manager: installing saved-tensor hooks inside raises ``GraphError(error_message)``,
    as does entering it while a pair is installed (that pair would go on packing inside)."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> disable_saved_tensors_hooks:
        if _state.stack:  # a pair installed outside would still pack inside: refused, as PyTorch
            raise GraphError(self.error_message)
        self._previous = _state.disabled
        _state.disabled = self.error_message
        return self

    def __exit__(self, *exc: Any) -> None:
        _state.disabled = self._previous


class _Packed(list):
    """A node's ``versions`` once its saved arrays were packed: the version entries (used to find
    which saved value is which input), plus, per packed value, its position in ``saved``, what
    ``pack_hook`` returned and a weak reference to the tensor it was given. Always true, so that the
    engine's ``if node.versions`` calls ``_check_versions``, which calls ``restore`` first."""

    __slots__ = ("packed", "template", "unpack")

    def __bool__(self) -> bool:
        return True

    def unpack_one(self, j: int, obj: Any, given: Any, name: str) -> Any:
        t = self.unpack(obj)
        if not isinstance(t, _tensor_cls[0]):
            raise TypeError(
                f"{name}: expected the saved-tensor unpack_hook to return a Tensor, got {type(t).__name__}"
            )
        for counter, expected, which, shape, k in self:
            if k == j:
                what = f"its output of shape {shape}" if which < 0 else f"input {which} of shape {shape}"
                _check_unpacked(name, what, t, given, counter, expected)
        return t

    def restore(self, node: Node) -> None:
        """Unpack every packed value into ``node.saved`` before the node's backward runs."""
        saved = list(self.template)
        with no_grad():
            for j, obj, given in self.packed:
                saved[j] = self.unpack_one(j, obj, given, node.fn.name)._data
        node.saved = tuple(saved)


def _check_unpacked(name: str, what: str, t: Any, given: Any, counter: list, expected: int) -> None:
    """Refuse an unpacked value that no longer holds what was saved: the tensor itself (or a view
    sharing its version counter) changed in place since, or the very tensor ``pack_hook`` was given,
    which a recorded in-place op (``y.sin_()``) has since given a new array and version counter."""
    if t._vc is counter:
        if counter[0] != expected:
            raise GraphError(
                f"{name}: {what}, saved for backward, was modified in place after the op ran "
                f"(version {counter[0]}, expected {expected}); change a clone() instead"
            )
    elif given is not None and t is given():
        raise GraphError(
            f"{name}: {what}, saved for backward, was replaced by a recorded in-place op after the op "
            "ran, and the saved-tensor pack_hook kept that tensor itself, which now holds the new "
            "values; have pack_hook keep a clone(), or change a clone() instead"
        )


def pack_saved(node: Node, inputs: tuple, arrays: list, result: Any) -> None:
    """Pass ``node``'s saved arrays through this thread's innermost ``pack_hook`` (called by
    ``Function.apply`` after recording a node that saved arrays, while a pair is installed)."""
    stack = _state.stack
    if not stack:
        return  # the pairs installed are another thread's
    pack, unpack = stack[-1]
    tensor_cls = _tensor_cls[0]
    entries = node.versions or ()
    template = list(node.saved)
    packed = []
    with no_grad():
        for j, s in enumerate(node.saved):
            if s.__class__ is not ndarray:
                continue
            t = _saved_tensor(s, j, entries, inputs, arrays, result, tensor_cls)
            packed.append((j, pack(t), weakref.ref(t)))
            template[j] = None
    box = _Packed(entries)
    box.packed, box.unpack, box.template = packed, unpack, tuple(template)
    node.versions = box
    node.saved = box.template


def _saved_tensor(
    s: Any, j: int, entries: Any, inputs: tuple, arrays: list, result: Any, tensor_cls: type
) -> Any:
    """What ``pack_hook`` receives for saved array ``s``: the input tensor or the output it is,
    else a tensor wrapping it (sharing the version counter of the tensor whose memory it views)."""
    if s is result._data:
        return result
    for i, a in enumerate(arrays):
        if s is a and isinstance(inputs[i], tensor_cls):
            return inputs[i]
    t = tensor_cls(s, _wrap=True)
    for counter, _, _, _, k in entries:
        if k == j:
            t._vc = counter
            break
    return t


class _PackedUser:
    """What a user Function's ``ctx.save_for_backward`` kept once packed: per saved tensor, the
    pack hook's object (None for a saved None), and the tensor's version counter, its version and a
    weak reference to the tensor."""

    __slots__ = ("items", "unpack", "versions")

    def __init__(self, items: list, unpack: Callable[[Any], Any], versions: list) -> None:
        self.items, self.unpack, self.versions = items, unpack, versions

    def unpack_all(self, name: str) -> tuple:
        out = []
        for i, (obj, version) in enumerate(zip(self.items, self.versions)):
            if version is None:
                out.append(None)
                continue
            t = self.unpack(obj)
            if not isinstance(t, _tensor_cls[0]):
                raise TypeError(
                    f"{name}: expected the saved-tensor unpack_hook to return a Tensor, got {type(t).__name__}"
                )
            counter, expected, given = version
            _check_unpacked(name, f"saved tensor {i} of shape {tuple(t.shape)}", t, given, counter, expected)
            out.append(t)
        return tuple(out)


def pack_user_saved(fctx: Any) -> None:
    """Pass what a user Function's forward saved (``ctx.save_for_backward``) through this thread's
    innermost ``pack_hook``; ``ctx.saved_tensors`` unpacks (called by ``Function.apply`` when it
    records the node)."""
    stack = _state.stack
    if not stack:
        return
    pack, unpack = stack[-1]
    with no_grad():
        items = [None if t is None else pack(t) for t in fctx._saved]
    versions = [None if t is None else (t._vc, t._vc[0], weakref.ref(t)) for t in fctx._saved]
    fctx._packed = _PackedUser(items, unpack, versions)
    fctx._saved = (None,) * len(items)  # the graph keeps only what pack_hook returned


_NAMES = {0: "_saved_self", 1: "_saved_other", -1: "_saved_result"}


def saved_value(node: Node, role: int) -> Any:
    """``node._saved_self`` (role 0), ``_saved_other`` (1) or ``_saved_result`` (-1): that saved
    input or output as a Tensor; None for an input the op did not need to save (``a * b`` keeps
    ``a`` only when ``b`` wants a gradient, as PyTorch) or kept only as its own view of another
    shape (conv's weight as a matrix: showing that as the input would show a wrong tensor)."""
    if node.saved is _FREED:
        raise GraphError(_freed_message(node) + " (saved values are freed once backward has used them)")
    if role >= len(getattr(node, "next", ())):
        raise AttributeError(f"{node.name()}: the op has no input {role}, so no {_NAMES[role]}")
    versions = getattr(node, "versions", None) or ()
    for counter, _, which, shape, j in versions:
        if which != role:
            continue
        if versions.__class__ is _Packed:
            for k, obj, given in versions.packed:
                if k == j:
                    return versions.unpack_one(j, obj, given, node.fn.name)
        if role >= 0 and node.saved[j].shape != shape:
            continue  # the op's own view of the input (conv's reshaped weight), not the input
        return _as_tensor(node, node.saved[j], counter, role)
    return None


def _as_tensor(node: Node, arr: Any, counter: list, role: int) -> Any:
    """A saved array as a Tensor in the graph: the leaf input itself, else a new tensor with the
    node that made the value (the input's, or this node for the output) and its version counter."""
    tensor_cls = _tensor_cls[0]
    src = node if role < 0 else node.next[role]
    if isinstance(src, tensor_cls) and src._data is arr:
        return src
    t = tensor_cls(arr, _wrap=True)
    t._vc = counter
    if isinstance(src, Node):
        t.requires_grad = True
        t._node = src
    return t


# (at the end: its module imports the engine)
from glassgrad.autograd.gradient_edge import (  # noqa: E402
    GradientEdge,
    allow_mutation_on_saved_tensors,
    get_gradient_edge,
    increment_version,
)
from glassgrad.autograd.multi_grad import register_multi_grad_hook  # noqa: E402
