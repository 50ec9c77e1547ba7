"""Scaled dot-product attention: ``softmax(Q K^T * scale + mask) V``, and its weights for inspection.

Built from primitives (``mul`` by the scale, batched ``matmul``, ``add`` of the mask as a 0/-inf
bias, ``softmax``, ``dropout``), so the backward is theirs: a graph of five or six nodes that a
trace shows step by step.

Masks follow ``torch.nn.functional.scaled_dot_product_attention``: a **bool** mask is True where a
query may attend (False entries get -inf before the softmax); a **float** mask is added to the
scores (0 = attend, -inf = blocked, anything else a bias). ``is_causal=True`` is the look-ahead
mask ``tril(ones(L, S))`` (query i sees keys 0..i, aligned at the top left, as PyTorch).

A row whose keys are all blocked has no softmax (0/0). PyTorch 2.x's SDPA returns 0 for such a
query and passes it no gradient; so does glassgrad, in ``attention_weights`` too (its weights are a
row of zeros rather than NaN).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassgrad.backend import array_module
from glassgrad.errors import ArgumentError, DTypeError, IndexOutOfRangeError, ShapeError, size_mismatch
from glassgrad.meta_array import MetaArray, on_device_of
from glassgrad.nn.attention_bias import CausalBias
from glassgrad.nn.functional.layers import dropout
from glassgrad.nn.functional.sdpa_backend import check_math_enabled, flash_cpu, math_on, query_layout
from glassgrad.operand_errors import number_arg
from glassgrad.ops import conversion as _K
from glassgrad.ops import indexing as _I
from glassgrad.ops import matmul as _M
from glassgrad.ops import softmax as _SM
from glassgrad.tensor import Tensor

__all__ = ["scaled_dot_product_attention", "attention_weights"]


def _check(query: Tensor, key: Tensor, value: Tensor | None, enable_gqa: bool) -> None:
    if query.ndim < 2 or key.ndim < 2 or (value is not None and value.ndim < 2):
        raise ShapeError(
            "scaled_dot_product_attention: expected query (*, L, E), key (*, S, E) and value (*, S, Ev), got "
            f"{query.shape}, {key.shape} and {None if value is None else value.shape}"
        )
    if key.shape[-1] != query.shape[-1] or (value is not None and value.shape[-2] != key.shape[-2]):
        raise ShapeError(
            "scaled_dot_product_attention: expected query (*, L, E), key (*, S, E) and value (*, S, Ev) "
            f"with matching E and S, got {query.shape}, {key.shape} and "
            f"{None if value is None else value.shape}"
        )
    if not enable_gqa:
        batch = [query.shape[:-2], key.shape[:-2]] + ([] if value is None else [value.shape[:-2]])
        clash = "" if batch[0] == batch[1] == batch[-1] else size_mismatch(batch)
        if clash:  # PyTorch's broadcast sentence (a GQA-shaped key without enable_gqa lands here)
            raise ShapeError(
                "scaled_dot_product_attention: expected query, key and value batch dims that broadcast, "
                f"got {query.shape}, {key.shape} and {None if value is None else value.shape}{clash}"
            )
    if enable_gqa and min(query.ndim, key.ndim) < 3:  # PyTorch reads dim -3 and raises IndexError
        raise IndexOutOfRangeError(
            "scaled_dot_product_attention: expected query and key with a heads dim (*, H, L, E) with "
            f"enable_gqa=True, got {query.shape} and {key.shape}"
        )
    if enable_gqa and query.shape[-3] % key.shape[-3]:
        raise ShapeError(
            "scaled_dot_product_attention: expected query heads to be a multiple of key heads with "
            f"enable_gqa=True, got query {query.shape} and key {key.shape}"
        )


def _repeat_heads(x: Tensor, groups: int) -> Tensor:
    """Each key/value head shared by ``groups`` consecutive query heads (grouped-query attention)."""
    if groups == 1:
        return x
    *lead, h, s, e = x.shape
    x = x.unsqueeze(-3).expand(*lead, h, groups, s, e)  # (*, Hk, S, E) -> (*, Hk, g, S, E)
    return x.reshape(*lead, h * groups, s, e)  # (*, Hk, g, S, E) -> (*, Hk * g, S, E)


def _weights(
    query: Tensor,
    key: Tensor,
    attn_mask: Any,
    is_causal: bool,
    scale: float | None,
    zero_blocked_rows: bool = True,
) -> Tensor:
    """softmax(Q K^T * scale + mask) along the keys, fully blocked rows set to 0 (or left NaN
    without ``zero_blocked_rows``).  (*, L, S)."""
    L, S = query.shape[-2], key.shape[-2]
    if scale is None:  # head dim 0: PyTorch's 1/sqrt(0) = inf times empty rows, so uniform weights
        scale = 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else math.inf
    # scaling Q (L x E values) instead of the scores (L x S) is the same product, done on fewer numbers
    scores = raw = _M.matmul(query * scale, key.transpose(-2, -1))  # (*, L, E) @ (*, E, S) -> (*, L, S)
    xp = array_module(scores._data)
    if is_causal:
        if attn_mask is not None:
            raise ArgumentError(  # PyTorch's RuntimeError; also a ValueError, as glassgrad's was
                "scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True "
                "(expected attn_mask=None with is_causal=True)"
            )
        attn_mask = on_device_of(scores._data, xp.tril(xp.ones((L, S), dtype=bool)))  # query i sees keys 0..i
    if attn_mask is None:
        return _SM.softmax(scores, -1)
    mask = attn_mask._data if isinstance(attn_mask, Tensor) else xp.asarray(attn_mask)
    try:
        # PyTorch adds the mask into the scores in place: it may broadcast up to them, not beyond
        fits = np.broadcast_shapes(mask.shape, scores.shape) == scores.shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(
            f"scaled_dot_product_attention: expected attn_mask broadcastable to the scores {scores.shape}, "
            f"got {mask.shape}"
        )
    if mask.dtype == np.bool_:
        # as an additive 0 / -inf bias: the same scores as masked_fill, and an add's backward is free
        bias = xp.where(mask, 0.0, -xp.inf).astype(scores._data.dtype)
        scores = scores + Tensor(bias, _wrap=True)
    elif mask.dtype.kind == "f":
        bias = attn_mask if isinstance(attn_mask, Tensor) else Tensor(mask, _wrap=True)
        if mask.dtype != scores._data.dtype:
            # PyTorch adds the mask in place into the scores, so they keep the query's dtype (added
            # as it is, a float32 mask would promote float16 scores and the value matmul refuse the
            # mix); besides the query's dtype it takes only a float32 mask
            if mask.dtype != np.float32:
                raise DTypeError(
                    "scaled_dot_product_attention: expected attn_mask dtype to be bool or float or to "
                    f"match query dtype, got attn_mask {mask.dtype} and query {query.dtype}"
                )
            bias = bias.to(scores.dtype)
        scores = scores + bias
    else:
        raise DTypeError(
            f"scaled_dot_product_attention: expected a bool or float attn_mask, got {mask.dtype}"
        )
    if not zero_blocked_rows:
        return _SM.softmax(scores, -1)
    dead = xp.isneginf(scores._data).all(axis=-1, keepdims=True)  # (*, L, 1): no key to attend to
    if dead.__class__ is not MetaArray and not dead.any():  # meta: no values, take the general path
        return _SM.softmax(scores, -1)
    # A blocked row's softmax would be 0/0: give it a harmless row, then zero its weights, so the
    # query reads nothing. Both by products with 0 (the row is the unmasked scores times 0), as
    # PyTorch's backward multiplies the weights' 0 by the incoming gradient (dS = P (dP - D)): a
    # finite one gives the query and keys 0, a NaN or inf from the values (dP = dO V^T) NaN.
    harmless = _I.masked_fill(raw, xp.logical_not(xp.isfinite(raw._data)), 0.0) * 0.0
    probs = _SM.softmax(harmless.where(Tensor(dead, _wrap=True), scores), -1)
    return probs * Tensor(xp.logical_not(dead).astype(probs._data.dtype), _wrap=True)


# the masks a float16 query takes (none, bool, its own dtype or float32); others are refused in _weights
_HALF_MASKS = (None, np.dtype(np.bool_), np.dtype(np.float16), np.dtype(np.float32))


def _mask_dtype(attn_mask: Any) -> Any:
    """The dtype of a tensor ``attn_mask``, None for no mask (or a ``CausalBias``)."""
    return attn_mask._data.dtype if isinstance(attn_mask, Tensor) else None


def _with_look_ahead(attn_mask: Any, L: int, S: int) -> Tensor:
    """The mask with the top-left look-ahead triangle applied too, as PyTorch's CPU flash kernel
    takes a mask and ``is_causal=True`` together (its math kernel refuses the pair).  (.., L, S)."""
    m = attn_mask._data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
    xp = array_module(m)
    tril = on_device_of(m, xp.tril(xp.ones((L, S), dtype=bool)))  # query i sees keys 0..i
    return Tensor(m & tril if m.dtype == np.bool_ else xp.where(tril, m, -xp.inf).astype(m.dtype), _wrap=True)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """Attention: softmax(Q K^T * scale + mask) V, over any leading (batch, head) dims.

    Args:
        query, key, value: the queries, keys and values.
        attn_mask: bool (True = attend) or float (added to the scores), broadcastable to (*, L, S).
        dropout_p: dropout on the attention weights (always applied when > 0, as PyTorch; pass
            0.0 in evaluation).
        is_causal: use the look-ahead mask tril(ones(L, S)); with attn_mask too, both apply where
            PyTorch's CPU flash kernel would run (``sdpa_backend.flash_cpu``), else it raises.
        scale: the factor on Q K^T; default 1 / sqrt(E).
        enable_gqa: grouped-query attention: key and value have Hk heads (dim -3), query a multiple
            of them; each key/value head serves Hq / Hk consecutive query heads.

    Shape:
        query: (*, L, E); key: (*, S, E); value: (*, S, Ev); returns (*, L, Ev), laid out in
        memory as PyTorch's CPU kernels lay it out (``sdpa_backend.query_layout``).

    Raises ``RuntimeError`` inside ``sdpa_kernel(...)`` without ``SDPBackend.MATH`` unless
    ``SDPBackend.FLASH_ATTENTION`` is enabled and PyTorch's CPU flash kernel takes the inputs
    (``sdpa_backend.check_math_enabled``); glassgrad's one implementation stands in for both.

    >>> import glassgrad as gg
    >>> import glassgrad.nn.functional as F
    >>> q = k = v = gg.ones(2, 4, 5, 8)  # (batch, heads, time, head_dim)
    >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
    glassgrad.Size([2, 4, 5, 8])
    """
    if dropout_p.__class__ is not float:
        dropout_p = number_arg("scaled_dot_product_attention", "dropout_p", dropout_p)
    _check(query, key, value, enable_gqa)
    if not math_on[0]:  # sdpa_kernel(...) without SDPBackend.MATH: runs only as PyTorch's CPU flash
        check_math_enabled(query, key, value, dropout_p, attn_mask, enable_gqa)
    given = (query, key, value)  # PyTorch picks its kernel (and so the layout) from these strides
    if enable_gqa:
        groups = query.shape[-3] // key.shape[-3]
        key, value = _repeat_heads(key, groups), _repeat_heads(value, groups)
    if is_causal and attn_mask is not None:
        if isinstance(attn_mask, CausalBias):  # PyTorch's CausalBias dispatch refuses the pair first
            raise ValueError("scaled_dot_product_attention: CausalBias should not be used with causal=True")
        if flash_cpu(query, key, value, dropout_p, attn_mask):
            attn_mask, is_causal = _with_look_ahead(attn_mask, query.shape[-2], key.shape[-2]), False
    half = query._data.dtype == np.float16 and _mask_dtype(attn_mask) in _HALF_MASKS
    if half:
        # PyTorch's CPU kernels (math and flash) attend float16 in float32 and round the output
        # once: float16 scores of 1e3 are 0.5 apart before the softmax, and of 1e5 inf
        query, key, value = (_K.cast(t, np.float32) for t in (query, key, value))
        if _mask_dtype(attn_mask) == np.float16:
            attn_mask = _K.cast(attn_mask, np.float32)
    w = _weights(query, key, attn_mask, is_causal, scale)
    if dropout_p > 0.0:
        if dropout_p > 1.0:  # PyTorch's kernel refuses it with a RuntimeError (F.dropout: ValueError)
            raise ArgumentError(
                f"scaled_dot_product_attention: dropout probability has to be between 0 and 1, but got {dropout_p}"
            )
        w = dropout(w, dropout_p, training=True)
    out = _M.matmul(w, value)  # (*, L, S) @ (*, S, Ev) -> (*, L, Ev)
    out = _K.cast(out, np.float16) if half else out
    # PyTorch's memory layout for this call
    return query_layout(out, *given, dropout_p, attn_mask, enable_gqa)


def attention_weights(
    query: Tensor,
    key: Tensor,
    attn_mask: Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
    zero_blocked_rows: bool = True,
) -> Tensor:
    """The attention weights softmax(Q K^T * scale + mask) that ``scaled_dot_product_attention``
    multiplies V by (without dropout), for inspection and plotting. glassgrad only.

    Each row sums to 1, except a fully masked row, which is all 0 (SDPA's value), or NaN with
    ``zero_blocked_rows=False`` (a plain softmax's 0/0, as PyTorch's MultiheadAttention returns
    it with ``need_weights=True``). Differentiable.

    Shape:
        query: (*, L, E); key: (*, S, E); returns (*, L, S).

    >>> import glassgrad as gg
    >>> import glassgrad.nn.functional as F
    >>> F.attention_weights(gg.zeros(3, 2), gg.zeros(3, 2), is_causal=True)
    tensor([[1.0000, 0.0000, 0.0000],
            [0.5000, 0.5000, 0.0000],
            [0.3333, 0.3333, 0.3333]])
    """
    _check(query, key, None, enable_gqa)
    if enable_gqa:
        key = _repeat_heads(key, query.shape[-3] // key.shape[-3])
    return _weights(query, key, attn_mask, is_causal, scale, zero_blocked_rows)
