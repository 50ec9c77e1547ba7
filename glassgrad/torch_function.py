"""``__torch_function__``: PyTorch's protocol for types that take over the public functions.

A Tensor subclass, or any object whose type defines ``__torch_function__``, is asked first when it
reaches a public function (``glassgrad.add``, ``F.relu``, ``glassgrad.linalg.*``, a Tensor method,
operator or property): ``type(arg).__torch_function__(func, types, args, kwargs)`` runs instead,
and its answer is the call's result, as in PyTorch. Tensor's own implementation (``tensor_subclass``)
runs ``func`` with the protocol off and turns Tensor results into the subclass, so a subclass
carries through ops. ``TorchFunctionMode`` (``overrides.py``) sees every call while entered.

Why lazy: asking every call's arguments for ``__torch_function__`` costs a Python frame and a scan
on every public call, which no program without a subclass or a mode needs. So the public functions
stay the plain ones until the protocol is switched on (``activate``): by the first Tensor subclass
that takes part (``Tensor.__init_subclass__``), an entered mode, or a ``torch.overrides`` helper
(``has_torch_function``, ``handle_torch_function``, ...). Then each public function and Tensor
method is replaced by an ``Overridable`` over it. An ``Overridable`` is equal to (and hashes as)
the function it wraps, so a table keyed by ``torch.add`` before the switch still finds the
``func`` handed to ``__torch_function__`` after it. A type that is not a Tensor (PyTorch's
documentation's ``ScalarTensor``, linear_operator's ``LinearOperator``) is asked once the protocol
is on; before, a public function notices it only where the call fails: the wrapper every public
function with a tensor operand has (``numpy_names``) and an operator that declines an operand hand
it to ``torch_function_foreign``, which switches the protocol on and asks such an argument, at no
cost to calls that succeed (a one-shot
hook on class statements was tried: its extra frame broke code that reads its caller's frame from
a class body or a metaclass, TorchScript's among them).
"""

from __future__ import annotations

import sys
from types import FunctionType, MethodType
from typing import Any, Callable

__all__ = [
    "Overridable",
    "activate",
    "active",
    "dispatch",
    "overloaded_args",
    "state",
    "DisableTorchFunction",
    "DisableTorchFunctionSubclass",
    "_disabled_torch_function_impl",
]


def _disabled_torch_function_impl(func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
    """``torch._C._disabled_torch_function_impl``: a subclass that sets its ``__torch_function__``
    to this (``nn.Parameter`` does) is not asked; ops on it give plain Tensors."""
    return func(*args, **(kwargs or {}))


class _State:
    """Whether the switch happened, how many ``DisableTorchFunction*`` blocks are open, the mode
    stack (innermost last)."""

    __slots__ = ("all_off", "modes", "on", "quiet", "subclass_off")

    def __init__(self) -> None:
        self.on = False
        self.subclass_off = 0
        self.all_off = 0
        self.modes: list = []
        self.quiet = True  # no mode, nothing disabled: the fast path of Overridable.__call__

    def refresh(self) -> None:
        self.quiet = not (self.modes or self.subclass_off or self.all_off)


state = _State()

# Types that never take part: skipped without a getattr (the scan runs on every call once active).
_PLAIN: set = {int, float, bool, complex, str, type(None), slice, type(Ellipsis), bytes}


def _tensor_type() -> type:
    from glassgrad.tensor import Tensor

    return Tensor


def _takes_part(obj: Any) -> bool:
    return _takes_part_type(type(obj))  # the type's: a class passed as an argument is not asked


def _takes_part_type(cls: type) -> bool:
    tf = getattr(cls, "__torch_function__", None)
    if tf is None or tf is _disabled_torch_function_impl:
        return False
    fn = getattr(tf, "__func__", tf)
    if fn is _disabled_torch_function_impl:
        return False
    # PyTorch's own tensors (a test or dlpack hands one over beside glassgrad): theirs is PyTorch's
    # protocol, which would call back into this one under PyTorch's switches, not these
    return not (getattr(fn, "__module__", None) or "").startswith("torch.") or issubclass(cls, _tensor_type())


def _add(found: list, obj: Any) -> None:
    # PyTorch's order: by argument, a subclass before its base, each type once
    t = type(obj)
    for i, o in enumerate(found):
        if type(o) is t:
            return
        if issubclass(t, type(o)):
            found.insert(i, obj)
            return
    found.append(obj)


def overloaded_args(args: tuple, kwargs: dict | None) -> list:
    """The arguments (and elements of list/tuple arguments) whose type implements
    ``__torch_function__``, in the order they are asked (PyTorch's rule)."""
    found: list = []
    plain = _PLAIN
    for a in (args, kwargs.values()) if kwargs else (args,):
        for x in a:
            t = type(x)
            if t in plain:
                continue
            if t is list or t is tuple:
                for y in x:
                    if type(y) not in plain and _takes_part(y):
                        _add(found, y)
            elif _takes_part(x):
                _add(found, x)
    return found


def _name(func: Any) -> str:
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func))


