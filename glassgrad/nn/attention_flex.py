"""``torch.nn.attention.flex_attention``: attention whose scores a Python function may change.

``flex_attention(q, k, v, score_mod, block_mask)`` computes ``softmax(mod(Q K^T * scale)) V``,
where ``score_mod(score, b, h, q_idx, kv_idx)`` returns the new score of one (batch, head, query,
key) entry and a ``BlockMask`` made from ``mask_mod(b, h, q_idx, kv_idx) -> bool`` says which keys
a query may see. PyTorch compiles the two functions into a fused kernel; glassgrad calls each of
them once, eagerly, on the whole score tensor, with the four indices as int64 tensors that
broadcast against it: ``b`` (B, 1, 1, 1), ``h`` (1, H, 1, 1), ``q_idx`` (1, 1, L, 1) and ``kv_idx``
(1, 1, 1, S). A function written with tensor operations (arithmetic, comparisons, ``torch.where``,
indexing a tensor with the indices) therefore gives the same values as PyTorch's per-element
calls, and the result is differentiable through ``score_mod`` (PyTorch has no backward on the
CPU). Code that branches in Python on an index's value cannot be broadcast; it raises there.

A query that sees no key gets a zero output and a log-sum-exp of -inf, as in PyTorch.
``BlockMask`` keeps PyTorch's block structure for inspection (``to_dense``, ``sparsity``,
``BLOCK_SIZE``), but attention always evaluates its ``mask_mod`` element by element.

>>> import glassgrad as gg
>>> from glassgrad.nn.attention.flex_attention import create_block_mask, flex_attention
>>> def causal(b, h, q_idx, kv_idx):
...     return q_idx >= kv_idx
>>> mask = create_block_mask(causal, None, None, 4, 4)
>>> q = gg.ones(1, 2, 4, 8)
>>> flex_attention(q, q, q, block_mask=mask).shape
glassgrad.Size([1, 2, 4, 8])
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from glassgrad.backend import array_module
from glassgrad.errors import ShapeError
from glassgrad.factories import arange
from glassgrad.nn.functional.attention import _check, _repeat_heads
from glassgrad.ops import indexing as _I
from glassgrad.ops import matmul as _M
from glassgrad.ops import softmax as _SM
from glassgrad.tensor import Tensor

__all__ = [
    "AuxOutput",
    "AuxRequest",
    "BlockMask",
    "and_masks",
    "create_block_mask",
    "create_mask",
    "flex_attention",
    "noop_mask",
    "or_masks",
]

#: PyTorch's default tile size of a ``BlockMask`` (``create_block_mask``'s ``BLOCK_SIZE``);
#: transformers imports it by this private name
_DEFAULT_SPARSE_BLOCK_SIZE = 128

#: the two user-function types, under PyTorch's private names (torchtitan annotates with them)
_score_mod_signature = Callable[[Tensor, Tensor, Tensor, Tensor, Tensor], Tensor]
_mask_mod_signature = Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]


class AuxRequest(NamedTuple):
    """Which auxiliary outputs ``flex_attention(..., return_aux=AuxRequest(...))`` computes."""

    lse: bool = False
    max_scores: bool = False


class AuxOutput(NamedTuple):
    """``flex_attention``'s auxiliary outputs: a tensor where requested, else None."""

    lse: Tensor | None = None
    max_scores: Tensor | None = None


def _indices(B: int, H: int, L: int, S: int) -> tuple[Tensor, ...]:
    """b (B, 1, 1, 1), h (1, H, 1, 1), q_idx (1, 1, L, 1), kv_idx (1, 1, 1, S): int64, broadcasting."""
    return (
        arange(B).reshape(B, 1, 1, 1),
        arange(H).reshape(1, H, 1, 1),
        arange(L).reshape(1, 1, L, 1),
        arange(S).reshape(1, 1, 1, S),
    )


def _dense_mask(mask_mod: Callable[..., Any], B: int, H: int, L: int, S: int) -> np.ndarray:
    """``mask_mod`` on every (b, h, q, kv): a bool array (B, H, L, S)."""
    out = mask_mod(*_indices(B, H, L, S))
    arr = out._data if isinstance(out, Tensor) else np.asarray(out)
    return array_module(arr).broadcast_to(arr.astype(bool, copy=False), (B, H, L, S))


def noop_mask(batch: Tensor, head: Tensor, token_q: Tensor, token_kv: Tensor) -> Tensor:
    """The mask that lets every query see every key (a 0-d True)."""
    return Tensor(np.array(True), _wrap=True)


def and_masks(*mask_mods: Callable[..., Any]) -> Callable[..., Any]:
    """A mask_mod that is True where every one of ``mask_mods`` is."""

    def both(b: Tensor, h: Tensor, q_idx: Tensor, kv_idx: Tensor) -> Tensor:
        out = Tensor(np.array(True), _wrap=True)
        for m in mask_mods:
            out = out & m(b, h, q_idx, kv_idx)
        return out

    return both


