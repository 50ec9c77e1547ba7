"""``nn.LinearCrossEntropyLoss``: a linear layer and the cross-entropy of its logits, in one module.

PyTorch's layout: the class weights are the buffer ``weight`` (as ``CrossEntropyLoss``'s), the
projection is ``self.linear``, a ``Linear(in_features, C * prod(out_features))`` whose 2-D weight is
reshaped to ``(C, *out_features, in_features)`` in forward, so its state_dict keys are
``linear.weight`` (and ``linear.bias``) as there.
"""

from __future__ import annotations

import math
from typing import Any

from glassgrad.errors import ArgumentError, ShapeError
from glassgrad.nn.functional.linear_cross_entropy import linear_cross_entropy
from glassgrad.nn.linear import Linear
from glassgrad.nn.linear_cross_entropy_options import LinearCrossEntropyOptions
from glassgrad.nn.loss import _WeightedLoss
from glassgrad.tensor import Tensor

__all__ = ["LinearCrossEntropyLoss", "LinearCrossEntropyOptions"]


class LinearCrossEntropyLoss(_WeightedLoss):
    """``cross_entropy(linear(input), target)`` with the linear layer inside the loss.

    Shape:
        input ``(I,)`` or ``(N, I)``; target ``()``/``(N,)`` (or ``(N, d_1, ..., d_K)`` with
        ``out_features``) class indices, or probabilities; output scalar, or per element with
        ``reduction='none'``.

    >>> LinearCrossEntropyLoss(4, 3, bias=True).linear
    Linear(in_features=4, out_features=3, bias=True)
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        *,
        out_features: tuple[int, ...] = (),
        bias: bool = False,
        device: Any = None,
        dtype: Any = None,
        reduction: str = "mean",
        weight: Tensor | None = None,
        ignore_index: int | None = None,
        label_smoothing: float = 0.0,
        options: LinearCrossEntropyOptions | None = None,
    ) -> None:
        if weight is not None and tuple(weight.shape) != (num_classes,):
            raise ShapeError(
                f"LinearCrossEntropyLoss: expected weight shape to be {(num_classes,)}, got {tuple(weight.shape)}"
            )
        if not 0.0 <= label_smoothing <= 1.0:
            # ArgumentError is a RuntimeError (PyTorch's TORCH_CHECK) and a ValueError
            raise ArgumentError(
                f"LinearCrossEntropyLoss: expected label_smoothing to be in range [0, 1], got {label_smoothing}"
            )
        super().__init__(weight=weight, reduction=reduction)
        self.num_classes = num_classes
        self.out_features = out_features
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        rows = math.prod(out_features) * num_classes
        self.linear = Linear(in_features, rows, bias=bias, device=device, dtype=dtype)
        self.options = options

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        shape = (self.num_classes, *self.out_features)
        w = self.linear.weight.reshape((*shape, self.linear.in_features))
        b = self.linear.bias.reshape(shape) if self.linear.bias is not None else None
        return linear_cross_entropy(
            input,
            w,
            target,
            linear_bias=b,
            weight=self.weight,
            reduction=self.reduction,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
            options=self.options,
        )

    def extra_repr(self) -> str:
        return (
            f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
            f"out_features={self.out_features}, bias={self.linear.bias is not None}, "
            f"reduction={self.reduction}, ignore_index={self.ignore_index}, "
            f"label_smoothing={self.label_smoothing}, options={self.options}"
        )