def dispatch(func: Any, overloaded: list, args: tuple, kwargs: dict | None) -> Any:
    """Ask the innermost mode, then each overloaded argument's ``__torch_function__``, for
    ``func(*args, **kwargs)``; the first answer that is not ``NotImplemented`` is the result."""
    kwargs = {} if kwargs is None else kwargs
    types = tuple(type(a) for a in overloaded)
    if state.modes and not state.all_off:
        mode = state.modes.pop()  # the mode's own calls go to the modes under it
        state.refresh()
        try:
            out = mode.__torch_function__(func, types, args, kwargs)
        finally:
            state.modes.append(mode)
            state.refresh()
        if out is not NotImplemented:
            return out
    if not state.subclass_off and not state.all_off:
        for a in overloaded:
            out = a.__torch_function__(func, types, args, kwargs)
            if out is not NotImplemented:
                return out
    raise TypeError(
        f"no implementation found for '{_name(func)}' on types that implement __torch_function__: "
        f"{[type(a) for a in overloaded]} (each returned NotImplemented)"
    )


class Overridable:
    """A public function (or Tensor method) that asks ``__torch_function__`` first.

    Equal to, and hashing as, the function it wraps (``__wrapped__``); a Tensor method binds as a
    function does (``__get__``)."""

    def __init__(self, fn: Callable, binary: bool = False, modes_only: bool = False) -> None:
        self.__wrapped__ = fn
        self._binary = binary  # an operator: declines (NotImplemented) when no type takes it
        self._modes_only = modes_only  # a factory: modes see it, Tensor arguments are not asked
        self._shown: Any = self  # what __torch_function__ gets as func (operators: the named method)
        self._spell: Any = None  # nn.functional: the arguments spelled out as PyTorch's hands them over
        if (getattr(fn, "__module__", None) or "").startswith("glassgrad.nn.functional"):
            from glassgrad.nn.functional.torch_function_args import ARGS, spelled_out

            if getattr(fn, "__name__", None) in ARGS:
                self._spell = spelled_out
        elif (getattr(fn, "__module__", None) or "").startswith("glassgrad"):
            from glassgrad.torch_function_spell import SPELL  # torch.functional's Python functions

            self._spell = SPELL.get(getattr(fn, "__name__", None))
        for attr in ("__name__", "__qualname__", "__module__", "__doc__"):
            setattr(self, attr, getattr(fn, attr, None))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if state.quiet and not kwargs:  # the common call: plain arguments, no mode
            plain = _PLAIN
            for a in args:
                if type(a) not in plain:
                    break
            else:
                return self.__wrapped__(*args)
        return self._slow(args, kwargs)

    def _slow(self, args: tuple, kwargs: dict) -> Any:
        st = state
        if st.all_off or (st.subclass_off and not st.modes):
            return self.__wrapped__(*args, **kwargs)
        if st.subclass_off:
            found = []
        elif self._modes_only:  # a factory: non-Tensor types (an fx Proxy for a size) are asked
            found = [a for a in overloaded_args(args, kwargs) if not isinstance(a, _tensor_type())]
        else:
            found = overloaded_args(args, kwargs)
        if not found and not st.modes:
            return self.__wrapped__(*args, **kwargs)
        if self._spell is not None:
            args, kwargs = self._spell(self.__wrapped__, args, kwargs)
        if not self._binary:
            return dispatch(self._shown, found, args, kwargs)
        try:  # an operator that no type implements declines, as PyTorch's: Python asks the other side
            return dispatch(self._shown, found, args, kwargs)
        except TypeError:
            return NotImplemented

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        return self if obj is None else MethodType(self, obj)

    def __getattr__(self, name: str) -> Any:  # __code__, __defaults__, markers set on the function
        if name == "__wrapped__":
            raise AttributeError(name)
        return getattr(self.__wrapped__, name)

    def __eq__(self, other: Any) -> bool:
        return other is self.__wrapped__ or (
            isinstance(other, Overridable) and other.__wrapped__ is self.__wrapped__
        )

    def __hash__(self) -> int:
        return hash(self.__wrapped__)

    def __repr__(self) -> str:
        return repr(self.__wrapped__)

    def __reduce__(self) -> str:
        return self.__qualname__  # pickled by its public name, which reaches this object


