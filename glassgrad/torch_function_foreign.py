"""``__torch_function__`` for a type that is not a Tensor (linear_operator's ``LinearOperator``,
PyTorch's documentation's ``ScalarTensor``) while the protocol is still off (``torch_function``).

PyTorch asks such a type at every call it reaches. glassgrad's public functions stay plain until
the switch, so they notice it only where the call fails: the wrapper of every public function with
a tensor operand (``numpy_names``) hands its exception here (``foreign_call``), and an operator
that declines an operand asks ``switched_on_for`` before returning ``NotImplemented``. Where an
argument's type implements ``__torch_function__``, the protocol is switched on and the call handed
to it, as PyTorch would have done first; from then on the protocol asks such types first. Both are
reached only from an ``except`` clause: calls that succeed pay nothing. Not covered before the
switch: a Tensor method given such a type (``t.add(linear_op)``), and a call that succeeds on it by
duck typing (its result is glassgrad's).
"""

from __future__ import annotations

import inspect
import sys
from typing import Any, Callable

from glassgrad.torch_function import (
    NAMESPACES,
    Overridable,
    _takes_part,
    _wrap,
    activate,
    dispatch,
    overloaded_args,
    state,
)

__all__ = ["NOT_TAKEN", "called_as", "foreign_call", "foreign_params", "switched_on_for"]

#: ``foreign_call``'s answer when no argument takes the call over: the caller re-raises its error.
NOT_TAKEN = object()


def foreign_call(fn: Callable, args: tuple, kwargs: dict | None) -> Any:
    """The last resort of public function ``fn`` whose call raised while the protocol is off: when
    an argument's type implements ``__torch_function__`` and is not a Tensor (linear_operator's
    ``torch.add(linear_op, t)``), the protocol is switched on and the call handed to that type, as
    PyTorch would have done first; else ``NOT_TAKEN``. Reached only from an ``except`` clause, so
    the calls that succeed pay nothing, and from then on the protocol asks such types first."""
    if state.on:  # the Overridable over fn has asked already
        return NOT_TAKEN
    found = overloaded_args(args, kwargs)
    if not found:
        return NOT_TAKEN
    activate()
    for modname in NAMESPACES:  # func is what PyTorch hands over: the public function
        public = getattr(sys.modules.get(modname), getattr(fn, "__name__", ""), None)
        if isinstance(public, Overridable) and public.__wrapped__ is fn:
            break
    else:
        public = _wrap(fn)
    return dispatch(public, found, args, kwargs)


def foreign_params(fn: Callable, inner: Callable, values: dict, shown: dict) -> Any:
    """``foreign_call`` for a generated wrapper ``fn`` of ``inner`` that has its parameters'
    ``values`` (not the call's arguments): they are rebuilt (``called_as``) only when one of them
    takes part, so that a failing call without one pays a scan only."""
    first = next(iter(values.values()), None)
    if getattr(type(first), "is_sparse", False) is True and _own_method(type(first), fn.__name__):
        # torch.select(s, 0, i) is s.select(0, i): a sparse COO tensor answers by its own methods
        args, kwargs = called_as(inner, values, shown)
        return getattr(first, fn.__name__)(*args[1:], **kwargs)
    if state.on or not overloaded_args(tuple(values.values()), None):
        return NOT_TAKEN
    return foreign_call(fn, *called_as(inner, values, shown))


def _own_method(cls: type, name: str) -> bool:
    return not name.startswith("_") and callable(vars(cls).get(name))


def switched_on_for(obj: Any) -> bool:
    """Whether ``obj``, an operand an operator declined, has a type that implements
    ``__torch_function__`` while the protocol is off; then the protocol is switched on (the
    operator runs again, asking it)."""
    if state.on or not _takes_part(obj):
        return False
    activate()
    return True


def called_as(fn: Callable, values: dict, shown: dict) -> tuple:
    """The ``(args, kwargs)`` of a call of ``fn`` from its parameters' ``values`` (a generated
    wrapper's): a parameter left at its default is left out, those before it go by position, the
    others by PyTorch's name for them (``shown``: ``input`` for glassgrad's ``x``)."""
    args: list = []
    kwargs: dict = {}
    gap = False
    for p in inspect.signature(fn).parameters.values():
        v = values[p.name]
        if v is p.default:
            gap = True
        elif p.kind is p.KEYWORD_ONLY or gap:
            kwargs[shown.get(p.name, p.name)] = v
        else:
            args.append(v)
    return tuple(args), kwargs
