"""Connectionist temporal classification (CTC) loss as one fused primitive.

CTC scores every alignment of a short label sequence to a longer input: the target ``l`` is
extended with blanks, ``l' = (b, l1, b, l2, ..., b, lL, b)`` (S' = 2L + 1 positions), and a path
may stay on a position, step to the next one, or skip a blank between two different labels. The
forward variable ``alpha_t(s)`` (the probability of all path prefixes ending at position s at time
t) and the backward variable ``beta_t(s)`` are the two dynamic programmes of Graves et al. (2006).
Both run in log space, vectorised over the batch and the extended-label positions, with one
Python loop over time; they are computed in float64 whatever the input dtype, so that a float32
loss matches PyTorch's to float32 rounding, and the result is cast back.

The gradient is PyTorch's, which is not the plain derivative of the loss with respect to
``log_probs``: it treats ``log_probs`` as the output of ``log_softmax`` and returns
``exp(log_probs) - occupancy``, the gradient with respect to the logits. Through a
``log_softmax`` the two agree (the occupancies sum to one per step, so the softmax Jacobian maps
one onto the other); for unnormalised ``log_probs`` this op, like PyTorch, does not give the
finite-difference gradient. Backward is first-order. Validation lives in ``nn.functional.ctc``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module

__all__ = ["CTCLoss", "extended_labels"]

_NEG_INF = -np.inf


def extended_labels(targets: Any, target_lengths: Any, blank: int) -> tuple[Any, Any]:
    """The blank-interleaved labels l' and where a path may skip a blank.

    Args:
        targets: (N, Lmax) int64, row n valid up to ``target_lengths[n]`` (the rest is ignored).
        target_lengths: (N,) int64.
        blank: the blank class.

    Returns:
        ext: (N, 2 Lmax + 1) int64, blank at even positions and at positions past 2 L_n.
        skip: (N, 2 Lmax + 1) bool, True where s is a label, s >= 3 and l'[s] != l'[s - 2].
    """
    xp = array_module(targets)
    n, lmax = targets.shape
    width = 2 * lmax + 1
    ext = xp.full((n, width), blank, dtype=np.int64)
    listed = xp.arange(lmax) < target_lengths[:, None]  # (N, Lmax): inside each target
    ext[:, 1::2] = xp.where(listed, targets, blank)
    skip = xp.zeros((n, width), dtype=bool)
    skip[:, 3::2] = ext[:, 3::2] != ext[:, 1:-2:2]  # a repeated label needs the blank between
    return ext, skip


def _logsumexp3(a: Any, b: Any, c: Any) -> Any:
    """log(e^a + e^b + e^c) elementwise, shifted by the max (0 when all are -inf, giving -inf).

    Inside the loop over time; two ``xp.logaddexp`` calls give the same values 2.5 times slower.
    """
    xp = array_module(a)
    m = xp.maximum(xp.maximum(a, b), c)
    m = xp.where(m == _NEG_INF, 0.0, m)
    return xp.log(xp.exp(a - m) + xp.exp(b - m) + xp.exp(c - m)) + m


def _alpha(em: Any, skip: Any) -> Any:
    """Forward variables in log space: (T, N, S') from emissions em[t, n, s] = log y_t(l'_s)."""
    xp = array_module(em)
    steps, n, width = em.shape
    alpha = xp.full((steps, n, width), _NEG_INF)
    alpha[0, :, :2] = em[0, :, :2]  # start on the first blank or the first label
    prev = xp.full((n, width + 2), _NEG_INF)  # two -inf columns in front: the shifted reads
    for t in range(1, steps):
        prev[:, 2:] = alpha[t - 1]
        jump = xp.where(skip, prev[:, :-2], _NEG_INF)
        alpha[t] = _logsumexp3(prev[:, 2:], prev[:, 1:-1], jump) + em[t]
    return alpha


def _beta(em: Any, skip: Any, ends: Any, last: Any) -> Any:
    """Backward variables in log space, including the emission at t (PyTorch's convention).

    ``ends`` (N, S') marks positions 2L and 2L - 1 (where a path may finish), ``last`` (N,) is
    each sequence's final step T_n - 1; every step after it is -inf.
    """
    xp = array_module(em)
    steps, n, width = em.shape
    beta = xp.full((steps, n, width), _NEG_INF)
    nxt = xp.full((n, width + 2), _NEG_INF)  # two -inf columns behind: the shifted reads
    skip_from = xp.zeros((n, width), dtype=bool)
    skip_from[:, :-2] = skip[:, 2:]  # s -> s + 2 is allowed where s + 2 may be reached by a skip
    for t in range(steps - 1, -1, -1):
        if t + 1 < steps:
            nxt[:, :width] = beta[t + 1]
        jump = xp.where(skip_from, nxt[:, 2:], _NEG_INF)
        step = _logsumexp3(nxt[:, :width], nxt[:, 1 : width + 1], jump) + em[t]
        start = xp.where(ends, em[t], _NEG_INF)
        here = (last == t)[:, None]
        beta[t] = xp.where(here, start, xp.where((t < last)[:, None], step, _NEG_INF))
    return beta


class CTCLoss(Function):
    """CTC negative log-likelihood of ``targets`` given per-step class log-probabilities.

    Forward: with the extended labels l' of each target and alpha as in the module docstring,
    nll_n = -log(alpha_{T_n - 1}(2 L_n) + alpha_{T_n - 1}(2 L_n - 1)) (only the first term when
    L_n = 0; nll_n = 0 when T_n = 0 and L_n = 0, inf when T_n = 0 < L_n, and inf for any target
    no path can reach). ``zero_infinity`` replaces inf by 0. Reduction: 'none' gives (N,),
    'sum' the sum, 'mean' the batch mean of nll_n / max(L_n, 1).

    VJP (PyTorch's, the gradient for logits behind a log_softmax): with
    occ_t(c) = exp(log sum_{s: l'_s = c} alpha_t(s) beta_t(s) + nll_n - x_tnc) and s_n the upstream
    gradient spread over the batch by the reduction,
    dx_tnc = s_n (exp(x_tnc) - occ_t(c)) for t < T_n, and 0 for t >= T_n or (with
    ``zero_infinity``) where nll_n is inf. An infeasible target without ``zero_infinity`` gives
    nan for every t < T_n, as in PyTorch. Only ``log_probs`` gets a gradient.

    Shape:
        log_probs: (T, N, C) float32/float64; targets: (N, Lmax) int64 (padded, validated);
        input_lengths, target_lengths: (N,) int64; returns (N,) for 'none', else ().
    """

    name = "ctc_loss"
    # PyTorch's grad_fn: its CTC node for 'none'; 'mean' and 'sum' are reduction nodes after it
    node_name = "CtcLossBackward0"
    node_name_by = staticmethod(
        lambda attrs: {"mean": "MeanBackward0", "sum": "SumBackward0"}.get(attrs.get("reduction", "mean"))
    )

    @staticmethod
    def forward(
        ctx, log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False
    ):
        xp = array_module(log_probs)
        n = log_probs.shape[1]
        ext, skip = extended_labels(targets, target_lengths, blank)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # -inf is a value here
            em = log_probs.astype(np.float64, copy=False)[:, xp.arange(n)[:, None], ext]  # (T, N, S')
            alpha = _alpha(em, skip)
            last = input_lengths - 1  # (N,); -1 for an empty input
            rows = alpha[xp.maximum(last, 0), xp.arange(n)]  # (N, S'): each sequence's final step
            end = 2 * target_lengths  # (N,)
            a1 = xp.take_along_axis(rows, end[:, None], axis=1)[:, 0]
            a2 = xp.take_along_axis(rows, xp.maximum(end - 1, 0)[:, None], axis=1)[:, 0]
            a2 = xp.where(target_lengths > 0, a2, _NEG_INF)
            m = xp.maximum(a1, a2)
            m = xp.where(m == _NEG_INF, 0.0, m)
            loglik = xp.log(xp.exp(a1 - m) + xp.exp(a2 - m)) + m
            loglik = xp.where(last >= 0, loglik, xp.where(target_lengths == 0, 0.0, _NEG_INF))
            nll = -loglik  # (N,) float64
        loss = xp.where(nll == np.inf, 0.0, nll) if zero_infinity else nll
        ctx.save_for_backward(log_probs, ext, skip, input_lengths, target_lengths, alpha, nll)
        if reduction == "none":
            return loss.astype(log_probs.dtype)
        if reduction == "sum":
            return xp.asarray(loss.sum(), dtype=log_probs.dtype)
        return xp.asarray((loss / xp.maximum(target_lengths, 1)).mean(), dtype=log_probs.dtype)

    @staticmethod
    def backward(ctx, g):
        log_probs, ext, skip, input_lengths, target_lengths, alpha, nll = ctx.saved
        xp = array_module(log_probs)
        steps, n, classes = log_probs.shape
        width = ext.shape[1]
        reduction = ctx.attrs.get("reduction", "mean")
        g = xp.asarray(g, dtype=np.float64)
        if reduction == "mean":
            scale = g / (xp.maximum(target_lengths, 1) * n)  # (N,)
        else:
            scale = xp.broadcast_to(g, (n,))
        x = log_probs.astype(np.float64, copy=False)
        last = input_lengths - 1
        live = xp.arange(steps)[:, None] <= last  # (T, N): steps inside each input
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            em = x[:, xp.arange(n)[:, None], ext]  # (T, N, S')
            pos = xp.arange(width)
            end = 2 * target_lengths[:, None]
            ends = (pos == end) | ((pos == end - 1) & (target_lengths[:, None] > 0))  # (N, S')
            beta = _beta(em, skip, ends, last)
            inside = live[:, :, None] & (pos <= end)[None]  # (T, N, S')
            both = xp.where(inside, alpha + beta, _NEG_INF)
            # log sum over the positions of each class: shift by the per-step max, add, log
            m = both.max(axis=2, keepdims=True)  # (T, N, 1)
            m = xp.where(m == _NEG_INF, 0.0, m)
            slot = (xp.arange(steps * n).reshape(steps, n, 1) * classes + ext[None]).ravel()
            summed = xp.bincount(slot, weights=xp.exp(both - m).ravel(), minlength=steps * n * classes)
            per_class = xp.log(summed.reshape(steps, n, classes)) + m  # (T, N, C)
            grad = (xp.exp(x) - xp.exp(per_class + nll[:, None] - x)) * scale[:, None]
        keep = live if not ctx.attrs.get("zero_infinity", False) else live & (nll != np.inf)
        grad = xp.where(keep[:, :, None], grad, 0.0)
        return grad.astype(log_probs.dtype), None, None, None
