"""``embedding_bag``: sums, means or maxima of bags of embeddings, as
``torch.nn.functional.embedding_bag``, without building the ``(bag, length, D)`` lookup.

The bags are described once as flat arrays (each kept id and its bag number; ``padding_idx``
entries dropped, as PyTorch excludes them), then one fused primitive
(``glassgrad.ops.embedding_bag``) gathers and reduces.
"""

from __future__ import annotations

from typing import Any

from glassgrad.backend import array_module
from glassgrad.errors import ArgumentError, DTypeError, IndexOutOfRangeError, ShapeError, kernel_dtype_error
from glassgrad.meta_array import MetaArray
from glassgrad.nn.functional.layers import _renorm_rows
from glassgrad.ops.embedding_bag import EmbeddingBag
from glassgrad.tensor import Tensor

__all__ = ["embedding_bag"]

_MODES = ("sum", "mean", "max")


def _ints(value: Any, xp: Any) -> Any:
    return value._data if isinstance(value, Tensor) else xp.asarray(value)


def _bags(op: str, idx: Any, offsets: Any, include_last_offset: bool) -> tuple[Any, Any, int]:
    """``(flat ids, bag of each id, number of bags)``; ids past the last bag's end are dropped."""
    xp = array_module(idx)
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(
                f"{op}: if input is 2-D, offsets has to be None (each row is a bag), got offsets of "
                f"type {type(offsets).__name__}"
            )
        n, length = idx.shape
        return idx.reshape(-1), xp.repeat(xp.arange(n), length), n
    if idx.ndim != 1:
        raise ShapeError(f"{op}: expected a 1-D (with offsets) or 2-D input, got shape {idx.shape}")
    if offsets is None:
        raise ValueError(f"{op}: offsets has to be a 1-D tensor when input is 1-D, got None")
    off = _ints(offsets, xp)
    if off.ndim != 1 or off.dtype.kind not in "iu":
        raise ShapeError(
            f"{op}: expected offsets as a 1-D integer tensor, got {off.dtype} of shape {off.shape}"
        )
    if off.size and off[0] != 0:
        raise ArgumentError(
            f"{op}: offsets[0] has to be 0 (the first bag starts at position 0), got {off[0]}"
        )
    if off.size and off[-1] > idx.size:  # this and the checks below: PyTorch's RuntimeErrors
        raise ArgumentError(
            f"{op}: offsets[-1] can not be greater than input's length {idx.size}, got {off[-1]}"
        )
    if (xp.diff(off) < 0).any():
        raise ValueError(f"{op}: expected non-decreasing offsets, got {off.tolist()}")
    if include_last_offset:
        if not off.size:
            raise ArgumentError(f"{op}: expected at least 1 offset with include_last_offset, got none")
        num, end = off.size - 1, int(off[-1])
    else:
        num, end = off.size, (idx.size if off.size else 0)  # no offsets: no bags, every id dropped
    starts = off[:num]
    bags = xp.searchsorted(starts, xp.arange(end), side="right") - 1  # bag of each position
    return idx[:end], bags, num


def _promote_ids(op: str, idx: Any, offsets: Any, xp: Any) -> tuple[Any, Any]:
    """PyTorch's ``promoteIndicesAndOffsets``: ids and offsets move to their common dtype, which
    must be int64 or int32 (bool ids beside int64 offsets are ids 0 and 1, bool offsets beside
    integer ids offsets 0 and 1). 2-D ids make their offsets by an ``arange`` of their own dtype,
    which PyTorch has no bool kernel for. Other ranks, and 1-D ids without offsets, are left to
    ``_bags``'s errors."""
    if idx.ndim == 1 and offsets is not None:
        off = _ints(offsets, xp)
        common = xp.promote_types(idx.dtype, off.dtype)
        idx, offsets = idx.astype(common, copy=False), off.astype(common, copy=False)
    elif idx.ndim == 2 and idx.dtype == xp.bool_:
        raise kernel_dtype_error(op, "arange_cpu", idx.dtype)
    elif idx.ndim != 2:
        return idx, offsets
    if idx.dtype != xp.int64 and idx.dtype != xp.int32:
        raise DTypeError(
            f"{op}: expected integer ids (int64 or int32), with the offsets' dtype promoted in, got {idx.dtype}"
        )
    return idx, offsets