def _property(prop: property) -> property:
    """A Tensor property whose getter asks ``__torch_function__`` (``func`` is its ``__get__``)."""

    def getter(self: Any) -> Any:
        st = state
        if st.all_off or (st.subclass_off and not st.modes):
            return prop.__get__(self)
        found = [] if st.subclass_off or type(self) is tensor_cls else overloaded_args((self,), None)
        if not found and not st.modes:
            return prop.__get__(self)
        return dispatch(new.__get__, found, (self,), None)

    tensor_cls = _tensor_type()
    new = property(getter, prop.fset, prop.fdel, prop.__doc__)
    return new


from glassgrad.torch_function_names import (  # noqa: E402
    _BINARY,
    _DUNDERS,
    _TENSOR_SKIP,
    FACTORIES,
    IGNORED,
    NAMESPACES,
    SHOWN_AS,
)

wrapped: dict[int, Overridable] = {}  # id(function) -> its Overridable: one per function
#: ids of functions never wrapped, under whatever name they are found (Tensor.as_subclass)
UNASKED: set = set()


def _wrap(fn: Callable, binary: bool = False, modes_only: bool = False) -> Overridable:
    w = wrapped.get(id(fn))
    if w is None:
        w = wrapped[id(fn)] = Overridable(fn, binary, modes_only)
    return w


def _member(fn: Callable, name: str, binary: bool) -> Overridable:
    """A Tensor method's Overridable, named as the method: ``func.__name__`` is what
    ``__torch_function__`` implementations test (pypose's ``HANDLED_FUNCTIONS``), and PyTorch's is
    the method's own name also for an alias (``clip``, ``new_zeros``), not the function behind it."""
    if getattr(fn, "__name__", None) == name:
        return _wrap(fn, binary)
    w = Overridable(fn, binary)
    w.__name__, w.__qualname__ = name, f"Tensor.{name}"
    return w


def _tensor_member(name: str) -> bool:
    if name in _TENSOR_SKIP:
        return False
    if name.startswith("__") and name.endswith("__"):
        return name[2:-2] in _DUNDERS
    return not name.startswith("_")


def active() -> bool:
    """Whether the public functions ask ``__torch_function__`` (the switch has happened)."""
    return state.on


def activate() -> None:
    """Replace the public functions and Tensor's methods and properties by ``Overridable``s (once)."""
    if state.on:
        return
    state.on = True
    Tensor = _tensor_type()
    for name, value in list(vars(Tensor).items()):
        if not _tensor_member(name):
            continue
        if isinstance(value, FunctionType) and id(value) not in UNASKED:
            setattr(Tensor, name, _member(value, name, name.startswith("__") and name[2:-2] in _BINARY))
        elif isinstance(value, property):
            setattr(Tensor, name, _property(value))
    for dunder, method in SHOWN_AS.items():  # x + y hands over Tensor.add, as PyTorch's
        op, named = vars(Tensor).get(dunder), vars(Tensor).get(method)
        if isinstance(op, Overridable) and isinstance(named, Overridable):
            op._shown = named
    # Tensor members that are never asked (as_subclass), also where a program put them in the
    # namespace (fastai's torch.as_subclass = torch.Tensor.as_subclass), and functions a program
    # added that are not glassgrad's: PyTorch's stay what they are
    never = {id(vars(Tensor)[n]) for n in _TENSOR_SKIP if isinstance(vars(Tensor).get(n), FunctionType)}
    never |= UNASKED
    for modname in NAMESPACES:
        module = sys.modules.get(modname)
        if module is None:
            continue
        for name, value in list(vars(module).items()):
            if not isinstance(value, FunctionType) or name.startswith("_") or id(value) in never:
                continue
            if not (getattr(value, "__module__", None) or "glassgrad").startswith("glassgrad"):
                continue
            if name not in IGNORED:
                setattr(module, name, _wrap(value))
            elif name in FACTORIES:
                setattr(module, name, _wrap(value, modes_only=True))
    from glassgrad.tensor_subclass import NOWRAP

    NOWRAP.add(vars(Tensor)["grad"].__get__)  # the gradient stays what it is (PyTorch's nowrap)


class DisableTorchFunctionSubclass:
    """``torch._C.DisableTorchFunctionSubclass``: inside, subclasses' ``__torch_function__`` are not
    asked (modes still are); what Tensor's own implementation runs ``func`` under."""

    def __enter__(self) -> DisableTorchFunctionSubclass:
        state.subclass_off += 1
        state.refresh()
        return self

    def __exit__(self, *exc: Any) -> None:
        state.subclass_off -= 1
        state.refresh()


class DisableTorchFunction:
    """``torch._C.DisableTorchFunction``: inside, neither subclasses nor modes are asked."""

    def __enter__(self) -> DisableTorchFunction:
        state.all_off += 1
        state.refresh()
        return self

    def __exit__(self, *exc: Any) -> None:
        state.all_off -= 1
        state.refresh()
