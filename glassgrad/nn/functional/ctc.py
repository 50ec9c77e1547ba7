"""``ctc_loss``: PyTorch's argument handling and checks around the fused CTC primitive (``ops.ctc``).

The targets come padded, (N, S) with row n read up to ``target_lengths[n]``, or concatenated,
(sum(target_lengths),); both are turned into the padded layout before the op runs. The lengths
are integer tensors or sequences of ints (both of one kind, as PyTorch's two overloads). A target
longer than its input is not an error: no alignment exists and the loss is inf (0 with
``zero_infinity``).
"""

from __future__ import annotations

import operator
from typing import Any, Sequence

import numpy as np

from glassgrad.backend import array_module
from glassgrad.errors import ArgumentError, DTypeError, IndexOutOfRangeError, KernelDTypeError, ShapeError
from glassgrad.meta_array import no_data
from glassgrad.meta_array import seen as meta_seen
from glassgrad.nn.functional.loss import check_reduction
from glassgrad.ops.ctc import CTCLoss
from glassgrad.tensor import Tensor, as_array

__all__ = ["ctc_loss"]

_OP = "ctc_loss"


def _lengths(name: str, lengths: Any) -> Any:
    """An int64 copy of ``lengths`` (an integer Tensor of any shape, read flat, or a list/tuple)."""
    if isinstance(lengths, Tensor):
        arr = lengths._data
        if arr.dtype.kind not in "iu":
            raise DTypeError(f"{_OP}: expected {name} to be an integer tensor, got dtype {lengths.dtype}")
        return arr.astype(np.int64).reshape(-1)
    try:
        return np.array([operator.index(v) for v in lengths], dtype=np.int64)
    except TypeError:
        raise TypeError(
            f"{_OP}: expected {name} to be an integer Tensor or a list/tuple of ints, got {lengths!r}"
        ) from None


