"""Regression and distribution losses: mse (fused, ``ops.loss``), smooth_l1 and huber (fused,
``ops.loss_smooth``), l1, kl_div (composites).

Every loss takes ``reduction`` = ``'mean'`` (the default) | ``'sum'`` | ``'none'``. Unlike PyTorch,
which only warns, a target whose shape differs from the input's is an error: broadcasting a (N,)
target against a (N, 1) prediction silently computes an (N, N) loss. The shared checks used by
the classification losses live here too.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from glassgrad.autograd.function import named
from glassgrad.errors import ArgumentError, DTypeError, ShapeError, kernel_dtype_error, size_mismatch
from glassgrad.operand_errors import number_arg, refuse_sequence
from glassgrad.ops import loss as _L
from glassgrad.ops import loss_smooth as _LS
from glassgrad.tensor import Tensor, as_array
from glassgrad.user_frames import user_stacklevel

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div"]

_REDUCTIONS = ("none", "mean", "sum")


def check_reduction(
    op: str, reduction: str, allowed: tuple[str, ...] = _REDUCTIONS, legacy: bool = True
) -> str:
    """``reduction``, checked to be one of ``allowed``; PyTorch's deprecated ``'elementwise_mean'``
    is ``'mean'``, with PyTorch's warning, unless ``legacy`` is False (the losses PyTorch checks in
    Python, which refuse it: poisson_nll, gaussian_nll, multilabel_soft_margin,
    triplet_margin_with_distance)."""
    if reduction == "elementwise_mean" and "mean" in allowed and legacy:
        warnings.warn(
            "reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
        return "mean"
    if reduction not in allowed:
        raise ValueError(f"{op}: expected reduction in {allowed}, got {reduction!r}")
    return reduction


#: losses whose PyTorch kernel takes the target as its first operand (its size-mismatch sentence)
_TARGET_FIRST = frozenset({"kl_div", "poisson_nll_loss"})


def as_target(
    op: str, x: Tensor, target: Any, same_shape: bool = True, reduction: str = "mean", warn: bool = True
) -> Tensor:
    """``target`` as a tensor of the input's shape; integer/bool targets become the input's float dtype.

    A target of another shape is refused when the loss is reduced (the classic (N, 1) against (N,)
    mistake would average an (N, N) matrix silently; PyTorch warns and broadcasts). With
    ``reduction='none'`` a broadcastable one is broadcast with PyTorch's warning, as the result's
    shape shows it (tianshou's quantile Huber loss: (N, 1, Q) against (N, Q, 1)); ``warn=False``
    for the losses whose PyTorch function broadcasts without it (kl_div)."""
    if not isinstance(target, Tensor):
        refuse_sequence(op, "target", target)  # an array is taken, as the operators take one
        target = Tensor(as_array(target), _wrap=True)
    if same_shape and target.shape != x.shape:
        broadcastable = reduction == "none"
        try:
            np.broadcast_shapes(x.shape, target.shape)
        except ValueError:
            broadcastable = False
        if not broadcastable:
            # PyTorch's own sentence where the shapes do not broadcast (its operands in its order)
            pair = [target.shape, x.shape] if op in _TARGET_FIRST else [x.shape, target.shape]
            raise ShapeError(
                f"{op}: expected target of the same shape as input, got input {x.shape} and target "
                f"{target.shape} (a broadcastable target is taken with reduction='none' only)"
                f"{size_mismatch(pair)}"
            )
        if warn:
            warnings.warn(
                f"Using a target size (glassgrad.Size({list(target.shape)})) that is different to the input size "
                f"(glassgrad.Size({list(x.shape)})). This will "
                "likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
    if target._data.dtype.kind != "f" and x._data.dtype.kind == "f":
        target = Tensor(target._data.astype(x._data.dtype), _wrap=True)
    return target


def float_kernel_operands(op: str, kernel: str, x: Tensor, target: Tensor) -> None:
    """PyTorch's NotImplementedError for a loss whose kernel has floating dtypes only, given two
    integer or bool operands (a float one promotes the other): computed here, an integer mse_loss
    with ``reduction='none'`` stayed integer and smooth_l1 ran where PyTorch stops."""
    if x._data.dtype.kind not in "fc" and target._data.dtype.kind not in "fc":
        e = kernel_dtype_error(op, kernel, np.result_type(x._data.dtype, target._data.dtype))
        raise type(e)(f"{e} (expected floating-point input and target; x.float() converts one)")


def check_weight(op: str, x: Tensor, weight: Tensor | None) -> None:
    """Elementwise weights must have the input's shape (as PyTorch requires for these losses)."""
    if weight is not None and weight.shape != x.shape:
        raise ShapeError(
            f"{op}: expected weight of the same shape as input, got input {x.shape} and weight {weight.shape}"
        )


def legacy_reduction(op: str, size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """PyTorch's deprecated ``size_average``/``reduce`` mapped onto ``reduction`` (they win when
    given, with a warning): ``reduce=False`` is 'none', else ``size_average=False`` is 'sum'."""
    if size_average is None and reduce is None:
        return reduction
    new = "none" if reduce is False else ("sum" if size_average is False else "mean")
    warnings.warn(  # PyTorch's opening words, which users filter on; then the op and its reduction
        f"size_average and reduce args will be deprecated: {op} reads them as reduction='{new}'; "
        f"pass reduction='{new}' instead",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
    return new


def reduce(loss: Tensor, reduction: str) -> Tensor:
    """Apply ``reduction`` to an elementwise loss."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


_reduce = reduce  # for the losses whose ``reduce`` argument hides the function


def _weighted(loss: Tensor, weight: Tensor | None, reduction: str, mean_by_weight: bool) -> Tensor:
    """Weight an elementwise loss; PyTorch's weighted 'mean' divides by sum(weight) for mse/l1 only."""
    if weight is None:
        return reduce(loss, reduction)
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return reduce(loss, reduction)


def mse_loss(
    input: Tensor,  # noqa: A002 - PyTorch's names
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean squared error: (x - y)^2, reduced.

    With ``weight`` (input's shape), 'mean' is sum(w (x - y)^2) / sum(w), as in PyTorch.

    Shape:
        input, target: (*) of the same shape; returns () or (*) for 'none'.

    >>> import glassgrad as gg
    >>> import glassgrad.nn.functional as F
    >>> F.mse_loss(gg.tensor([1.0, 2.0]), gg.tensor([1.0, 4.0]))
    tensor(2.)
    """
    reduction = legacy_reduction("mse_loss", size_average, reduce, reduction)
    reduction = check_reduction("mse_loss", reduction)
    target = as_target("mse_loss", input, target, reduction=reduction)
    float_kernel_operands("mse_loss", "mse_cpu", input, target)
    check_weight("mse_loss", input, weight)
    same = input._data.dtype == target._data.dtype and input.shape == target.shape
    if weight is None and same and input._data.dtype.kind == "f":
        # one node that keeps the inputs, as PyTorch's (its backward reads them then)
        return named(_L.mse_loss(input, target, reduction), "MseLossBackward0")
    diff = input - target
    out = _weighted(diff * diff, weight, reduction, mean_by_weight=True)
    # PyTorch's one node (MseLossBackward0), not our last op's (Mean, Sum, Mul); a weighted loss
    # is a composite in PyTorch too, its node its last op's
    return out if weight is not None else named(out, "MseLossBackward0")


def l1_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean absolute error: |x - y|, reduced; the gradient at x = y is 0 (sign(0) = 0).

    With ``weight``, 'mean' is sum(w |x - y|) / sum(w), as in PyTorch.

    Shape:
        input, target: (*) of the same shape; returns () or (*) for 'none'.
    """
    reduction = legacy_reduction("l1_loss", size_average, reduce, reduction)
    reduction = check_reduction("l1_loss", reduction)
    target = as_target("l1_loss", input, target, reduction=reduction)
    check_weight("l1_loss", input, weight)
    return _weighted((input - target).abs(), weight, reduction, mean_by_weight=True)


def _common_float(op: str, kernel: str, input: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:  # noqa: A002
    """``input`` and ``target`` in their promoted floating dtype, for a fused loss: the narrower one
    cast, a differentiable step (its gradient is computed in the wider dtype and rounded back, as
    PyTorch's promoting kernels give it). Complex operands are refused with PyTorch's error."""
    a, b = input._data.dtype, target._data.dtype
    common = a if a == b else np.result_type(a, b)
    if common.kind != "f":
        raise kernel_dtype_error(op, kernel, common)
    return (input if a == common else input.to(common)), (target if b == common else target.to(common))


def smooth_l1_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """Smooth L1: 0.5 (x - y)^2 / beta where |x - y| < beta, else |x - y| - 0.5 beta; beta = 0 is L1.

    Shape:
        input, target: (*) of the same shape; returns () or (*) for 'none'.
    """
    reduction = legacy_reduction("smooth_l1_loss", size_average, reduce, reduction)
    reduction = check_reduction("smooth_l1_loss", reduction)
    if beta.__class__ is not float:
        beta = number_arg("smooth_l1_loss", "beta", beta, compared=True)
    if beta < 0:
        raise ArgumentError(f"smooth_l1_loss: expected beta >= 0, got {beta}")  # PyTorch: RuntimeError
    target = as_target("smooth_l1_loss", input, target, reduction=reduction)
    float_kernel_operands("smooth_l1_loss", "smooth_l1_cpu", input, target)
    if beta == 0:  # PyTorch's l1_loss then, a composite named by its last op
        return _reduce((input - target).abs(), reduction)
    return _LS.smooth_l1_loss(
        *_common_float("smooth_l1_loss", "smooth_l1_cpu", input, target), reduction, beta
    )


def huber_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    """Huber: 0.5 (x - y)^2 where |x - y| < delta, else delta (|x - y| - 0.5 delta) = delta * smooth_l1(beta=delta).

    With ``weight``, 'mean' is the plain mean of w * loss, as in PyTorch.

    Shape:
        input, target: (*) of the same shape; returns () or (*) for 'none'.
    """
    reduction = check_reduction("huber_loss", reduction)
    if delta.__class__ is not float:
        delta = number_arg("huber_loss", "delta", delta)
    if delta <= 0:
        raise ArgumentError(f"huber_loss: expected delta > 0, got {delta}")  # PyTorch: RuntimeError
    target = as_target("huber_loss", input, target, reduction=reduction)
    float_kernel_operands("huber_loss", "huber_cpu", input, target)
    check_weight("huber_loss", input, weight)
    pair = _common_float("huber_loss", "huber_cpu", input, target)
    if weight is None:
        return _LS.huber_loss(*pair, reduction, delta)
    # PyTorch's: the unweighted fused loss, times the weight, then reduced (a plain mean)
    return _weighted(_LS.huber_loss(*pair, "none", delta), weight, reduction, mean_by_weight=False)


def kl_div(
    input: Tensor,  # noqa: A002
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """Kullback-Leibler divergence KL(target || model) with ``input`` = log-probabilities of the model.

    Pointwise: target * (log(target) - input), taken as 0 where target = 0 (PyTorch's
    ``xlogy``: NaN where the target is negative); with
    ``log_target=True`` the target is given as log-probabilities: exp(target) * (target - input).
    'batchmean' divides the sum by the batch size (input.shape[0]), which is the true KL divergence
    per sample; 'mean' divides by the number of elements (PyTorch's default, kept, with a warning
    on every call, as PyTorch gives one).

    Shape:
        input, target: (N, *) of the same shape; returns () or (N, *) for 'none'.
    """
    # 'mean' asked for in so many words (the default too; not the legacy forms), as PyTorch warns
    mean_asked = reduction == "mean" and size_average is None and reduce is None
    reduction = legacy_reduction("kl_div", size_average, reduce, reduction)
    reduction = check_reduction("kl_div", reduction, (*_REDUCTIONS, "batchmean"))
    if mean_asked:
        warnings.warn(
            "kl_div: reduction 'mean' divides the summed loss by the batch size and by the number of "
            "classes; 'batchmean' divides by the batch size only, the KL divergence's definition "
            "(PyTorch plans to make 'mean' mean that)",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    for name, t in (("input", input), ("target", target)):  # as_target would make a float of it
        if isinstance(t, Tensor) and t._data.dtype.kind in "biu":
            raise DTypeError(
                f"kl_div: expected floating-point input and target, got {name} of dtype {t.dtype} "
                "(Integral inputs not supported)"
            )
    # 'none' takes a broadcastable target, as the other losses do ('batchmean' is a reduction)
    target = as_target("kl_div", input, target, reduction=reduction, warn=False)  # (PyTorch's does not warn)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # PyTorch's xlogy(target, target) - target * input: 0 * log(0) is 0, a negative or NaN
        # target gives NaN (and the target's gradient at 0 is NaN), as PyTorch's; t log t is formed
        # in the target's own dtype before meeting the input, so that a float32 target against a
        # float64 input gives PyTorch's float64 sum to the last bit
        loss = target.xlogy(target) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim > 0 else total
    return _reduce(loss, reduction)