def or_masks(*mask_mods: Callable[..., Any]) -> Callable[..., Any]:
    """A mask_mod that is True where any one of ``mask_mods`` is."""

    def either(b: Tensor, h: Tensor, q_idx: Tensor, kv_idx: Tensor) -> Tensor:
        out = Tensor(np.array(False), _wrap=True)
        for m in mask_mods:
            out = out | m(b, h, q_idx, kv_idx)
        return out

    return either


def create_mask(
    mod_fn: Callable[..., Any], B: int | None, H: int | None, Q_LEN: int, KV_LEN: int, device: Any = None
) -> Tensor:
    """The dense bool mask (B, H, Q_LEN, KV_LEN) of a mask_mod (4 arguments), or of a score_mod
    (5 arguments: True where it does not send a zero score to -inf). None for B or H means 1."""
    B, H = B or 1, H or 1
    if len(_params(mod_fn)) == 5:
        zero = Tensor(np.zeros((B, H, Q_LEN, KV_LEN), dtype=np.float32), _wrap=True)
        score = mod_fn(zero, *_indices(B, H, Q_LEN, KV_LEN))
        return Tensor(np.broadcast_to(~np.isneginf(score._data), (B, H, Q_LEN, KV_LEN)).copy(), _wrap=True)
    return Tensor(_dense_mask(mod_fn, B, H, Q_LEN, KV_LEN).copy(), _wrap=True)


def _params(fn: Callable[..., Any]) -> list:
    return [p for p in inspect.signature(fn).parameters.values() if p.default is p.empty]