def _padded(targets: Any, target_lengths: Any, n: int) -> Any:
    """The targets as (N, max(target_lengths)) int64, from the padded or the concatenated layout."""
    xp = array_module(targets)
    lmax = int(target_lengths.max(initial=0))
    if targets.ndim == 2:
        if targets.shape[0] != n:
            raise ShapeError(
                f"{_OP}: expected padded targets of shape ({n}, S) for batch size {n}, got {targets.shape}"
            )
        if targets.shape[1] < lmax:
            raise ShapeError(
                f"{_OP}: expected padded targets with at least max(target_lengths) = {lmax} columns, "
                f"got shape {targets.shape}"
            )
        return targets[:, :lmax]
    total = int(target_lengths.sum())
    if targets.shape[0] != total:
        raise ShapeError(
            f"{_OP}: expected concatenated targets of shape ({total},) = (sum(target_lengths),), "
            f"got {targets.shape}"
        )
    if lmax == 0:
        return xp.zeros((n, 0), dtype=np.int64)
    starts = xp.cumsum(target_lengths) - target_lengths  # (N,): where each target begins
    listed = xp.arange(lmax) < target_lengths[:, None]  # (N, Lmax)
    return xp.where(listed, targets[xp.where(listed, starts[:, None] + xp.arange(lmax), 0)], 0)


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Tensor | Sequence[int],
    target_lengths: Tensor | Sequence[int],
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    """Connectionist temporal classification loss (Graves et al., 2006), as PyTorch's.

    The negative log-probability of all alignments of each target to its input, where an
    alignment emits one class per step and collapses to the target by merging repeats and then
    dropping blanks. 'mean' divides each sequence's loss by its target length (at least 1) and
    averages over the batch; 'sum' adds them; 'none' returns them. ``zero_infinity`` gives 0 (and a
    zero gradient) for a target no alignment can reach (e.g. longer than its input).

    The gradient is PyTorch's: ``log_probs`` is taken to come from ``log_softmax``, and the
    gradient returned is the one for the logits behind it (``exp(log_probs) - occupancy``), so it
    is exact through a ``log_softmax`` but not a finite-difference gradient of unnormalised
    inputs. Float targets are truncated to integers, as PyTorch does; labels outside [0, C) raise
    (PyTorch reads them out of bounds).

    Args:
        log_probs: per-step class log-probabilities (usually ``log_softmax(logits, 2)``).
        targets: class indices, padded or concatenated; entries past each length are ignored.
        input_lengths: steps of each input, each in [0, T]; an integer Tensor or list/tuple.
        target_lengths: labels of each target, each >= 0; of the same kind as ``input_lengths``.
        blank: the blank class, in [0, C).
        reduction: 'mean' | 'sum' | 'none'.
        zero_infinity: replace infinite losses (and their gradients) by 0.

    Shape:
        log_probs: (T, N, C) or (T, C) (unbatched), float32 or float64; targets: (N, S) with
        S >= max(target_lengths), or (sum(target_lengths),); input_lengths, target_lengths: N
        values (a 0-d tensor or a 1-element list when unbatched). Returns () or, for 'none',
        (N,) ((), unbatched), in the dtype of ``log_probs``.

    >>> lp = Tensor([[0.0, -50.0], [-50.0, 0.0]]).log_softmax(1)  # step 0: blank, step 1: class 1
    >>> round(ctc_loss(lp, Tensor([1]).long(), [2], [1]).item(), 4)
    0.0
    """
    if meta_seen[0] and any(
        getattr(t, "is_meta", False) for t in (log_probs, targets, input_lengths, target_lengths)
    ):
        raise no_data("ctc_loss (no meta kernel: the alignments depend on the lengths' values)")
    reduction = check_reduction(_OP, reduction)
    if not isinstance(log_probs, Tensor):
        raise TypeError(f"{_OP}: expected log_probs to be a Tensor, got {type(log_probs).__name__}")
    if log_probs.ndim not in (2, 3):
        raise ShapeError(f"{_OP}: expected log_probs of shape (T, N, C) or (T, C), got {log_probs.shape}")
    if log_probs._data.dtype not in (np.float32, np.float64):
        # PyTorch: NotImplementedError ("ctc_loss_cpu" not implemented for 'Long')
        raise KernelDTypeError(
            f"{_OP}: expected log_probs of dtype float32 or float64, got {log_probs.dtype}"
        )
    if log_probs.numel() == 0:
        raise ShapeError(  # then PyTorch's words: code ported from it may match them
            f"{_OP}: expected a non-empty log_probs, got shape {log_probs.shape}: "
            "log_probs tensor must not be empty"
        )
    batched = log_probs.ndim == 3
    x = log_probs if batched else log_probs.unsqueeze(1)  # (T, C) -> (T, 1, C)
    steps, n, classes = x.shape
    tg = targets._data if isinstance(targets, Tensor) else as_array(targets)
    if tg.dtype.kind not in "biuf":
        raise DTypeError(f"{_OP}: expected integer class indices as targets, got dtype {tg.dtype}")
    if tg.ndim not in (1, 2):
        raise ShapeError(f"{_OP}: expected targets of shape (N, S) or (sum(target_lengths),), got {tg.shape}")
    if isinstance(input_lengths, Tensor) != isinstance(target_lengths, Tensor):
        kinds = f"{type(input_lengths).__name__} and {type(target_lengths).__name__}"
        raise TypeError(
            f"{_OP}: expected input_lengths and target_lengths both Tensors or both lists, got {kinds}"
        )
    il = _lengths("input_lengths", input_lengths)
    tl = _lengths("target_lengths", target_lengths)
    # PyTorch's checks below raise RuntimeError; ArgumentError is a ValueError too, as these were
    if not 0 <= blank < classes:
        raise ArgumentError(f"{_OP}: expected blank in [0, {classes}) (C = {classes} classes), got {blank}")
    for name, arr in (("input_lengths", il), ("target_lengths", tl)):
        if arr.shape != (n,):
            raise ShapeError(f"{_OP}: expected {name} with {n} values (the batch size), got {arr.size}")
    if n and (il.min() < 0 or il.max() > steps):
        raise ArgumentError(f"{_OP}: expected input_lengths in [0, T] = [0, {steps}], got {il.tolist()}")
    if n and tl.min() < 0:
        raise ArgumentError(f"{_OP}: expected target_lengths >= 0, got {tl.tolist()}")
    padded = _padded(tg.astype(np.int64), tl, n)  # a copy: later changes to targets do not matter
    listed = array_module(padded).arange(padded.shape[1]) < tl[:, None]
    bad = listed & ((padded < 0) | (padded >= classes))
    if bad.any():
        raise IndexOutOfRangeError(f"{_OP}: expected target labels in [0, {classes}), got {padded[bad][0]}")
    loss = CTCLoss.apply(
        x, padded, il, tl, blank=int(blank), reduction=reduction, zero_infinity=bool(zero_infinity)
    )
    return loss if batched or reduction != "none" else loss.squeeze(0)  # SqueezeBackward1, as PyTorch
