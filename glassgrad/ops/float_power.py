"""``float_power``: ``input ** exponent`` computed in float64, or in complex128 where either operand
is complex, as PyTorch; the result has that dtype whatever the inputs' (re-exported by
``math_more.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.forward_ad import tracked
from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import quietly
from glassgrad.ops.conversion import cast
from glassgrad.ops.elementwise import Pow
from glassgrad.tensor import Tensor

__all__ = ["FloatPower", "float_power"]


class FloatPower(Function):
    """z = a ** b in float64.   VJP: (g b a^(b-1), 0 where b == 0; g z ln a, 0 where a == 0 and b >= 0),
    as PyTorch's pow (so +-inf for b at a = 0, b < 0); without NumPy's warnings.

    That is ``Pow``'s forward and backward, run on the float64 arrays ``float_power`` always hands
    it (so Pow's general array path), with every floating-point warning off.
    """

    @staticmethod
    def forward(ctx, a, b):
        return quietly(Pow.forward, ctx, a, b)

    @staticmethod
    def backward(ctx, g):
        return quietly(Pow.backward, ctx, g)


def float_power(input: Any, exponent: Any) -> Tensor:  # noqa: A002
    """input ** exponent computed in float64, or complex128 where either is complex (PyTorch's)."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(
            f"float_power: expected a Tensor for input or exponent, got {type(input).__name__} "
            f"and {type(exponent).__name__}"
        )
    if _is_complex(input) or _is_complex(exponent):  # complex128: pow's complex twin computes it
        return Pow.apply(_double(input, np.complex128), _double(exponent, np.complex128))
    return FloatPower.apply(_double(input, np.float64), _double(exponent, np.float64))


def _is_complex(x: Any) -> bool:
    return isinstance(x, complex | np.complexfloating) or (
        isinstance(x, Tensor) and x._data.dtype.kind == "c"
    )


def _double(x: Any, wide: Any) -> Any:
    """``x`` as a ``wide`` (float64 or complex128) tensor, recorded where it requires grad; a
    number as a Python float or complex."""
    if not isinstance(x, Tensor):
        if not isinstance(x, int | float | complex | np.number):
            raise TypeError(f"float_power: expected a Tensor or a number, got {type(x).__name__}")
        # a Python float, so that Pow takes PyTorch's scalar paths (x ** 0.5 a sqrt, x ** -0.5 a
        # 1 / sqrt: -0.0 gives -0.0 and -inf, as torch.float_power)
        return complex(x) if _is_complex(x) else float(x)
    if x._data.dtype == wide:
        return x
    return cast(x, wide) if tracked(x) else Tensor(x._data.astype(wide), _wrap=True)
