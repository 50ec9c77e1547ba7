"""PyTorch's treatment of a scale number of a wider kind than the tensors' result: ``alpha`` of
``add``/``sub`` (the functions, the methods and the in-place forms) and ``value`` of
``addcmul``/``addcdiv``.

Glassgrad multiplied by the number first, so it promoted the result: ``i.add(i, alpha=0.5)`` of
int64 tensors gave float32, ``x.add(y, alpha=1j)`` of float tensors complex64, where PyTorch raises
(its kernels take the number in the result's dtype); ``addcmul`` of integer tensors with a float
``value`` truncates the value there, and ``addcdiv`` of integer tensors is refused.
"""

from __future__ import annotations

import numbers
from typing import Any

from glassgrad.dtypes import bool_
from glassgrad.errors import DTypeError

__all__ = ["check_alpha"]

_ORDER = "biufc"  # the kinds' promotion order: bool < integers < floats < complex
_NAMES = {"i": "integer tensors", "f": "floating-point tensors", "c": "complex tensors"}


def _kind(x: Any) -> str:
    kind = getattr(getattr(getattr(x, "_data", x), "dtype", None), "kind", None)  # a NumPy dtype's
    if kind is not None:
        return "i" if kind == "u" else kind
    if hasattr(x, "dtype"):  # a tensor without a NumPy array (sparse storage ...): its glassgrad dtype
        dt = x.dtype
        return "c" if dt.is_complex else "f" if dt.is_floating_point else "b" if dt == bool_ else "i"
    if isinstance(x, bool):
        return "b"
    if isinstance(x, numbers.Integral):
        return "i"
    return "c" if isinstance(x, numbers.Complex) and not isinstance(x, numbers.Real) else "f"


def check_alpha(op: str, alpha: Any, *operands: Any) -> None:
    """Raise PyTorch's error when ``alpha`` (a number) does not fit the kind of the result of
    ``operands`` (tensors or numbers): a float for an integer result, a complex number for a real
    one, a bool for a non-bool one."""
    if alpha.__class__ is int:  # the common case (the default 1, an int lr scale)
        return
    if alpha.__class__ is float:  # an optimizer's p.add_(g, alpha=-lr): a float input rules out a refusal
        kind = getattr(getattr(getattr(operands[0], "_data", None), "dtype", None), "kind", "")
        if kind in ("f", "c"):
            return
    result = max((_kind(x) for x in operands), key=_ORDER.index)
    a = _kind(alpha)
    if a == "b" and result != "b":
        raise DTypeError(
            f"{op}: Boolean alpha only supported for Boolean results (got {alpha!r} for {_NAMES[result]})"
        )
    if a == "f" and result in "bi":
        raise DTypeError(
            f"{op}: For integral input tensors, argument alpha must not be a floating point number (got {alpha!r})"
        )
    if a == "c" and result != "c":
        raise DTypeError(
            f"{op}: For non-complex input tensors, argument alpha must not be a complex number (got {alpha!r})"
        )


def _float_data(t: Any) -> bool:
    return getattr(getattr(getattr(t, "_data", None), "dtype", None), "kind", "") == "f"


_ADDCDIV_INT = (
    "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform "
    "a true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as "
    "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as "
    "(input + value * tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the latter "
    "implementation: (input + value * tensor1 / tensor2), for all dtypes."
)


def addc_value(op: str, value: Any, input: Any, tensor1: Any, tensor2: Any) -> Any:  # noqa: A002
    """``value`` as PyTorch's ``addcmul``/``addcdiv`` take it: converted to the result's kind, a
    float truncated for integer tensors (``i.addcmul(i, i, value=1.7)`` scales by 1), a complex
    one refused for real tensors; and ``addcdiv`` of two integer tensors refused (PyTorch's
    message). Glassgrad promoted the result instead."""
    if value.__class__ in (int, float) and all(_float_data(t) for t in (input, tensor1, tensor2)):
        return value  # an optimizer's step on float tensors: nothing to check
    if op == "addcdiv" and _kind(tensor1) in "bi" and _kind(tensor2) in "bi":
        raise DTypeError(f"{op}: {_ADDCDIV_INT}")
    if op == "addcmul" and all(_kind(t) == "b" for t in (input, tensor1, tensor2)):
        raise DTypeError(f"{op}: expected numeric tensors, got three bool ones (PyTorch has no bool kernel)")
    if value.__class__ is int:
        return value
    result = max((_kind(x) for x in (input, tensor1, tensor2)), key=_ORDER.index)
    v = _kind(value)
    if v == "c" and result != "c":
        raise DTypeError(
            f"{op}: value cannot be converted to type {getattr(input, 'dtype', result)} without overflow "
            f"(got {value!r} for {_NAMES.get(result, 'bool tensors')})"
        )
    if v == "f" and result in "bi":
        return int(value)  # C++'s conversion: toward zero
    return value