def embedding_bag(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """Reduce bags of embedding rows: ``out[b] = reduce_(i in bag b) weight[input[i]]``.

    Args:
        input: a 2-D ``(B, L)`` tensor of ids (each row a bag, ``offsets`` None), or 1-D ids with
            ``offsets``, the start of each bag in it.
        mode: ``"sum"``, ``"mean"`` or ``"max"`` (first maximum on ties takes the gradient).
        per_sample_weights: with ``mode="sum"``, one weight per id (same shape as ``input``).
        include_last_offset: ``offsets`` has one more entry, the end of the last bag.
        padding_idx: an id left out of every bag (not summed, not counted in the mean).
        max_norm, norm_type: rescale the rows looked up, in place, to norm at most ``max_norm``.
        scale_grad_by_freq: divide each id's weight gradient by its count in ``input`` (not "max";
            PyTorch 2.13's CPU path divides by another id's count, pytorch/pytorch#190063).

    An empty bag gives zeros.

    Shape:
        input ``(B, L)`` or ``(L,)``; offsets ``(B,)`` (``(B + 1,)`` with include_last_offset);
        weight ``(num_embeddings, D)``; returns ``(B, D)``.

    >>> import glassgrad as gg
    >>> w = gg.arange(12.0).reshape(6, 2)
    >>> embedding_bag(gg.tensor([1, 2, 4, 5]), w, gg.tensor([0, 2]), mode="sum")
    tensor([[ 6.,  8.],
            [18., 20.]])
    """
    op = "embedding_bag"
    xp = array_module(weight._data)
    idx, offsets = _promote_ids(op, _ints(input, xp), offsets, xp)
    if weight.ndim != 2:
        raise ShapeError(
            f"{op}: expected weight of shape (num_embeddings, embedding_dim), got {weight.shape}"
        )
    if mode not in _MODES:
        raise ValueError(f"{op}: mode has to be one of sum, mean or max, got {mode!r}")
    if sparse and mode == "max":
        raise ValueError("max mode does not support sparse weights")  # PyTorch's words
    if scale_grad_by_freq and mode == "max":
        raise ValueError(f"{op}: expected mode 'sum' or 'mean' with scale_grad_by_freq, got mode='max'")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(
                f"{op}: per_sample_weights is only supported for mode='sum', got mode={mode!r}"
            )
        if tuple(per_sample_weights.shape) != tuple(idx.shape):
            raise ShapeError(
                f"{op}: expected per_sample_weights of the input's shape {tuple(idx.shape)}, "
                f"got {tuple(per_sample_weights.shape)}"
            )
        if per_sample_weights._data.dtype != weight._data.dtype:
            raise DTypeError(
                f"{op}: expected per_sample_weights of the weight's dtype {weight.dtype}, got {per_sample_weights.dtype}"
            )
    num = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        bad = idx[(idx < 0) | (idx >= num)].ravel()[0]
        raise IndexOutOfRangeError(f"{op}: expected ids in [0, {num}), got id {bad}")
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ArgumentError(f"{op}: expected padding_idx in [-{num}, {num}), got {padding_idx}")
        padding_idx %= num
    ids, bags, num_bags = _bags(op, idx, offsets, include_last_offset)
    keep = xp.arange(ids.size) if padding_idx is None else xp.flatnonzero(ids != padding_idx)
    ids, bags = ids[keep].astype(xp.int64), bags[keep]  # copies: changing input later moves nothing
    if max_norm is not None:  # every id of the input, padding and ids past the last bag too, as PyTorch
        _renorm_rows(weight, idx, max_norm, norm_type)
    psw = None if per_sample_weights is None else per_sample_weights.reshape(-1)
    freq = None
    if scale_grad_by_freq:  # counted over every id of the input, as PyTorch
        freq = xp.bincount(idx.reshape(-1).astype(xp.int64), minlength=num)[ids]  # (M,)
    sparse = bool(sparse) and weight._data.__class__ is not MetaArray  # a meta table's gradient stays dense
    return EmbeddingBag.apply(
        weight, psw, ids=ids, bags=bags, keep=keep, num_bags=num_bags, mode=mode, freq=freq, sparse=sparse
    )
