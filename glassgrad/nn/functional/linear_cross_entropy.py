"""``F.linear_cross_entropy``: cross-entropy of a linear layer's logits, optionally chunked.

``linear_cross_entropy(x, W, t)`` is ``cross_entropy(linear(x, W), t)``. With ``options`` (an
``nn.LinearCrossEntropyOptions``) the batch is cut into chunks of rows and each chunk's logits
live only while that chunk is computed: forward keeps each chunk's inputs, and backward makes
the chunk's logits again (``utils.checkpoint``, non-reentrant) — the memory of one ``(rows, C)``
block instead of ``(N, C)``, for one more ``(rows, I) @ (I, C)`` product per chunk. The loss and
its gradients are those of the reference path. The Python loop is over chunks, not rows.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from glassgrad import dtypes
from glassgrad.errors import ShapeError
from glassgrad.nn.functional.classification import cross_entropy
from glassgrad.nn.functional.layers import linear
from glassgrad.ops.joining import cat
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["linear_cross_entropy"]

_OP = "linear_cross_entropy"


def _check(input: Tensor, linear_weight: Tensor, linear_bias: Tensor | None) -> tuple[tuple, int, tuple]:  # noqa: A002
    """``(batch shape, classes, out_features)``, or PyTorch's refusals."""
    if input.ndim not in (1, 2):
        raise ShapeError(f"{_OP}: expected input with dimensionality 1 or 2, got {input.ndim}")
    if linear_weight.ndim < 2:
        raise ShapeError(
            f"{_OP}: expected linear_weight with dimensionality at least 2, got {linear_weight.ndim}"
        )
    if input.shape[-1] != linear_weight.shape[-1]:
        raise ShapeError(
            f"{_OP}: expected equal input and linear_weight last dimensions (in_features), got "
            f"{input.shape[-1]} and {linear_weight.shape[-1]}, respectively"
        )
    classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (classes, *out_features):
        raise ShapeError(
            f"{_OP}: expected linear_bias shape {(classes, *out_features)}, got {tuple(linear_bias.shape)}"
        )
    if out_features and input.ndim == 1:
        raise ShapeError(
            f"{_OP}: K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} "
            f"requires batched input, (N, {input.shape[-1]}), got unbatched input with shape {tuple(input.shape)}"
        )
    return tuple(input.shape[:-1]), classes, out_features


def _chunked(x, w, target, bias, weight, reduction, ignore_index, options):
    """The chunked path: ``x`` (N, I), ``target`` (N,) int64; each chunk rerun in backward."""
    from glassgrad.utils.checkpoint import checkpoint  # utils imports nn: here, not at the top

    n = x.shape[0]
    rows = options.batch_chunk_size
    acc = options.acc_dtype
    xa, wa = x.to(acc), w.to(acc)
    ba = bias.to(acc) if bias is not None else None
    weight = weight.to(acc) if weight is not None else None
    part = "none" if reduction == "none" else "sum"

    def chunk(xs: Tensor, ts: Tensor) -> Tensor:
        logits = linear(xs, wa, ba)
        return cross_entropy(logits, ts, weight, ignore_index=ignore_index, reduction=part)

    pieces = [
        checkpoint(
            chunk, xa[a : a + rows], target[a : a + rows], use_reentrant=False, preserve_rng_state=False
        )
        for a in range(0, n, rows)
    ]
    if reduction == "none":
        return (pieces[0] if len(pieces) == 1 else cat(pieces)).to(x.dtype)
    total = pieces[0]
    for p in pieces[1:]:
        total = total + p
    if reduction == "mean":
        kept = target != ignore_index
        counted = (
            weight[target.clamp(0, w.shape[0] - 1)][kept].sum() if weight is not None else kept.sum().to(acc)
        )
        total = total / counted
    return total.to(x.dtype)


def linear_cross_entropy(
    input: Tensor,  # noqa: A002
    linear_weight: Tensor,
    target: Tensor,
    *,
    linear_bias: Tensor | None = None,
    weight: Tensor | None = None,
    reduction: str = "mean",
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    options: Any = None,
) -> Tensor:
    """``cross_entropy(linear(input, linear_weight, linear_bias), target, ...)``, with the batch
    in chunks when ``options`` is given (see the module docstring).

    Shape:
        input ``(I,)`` or ``(N, I)``; linear_weight ``(C, I)`` or ``(C, d_1, ..., d_K, I)``
        (K-dimensional loss, batched input only); target class indices ``()``, ``(N,)`` or
        ``(N, d_1, ..., d_K)``, or probabilities of the logits' shape; output scalar, or the
        target's batch shape with ``reduction='none'``.

    ``ignore_index`` defaults to -100 for class indices and may not be given with probabilities.
    The chunked path takes int64 class indices, no label smoothing and no K dims; otherwise
    ``options`` is ignored with a warning, as in PyTorch.
    """
    batch, classes, out_features = _check(input, linear_weight, linear_bias)
    logits_shape = (*batch, classes, *out_features)
    probabilities = tuple(target.shape) == logits_shape
    if probabilities and ignore_index is not None:
        # a ShapeError is the RuntimeError PyTorch raises (the target's shape says probabilities)
        raise ShapeError(f"{_OP}: ignore_index cannot be specified when target contains probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index
    chunkable = (
        reduction in ("mean", "sum", "none")
        and label_smoothing == 0.0
        and target.dtype == dtypes.int64
        and not out_features
    )
    if options is not None and not chunkable:
        warnings.warn(
            f"{_OP}: ``options`` ignored; chunked path needs reduction in {{'mean','sum','none'}}, "
            f"label_smoothing == 0, target.dtype == int64, out_features == (). Got reduction={reduction!r}, "
            f"label_smoothing={label_smoothing}, target.dtype={target.dtype}, out_features={out_features}.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    if options is not None and chunkable and input.numel() > 0:  # an empty batch: the reference path
        x, t = (input, target) if input.ndim == 2 else (input.unsqueeze(0), target.unsqueeze(0))
        if tuple(t.shape) != (x.shape[0],):
            raise ShapeError(
                f"{_OP}: expected target of shape ({x.shape[0]},) for input {tuple(input.shape)}, got {tuple(target.shape)}"
            )
        resolved = options._adjust(x.shape[0], x.shape[1], classes, input.dtype, input.device)
        out = _chunked(x, linear_weight, t, linear_bias, weight, reduction, ignore_index, resolved)
        return out.squeeze(0) if input.ndim == 1 and reduction == "none" else out
    w, b = linear_weight, linear_bias
    if out_features:
        rows = math.prod(out_features) * classes
        w = w.reshape(rows, input.shape[-1])
        b = b.reshape(rows) if b is not None else None
    logits = linear(input, w, b).reshape(logits_shape)
    return cross_entropy(
        logits,
        target,
        weight,
        ignore_index=ignore_index,
        reduction=reduction,
        label_smoothing=label_smoothing,
    )
