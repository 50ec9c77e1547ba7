"""What ``__torch_function__`` receives from ``torch.functional``'s Python functions.

PyTorch writes some public functions in Python (``torch/functional.py``); they normalise their
arguments before ``handle_torch_function``, so an implementation (an fx ``Proxy``, a Tensor
subclass) sees one spelling however the caller wrote the call. ``SPELL`` maps such a function's
name to the rebinding that PyTorch 2.13 does:

- ``einsum(equation, *operands)``: the old list form ``einsum(eq, [a, b])`` is handed over as
  ``einsum(eq, a, b)``, and the sublist form ``einsum(a, [0, 1], b, [1, 2])`` as an equation
  whose subscripts 0-25 are ``A``-``Z`` and 26-51 ``a``-``z`` (PyTorch's ``parse_subscript``);
- ``tensordot(a, b, dims=..., out=...)``: ``dims`` and ``out`` always by keyword.

A call that does not match (a bad sublist) is handed over as given; the function reports it.
"""

from __future__ import annotations

import numbers
from typing import Any, Callable

__all__ = ["SPELL", "spell_einsum", "spell_tensordot"]


def _is_tensor(obj: Any) -> bool:
    from glassgrad.tensor import Tensor

    return isinstance(obj, Tensor)


def _subscript(n: Any) -> str:
    if n is Ellipsis:
        return "..."
    if isinstance(n, numbers.Integral) and not isinstance(n, bool):
        if 0 <= n < 26:
            return chr(ord("A") + n)
        if 26 <= n < 52:
            return chr(ord("a") + n - 26)
    raise ValueError(n)


def spell_einsum(fn: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """``einsum``'s arguments as PyTorch's ``einsum`` hands them over: ``(equation, *operands)``."""
    if kwargs or len(args) < 2:
        return args, kwargs
    if _is_tensor(args[0]):  # the sublist form, as PyTorch tells it: the first argument is a Tensor
        try:
            subs = args[1::2] if len(args) % 2 == 0 else args[1:-1:2]
            equation = ",".join("".join(_subscript(s) for s in sub) for sub in subs)
            if len(args) % 2:
                equation += "->" + "".join(_subscript(s) for s in args[-1])
        except (TypeError, ValueError):
            return args, kwargs
        operands = args[:-1:2] if len(args) % 2 else args[::2]
    else:
        equation, operands = args[0], args[1:]
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])  # the old interface: one list of operands
    return (equation, *operands), {}


def spell_tensordot(fn: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """``tensordot``'s arguments as PyTorch's: ``(a, b)``, then ``dims`` and ``out`` by keyword."""
    from glassgrad.nn.functional.torch_function_args import spelled_out

    return spelled_out(fn, args, kwargs, (("a", "b"), ("dims", "out")))


SPELL: dict[str, Callable[[Any, tuple, dict], tuple[tuple, dict]]] = {
    "einsum": spell_einsum,
    "tensordot": spell_tensordot,
}
