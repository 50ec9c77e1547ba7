"""The array-level ``a ** b`` behind ``Pow`` (``elementwise.py``): PyTorch's special exponents
(3, -2, -0.5; float16 through float32) bit for bit, float32 computed in float64 and rounded once
(closer to PyTorch's kernel than NumPy's float32 ``power``), and NumPy's errstate quieted where
PyTorch returns inf or nan without a word."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.shapes import broadcast_shape
from glassgrad.backend import array_module, quietly
from glassgrad.errors import ArgumentError, KernelDTypeError
from glassgrad.tensor import Tensor

_PY_SCALARS = (float, int, bool)


def _pow_special(a: Any, b: float) -> Any:
    """``a ** b`` for a float array and b = 3, -2 or -0.5 as PyTorch computes them, bit for bit:
    x * x * x, 1 / (x * x) and 1 / sqrt(x). NumPy's power rounds otherwise and takes its slow
    scalar path for a negative base, 50 to 200 times slower (GELU's tanh form takes x ** 3 of
    every activation); BatchNorm written out by hand takes (var + eps) ** -0.5."""
    if b == 3:
        return a * a * a
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # 1 / 0 = inf, as PyTorch
        return 1 / (a * a) if b == -2 else 1 / array_module(a).sqrt(a)


def _pow_half(a: Any, b: float) -> Any:
    """float16 ``a ** b`` as PyTorch's Half kernel: ``pow`` in float32 with the exponent rounded
    to half, rounded once to half. No special exponents there: ``x * x * x`` in half rounds twice,
    ``1 / (x * x)`` overflows to 0 from |x| = 256 where ``x ** -2`` is about 1e-6, and NumPy's own
    half ``** 0.5`` is a sqrt (-0 and -inf give -0 and nan where pow gives +0 and inf)."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        base = a.astype(np.float32)
        # the exponent as a full array: NumPy's loop takes a sqrt for a scalar 0.5, not pow
        exponent = array_module(a).full_like(base, np.float16(b))
        return array_module(a).power(base, exponent).astype(np.float16)


def pow_array(a: Any, b: Any) -> Any:
    """``a ** b`` as PyTorch's kernel computes it for its special exponents (see ``_pow_special``);
    Pow's forward and its VJP's ``a ** (b - 1)`` both go through here, so where ``b - 1`` is one
    of them (``x ** -1``, ``x ** 0.5``, ``x ** 4``) a hand-written derivative (``-x ** -2 * g``)
    equals autograd's bit for bit, as in PyTorch. Other exponents go through NumPy's ``power``,
    in float64 for float32 (``_pow_float32``; whole exponents above 2 too: NumPy's float32 ``x ** 6``
    was off PyTorch's on a tenth to a fifth of arguments), which still differs from PyTorch's in
    the last bit on about 2 % of float32 arguments."""
    if b.__class__ in _PY_SCALARS and a.dtype.kind == "f":
        if a.dtype.itemsize == 2:
            return _pow_half(a, b)
        if b == 3 or b == -2 or b == -0.5:  # float32 and float64 only, as PyTorch's fast paths
            return _pow_special(a, b)
    if b.__class__ in _PY_SCALARS and b >= 0 and (b.__class__ is not float or b.is_integer()):
        if b > 2 and a.dtype == np.float32:  # x ** 4, x ** 12: NumPy's float32 power again
            return _pow_float32(a, b)
        return a**b  # the common x ** 2: no 0 ** negative, no (-1) ** 0.5, no errstate cost
    if array_module(a, b).result_type(a, b) == np.float32:
        return _pow_float32(a, b)
    return quietly(pow, a, b)  # 0 ** -1 = inf, (-1) ** 0.5 = nan, without a warning, as PyTorch


def _pow_float32(a: Any, b: Any) -> Any:
    """float32 ``a ** b`` computed in float64 and rounded once. NumPy's float32 ``power`` is off
    PyTorch's in the last bit on about a fifth of arguments, where PyTorch's kernel is almost
    correctly rounded (this equals it on about 98 %); RoPE's frequencies ``base ** (arange(0, d, 2)
    / d)`` then differed by an ulp or two, which positions in the thousands turn into 1e-4 in the
    rotated queries and keys (torchtune's rotary-embedding tests)."""
    # a Python number is a float32 operand first, as PyTorch casts it to the tensor's dtype
    wide = [x.astype(np.float64) if hasattr(x, "astype") else float(np.float32(x)) for x in (a, b)]
    return quietly(pow, *wide).astype(np.float32)


def integral(x: Any) -> bool:
    """Whether a ``pow`` operand is an integer or bool tensor, or a Python int (not a float)."""
    return x._data.dtype.kind in "biu" if isinstance(x, Tensor) else not isinstance(x, float)


def negative_int_power(exp: int) -> None:
    """PyTorch's refusal of an integer tensor raised to a negative Python int."""
    raise ArgumentError(f"pow: integers to negative integer powers are not allowed, got exponent {exp}")


def int_pow(a: Any, b: Any) -> Tensor:
    """Integer ** integer on the arrays (a constant: integer results carry no gradient)."""
    base, exp = (v._data if isinstance(v, Tensor) else v for v in (a, b))
    if isinstance(a, Tensor) and isinstance(b, Tensor):  # PyTorch's size mismatch, not NumPy's ValueError
        broadcast_shape(base.shape, exp.shape, op="pow")
    xp = array_module(base)
    base_is_bool = isinstance(base, bool) or getattr(base, "dtype", None) == np.bool_
    if isinstance(b, Tensor) and exp.dtype == np.bool_ and base_is_bool:
        raise KernelDTypeError(
            "pow: expected a numeric base or exponent, got bool ** bool"
        )  # "pow" has no Bool kernel
    if base_is_bool and not isinstance(base, bool):
        if isinstance(exp, bool):  # bool ** True is the bools themselves, ** False all True
            return Tensor(base.copy() if exp else xp.ones_like(base), _wrap=True)
        base = base.astype(exp.dtype if isinstance(b, Tensor) else np.int64)  # NumPy would give int8
    if not isinstance(b, Tensor):  # a Python int exponent
        if exp < 0:
            negative_int_power(exp)
        return Tensor(xp.asarray(base**exp), _wrap=True)
    if not (neg := exp < 0).any():
        return Tensor(xp.asarray(base**exp), _wrap=True)
    dtype = xp.result_type(base, exp)  # before asarray: a Python int base stays weak
    base = xp.asarray(base)
    # a ** -n = 1 / a ** n is an integer only for a = 1 (1) and a = -1 (+-1); PyTorch gives 0 elsewhere
    at_neg = xp.where(base == 1, 1, xp.where(base == -1, xp.where((exp & 1).astype(bool), -1, 1), 0))
    out = xp.where(neg, at_neg, base ** xp.where(neg, 0, exp))
    return Tensor(xp.asarray(out.astype(dtype, copy=False)), _wrap=True)
