"""``torch.overrides``: the public side of ``__torch_function__`` (``torch_function.py`` holds the
dispatch): helpers for functions that want to be overridable, the lists of what takes part, and
``TorchFunctionMode``, which sees every public call while it is entered (factories included).

>>> import glassgrad as gg
>>> from glassgrad.overrides import TorchFunctionMode
>>> class Count(TorchFunctionMode):
...     def __init__(self):
...         super().__init__()
...         self.names = []
...     def __torch_function__(self, func, types, args=(), kwargs=None):
...         self.names.append(func.__name__)
...         return func(*args, **(kwargs or {}))
>>> with Count() as mode:
...     _ = gg.ones(2).exp().sum()
>>> mode.names
['ones', 'exp', 'sum']
"""

from __future__ import annotations

import contextlib
import functools
import sys
from typing import Any, Callable, Iterator

from glassgrad import torch_function as _tf
from glassgrad.tensor import Tensor

__all__ = [
    "BaseTorchFunctionMode",
    "TorchFunctionMode",
    "enable_reentrant_dispatch",
    "get_default_nowrap_functions",
    "get_ignored_functions",
    "get_overridable_functions",
    "get_testing_overrides",
    "handle_torch_function",
    "has_torch_function",
    "has_torch_function_unary",
    "has_torch_function_variadic",
    "is_tensor_like",
    "is_tensor_method_or_property",
    "resolve_name",
    "wrap_torch_function",
]


def _modes_on() -> bool:
    return bool(_tf.state.modes) and not _tf.state.all_off


def has_torch_function(relevant_args: Any) -> bool:
    """Whether a mode is entered or one of ``relevant_args`` (a tuple) has a type that implements
    ``__torch_function__`` (a plain Tensor does not count, nor a Parameter)."""
    _tf.activate()  # a program that asks is about to rely on the protocol
    if _modes_on():
        return True
    if _tf.state.subclass_off or _tf.state.all_off:
        return False
    return bool(_relevant(relevant_args))


def _relevant(relevant_args: Any) -> list:
    """The elements of ``relevant_args`` whose type implements ``__torch_function__``, in
    PyTorch's order. Only the sequence's own elements count, not those of a list inside it (as
    PyTorch's ``has_torch_function``): a function that wants a list's elements asked passes them."""
    found: list = []
    for x in relevant_args:
        if type(x) not in _tf._PLAIN and _tf._takes_part(x):
            _tf._add(found, x)
    return found


def has_torch_function_unary(arg: Any) -> bool:
    """``has_torch_function((arg,))``."""
    return has_torch_function((arg,))


def has_torch_function_variadic(*args: Any) -> bool:
    """``has_torch_function(args)``."""
    return has_torch_function(args)


def handle_torch_function(public_api: Callable, relevant_args: Any, *args: Any, **kwargs: Any) -> Any:
    """Ask the innermost mode, then the ``__torch_function__`` of ``relevant_args``' types, for
    ``public_api(*args, **kwargs)``; raises TypeError when every one returns NotImplemented."""
    _tf.activate()
    found = [] if (_tf.state.subclass_off or _tf.state.all_off) else _relevant(relevant_args)
    return _tf.dispatch(public_api, found, args, kwargs)


# the protocol's own helpers are never asked themselves: nn.functional re-exports them, as
# PyTorch's, and wrapped there a subclass argument would answer has_torch_function((x,)) with
# its __torch_function__ (False, under its own DisableTorchFunctionSubclass)
_tf.UNASKED.update(
    map(
        id, (has_torch_function, has_torch_function_unary, has_torch_function_variadic, handle_torch_function)
    )
)


def wrap_torch_function(dispatcher: Callable) -> Callable:
    """Decorator: make a function of your own overridable; ``dispatcher`` takes the function's
    arguments and returns the ones that may override it."""

    _tf.activate()

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            relevant = dispatcher(*args, **kwargs)
            if has_torch_function(relevant):
                return handle_torch_function(wrapped, relevant, *args, **kwargs)
            return func(*args, **kwargs)

        return wrapped

    return decorate


def is_tensor_like(inp: Any) -> bool:
    """Whether ``inp`` is a Tensor or its type implements ``__torch_function__``."""
    return type(inp) is Tensor or hasattr(type(inp), "__torch_function__")


def _public(fn: Any) -> Any:
    return _tf.wrapped.get(id(fn), fn)


def get_ignored_functions() -> set:
    """The public functions that never ask ``__torch_function__`` (they make tensors from data or
    change global state)."""
    import glassgrad

    return {_public(getattr(glassgrad, n)) for n in _tf.IGNORED if callable(getattr(glassgrad, n, None))}


def get_default_nowrap_functions() -> set:
    """What Tensor's ``__torch_function__`` hands back without making it the subclass (the
    ``grad``, ``_grad`` and ``_base`` getters, as PyTorch's)."""
    _tf.activate()  # the switch replaces the grad property: its getter then is the one asked
    members = vars(Tensor)
    return {members["_base"].__get__, members["_grad"].__get__, members["grad"].__get__}


