"""``Identity``, ``Linear``, ``Bilinear``, ``Flatten``, ``Unflatten``."""

from __future__ import annotations

import math
from typing import Any

import glassgrad.nn.functional as F
from glassgrad import dtypes
from glassgrad.errors import ShapeError
from glassgrad.factories import empty
from glassgrad.nn import init
from glassgrad.nn.input_checks import checkable
from glassgrad.nn.module import Module, Parameter
from glassgrad.nn.sizes import layer_sizes
from glassgrad.tensor import Tensor

__all__ = ["Identity", "Linear", "Bilinear", "Flatten", "Unflatten"]


def _dtype(dtype: Any) -> Any:
    return dtype if dtype is not None else dtypes.get_default_dtype()


class Identity(Module):
    """Returns its input; takes (and ignores) any constructor arguments, as PyTorch.

    Shape:
        input ``(*)``, output ``(*)``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:  # noqa: A002 - PyTorch's name
        return input


class Linear(Module):
    """``y = x W^T + b``.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias (default True).
        dtype: parameter dtype (default float32).

    Shape:
        input ``(*, in_features)``, output ``(*, out_features)``.

    Attributes:
        weight: ``(out_features, in_features)``, init U(-1/sqrt(in_features), 1/sqrt(in_features))
            (``kaiming_uniform_`` with ``a = sqrt(5)``, as PyTorch).
        bias: ``(out_features,)``, init U(-1/sqrt(in_features), 1/sqrt(in_features)).

    >>> import glassgrad as gg
    >>> fc = Linear(4, 3)
    >>> fc
    Linear(in_features=4, out_features=3, bias=True)
    >>> fc(gg.ones(2, 4)).shape
    glassgrad.Size([2, 3])
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        in_features, out_features = layer_sizes("Linear", in_features=in_features, out_features=out_features)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in_features, dtype=_dtype(dtype)))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=_dtype(dtype)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        shape, w = input.shape, self._parameters.get("weight")  # (not a parametrization's: once)
        # the width the weight has, as PyTorch's F.linear reads it: a weight swapped for a pruned
        # one with in_features left as built (fairseq's attention head pruning) runs
        width = w.shape[-1] if isinstance(w, Tensor) and w.ndim == 2 else self.in_features
        if checkable(input) and (not shape or shape[-1] != width):
            raise ShapeError(
                f"{self._get_name()}(in_features={self.in_features}, out_features={self.out_features}): "
                f"expected input (..., {width}), got {tuple(shape)}"
            )
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )


class Bilinear(Module):
    """``y_k = x1^T W_k x2 + b_k``.

    Shape:
        input1 ``(*, in1_features)``, input2 ``(*, in2_features)``, output ``(*, out_features)``.

    Attributes:
        weight: ``(out_features, in1_features, in2_features)``, init U(-1/sqrt(in1), 1/sqrt(in1)).
        bias: ``(out_features,)``, same init.
    """

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        in1_features, in2_features, out_features = layer_sizes(
            "Bilinear", in1_features=in1_features, in2_features=in2_features, out_features=out_features
        )
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in1_features, in2_features, dtype=_dtype(dtype)))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=_dtype(dtype)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # PyTorch's check (its bound divides by sqrt(in1_features)): a Bilinear with no first
        # input features is refused at construction, not built with empty weights
        if self.weight.shape[1] <= 0:
            raise ValueError(f"in1_features must be > 0, but got (in1_features={self.weight.shape[1]})")
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        s1, s2 = (tuple(x.shape) if checkable(x) else (-1,) for x in (input1, input2))
        if checkable(input1, input2) and (
            not s1
            or not s2
            or s1[-1] != self.in1_features
            or s2[-1] != self.in2_features
            or s1[:-1] != s2[:-1]
        ):
            raise ShapeError(
                f"{self!r}: expected inputs (..., {self.in1_features}) and (..., {self.in2_features}) "
                f"with the same leading dims, got {s1} and {s2}"
            )
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


class Flatten(Module):
    """Flatten dims ``start_dim..end_dim`` into one.

    Shape:
        input ``(N, *dims)``, output ``(N, prod(dims))`` with the defaults.

    >>> import glassgrad as gg
    >>> Flatten()(gg.zeros(2, 3, 4)).shape
    glassgrad.Size([2, 12])
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expand dim ``dim`` into ``unflattened_size``.

    Shape:
        input ``(*, prod(unflattened_size), *)``, output ``(*, *unflattened_size, *)``.

    >>> import glassgrad as gg
    >>> Unflatten(1, (3, 4))(gg.zeros(2, 12)).shape
    glassgrad.Size([2, 3, 4])
    """

    def __init__(self, dim: int, unflattened_size: tuple[int, ...] | list[int]) -> None:
        super().__init__()
        if not isinstance(unflattened_size, tuple | list) or not all(
            isinstance(s, int) for s in unflattened_size
        ):
            raise TypeError(
                f"Unflatten: expected unflattened_size as a tuple of ints, got {unflattened_size!r}"
            )
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
