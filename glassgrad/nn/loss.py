"""Loss modules with PyTorch's constructor arguments; each ``forward`` calls its ``F.*`` function.

``reduction`` is ``'mean'`` (default), ``'sum'`` or ``'none'`` (per-element losses). Class weights
and ``pos_weight`` are registered as buffers, so they appear in ``state_dict`` as in PyTorch.
"""

from __future__ import annotations

import warnings
from typing import Any

import glassgrad.nn.functional as F
from glassgrad.nn.module import Module
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "L1Loss",
    "MSELoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "NLLLoss",
    "NLLLoss2d",
    "CrossEntropyLoss",
    "SmoothL1Loss",
    "HuberLoss",
    "KLDivLoss",
]

_REDUCTIONS = ("none", "mean", "sum")


def _as_tensor(name: str, value: Any) -> Tensor | None:
    if value is None or isinstance(value, Tensor):
        return value
    return Tensor(value)


class _Loss(Module):
    """Holds ``reduction``; maps PyTorch's deprecated ``size_average``/``reduce`` onto it."""

    _allowed = _REDUCTIONS

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = "none" if reduce is False else ("sum" if size_average is False else "mean")
            warnings.warn(  # PyTorch's opening words, which users filter on; then the loss and its reduction
                f"size_average and reduce args will be deprecated: {type(self).__name__} reads them as "
                f"reduction='{reduction}'; pass reduction='{reduction}' instead",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        if reduction not in self._allowed and not (
            reduction == "elementwise_mean" and "mean" in self._allowed
        ):
            raise ValueError(
                f"{type(self).__name__}: expected reduction in {self._allowed}, got {reduction!r}"
            )
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_tensor("weight", weight))


class L1Loss(_Loss):
    """Mean absolute error ``|input - target|``.

    Shape:
        input ``(*)``, target ``(*)``; output scalar, or ``(*)`` with ``reduction='none'``.
    """

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error ``(input - target)^2``.

    Shape:
        input ``(*)``, target ``(*)``; output scalar, or ``(*)`` with ``reduction='none'``.

    >>> MSELoss(reduction="sum")
    MSELoss()
    """

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.mse_loss(input, target, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities: ``-w (t log p + (1 - t) log(1 - p))``.

    Shape:
        input ``(*)`` probabilities, target ``(*)`` in [0, 1]; output scalar or ``(*)``.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits (sigmoid fused in, stable for large |x|).

    ``pos_weight`` (per class, broadcast over the last dim) weighs the positive term.

    Shape:
        input ``(*)`` logits, target ``(*)``; output scalar or ``(*)``.
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_tensor("weight", weight))
        self.register_buffer("pos_weight", _as_tensor("pos_weight", pos_weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of the target class, given log-probabilities.

    Shape:
        input ``(N, C)`` or ``(N, C, d1, ...)`` log-probabilities, target ``(N)`` or ``(N, d1, ...)``
        class ids; output scalar, or the target's shape with ``reduction='none'``.
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.nll_loss(
            input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class NLLLoss2d(NLLLoss):
    """The deprecated name of ``NLLLoss`` for ``(N, C, H, W)`` inputs; warns (``FutureWarning``) as PyTorch's."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        warnings.warn(
            "`NLLLoss2d` has been deprecated: use NLLLoss, which takes the same arguments and (N, C, H, W) inputs",
            FutureWarning,
            stacklevel=user_stacklevel(),
        )
        super().__init__(weight, size_average, ignore_index, reduce, reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy from logits: ``log_softmax`` + ``nll_loss`` (class ids) or soft targets.

    Args:
        weight: per-class weights ``(C,)``.
        ignore_index: target id that contributes nothing (and is left out of the mean).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        label_smoothing: mix the target with the uniform distribution by this amount.

    Shape:
        input ``(N, C)`` or ``(N, C, d1, ...)`` logits (or ``(C,)``), target ``(N)`` /
        ``(N, d1, ...)`` class ids or probabilities of the input's shape.
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        # not checked here: PyTorch builds the module and refuses a label_smoothing above 1 at
        # forward (F.cross_entropy's RuntimeError), so a program that never calls it still runs
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class SmoothL1Loss(_Loss):
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (d = input - target).

    Shape:
        input ``(*)``, target ``(*)``; output scalar or ``(*)``.
    """

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        beta: float = 1.0,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        # a negative beta is refused at forward by F.smooth_l1_loss, as PyTorch's module does
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``.

    Shape:
        input ``(*)``, target ``(*)``; output scalar or ``(*)``.
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        # PyTorch's one construction-time check: the type (a complex or a tensor delta is refused)
        if not isinstance(delta, (float, int)):
            raise TypeError(f"delta must be a float or int, got: {type(delta)}")
        super().__init__(None, None, reduction)
        # delta <= 0 is refused at forward by F.huber_loss, as PyTorch's module does
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """KL divergence ``target * (log target - input)`` with ``input`` given as log-probabilities.

    ``reduction='batchmean'`` divides the sum by the batch size (the mathematically right mean);
    ``log_target=True`` takes the target as log-probabilities too.

    Shape:
        input ``(*)``, target ``(*)``; output scalar or ``(*)``.
    """

    _allowed = (*_REDUCTIONS, "batchmean")

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        log_target: bool = False,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
