"""Activation modules: thin wrappers over ``glassgrad.nn.functional`` with PyTorch's names and reprs.

``inplace=True`` writes the result into the input, as PyTorch (``F.relu(x, inplace=True)``: the
rules of ``relu_``).
"""

from __future__ import annotations

import warnings

import glassgrad.nn.functional as F
from glassgrad.nn.module import Module
from glassgrad.nn.sizes import size_int
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "Sigmoid",
    "Tanh",
    "ReLU",
    "ReLU6",
    "Hardtanh",
    "LeakyReLU",
    "GELU",
    "ELU",
    "SiLU",
    "Softplus",
    "Softmax",
    "LogSoftmax",
    "Step",
]


def _inplace(inplace: bool, lead: str = "") -> str:
    return (lead + "inplace=True") if inplace else ""


class Sigmoid(Module):
    """``1 / (1 + exp(-x))``.

    Shape:
        input ``(*)``, output ``(*)``.
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        return F.sigmoid(input)


class Tanh(Module):
    """``tanh(x)``.

    Shape:
        input ``(*)``, output ``(*)``.
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.tanh(input)


class ReLU(Module):
    """``max(0, x)``; the gradient at 0 is taken as 0.

    Shape:
        input ``(*)``, output ``(*)``.

    >>> ReLU()
    ReLU()
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.relu(input, self.inplace)

    def extra_repr(self) -> str:
        return _inplace(self.inplace)


class Hardtanh(Module):
    """``x`` clipped to ``[min_val, max_val]``.

    Shape:
        input ``(*)``, output ``(*)``.

    >>> Hardtanh()
    Hardtanh(min_val=-1.0, max_val=1.0)
    """

    def __init__(
        self,
        min_val: float = -1.0,
        max_val: float = 1.0,
        inplace: bool = False,
        min_value: float | None = None,
        max_value: float | None = None,
    ) -> None:
        super().__init__()
        for old, new, value in (("min_value", "min_val", min_value), ("max_value", "max_val", max_value)):
            if value is not None:  # PyTorch's deprecated spellings
                warnings.warn(
                    f"keyword argument `{old}` is deprecated and rename to `{new}`",
                    FutureWarning,
                    stacklevel=user_stacklevel(),
                )
        min_val = min_val if min_value is None else min_value
        max_val = max_val if max_value is None else max_value
        if min_val > max_val:
            raise ValueError(f"Hardtanh: expected min_val <= max_val, got {min_val} > {max_val}")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + _inplace(self.inplace, ", ")


class ReLU6(Hardtanh):
    """``min(max(0, x), 6)``.

    Shape:
        input ``(*)``, output ``(*)``.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return _inplace(self.inplace)


class LeakyReLU(Module):
    """``x`` for x >= 0, ``negative_slope * x`` otherwise.

    Shape:
        input ``(*)``, output ``(*)``.

    >>> LeakyReLU(0.2)
    LeakyReLU(negative_slope=0.2)
    """

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + _inplace(self.inplace, ", ")


class GELU(Module):
    """``x * Phi(x)`` (``approximate='tanh'`` uses the tanh formula of GPT-2).

    Shape:
        input ``(*)``, output ``(*)``.

    >>> GELU(approximate="tanh")
    GELU(approximate='tanh')
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: expected approximate 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class ELU(Module):
    """``x`` for x > 0, ``alpha * (exp(x) - 1)`` otherwise.

    Shape:
        input ``(*)``, output ``(*)``.
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + _inplace(self.inplace, ", ")


class SiLU(Module):
    """``x * sigmoid(x)`` (swish).

    Shape:
        input ``(*)``, output ``(*)``.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.silu(input, self.inplace)

    def extra_repr(self) -> str:
        return _inplace(self.inplace)


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``.

    Shape:
        input ``(*)``, output ``(*)``.

    >>> Softplus()
    Softplus(beta=1.0, threshold=20.0)
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


def _check_dim(name: str, dim: int | None) -> int | None:
    """None keeps PyTorch's deprecated implicit choice (made, with a warning, at forward)."""
    if dim is not None and size_int(dim) is None:  # a NumPy integer passes, as in PyTorch
        raise TypeError(f"{name}: expected dim to be an int or None, got {type(dim).__name__}")
    return dim if dim is None else size_int(dim)


class Softmax(Module):
    """``exp(x_i) / sum_j exp(x_j)`` along ``dim`` (omitted: PyTorch's legacy choice, with a warning).

    Shape:
        input ``(*)``, output ``(*)``, summing to 1 along ``dim``.

    >>> Softmax(dim=-1)
    Softmax(dim=-1)
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = _check_dim("Softmax", dim)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """``x_i - log(sum_j exp(x_j))`` along ``dim`` (omitted: PyTorch's legacy choice, with a warning).

    Shape:
        input ``(*)``, output ``(*)``.
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = _check_dim("LogSoftmax", dim)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Step(Module):
    """The Heaviside step of the perceptron, ``F.step``: 1 where x >= 0, else 0 (no gradient).

    Not in PyTorch; it is the threshold unit of Rosenblatt's perceptron.

    Shape:
        input ``(*)``, output ``(*)``.
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.step(input)