def get_overridable_functions() -> dict:
    """``{namespace: [functions]}``: the public functions (and Tensor's methods) that ask
    ``__torch_function__``."""
    from types import FunctionType

    _tf.activate()

    out: dict = {}
    for modname in _tf.NAMESPACES:
        module = sys.modules.get(modname)
        if module is None:
            continue
        out[module] = [
            v
            for n, v in vars(module).items()
            if not n.startswith("_")
            and n not in _tf.IGNORED
            and isinstance(v, (FunctionType, _tf.Overridable))
        ]
    out[Tensor] = [
        v.__get__ if isinstance(v, property) else v
        for n, v in vars(Tensor).items()
        if _tf._tensor_member(n) and isinstance(v, (FunctionType, _tf.Overridable, property))
    ]
    return out


def get_testing_overrides() -> dict:
    """``{function: a stand-in returning -1}`` for every overridable function, for tests of a
    ``__torch_function__`` implementation."""
    return {f: (lambda *args, **kwargs: -1) for fns in get_overridable_functions().values() for f in fns}


def is_tensor_method_or_property(func: Callable) -> bool:
    """Whether ``func`` is a Tensor method or a Tensor property's getter (not a function)."""
    for v in vars(Tensor).values():
        if v is func or v == func or (isinstance(v, property) and v.__get__ == func):
            return True
    return False


def resolve_name(f: Callable) -> str | None:
    """The public name of a function a ``__torch_function__`` is handed: ``"glassgrad.add"``,
    ``"glassgrad.Tensor.add"``, ``"glassgrad.Tensor.shape.__get__"`` (a property's getter), as
    PyTorch's ``"torch.add"``; None for a function that is not one of the public namespaces'."""
    try:
        return _public_names().get(f)
    except TypeError:  # an unhashable object is no public function
        return None


@functools.cache
def _public_names() -> dict:
    # PyTorch's index: each public callable of the namespaces and Tensor's members and descriptor
    # getters/setters, by the name a user reaches them by rather than the module that defines them
    # (glassgrad.factories.zeros is glassgrad.zeros). glassgrad.functional's names come first, as
    # PyTorch's torch.functional.einsum is torch.einsum; where a namespace re-exports another's
    # function (glassgrad.special.erf is glassgrad.erf) the first namespace names it. An
    # Overridable equals the function it wraps, so names taken before the switch resolve after
    # it; the switch replaces Tensor's properties, so it comes first.
    _tf.activate()
    index: dict = {}
    functional = sys.modules.get("glassgrad.functional")
    for name in getattr(functional, "__all__", ()):
        index[getattr(functional, name)] = f"glassgrad.functional.{name}"
    for modname in _tf.NAMESPACES:
        module = sys.modules.get(modname)
        if module is None:
            continue
        for name, value in vars(module).items():
            if name.startswith("__") or isinstance(value, type(sys)) or not callable(value):
                continue
            try:
                index.setdefault(value, f"{modname}.{name}")
            except TypeError:  # an unhashable callable instance
                continue
    for name, value in vars(Tensor).items():
        if not callable(value) and hasattr(value, "__get__"):  # a property or a member slot
            index[value.__get__] = f"glassgrad.Tensor.{name}.__get__"
            if hasattr(value, "__set__"):
                index[value.__set__] = f"glassgrad.Tensor.{name}.__set__"
        elif callable(value) and getattr(object, name, None) != value:
            index.setdefault(value, f"glassgrad.Tensor.{name}")
    return index


class TorchFunctionMode:
    """Sees every public call while entered (``with Mode():``): its ``__torch_function__(func,
    types, args, kwargs)`` runs instead, with this mode taken off the stack meanwhile, so the
    ``func(*args, **kwargs)`` it calls runs as usual (through the modes under it)."""

    def __init__(self) -> None:
        pass

    def __torch_function__(self, func: Callable, types: tuple, args: tuple = (), kwargs: Any = None) -> Any:
        raise NotImplementedError(f"{type(self).__name__}: a TorchFunctionMode defines __torch_function__")

    def __enter__(self) -> TorchFunctionMode:
        _tf.activate()
        _tf.state.modes.append(self)
        _tf.state.refresh()
        return self

    def __exit__(self, *exc: Any) -> None:
        stack = _tf.state.modes
        if stack and stack[-1] is self:
            stack.pop()
        elif self in stack:
            stack.remove(self)
        _tf.state.refresh()

    @classmethod
    def push(cls, *args: Any, **kwargs: Any) -> TorchFunctionMode:
        return cls(*args, **kwargs)


class BaseTorchFunctionMode(TorchFunctionMode):
    """A mode that runs each call as it is (a base for modes that look without changing)."""

    def __torch_function__(self, func: Callable, types: tuple, args: tuple = (), kwargs: Any = None) -> Any:
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def enable_reentrant_dispatch() -> Iterator[None]:
    """A no-op context (PyTorch's concerns its C++ dispatcher, which glassgrad has not)."""
    yield


def _get_current_function_mode() -> Any:
    return _tf.state.modes[-1] if _tf.state.modes else None


def _get_current_function_mode_stack() -> list:
    return list(_tf.state.modes)


def _is_torch_function_mode_enabled() -> bool:
    return _modes_on()


@contextlib.contextmanager
def _pop_mode_temporarily() -> Iterator[Any]:
    mode = _pop_mode()
    try:
        yield mode
    finally:
        _push_mode(mode)


def _push_mode(mode: TorchFunctionMode) -> None:
    _tf.activate()
    _tf.state.modes.append(mode)
    _tf.state.refresh()


def _pop_mode() -> TorchFunctionMode:
    mode = _tf.state.modes.pop()
    _tf.state.refresh()
    return mode
