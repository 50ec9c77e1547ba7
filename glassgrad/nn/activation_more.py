"""PyTorch's long tail of activation modules over ``nn.functional.activation_more``: PReLU, SELU,
CELU, Mish, Hardswish, Hardsigmoid, Softsign, LogSigmoid, Softmin, GLU, Threshold, Hardshrink,
Softshrink, Tanhshrink, RReLU, Softmax2d. Same constructor arguments, reprs and state_dict keys
as PyTorch's (only PReLU has a parameter, ``weight``).

``inplace=True`` (shown in the repr, as PyTorch's) writes the result into the input, as the
functions of ``nn.functional.activation_more`` do (the rules of ``relu_``).
"""

from __future__ import annotations

import numbers
from typing import Any

import glassgrad.nn.functional as F
from glassgrad import dtypes
from glassgrad.errors import ArgumentError, ShapeError
from glassgrad.factories import empty
from glassgrad.nn import init as _init
from glassgrad.nn.activation import _check_dim, _inplace
from glassgrad.nn.module import Module, Parameter
from glassgrad.nn.sizes import layer_sizes
from glassgrad.tensor import Tensor

__all__ = [
    "PReLU", "SELU", "CELU", "Mish", "Hardswish", "Hardsigmoid", "Softsign", "LogSigmoid", "Softmin",
    "GLU", "Threshold", "Hardshrink", "Softshrink", "Tanhshrink", "RReLU", "Softmax2d",
]  # fmt: skip


class PReLU(Module):
    """``x`` for x > 0, ``weight * x`` otherwise, with a learned slope: one for all channels, or one
    per channel (dim 1) when ``num_parameters`` is the channel count.

    Args:
        num_parameters: 1, or the number of channels C of the input.
        init: the initial slope (default 0.25).
        dtype: the weight's dtype (default float32); the input must have it too, as in PyTorch.

    Shape:
        input ``(*)`` or ``(N, C, *)``, output the same.

    Attributes:
        weight: ``(num_parameters,)``, filled with ``init``.

    >>> PReLU(3)
    PReLU(num_parameters=3)
    """

    def __init__(
        self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        (self.num_parameters,) = layer_sizes("PReLU", num_parameters=num_parameters)
        self.init = init
        self.weight = Parameter(
            empty(self.num_parameters, dtype=dtype if dtype is not None else dtypes.get_default_dtype())
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class _InplaceActivation(Module):
    """An activation whose one argument is ``inplace`` (shown in the repr when True)."""

    _fn: Any = None

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return type(self)._fn(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace(self.inplace)


class SELU(_InplaceActivation):
    """``scale * (x if x > 0 else alpha * (exp(x) - 1))``, alpha = 1.6733, scale = 1.0507.

    Shape:
        input ``(*)``, output ``(*)``.
    """

    _fn = staticmethod(F.selu)


class Mish(_InplaceActivation):
    """``x * tanh(softplus(x))``.

    Shape:
        input ``(*)``, output ``(*)``.
    """

    _fn = staticmethod(F.mish)


class Hardswish(_InplaceActivation):
    """``x * relu6(x + 3) / 6``. Its repr shows no arguments, as PyTorch's.

    Shape:
        input ``(*)``, output ``(*)``.
    """

    _fn = staticmethod(F.hardswish)

    def extra_repr(self) -> str:
        return ""


class Hardsigmoid(_InplaceActivation):
    """``relu6(x + 3) / 6``. Its repr shows no arguments, as PyTorch's.

    Shape:
        input ``(*)``, output ``(*)``.
    """

    _fn = staticmethod(F.hardsigmoid)

    def extra_repr(self) -> str:
        return ""


class CELU(Module):
    """``x if x > 0 else alpha * (exp(x / alpha) - 1)``.

    Shape:
        input ``(*)``, output ``(*)``.

    >>> CELU(alpha=2.0)
    CELU(alpha=2.0)
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if alpha == 0:
            # PyTorch raises at the first call, a RuntimeError; here at once, a RuntimeError too
            raise ArgumentError("CELU: expected alpha != 0 (x is divided by it), got 0 (ZeroDivisionError)")
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + _inplace(self.inplace, ", ")


class Softsign(Module):
    """``x / (1 + |x|)``.

    Shape:
        input ``(*)``, output ``(*)``.
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softsign(input)


class LogSigmoid(Module):
    """``log(sigmoid(x))``, stable at any magnitude.

    Shape:
        input ``(*)``, output ``(*)``.
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.logsigmoid(input)


class Tanhshrink(Module):
    """``x - tanh(x)``.

    Shape:
        input ``(*)``, output ``(*)``.
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.tanhshrink(input)


class Softmin(Module):
    """``softmax(-x)`` along ``dim`` (omitted: PyTorch's legacy choice, with a warning).

    Shape:
        input ``(*)``, output ``(*)``, summing to 1 along ``dim``.

    >>> Softmin(dim=1)
    Softmin(dim=1)
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = _check_dim("Softmin", dim)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softmin(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class GLU(Module):
    """The gated linear unit ``a * sigmoid(b)``, ``a`` and ``b`` the halves of the input along ``dim``.

    Shape:
        input ``(*, 2M, *)``, output ``(*, M, *)``.

    >>> GLU()
    GLU(dim=-1)
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        if not isinstance(dim, numbers.Integral) or isinstance(dim, bool):
            raise TypeError(f"GLU: expected dim to be an int, got {type(dim).__name__}")
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Threshold(Module):
    """``value`` where ``x <= threshold``, else ``x``.

    Shape:
        input ``(*)``, output ``(*)``.

    >>> Threshold(0.1, 20)
    Threshold(threshold=0.1, value=20)
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + _inplace(self.inplace, ", ")


class Hardshrink(Module):
    """``0`` where ``-lambd <= x <= lambd``, else ``x``.

    Shape:
        input ``(*)``, output ``(*)``.

    >>> Hardshrink()
    Hardshrink(0.5)
    """

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Module):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else ``0``.

    Shape:
        input ``(*)``, output ``(*)``.

    >>> Softshrink()
    Softshrink(0.5)
    """

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        if not lambd >= 0:  # refused when built (design.md); PyTorch's class: a RuntimeError too
            raise ArgumentError(f"Softshrink: expected lambd >= 0, got {lambd}")
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class RReLU(Module):
    """Randomized leaky ReLU: ``x`` for x > 0, ``a * x`` otherwise.

    In training ``a`` is drawn per element from U(lower, upper) (the global generator, seeded by
    ``glassgrad.manual_seed``); in evaluation it is the mean slope ``(lower + upper) / 2``.

    Shape:
        input ``(*)``, output ``(*)``.

    >>> RReLU(0.1, 0.3)
    RReLU(lower=0.1, upper=0.3)
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False) -> None:
        super().__init__()
        if not lower <= upper:
            raise ValueError(f"RReLU: expected lower <= upper, got lower={lower} > upper={upper}")
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + _inplace(self.inplace, ", ")


class Softmax2d(Module):
    """Softmax over the channels at every pixel: ``softmax(x, dim=-3)``.

    Shape:
        input ``(N, C, H, W)`` or ``(C, H, W)``, output the same.
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if input.ndim not in (3, 4):
            raise ShapeError(
                f"Softmax2d: expected input to be 3D or 4D, (C, H, W) or (N, C, H, W), got {input.ndim}D "
                f"(shape {input.shape})"
            )
        return F.softmax(input, -3)
