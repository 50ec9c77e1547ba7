"""The array-level ``a ** b`` behind ``Pow`` (``elementwise.py``): PyTorch's special exponents
bit for bit, and NumPy's errstate quieted where PyTorch returns inf or nan without a word."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.backend import array_module

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


def pow_array(a: Any, b: Any) -> Any:
    """``a ** b`` as PyTorch's kernel computes it (its special exponents, see ``_pow_special``);
    Pow's forward and its VJP's ``a ** (b - 1)`` both go through here, so a hand-written
    derivative (``-x ** -2 * g``) equals autograd's bit for bit, as in PyTorch."""
    if b.__class__ in _PY_SCALARS and (b == 3 or b == -2 or b == -0.5) and a.dtype.kind == "f":
        return _pow_special(a, b)
    if b.__class__ in _PY_SCALARS and b >= 0:
        return a**b  # the common x ** 2: no 0 ** negative, no errstate cost
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # 0 ** -1 = inf, (-1) ** 0.5 = nan
        return a**b
