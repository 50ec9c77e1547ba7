"""Variable-length batches for the recurrent layers: ``PackedSequence`` and its helpers.

A packed batch stores only the real time steps. Sequences are sorted by decreasing length; step
``t`` holds one row for each of the ``batch_sizes[t]`` sequences still running, and the steps are
laid end to end::

    lengths 3, 2, 1      a0 b0 c0 | a1 b1 | a2       batch_sizes = [3, 2, 1],  data (6, *)

so a recurrent layer never computes on padding, and a padded step can never change a final state.
``sorted_indices[k]`` is the original batch position of the k-th longest sequence and
``unsorted_indices`` its inverse; both are None when the batch came already sorted.

Packing and unpacking are each one gather (``index_select``) of rows, so they are differentiable.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from glassgrad.autograd.function import named
from glassgrad.dtypes import float16, float32, float64, int8, int16, int32, int64, uint8
from glassgrad.errors import (
    ArgumentError,
    ArgumentTypeError,
    IndexOutOfRangeError,
    IndexShapeError,
    ShapeError,
)
from glassgrad.factories import arange, full
from glassgrad.factories_like import empty_like
from glassgrad.ops.indexing import index_select
from glassgrad.ops.joining import cat, stack
from glassgrad.ops.padding import pad
from glassgrad.tensor import Tensor

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pad_sequence",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pack_sequence",
    "unpad_sequence",
    "unpack_sequence",
]


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a 1-D index permutation (None stays None), as a ``PackedSequence`` turns its
    ``sorted_indices`` into ``unsorted_indices``: ``out[permutation[i]] = i``.

    As PyTorch's, it is ``empty_like(permutation).scatter_(0, permutation, arange(n))``, so the
    permutation must be int64 and is not checked for repeats.

    Shape:
        permutation ``(n,)`` -> ``(n,)``, its dtype and device.
    """
    if permutation is None:
        return None
    if not isinstance(permutation, Tensor):
        raise TypeError(f"invert_permutation: expected a Tensor or None, got {type(permutation).__name__}")
    output = empty_like(permutation)
    output.scatter_(0, permutation, arange(0, permutation.numel(), device=permutation.device))
    return output


def _inverse(perm: Tensor) -> Tensor:
    p = np.asarray(perm._data, dtype=np.int64)
    inv = np.empty_like(p)
    inv[p] = np.arange(p.size)
    return Tensor(inv, _wrap=True)