class BlockMask:
    """Which keys each query may attend to: a ``mask_mod`` and its block summary.

    ``to_dense()`` is PyTorch's block-level view: 1 where a (BLOCK_SIZE x BLOCK_SIZE) tile of the
    (Q_LEN, KV_LEN) mask has any True entry. ``shape`` is (B, H, Q_LEN, KV_LEN) (B, H of 1 when
    the mask was made with None there, and then it broadcasts over batch and heads).
    """

    def __init__(self, mask_mod: Callable[..., Any], dense: np.ndarray, block_size: tuple[int, int]) -> None:
        self.mask_mod = mask_mod
        self._dense = dense  # (B, H, L, S) bool
        self.BLOCK_SIZE = block_size
        self.shape = tuple(dense.shape)
        self.seq_lengths = self.shape[2:]

    def to_dense(self) -> Tensor:
        """(B, H, ceil(L / q_block), ceil(S / kv_block)) int32: 1 where a tile has an allowed entry."""
        B, H, L, S = self.shape
        bq, bk = self.BLOCK_SIZE
        nq, nk = -(-L // bq), -(-S // bk)
        padded = np.zeros((B, H, nq * bq, nk * bk), dtype=bool)
        padded[:, :, :L, :S] = self._dense
        tiles = padded.reshape(B, H, nq, bq, nk, bk).any(
            axis=(3, 5)
        )  # (B, H, nq, bq, nk, bk) -> (B, H, nq, nk)
        return Tensor(tiles.astype(np.int32), _wrap=True)

    def sparsity(self) -> float:
        """Percentage of tiles with no allowed entry (skipped by PyTorch's kernel)."""
        tiles = self.to_dense()._data
        return 100.0 * (1.0 - float(tiles.mean())) if tiles.size else 0.0

    def __repr__(self) -> str:
        return f"BlockMask(shape={self.shape}, sparsity={self.sparsity():.2f}%, BLOCK_SIZE={self.BLOCK_SIZE})"


def create_block_mask(
    mask_mod: Callable[..., Any],
    B: int | None,
    H: int | None,
    Q_LEN: int,
    KV_LEN: int,
    device: Any = None,
    BLOCK_SIZE: int | tuple[int, int] = _DEFAULT_SPARSE_BLOCK_SIZE,
    _compile: bool = False,
    **kwargs: Any,
) -> BlockMask:
    """A ``BlockMask`` from ``mask_mod(b, h, q_idx, kv_idx) -> bool``; None for B or H makes the
    mask broadcast over batch or heads. ``device`` and ``_compile`` are accepted (CPU, eager)."""
    if len(_params(mask_mod)) != 4:
        raise TypeError(
            "create_block_mask: expected mask_mod(b, h, q_idx, kv_idx), got a function of another arity"
        )
    if Q_LEN < 0 or KV_LEN < 0:
        raise ValueError(f"create_block_mask: expected Q_LEN, KV_LEN >= 0, got {Q_LEN}, {KV_LEN}")
    bs = (BLOCK_SIZE, BLOCK_SIZE) if isinstance(BLOCK_SIZE, int) else tuple(BLOCK_SIZE)
    return BlockMask(mask_mod, _dense_mask(mask_mod, B or 1, H or 1, Q_LEN, KV_LEN), bs)


def flex_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    score_mod: Callable[..., Any] | None = None,
    block_mask: BlockMask | None = None,
    scale: float | None = None,
    enable_gqa: bool = False,
    return_lse: bool = False,
    kernel_options: Any = None,
    *,
    return_aux: AuxRequest | None = None,
) -> Tensor | tuple[Tensor, Tensor] | tuple[Tensor, AuxOutput]:
    """softmax(score_mod(Q K^T * scale) masked by block_mask) V, with its log-sum-exp on request.

    Args:
        query, key, value: (B, Hq, L, E), (B, Hkv, S, E), (B, Hkv, S, Ev).
        score_mod: ``(score, b, h, q_idx, kv_idx) -> score``, called once on the whole (B, Hq, L,
            S) score tensor with broadcasting index tensors.
        block_mask: from ``create_block_mask``; its mask_mod is evaluated at every (b, h, q, kv).
        scale: the factor on Q K^T; default 1 / sqrt(E).
        enable_gqa: Hq a multiple of Hkv; each key/value head serves Hq / Hkv query heads.
        return_lse: also return logsumexp over the keys of the final scores, (B, Hq, L)
            (PyTorch's older form of ``return_aux=AuxRequest(lse=True)``).
        return_aux: an ``AuxRequest``: return ``(out, AuxOutput(lse=...))``; ``max_scores`` raises
            ``NotImplementedError`` as PyTorch's on the CPU.

    Shape:
        returns (B, Hq, L, Ev) (and (B, Hq, L) for the log-sum-exp).
    """
    if return_aux is not None:
        if return_lse:
            raise ValueError(
                "flex_attention: cannot specify both return_lse and return_aux; return_lse is "
                "deprecated, use return_aux=AuxRequest(lse=True)"
            )
        if not isinstance(return_aux, AuxRequest):
            raise TypeError(
                f"flex_attention: expected return_aux an AuxRequest, got {type(return_aux).__name__}"
            )
        if return_aux.max_scores:
            raise NotImplementedError(
                "flex_attention: returning max scores is not supported on CPU (as PyTorch's)"
            )
    if query.ndim != 4 or key.ndim != 4 or value.ndim != 4:
        raise ShapeError(
            "flex_attention: expected 4-D query, key and value (B, H, L, E), got "
            f"{query.shape}, {key.shape} and {value.shape}"
        )
    _check(query, key, value, enable_gqa)
    if not enable_gqa and query.shape[1] != key.shape[1]:
        raise ShapeError(
            f"flex_attention: expected as many query heads as key heads without enable_gqa, got "
            f"{query.shape} and {key.shape}"
        )
    if enable_gqa:
        groups = query.shape[1] // key.shape[1]
        key, value = _repeat_heads(key, groups), _repeat_heads(value, groups)
    B, H, L, E = query.shape
    S = key.shape[2]
    scale = 1.0 / math.sqrt(E) if scale is None else scale
    scores = _M.matmul(query * scale, key.transpose(-2, -1))  # (B, H, L, E) @ (B, H, E, S) -> (B, H, L, S)
    if score_mod is not None:
        scores = score_mod(scores, *_indices(B, H, L, S))
        if tuple(scores.shape) != (B, H, L, S):
            scores = scores.expand(B, H, L, S)
    blocked = None
    if block_mask is not None:
        mb, mh, ml, ms = block_mask.shape
        if (ml, ms) != (L, S) or mb not in (1, B) or mh not in (1, H):
            raise ShapeError(
                f"flex_attention: expected a block_mask for (B, H, L, S) = {(B, H, L, S)}, got one of shape "
                f"{block_mask.shape}"
            )
        blocked = ~_dense_mask(block_mask.mask_mod, B, H, L, S)
    xp = array_module(scores._data)
    neg = xp.isneginf(scores._data) if blocked is None else (blocked | xp.isneginf(scores._data))
    dead = neg.all(axis=-1, keepdims=True)  # (B, H, L, 1): a query that sees no key
    if blocked is not None:
        scores = _I.masked_fill(scores, blocked, float("-inf"))
    if dead.any():
        # a dead row's softmax would be 0/0: give it a harmless row, zero its weights afterwards
        scores = _I.masked_fill(scores, dead, 0.0)
    weights = _SM.softmax(scores, -1)
    if dead.any():
        weights = _I.masked_fill(weights, dead, 0.0)
    out = _M.matmul(weights, value)  # (B, H, L, S) @ (B, H, S, Ev) -> (B, H, L, Ev)
    want_lse = return_lse or (return_aux is not None and return_aux.lse)
    if not want_lse:
        return out if return_aux is None else (out, AuxOutput())
    lse = scores.logsumexp(-1)  # (B, H, L)
    if dead.any():
        lse = _I.masked_fill(lse, dead[..., 0], float("-inf"))
    return (out, lse) if return_aux is None else (out, AuxOutput(lse=lse))
