"""The non-finite values: isposinf/isneginf (bool tensors, no gradient) and nan_to_num, as PyTorch.

nan_to_num's fill values are read as PyTorch's argument parser reads a ``float?``: a number, a 0-d
tensor that does not require grad (as its value), or None (the default: 0 for NaN, the dtype's
extremes for the infinities). A tensor that requires grad, or one of several elements, is PyTorch's
TypeError: OpenFold's ``nan_to_num(score, nan=torch.nanmean(score))`` on a score that requires grad
raises there, where taking the tensor into ``where`` sent gradient into the fill value (and a fill
tensor of the input's shape filled element by element) silently.
"""

from __future__ import annotations

import numpy as np

from glassgrad.backend import array_module
from glassgrad.errors import DTypeError
from glassgrad.operand_errors import number_arg
from glassgrad.ops import elementwise
from glassgrad.tensor import Tensor

__all__ = ["isposinf", "isneginf", "nan_to_num"]


def isposinf(input: Tensor) -> Tensor:  # noqa: A002
    """True where the value is +inf (never for integers or bools); a bool tensor, no gradient."""
    return _infinite(input, positive=True)


def isneginf(input: Tensor) -> Tensor:  # noqa: A002
    """True where the value is -inf (never for integers or bools); a bool tensor, no gradient."""
    return _infinite(input, positive=False)


def _infinite(input: Tensor, positive: bool) -> Tensor:  # noqa: A002
    x = input._data
    xp = array_module(x)
    if x.dtype.kind == "c":  # which infinity a complex number is has no single answer
        op = "isposinf" if positive else "isneginf"
        raise DTypeError(f"{op}: expected a real tensor, got dtype {x.dtype}")
    if x.dtype.kind != "f":
        return Tensor(xp.zeros(x.shape, bool), _wrap=True)
    return Tensor(xp.asarray(x == (xp.inf if positive else -xp.inf)), _wrap=True)


def _fill(name: str, v: object) -> float | None:
    return v if v is None or v.__class__ is float else number_arg("nan_to_num", name, v)


def nan_to_num(
    input: Tensor,  # noqa: A002 - PyTorch's name
    nan: float | None = 0.0,
    posinf: float | None = None,
    neginf: float | None = None,
) -> Tensor:
    """NaN -> ``nan``, +inf -> ``posinf`` (default: the dtype's largest), -inf -> ``neginf``; a
    complex tensor's real and imaginary parts each so, as PyTorch. Integers and bools as they are."""
    nan, posinf, neginf = _fill("nan", nan), _fill("posinf", posinf), _fill("neginf", neginf)
    kind = input._data.dtype.kind
    if kind == "c":  # each part is a real tensor of the part's dtype; complex() puts them together
        from glassgrad.ops.complex import complex, imag, real  # (ops.complex imports this package)

        return complex(*(nan_to_num(part(input), nan, posinf, neginf) for part in (real, imag)))
    if kind != "f":
        return input.clone()  # PyTorch returns a copy: writing to it leaves input alone
    info = np.finfo(input._data.dtype)
    hi = info.max if posinf is None else posinf
    lo = info.min if neginf is None else neginf
    arr = input._data
    xp = array_module(arr)
    out = elementwise.where(Tensor(xp.isnan(arr), _wrap=True), 0.0 if nan is None else nan, input)
    out = elementwise.where(Tensor(arr == np.inf, _wrap=True), hi, out)
    return elementwise.where(Tensor(arr == -np.inf, _wrap=True), lo, out)