class PackedSequence(
    collections.namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])
):
    """A packed batch: ``data`` (S, *), ``batch_sizes`` (T,) int64, optional sort permutations.

    Made by :func:`pack_padded_sequence` or :func:`pack_sequence`, accepted by ``nn.RNN``,
    ``nn.LSTM`` and ``nn.GRU``, undone by :func:`pad_packed_sequence`.
    """

    __slots__ = ()

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _inverse(sorted_indices)
        if batch_sizes is None:  # PyTorch's other form: PackedSequence((data, batch_sizes))
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise TypeError(
                    "PackedSequence: expected data and batch_sizes, or one (data, batch_sizes) pair, got "
                    f"{type(data).__name__} alone"
                )
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    # PyTorch's tensor-like methods: ``data`` moves and casts; the index tensors follow its device only.
    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """``data.to(*args, **kwargs)``; itself when that changes nothing (as PyTorch)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        rest = {k: kwargs[k] for k in ("non_blocking", "memory_format") if k in kwargs}

        def move(t: Tensor | None) -> Tensor | None:
            return None if t is None else t.to(data.device, **rest)

        return type(self)(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))

    def cuda(self, *args: Any, **kwargs: Any) -> PackedSequence:
        if not self.data.new_empty((0,)).to(*args, **kwargs).is_cuda:
            kwargs["device"] = "cuda"
        return self.to(*args, **kwargs)

    def cpu(self, *args: Any, **kwargs: Any) -> PackedSequence:
        if self.data.new_empty((0,)).to(*args, **kwargs).device.type != "cpu":
            kwargs["device"] = "cpu"
        return self.to(*args, **kwargs)

    def double(self) -> PackedSequence:
        return self.to(dtype=float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=float32)

    def half(self) -> PackedSequence:
        return self.to(dtype=float16)

    def long(self) -> PackedSequence:
        return self.to(dtype=int64)

    def int(self) -> PackedSequence:
        return self.to(dtype=int32)

    def short(self) -> PackedSequence:
        return self.to(dtype=int16)

    def char(self) -> PackedSequence:
        return self.to(dtype=int8)

    def byte(self) -> PackedSequence:
        return self.to(dtype=uint8)

    def pin_memory(self) -> PackedSequence:
        pinned = [None if t is None else t.pin_memory() for t in (self.sorted_indices, self.unsorted_indices)]
        return type(self)(self.data.pin_memory(), self.batch_sizes, *pinned)

    def is_pinned(self) -> bool:
        return self.data.is_pinned()

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda


def _lengths(lengths: Any) -> np.ndarray:
    """``lengths`` (a list, an array or a tensor) as an int64 ``(N,)`` array.

    PyTorch refuses any other rank (a nested list, a 2-D or 0-d tensor, an int): flattened, an
    ``(N, 1)`` lengths column (a DataLoader's batch of ``[n]`` items, not squeezed) would pack
    silently where PyTorch's script stops. Its error is a RuntimeError with ``enforce_sorted`` and
    an IndexError without (``index_select`` of the sort's 2-D order); ``IndexShapeError`` is both."""
    arr = np.asarray(lengths._data if isinstance(lengths, Tensor) else lengths, dtype=np.int64)
    if arr.ndim != 1:
        raise IndexShapeError(
            f"pack_padded_sequence: 'lengths' argument should be a 1D CPU int64 tensor, but got "
            f"{arr.ndim}D lengths of shape {arr.shape}"
        )
    return arr


def pad_sequence(
    sequences: Sequence[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences of different lengths into one padded tensor.

    Shape:
        each sequence ``(L_i, *)`` -> ``(T, N, *)``, or ``(N, T, *)`` with ``batch_first``
        (T = max L_i); padding goes after each sequence ("right") or before it ("left").
        A tensor ``(N, L, *)`` is taken as its N rows, as PyTorch does.
    """
    if padding_side not in ("right", "left"):
        raise ArgumentError(  # PyTorch's RuntimeError and words; a ValueError too
            f"Expected padding_side to be one of left or right, but got {padding_side}. (pad_sequence)"
        )
    if not isinstance(sequences, Iterable):
        raise ArgumentTypeError(  # PyTorch's RuntimeError; a TypeError too
            f"pad_sequence: expected an iterable of tensors, got {type(sequences).__name__} (PyTorch's "
            f"words: Expected iterable for input sequences, but got arg of type: {type(sequences)})"
        )
    # PyTorch takes any iterable (a generator, a tensor's rows); `not` on a tensor is ambiguous.
    sequences = tuple(sequences)
    if not sequences:
        raise ShapeError("pad_sequence: expected a non-empty list of tensors, got none")
    for s in sequences:
        if s.ndim == 0:  # PyTorch refuses it (a RuntimeError), glassgrad's shape[0] would be an IndexError
            raise ShapeError(
                "pad_sequence: expected every sequence to have a length dim (L, *), got a 0-d tensor"
            )
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        # PyTorch fills a tensor of the first sequence's dtype: the others are cast, not promoted
        s = s.to(sequences[0].dtype)
        extra = longest - s.shape[0]
        before, after = (0, extra) if padding_side == "right" else (extra, 0)
        # pad pairs run from the last dim: leave the feature dims alone, pad dim 0.
        padded.append(pad(s, (0, 0) * (s.ndim - 1) + (before, after), value=padding_value))
    return stack(padded, dim=0 if batch_first else 1)


def pack_padded_sequence(
    input: Tensor,  # noqa: A002 - PyTorch's name
    lengths: Any,
    batch_first: bool = False,
    enforce_sorted: bool = True,
) -> PackedSequence:
    """Pack a padded batch, keeping only each sequence's first ``lengths[i]`` steps.

    With ``enforce_sorted=True`` the lengths must not increase along the batch; otherwise the
    batch is sorted here and the permutation kept in the result.

    Shape:
        input ``(T, N, *)`` (``(N, T, *)`` with ``batch_first``), lengths ``(N,)`` ->
        data ``(sum(lengths), *)``, batch_sizes ``(max(lengths),)``.
    """
    if isinstance(input, Tensor) and input.numel() == 0:
        # PyTorch's first check, before the lengths are read (numpy's concatenate failed here)
        raise RuntimeError(
            f"pack_padded_sequence: Cannot pack empty tensors (input of shape {tuple(input.shape)})."
        )
    lens = _lengths(lengths)
    t_dim, n_dim = (1, 0) if batch_first else (0, 1)
    if input.ndim < 2 or lens.shape[0] != input.shape[n_dim]:
        # PyTorch reads the batch dim of a 1-D input: its IndexError (a ShapeError as well). More
        # lengths than N: its RuntimeError with enforce_sorted, an IndexError without (its
        # index_select past the batch); IndexShapeError is both. Fewer: PyTorch's unsorted path
        # packs only that many of the batch's sequences, silently; refused here
        raise (IndexOutOfRangeError if input.ndim < 2 else IndexShapeError)(
            f"pack_padded_sequence: expected input (T, N, *) and {lens.shape[0]} lengths, got "
            f"{tuple(input.shape)} with batch_first={batch_first}"
        )
    # RuntimeError, as PyTorch's (it does not check the upper bound and reads past the input).
    if lens.size and (lens.min() <= 0 or lens.max() > input.shape[t_dim]):
        raise RuntimeError(
            f"pack_padded_sequence: expected lengths in [1, {input.shape[t_dim]}], got {lens.tolist()}"
        )
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise RuntimeError(
                f"pack_padded_sequence: expected lengths in decreasing order, got {lens.tolist()}; "
                "pass enforce_sorted=False to sort them here"
            )
        order = np.arange(lens.size)
        sorted_indices = None
    else:
        order = np.argsort(-lens, kind="stable")
        sorted_indices = Tensor(order.astype(np.int64), _wrap=True)
    lens_sorted = lens[order]
    steps = int(lens_sorted[0]) if lens.size else 0
    n = input.shape[n_dim]
    batch_sizes = (lens_sorted[None, :] > np.arange(steps)[:, None]).sum(axis=1)  # (T, N) -> (T,)
    # Row t * N + order[b] of the time-major input is step t of the b-th longest sequence.
    rows = np.concatenate([t * n + order[:b] for t, b in enumerate(batch_sizes)])
    x = input.transpose(0, 1) if batch_first else input  # (N, T, *) -> (T, N, *)
    flat = x.reshape(x.shape[0] * n, *x.shape[2:])  # (T, N, *) -> (T * N, *)
    data = named(index_select(flat, 0, rows), "PackPaddedSequenceBackward0")  # PyTorch's node
    return PackedSequence(data, Tensor(batch_sizes.astype(np.int64), _wrap=True), sorted_indices, None)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Undo :func:`pack_padded_sequence`: ``(padded, lengths)`` in the original batch order.

    Shape:
        data ``(S, *)`` -> padded ``(T, N, *)`` (``(N, T, *)`` with ``batch_first``), lengths
        ``(N,)`` int64; ``T = total_length`` when given (at least the longest length).
    """
    data, batch_sizes, _, unsorted = sequence
    sizes = np.asarray(batch_sizes._data, dtype=np.int64)
    steps = sizes.shape[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                f"pad_packed_sequence: expected total_length >= the longest length {steps}, got {total_length}"
            )
        steps = int(total_length)
    n = int(sizes[0])
    lens_sorted = (sizes[:, None] > np.arange(n)[None, :]).sum(axis=0)  # (T, N) -> (N,)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    pos = np.arange(n) if unsorted is None else np.asarray(unsorted._data, dtype=np.int64)
    # Padded cell (t, j) reads packed row offsets[t] + pos[j], or the extra padding row S.
    rows = np.full((steps, n), data.shape[0], dtype=np.int64)
    for t, b in enumerate(sizes):
        live = pos < b
        rows[t, live] = offsets[t] + pos[live]
    filler = full((1, *data.shape[1:]), padding_value, dtype=data.dtype)
    source = cat([data, filler])  # (S, *) -> (S + 1, *)
    padded = index_select(source, 0, rows.reshape(-1)).reshape(steps, n, *data.shape[1:])  # -> (T, N, *)
    if batch_first:
        padded = padded.transpose(0, 1)  # (T, N, *) -> (N, T, *)
    return padded, Tensor(lens_sorted[pos].astype(np.int64), _wrap=True)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences ``(L_i, *)`` (``pad_sequence`` then ``pack_padded_sequence``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False) -> list[Tensor]:
    """Undo :func:`pad_sequence`: the first ``lengths[i]`` steps of each sequence, as a list.

    As PyTorch's, without ``batch_first`` it transposes ``padded_sequences`` in place (the caller's
    tensor is ``(N, T, *)`` afterwards), and ``lengths`` must be a Tensor.

    Shape:
        padded ``(T, N, *)`` (``(N, T, *)`` with ``batch_first``), lengths ``(N,)`` -> N tensors ``(L_i, *)``.
    """
    if not batch_first:
        padded_sequences.transpose_(0, 1)  # (T, N, *) -> (N, T, *), in place as PyTorch does
    idx = arange(padded_sequences.shape[1], device=lengths.device)
    return [seq[idx < length] for seq, length in zip(padded_sequences, lengths, strict=True)]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """Undo :func:`pack_sequence`: the list of sequences ``(L_i, *)`` in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
