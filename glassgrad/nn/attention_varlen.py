"""``torch.nn.attention.varlen``: attention over sequences of different lengths packed end to end.

The N sequences of a batch are concatenated along the token axis: ``query`` is (T_q, Hq, D), and
``cu_seq_q`` (N + 1,) holds the cumulative lengths, so sequence n owns the query rows
``cu_seq_q[n]:cu_seq_q[n + 1]`` (likewise ``key``/``value`` and ``cu_seq_k``). A query attends
only to the keys of its own sequence, within ``window_size = (left, right)``: sequence n's query i
sits at key position ``p = i + Lk - Lq`` (flash attention's bottom-right alignment, Lq and Lk its
lengths) and sees the keys ``p - left <= j <= p + right``, -1 meaning unbounded; ``(-1, 0)`` is
causal attention, ``(-1, -1)`` (the default) full attention. torchtitan's ``VarlenAttentionWrapper``
imports this module for its document-masked ("block causal") attention.

PyTorch runs Flash Attention's CUDA kernel here (on the CPU it raises NotImplementedError);
glassgrad computes the same attention eagerly through ``flex_attention`` with the packed tokens as
one sequence and a mask built from ``cu_seq_q``/``cu_seq_k``, so it is differentiable and takes
float32/float64 (the kernel takes half precision only). A query that sees no key (a row past
``cu_seq_q[-1]``, or an empty window) gets a zero output and a log-sum-exp of +inf, as the kernel's.

>>> import glassgrad as gg
>>> from glassgrad.nn.attention.varlen import varlen_attn
>>> q = gg.ones(5, 2, 4)
>>> cu = gg.tensor([0, 2, 5], dtype=gg.int32)
>>> varlen_attn(q, q, q, cu, cu, 3, 3, window_size=(-1, 0)).shape
glassgrad.Size([5, 2, 4])
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.nn.attention_flex import _DEFAULT_SPARSE_BLOCK_SIZE, BlockMask, flex_attention
from glassgrad.ops import indexing as _I
from glassgrad.ops.out_write import with_out
from glassgrad.tensor import Tensor

__all__ = ["AuxRequest", "varlen_attn", "varlen_attn_out"]


class AuxRequest(NamedTuple):
    """Which auxiliary outputs ``varlen_attn(..., return_aux=AuxRequest(lse=True))`` returns."""

    lse: bool = False


def _offsets(op: str, name: str, cu: Any, total: int) -> np.ndarray:
    """``cu`` as host ints, checked: 1-D integer, non-decreasing, from 0, within ``total`` tokens."""
    if not isinstance(cu, Tensor) or cu.ndim != 1 or cu._data.dtype.kind not in "iu" or cu.shape[0] < 1:
        raise DTypeError(
            f"{op}: expected {name} a 1-D integer tensor of cumulative sequence lengths (N + 1,), got "
            f"{getattr(cu, 'dtype', type(cu).__name__)} of shape {tuple(getattr(cu, 'shape', ()))}"
        )
    arr = np.asarray(cu._data, dtype=np.int64)
    if arr[0] != 0 or (np.diff(arr) < 0).any() or arr[-1] > total:
        raise ShapeError(
            f"{op}: expected {name} to rise from 0 to at most the {total} packed tokens, got {arr.tolist()}"
        )
    return arr


def _allowed(
    cu_q: np.ndarray, cu_k: np.ndarray, used_k: np.ndarray | None, t_q: int, t_k: int, window: Any
) -> np.ndarray:
    """(T_q, T_k) bool: True where a query may see a key (same sequence, inside the window)."""
    n = cu_q.shape[0] - 1
    seq_q = np.searchsorted(cu_q[1:], np.arange(t_q), side="right")  # (T_q,): N past the last sequence
    seq_k = np.searchsorted(cu_k[1:], np.arange(t_k), side="right")  # (T_k,)
    len_q = np.append(np.diff(cu_q), 0)  # (N + 1,): the rows past the sequences get an empty one
    len_k = np.append(np.diff(cu_k), 0)
    if used_k is not None:
        len_k[:n] = np.minimum(len_k[:n], used_k)
    i = np.arange(t_q) - np.append(cu_q[:-1], cu_q[-1])[seq_q]  # (T_q,) position in its sequence
    j = np.arange(t_k) - np.append(cu_k[:-1], cu_k[-1])[seq_k]  # (T_k,)
    p = (i + len_k[seq_q] - len_q[seq_q])[:, None]  # (T_q, 1) the query's key position
    ok = (seq_q[:, None] == seq_k[None, :]) & (seq_q[:, None] < n) & (j[None, :] < len_k[seq_k][None, :])
    left, right = window
    if left >= 0:
        ok &= j[None, :] >= p - left
    if right >= 0:
        ok &= j[None, :] <= p + right
    return ok


def _varlen(
    op: str,
    query: Tensor,
    key: Tensor,
    value: Tensor,
    cu_seq_q: Tensor,
    cu_seq_k: Tensor | None,
    scale: float | None,
    window_size: Any,
    enable_gqa: bool,
    seqused_k: Tensor | None,
    block_table: Tensor | None,
) -> tuple[Tensor, Tensor]:
    """The attention output (T_q, Hq, Dv) and its log-sum-exp (Hq, T_q)."""
    if block_table is not None:
        raise NotImplementedError(f"{op}: a paged key/value cache (block_table) is not supported")
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor) or t.ndim != 3:
            raise ShapeError(
                f"{op}: expected {name} a 3-D tensor (T, H, D), got {tuple(getattr(t, 'shape', ()))}"
            )
    hq, hk = query.shape[1], key.shape[1]
    if not enable_gqa and hq != hk:  # PyTorch's two messages, word for word
        raise ValueError(
            f"Expect query and key/value to have the same number of heads but got Hq={hq} and Hkv={hk}. "
            "Try setting enable_gqa=True for GQA."
        )
    if enable_gqa and hq % hk != 0:
        raise ValueError(
            f"Expect number of query heads to be a multiple of kv heads for GQA but got Hq={hq} and Hkv={hk}."
        )
    window = tuple(int(w) for w in window_size)
    if len(window) != 2:
        raise ValueError(f"window_size must have length 2, got {len(window)}")
    t_q, t_k = query.shape[0], key.shape[0]
    cu_q = _offsets(op, "cu_seq_q", cu_seq_q, t_q)
    cu_k = cu_q if cu_seq_k is None else _offsets(op, "cu_seq_k", cu_seq_k, t_k)
    if cu_k.shape != cu_q.shape:
        raise ShapeError(
            f"{op}: expected cu_seq_q and cu_seq_k of one length (N + 1,), got {cu_q.shape} and {cu_k.shape}"
        )
    used = None if seqused_k is None else np.asarray(seqused_k._data, dtype=np.int64).reshape(-1)
    ok = _allowed(cu_q, cu_k, used, t_q, t_k, window)  # (T_q, T_k)
    dense = array_module(query._data).asarray(ok)[None, None]  # (1, 1, T_q, T_k)
    # the mask is known whole: a mask_mod that returns it, broadcasting over the index tensors
    block = (_DEFAULT_SPARSE_BLOCK_SIZE, _DEFAULT_SPARSE_BLOCK_SIZE)
    mask = BlockMask(lambda b, h, q_idx, kv_idx: Tensor(dense, _wrap=True), dense, block)
    q, k, v = (t.transpose(0, 1).unsqueeze(0) for t in (query, key, value))  # (T, H, D) -> (1, H, T, D)
    out, lse = flex_attention(q, k, v, block_mask=mask, scale=scale, enable_gqa=enable_gqa, return_lse=True)
    lse = lse[0]  # (Hq, T_q)
    dead = ~ok.any(axis=1)  # (T_q,): flash attention's lse there is +inf, flex_attention's -inf
    if dead.any():
        lse = _I.masked_fill(lse, array_module(lse._data).asarray(dead), float("inf"))
    # the kernel writes a contiguous (T_q, Hq, Dv): callers .view() it straight to (B, S, Hq * Dv)
    return out[0].transpose(0, 1).contiguous(), lse


def varlen_attn(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    cu_seq_q: Tensor,
    cu_seq_k: Tensor | None,
    max_q: int,
    max_k: int,
    *,
    return_aux: AuxRequest | None = None,
    scale: float | None = None,
    window_size: tuple[int, int] = (-1, -1),
    enable_gqa: bool = False,
    seqused_k: Tensor | None = None,
    block_table: Tensor | None = None,
    num_splits: int | None = None,
) -> Tensor | tuple[Tensor, Tensor]:
    """Attention of each packed sequence to itself (see the module's docstring).

    ``max_q``/``max_k`` (the longest sequences) and ``num_splits`` only tune the CUDA kernel and are
    accepted. ``seqused_k`` (N,) keeps the first ``seqused_k[n]`` keys of sequence n.

    Shape:
        query (T_q, Hq, D), key (T_k, Hkv, D), value (T_k, Hkv, Dv), cu_seq_q/cu_seq_k (N + 1,);
        returns (T_q, Hq, Dv), and with ``return_aux=AuxRequest(lse=True)`` also the log-sum-exp
        of the scaled scores (Hq, T_q).
    """
    out, lse = _varlen(
        "varlen_attn",
        query,
        key,
        value,
        cu_seq_q,
        cu_seq_k,
        scale,
        window_size,
        enable_gqa,
        seqused_k,
        block_table,
    )
    if return_aux is not None and return_aux.lse:
        return out, lse
    return out


def varlen_attn_out(
    out: Tensor,
    query: Tensor,
    key: Tensor,
    value: Tensor,
    cu_seq_q: Tensor,
    cu_seq_k: Tensor | None,
    max_q: int,
    max_k: int,
    *,
    return_aux: AuxRequest | None = None,
    scale: float | None = None,
    window_size: tuple[int, int] = (-1, -1),
    enable_gqa: bool = False,
    seqused_k: Tensor | None = None,
    block_table: Tensor | None = None,
    num_splits: int | None = None,
) -> Tensor | tuple[Tensor, Tensor]:
    """``varlen_attn`` writing its output into ``out`` (T_q, Hq, Dv), which it returns."""
    result, lse = _varlen(
        "varlen_attn_out",
        query,
        key,
        value,
        cu_seq_q,
        cu_seq_k,
        scale,
        window_size,
        enable_gqa,
        seqused_k,
        block_table,
    )
    with_out(result, out, "varlen_attn_out")
    if return_aux is not None and return_aux.lse:
        return out, lse
    return out
