"""A key/value cache for decoding with ``nn.TransformerDecoder``: each step computes one new position.

Re-running the decoder on the whole prefix at every step costs O(t) positions per step through
every layer. In evaluation, position t's output depends on earlier positions only through their
self-attention keys and values, and on the source only through the cross-attention keys and
values of the memory. So: project the memory once per layer; keep every layer's self-attention
keys and values; at each step run just the newest token through the layers (its query attends to
the cached keys plus its own). The result equals the full decoder's last position.

The cache follows *prefixes*, not beam indices: each new prefix is matched to the cached prefix it
extends (its first t - 1 tokens), so beam search can reorder, drop and duplicate hypotheses
without telling the cache. A call whose prefixes extend nothing cached rebuilds the cache, one
position at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import glassgrad.nn.functional as F
from glassgrad.autograd import no_grad
from glassgrad.decode.adapters import last_log_probs
from glassgrad.decode.step import StepFn
from glassgrad.errors import ShapeError
from glassgrad.nn.attention import MultiheadAttention
from glassgrad.nn.transformer import TransformerDecoder, TransformerDecoderLayer
from glassgrad.ops.joining import cat
from glassgrad.tensor import Tensor

__all__ = ["cached_transformer_step"]


def _projections(mha: MultiheadAttention) -> list[tuple[Tensor, Tensor | None]]:
    """(W, b) for Q, K and V: row blocks of ``in_proj_weight`` / ``in_proj_bias``."""
    E, w, b = mha.embed_dim, mha.in_proj_weight, mha.in_proj_bias
    return [(w[i * E : (i + 1) * E], None if b is None else b[i * E : (i + 1) * E]) for i in range(3)]


def _check_layer(i: int, layer: Any) -> None:
    if not isinstance(layer, TransformerDecoderLayer):
        raise TypeError(
            f"cached_transformer_step: expected TransformerDecoderLayer layers, got {type(layer).__name__} at {i}"
        )
    for mha in (layer.self_attn, layer.multihead_attn):
        if not mha._qkv_same_embed_dim or mha.bias_k is not None or mha.add_zero_attn:
            raise ValueError(
                "cached_transformer_step: expected attention without kdim/vdim, add_bias_kv or add_zero_attn "
                f"(layer {i})"
            )


def _out_proj(attn: MultiheadAttention, out: Tensor) -> Tensor:
    """Heads joined and projected as ``MultiheadAttention`` does it: out_proj's weights, not its
    forward, so the cached path fires the same hooks as the full decoder. (B, h, 1, E/h) -> (B, 1, E)"""
    return F.linear(attn._join(out), attn.out_proj.weight, attn.out_proj.bias)


class _Layer:
    """One decoder layer run a position at a time, with its memory keys/values computed once."""

    def __init__(self, layer: TransformerDecoderLayer, memory: Tensor) -> None:
        self.layer, self.sa, self.ca = layer, layer.self_attn, layer.multihead_attn
        (wq, bq), (wk, bk), (wv, bv) = _projections(self.ca)
        self.cross_q = (wq, bq)
        self.mem_k = self.ca._heads(F.linear(memory, wk, bk))  # (1, S, E) -> (1, h, S, E/h)
        self.mem_v = self.ca._heads(F.linear(memory, wv, bv))

    def _self_attention(self, x: Tensor, k: Tensor | None, v: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
        q, k_new, v_new = (self.sa._heads(t) for t in self.sa._project(x, x, x))  # 3 x (B, h, 1, E/h)
        k = k_new if k is None else cat([k, k_new], dim=2)  # (B, h, t-1, E/h) -> (B, h, t, E/h)
        v = v_new if v is None else cat([v, v_new], dim=2)
        out = F.scaled_dot_product_attention(q, k, v)  # the newest position sees them all: no mask
        return _out_proj(self.sa, out), k, v

    def _cross_attention(self, x: Tensor, mask: Any) -> Tensor:
        q = self.ca._heads(F.linear(x, *self.cross_q))  # (B, 1, E) -> (B, h, 1, E/h)
        B = x.shape[0]
        k = self.mem_k.expand(B, *self.mem_k.shape[1:])  # (1, h, S, E/h) -> (B, h, S, E/h)
        v = self.mem_v.expand(B, *self.mem_v.shape[1:])
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return _out_proj(self.ca, out)

    def step(self, x: Tensor, k: Tensor | None, v: Tensor | None, mask: Any) -> tuple[Tensor, Tensor, Tensor]:
        """The layer's output for the newest position ``x`` ``(B, 1, E)``, and the grown keys/values.
        (The layer is in eval mode, so its ``_ff_block`` dropouts pass x through.)"""
        L = self.layer
        if L.norm_first:
            a, k, v = self._self_attention(L.norm1(x), k, v)
            x = x + a
            x = x + self._cross_attention(L.norm2(x), mask)
            return x + L._ff_block(L.norm3(x)), k, v
        a, k, v = self._self_attention(x, k, v)
        x = L.norm1(x + a)
        x = L.norm2(x + self._cross_attention(x, mask))
        return L.norm3(x + L._ff_block(x)), k, v


def _parents(cached: np.ndarray | None, prefixes: np.ndarray) -> np.ndarray | None:
    """For each prefix, the row of ``cached`` it extends by one token; None if some extend none."""
    if cached is None or cached.shape[1] != prefixes.shape[1] - 1:
        return None
    index = {row.tobytes(): i for i, row in enumerate(cached)}
    rows = [index.get(row[:-1].tobytes()) for row in prefixes]
    return None if any(r is None for r in rows) else np.asarray(rows, dtype=np.int64)


def cached_transformer_step(
    decoder: TransformerDecoder,
    memory: Tensor,
    embed: Callable[[Tensor, int], Tensor],
    project: Callable[[Tensor], Tensor],
    memory_key_padding_mask: Any = None,
) -> StepFn:
    """A step function for ``nn.TransformerDecoder`` that keeps a key/value cache (see the module doc).

    Its log-probabilities equal those of running ``project(decoder(embed(prefixes, 0), memory,
    tgt_mask=causal))`` at the last position, in O(1) positions per step instead of O(t).
    The decoder must be in eval mode (dropout would make the cache differ from a rerun).

    Args:
        decoder: the decoder stack (its ``norm`` is applied if set).
        memory: the encoder's output for one source, batch first.
        embed: ``embed(ids, start)``: the input vectors of ``ids`` placed at positions
            ``start, start + 1, ...`` (token embedding plus position information).
        project: hidden states to logits (the output layer).
        memory_key_padding_mask: True at padded source positions, or None.

    Shape:
        memory ``(1, S, E)``; memory_key_padding_mask ``(1, S)`` or ``(S,)``; embed ``(B, n) ->
        (B, n, E)``; project ``(B, 1, E) -> (B, 1, vocab)``; the step function ``(B, t) -> (B, vocab)``.
    """
    op = "cached_transformer_step"
    if decoder.training:
        raise ValueError(f"{op}: expected the decoder in eval mode (call model.eval())")
    for i, layer in enumerate(decoder.layers):
        _check_layer(i, layer)
    if memory.ndim != 3 or memory.shape[0] != 1:
        raise ShapeError(f"{op}: expected a batch-first memory of shape (1, S, E), got {memory.shape}")
    mask = None
    if memory_key_padding_mask is not None:
        pad = memory_key_padding_mask
        pad = np.asarray(pad._data if isinstance(pad, Tensor) else pad, dtype=bool).reshape(-1)  # (S,)
        if pad.shape[0] != memory.shape[1]:
            raise ShapeError(
                f"{op}: expected memory_key_padding_mask of {memory.shape[1]} positions, got {pad.shape}"
            )
        mask = Tensor(~pad[None, None, None, :], _wrap=True)  # (1, 1, 1, S), True = attend
    with no_grad():
        layers = [_Layer(layer, memory) for layer in decoder.layers]
    state: dict[str, Any] = {"prefixes": None, "k": [], "v": []}

    def step(prefixes: Tensor) -> np.ndarray:
        arr = prefixes.numpy()
        t = arr.shape[1]
        rows = _parents(state["prefixes"], arr)
        with no_grad():
            if rows is None:  # a fresh start: build the cache position by position
                ks, vs, start = [None] * len(layers), [None] * len(layers), 0
            else:
                idx = Tensor(rows, _wrap=True)
                ks, vs, start = [k[idx] for k in state["k"]], [v[idx] for v in state["v"]], t - 1
            for pos in range(start, t):
                x = embed(prefixes[:, pos : pos + 1], pos)  # (B, 1) -> (B, 1, E)
                for i, layer in enumerate(layers):
                    x, ks[i], vs[i] = layer.step(x, ks[i], vs[i], mask)
            if decoder.norm is not None:
                x = decoder.norm(x)
            logp = last_log_probs(op, project(x))  # (B, 1, V) -> (B, V)
        state.update(prefixes=arr, k=ks, v=vs)
        return logp

    return step
