"""Fused loss primitives: cross-entropy on logits, binary cross-entropy on logits and on
probabilities, mean squared error.

Fused for numerical stability and because the backward is the lesson: composed from
``log_softmax`` and a gather, cross-entropy's gradient comes out as the famous
``softmax(x) - onehot(y)``; here it is written down directly. Each op takes the reduction
(``'none' | 'sum' | 'mean'``) as an attribute and applies it inside, so the whole loss is one node.
Validation and PyTorch's argument handling live in ``nn.functional``. Backward is first-order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.ops.loss_bce_grad import bce_input_grad
from glassgrad.ops.reduce import acc_dtype
from glassgrad.tensor import Tensor

__all__ = [
    "CrossEntropy",
    "BCEWithLogits",
    "BinaryCrossEntropy",
    "MseLoss",
    "cross_entropy",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy",
    "mse_loss",
]


def _reduce(loss: Any, reduction: str, denom: Any = None) -> Any:
    """Apply a reduction to the per-element loss; ``denom`` overrides the count for 'mean'."""
    xp = array_module(loss)
    if reduction == "none":
        return loss
    # float16 accumulates in float32 and rounds once, as PyTorch's sums and means: a float16 running
    # sum overflows at 65504 (the mean squared error of 20,000 differences of 30 was inf)
    total = loss.sum(dtype=acc_dtype(loss))
    if reduction == "sum":
        return xp.asarray(total, dtype=loss.dtype)
    denom = loss.size if denom is None else denom
    if denom == 0:  # an empty or all-ignored batch: 0 / 0, without NumPy's warning
        return xp.asarray(xp.nan, dtype=loss.dtype)
    return xp.asarray(total / denom, dtype=loss.dtype)


def _scale(g: Any, reduction: str, count: Any) -> Any:
    """The upstream gradient spread over the per-element loss: d(reduced)/d(loss_i) times g."""
    if reduction == "mean":
        return g / count if count != 0 else g * array_module(g).nan
    return g  # 'sum': every element gets g; 'none': g already has the loss's shape


def _at_target(tgt: Any) -> tuple:
    """An index that picks x[n, tgt[n, *d], *d] from an (N, C, *) array, giving shape (N, *).

    Built from open grids (arange along each non-class dim), so it is one fancy-indexing op.
    """
    grids = array_module(tgt).indices(tgt.shape, sparse=True)  # (N, 1, ..), (1, d1, ..), ...
    return (grids[0], tgt, *grids[1:])


class CrossEntropy(Function):
    """Cross-entropy of logits ``x`` (N, C, *) against class indices ``target`` (N, *).

    With p = log_softmax(x) over C, valid = (target != ignore_index), eps = label_smoothing and
    class weights w (all ones when None), the per-element loss is

        loss_i = valid_i * ((1 - eps) * w[t_i] * -p[i, t_i] + (eps / C) * sum_c w_c * -p[i, c])

    and 'mean' divides the sum by sum_i valid_i * w[t_i] (PyTorch's weighted mean; nan if 0).

    VJP: the per-element target mass is q_ic = valid_i * ((1 - eps) w[t_i] [c = t_i] + (eps/C) w_c)
    with total Q_i = sum_c q_ic, and d loss_i / d x_ic = Q_i * softmax(x)_ic - q_ic
    (softmax - onehot when eps = 0 and w = 1), times s_i = g_i ('none'), g ('sum') or g / denom.
    ``target`` and ``weight`` get no gradient.
    """

    name = "cross_entropy"

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index=-100, label_smoothing=0.0, reduction="mean"):
        if not label_smoothing:  # PyTorch's node (its cross_entropy is log_softmax + nll_loss)
            ctx.attrs["node_name"] = "NllLossBackward0" if x.ndim <= 2 else "NllLoss2DBackward0"
        xp = array_module(x)
        shifted = x - x.max(axis=1, keepdims=True)  # the max subtracted: exp cannot overflow
        logp = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))  # (N, C, *)
        valid = target != ignore_index  # (N, *)
        at = _at_target(xp.where(valid, target, 0))  # ignored positions point at class 0, weight 0
        w_t = valid.astype(x.dtype) if weight is None else weight[at[1]] * valid  # (N, *)
        loss = -(1.0 - label_smoothing) * w_t * logp[at]
        if label_smoothing > 0:
            n_classes = x.shape[1]
            wshape = (1, n_classes) + (1,) * (x.ndim - 2)  # (C,) -> (1, C, 1, ...)
            wlogp = logp if weight is None else logp * weight.reshape(wshape)
            loss = loss - (label_smoothing / n_classes) * wlogp.sum(axis=1) * valid
        if not valid.all():
            # an ignored position adds 0 (PyTorch skips it), also where its stand-in class 0 has a
            # log-probability of -inf (a masked logit), which the zero weight would turn into NaN
            loss = xp.where(valid, loss, 0)
        denom = w_t.sum()
        ctx.save_for_backward(logp, at, w_t, valid, weight, denom)
        return _reduce(loss, reduction, denom)

    @staticmethod
    def backward(ctx, g):
        logp, at, w_t, valid, weight, denom = ctx.saved
        xp = array_module(logp)
        if not valid.any():  # every target ignored: the loss is nan (0 / 0) but no input affects it
            return xp.zeros_like(logp), None, None
        eps = ctx.attrs.get("label_smoothing", 0.0)
        n_classes = logp.shape[1]
        s = _scale(g, ctx.attrs.get("reduction", "mean"), denom)  # scalar, or (N, *) for 'none'
        coef = (1.0 - eps) * w_t * s  # the one-hot part of q, scaled, (N, *)
        total = coef  # Q_i * s_i
        if eps > 0:
            w_sum = n_classes if weight is None else weight.sum()
            smooth = valid * (s * (eps / n_classes))  # (N, *); s first: a float times bools is float64
            total = coef + w_sum * smooth
        grad = xp.exp(logp) * total[:, None]  # Q_i s_i softmax, (N, *) -> (N, 1, *)
        if eps > 0:
            wshape = (1, n_classes) + (1,) * (logp.ndim - 2)  # (C,) -> (1, C, 1, ...)
            grad -= smooth[:, None] if weight is None else smooth[:, None] * weight.reshape(wshape)
        grad[at] -= coef  # each (n, *d) has one target: no repeated index in this update
        return grad, None, None


class BCEWithLogits(Function):
    """Binary cross-entropy on logits: loss = w * ((1 - y) x + l * softplus(-x)), l = 1 + (pw - 1) y.

    With pos_weight pw = 1 (None) this is max(x, 0) - x y + log(1 + exp(-|x|)), computed in that
    stable form so that logits of +-1e4 give finite values. ``weight`` w broadcasts against x;
    ``pos_weight`` broadcasts against x's last (class) dim.

    VJP: dx = w * ((1 - y) - l * (1 - sigmoid(x)))   (= w * (sigmoid(x) - y) when pw = 1)
         dy = w * (-x + (pw - 1) * softplus(-x)); weight and pos_weight get no gradient.
    """

    name = "binary_cross_entropy_with_logits"

    node_name = "BinaryCrossEntropyWithLogitsBackward0"  # PyTorch's node name

    @staticmethod
    def forward(ctx, x, y, weight, pos_weight, reduction="mean", out_dtype=None):
        xp = array_module(x)
        softplus_neg = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)  # log(1 + e^-x), stable
        if pos_weight is not None:
            softplus_neg = (1 + (pos_weight - 1) * y) * softplus_neg
        if out_dtype is None:
            loss = (1 - y) * x + softplus_neg
            if weight is not None:
                loss = loss * weight
        else:
            # a target of another floating dtype: PyTorch's kernel writes each step into a tensor of
            # the target's dtype ((1 - y).mul_(x).sub_(log_sigmoid(x)), then .mul_(weight)), and
            # reduces there: the same roundings here
            odt = xp.dtype(out_dtype)
            loss = (((1 - y) * x).astype(odt) + softplus_neg).astype(odt)
            if weight is not None:
                loss = (loss * weight).astype(odt)
        ctx.save_for_backward(x, y, weight, pos_weight, loss.size)
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x, y, weight, pos_weight, count = ctx.saved
        xp = array_module(x)
        need = ctx.needs_input_grad
        reduction = ctx.attrs.get("reduction", "mean")
        e = xp.exp(-xp.abs(x))  # in (0, 1]: no overflow for any x
        sig = xp.where(x >= 0, 1 / (1 + e), e / (1 + e))
        mixed = ctx.attrs.get("out_dtype") is not None
        if (
            mixed
            and pos_weight is not None
            and need[0]
            and xp.result_type(pos_weight, y).itemsize < x.itemsize
        ):
            # PyTorch's backward writes t = pos_weight * y, then (t + 1 - y) * sigmoid(x) - t, the
            # upstream gradient, weight and 1/numel in place into t's narrower dtype
            t = pos_weight * y
            td = t.dtype
            dx = (((t + 1 - y).astype(td) * sig).astype(td) - t).astype(td)
            dx = (dx * g).astype(td)
            if weight is not None:
                dx = (dx * weight).astype(td)
            if reduction == "mean":
                dx = (dx / count).astype(td) if count else dx * xp.nan
            need = (False, need[1])
        else:
            dx = None
        if mixed:  # PyTorch's formula runs in the promoted dtype
            g = g.astype(xp.result_type(x, y))
        g = _scale(g, reduction, count)
        if weight is not None:
            g = g * weight
        dy = None
        if need[0]:
            dx = sig - y if pos_weight is None else (1 - y) - (1 + (pos_weight - 1) * y) * (1 - sig)
            dx = dx * g
        if need[1]:
            dy = -x if pos_weight is None else -x + (pos_weight - 1) * (xp.log1p(e) + xp.maximum(-x, 0))
            dy = dy * g
        return dx, dy, None, None


class BinaryCrossEntropy(Function):
    """Binary cross-entropy on probabilities: loss = -w (y max(log p, -100) + (1 - y) max(log(1 - p), -100)).

    The logs are clamped at -100 as in PyTorch, so p = 0 or 1 gives a large finite loss.

    VJP: dp = w * (p - y) / max(p (1 - p), 1e-12)    (PyTorch's guard against p in {0, 1})
         dy = -logit(p) * w = -log(p / (1 - p)) * w, unclamped as PyTorch's: +inf at p = 0, -inf
         at p = 1 (a saturated sigmoid); weight gets no gradient.
    """

    name = "binary_cross_entropy"

    @staticmethod
    def forward(ctx, p, y, weight, reduction="mean"):
        xp = array_module(p)
        with np.errstate(divide="ignore"):
            log_p = xp.maximum(xp.log(p), -100)
            log_1mp = xp.maximum(xp.log1p(-p), -100)
        loss = -(y * log_p + (1 - y) * log_1mp)
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(p, y, weight, loss.size)
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, g):
        p, y, weight, count = ctx.saved
        xp = array_module(p)
        need = ctx.needs_input_grad
        reduction = ctx.attrs.get("reduction", "mean")
        dy = None
        if need[1]:
            # PyTorch's order: -logit(p), times the upstream gradient, the weight, then 1/numel
            with np.errstate(divide="ignore"):
                dy = -xp.log(p / (1 - p)) * g
            if weight is not None:
                dy = dy * weight
            if reduction == "mean":
                dy = dy / count if count != 0 else dy * xp.nan
        dp = bce_input_grad(g, p, y, weight, reduction, count) if need[0] else None
        return dp, dy, None


class MseLoss(Function):
    """Squared error ``(x - y)^2``, reduced.

    VJP: dx = 2 (x - y) s, dy = -dx, with s = g_i ('none'), g ('sum') or g / N ('mean'). The
    inputs themselves are saved (not their difference), as PyTorch's MseLossBackward0 keeps them:
    a program that changes the input's memory after the loss (Tacotron 2 masks its outputs
    through ``.data``) then gets the gradient PyTorch computes.
    """

    name = "mse_loss"

    @staticmethod
    def forward(ctx, x, y, reduction="mean"):
        d = x - y
        loss = d * d
        ctx.save_for_backward(x, y, loss.size)
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x, y, count = ctx.saved
        need = ctx.needs_input_grad
        if ctx.attrs.get("reduction", "mean") == "mean" and count:
            # PyTorch's order, (2 / N) (x - y), then g: 2 (x - y) first overflows a float32 past 1.7e38
            dx = x.dtype.type(2.0 / count) * (x - y) * g
        else:
            dx = 2 * (x - y) * _scale(g, ctx.attrs.get("reduction", "mean"), count)
        return (dx if need[0] else None), (-dx if need[1] else None)


def mse_loss(x: Tensor, y: Tensor, reduction: str = "mean") -> Tensor:
    """Fused squared error (no validation; see ``F.mse_loss``).

    Shape:
        x, y: (*) of one shape and dtype; returns (*) for 'none', else ().
    """
    return MseLoss.apply(x, y, reduction=reduction)


def cross_entropy(
    x: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> Tensor:
    """Fused log-softmax + negative log-likelihood (no validation; see ``F.cross_entropy``).

    Shape:
        x: (N, C, *); target: (N, *) int64; weight: (C,); returns (N, *) for 'none', else ().
    """
    return CrossEntropy.apply(
        x,
        target,
        weight,
        ignore_index=int(ignore_index),
        label_smoothing=float(label_smoothing),
        reduction=reduction,
    )


def binary_cross_entropy_with_logits(
    x: Tensor,
    y: Tensor,
    weight: Tensor | None = None,
    pos_weight: Tensor | None = None,
    reduction: str = "mean",
    out_dtype: str | None = None,
) -> Tensor:
    """Stable BCE on logits (no validation; see ``F.binary_cross_entropy_with_logits``);
    ``out_dtype`` (a NumPy dtype name) is the result's dtype where the target's differs from x's.

    Shape:
        x, y: (*); weight broadcasts to (*); pos_weight to (C,) = x's last dim.
    """
    if out_dtype is None:
        return BCEWithLogits.apply(x, y, weight, pos_weight, reduction=reduction)
    return BCEWithLogits.apply(x, y, weight, pos_weight, reduction=reduction, out_dtype=out_dtype)


def binary_cross_entropy(
    p: Tensor, y: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """BCE on probabilities with PyTorch's log clamp (no validation; see ``F.binary_cross_entropy``).

    Shape:
        p, y: (*); weight broadcasts to (*).
    """
    return BinaryCrossEntropy.apply(p, y, weight, reduction=reduction)
