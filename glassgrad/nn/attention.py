"""``MultiheadAttention`` with PyTorch's parameters, masks, layouts and state-dict keys.

Each head attends in its own ``head_dim = embed_dim / num_heads`` subspace: the inputs are projected
once to all heads together (``in_proj_weight`` holds W_Q, W_K, W_V stacked, (3E, E)), split into heads,
run through ``F.scaled_dot_product_attention``, joined, and projected back by ``out_proj``.

Masks use PyTorch's ``nn.MultiheadAttention`` convention: a bool ``attn_mask`` or
``key_padding_mask`` is True where attention is NOT allowed; a float one is added to the scores.
A query whose keys are all masked gets PyTorch's values: NaN (output and weights) with
``need_weights=True`` and through the inference fast path, 0 through SDPA otherwise.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np

import glassgrad.nn.functional as F
from glassgrad import dtypes
from glassgrad.autograd.forward_ad import is_dual
from glassgrad.autograd.grad_mode import is_grad_enabled
from glassgrad.errors import ArgumentAssertionError, AttentionMaskShapeError, DTypeError, ShapeError
from glassgrad.factories import empty, zeros
from glassgrad.nn import attention_bias as bias
from glassgrad.nn import attention_flex as flex_attention
from glassgrad.nn import attention_varlen as varlen
from glassgrad.nn import init
from glassgrad.nn.functional.attention import attention_weights
from glassgrad.nn.functional.mha import check_mask_ranks, static_source_len, use_static_kv
from glassgrad.nn.functional.sdpa_backend import SDPBackend, sdpa_kernel
from glassgrad.nn.linear import Linear
from glassgrad.nn.module import Module, Parameter
from glassgrad.nn.transformer_fastpath import mha_fast_path
from glassgrad.ops.joining import cat
from glassgrad.ops.matmul import matmul
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["MultiheadAttention", "SDPBackend", "sdpa_kernel", "bias", "flex_attention", "varlen"]

# torch.nn.attention is a package: its backend switch and its `bias`, `flex_attention` and
# `varlen` submodules live here too, registered so that `from ...attention.bias import ...` works.
sys.modules[__name__ + ".bias"] = bias
sys.modules[__name__ + ".flex_attention"] = flex_attention
sys.modules[__name__ + ".varlen"] = varlen
# An empty search path makes this module a package, so those paths also import through a hook
# that maps `torch.X` onto `glassgrad.X`.
__path__: list[str] = []


def _blocked_to_sdpa(mask: Any, dtype: Any) -> Any:
    """MHA's mask (bool True = blocked, or float additive) as an array in SDPA's convention."""
    if isinstance(mask, Tensor) and ((mask.requires_grad and is_grad_enabled()) or is_dual(mask)):
        raise ValueError(
            "MultiheadAttention: expected masks that do not require grad or carry a tangent (the masks "
            "are merged as constants, so a learned float mask would get no gradient; add it to the scores "
            f"with F.scaled_dot_product_attention), got a {tuple(mask.shape)} mask that does"
        )
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype == np.bool_:
        return ~m
    if m.dtype.kind != "f":
        raise DTypeError(f"MultiheadAttention: expected bool or float masks, got {m.dtype}")
    return m.astype(dtype, copy=False)


def _check_weights_mask_dtype(attn_mask: Any, key_padding_mask: Any, dtype: Any) -> None:
    """PyTorch computes the weights by ``baddbmm(mask, q, k^T)``, which takes only a mask of the
    query's dtype: its masks, a bool one as the query's dtype, summed (so promoted)."""
    given = [m._data.dtype for m in (attn_mask, key_padding_mask) if isinstance(m, Tensor)]
    kinds = [dtype if d == np.bool_ else d for d in given]
    if kinds and np.result_type(*kinds) != dtype:
        raise DTypeError(
            "MultiheadAttention: expected float masks of the query's dtype with need_weights=True "
            f"(PyTorch's baddbmm refuses the mix), got {np.result_type(*kinds)} masks and a {dtype} query"
        )


def _merge(a: Any, b: Any, dtype: Any) -> Any:
    """Two SDPA-convention masks as one: both must allow (bool), or the biases add (float)."""
    if a is None or b is None:
        return b if a is None else a
    if a.dtype == np.bool_ and b.dtype == np.bool_:
        return a & b
    as_bias = [m if m.dtype != np.bool_ else np.where(m, 0.0, -np.inf).astype(dtype) for m in (a, b)]
    return as_bias[0] + as_bias[1]


def _pad_key(mask: Any) -> Any:
    """One more key column (bias_k or the zero key), always allowed."""
    pad = np.ones if mask.dtype == np.bool_ else np.zeros
    return np.concatenate([mask, pad(mask.shape[:-1] + (1,), dtype=mask.dtype)], axis=-1)


class NonDynamicallyQuantizableLinear(Linear):
    """``MultiheadAttention.out_proj``: a plain ``Linear`` under PyTorch's class name, so a model
    prints as PyTorch's does (PyTorch uses the name to keep quantization off this layer)."""


class MultiheadAttention(Module):
    """Multi-head attention: concat(head_1 .. head_h) W_O, head_i = attention(Q W_Q^i, K W_K^i, V W_V^i).

    Args:
        embed_dim: E, the model width; split into ``num_heads`` heads of ``E / num_heads``.
        num_heads: number of heads (must divide E).
        dropout: dropout on the attention weights while training.
        bias: learn ``in_proj_bias`` and ``out_proj.bias``.
        add_bias_kv: learn one extra key and value (``bias_k``, ``bias_v``, (1, 1, E)) appended to
            the sequence.
        add_zero_attn: append a zero key and value (per head) after the projections.
        kdim, vdim: widths of key and value when they differ from E; then W_Q, W_K, W_V are separate
            parameters ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim), ``v_proj_weight``
            (E, vdim) instead of ``in_proj_weight`` (3E, E).
        batch_first: inputs are (N, L, E) instead of (L, N, E).

    Shape:
        query: (L, N, E) or (N, L, E) with batch_first, or (L, E) unbatched; key: (S, N, kdim);
        value: (S, N, vdim); key_padding_mask: (N, S) or (S,); attn_mask: (L, S) or (N * num_heads, L, S).
        Returns output (L, N, E) (batch_first: (N, L, E)) and weights (N, L, S), or
        (N, num_heads, L, S) with ``average_attn_weights=False``, or None without ``need_weights``.

    >>> mha = MultiheadAttention(768, 12)
    >>> sum(p.numel() for p in mha.parameters()) == 4 * 768 * 768 + 4 * 768, mha.head_dim
    (True, 64)
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            # PyTorch: ValueError for a size <= 0, an assert for divisibility (this is both)
            raise ArgumentAssertionError(
                f"MultiheadAttention: expected embed_dim divisible by num_heads (both > 0), got "
                f"embed_dim={embed_dim} and num_heads={num_heads}"
            )
        dt = dtype if dtype is not None else dtypes.get_default_dtype()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, dtype=dt))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.register_parameter("in_proj_weight", None)
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, dtype=dt))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, dtype=dt))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, dtype=dt))
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, dtype=dt))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, dtype=dt)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, dtype=dt))
            self.bias_v = Parameter(empty(1, 1, embed_dim, dtype=dt))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """Xavier-uniform W_Q, W_K, W_V; zero input and output biases; Xavier-normal bias_k/v (as PyTorch)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    # ------------------------------------------------------------------ projections
    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Q, K, V = query W_Q^T + b_Q, ... on (N, *, width) inputs; self-attention is one matmul."""
        E, b = self.embed_dim, self.in_proj_bias
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if query is key and key is value:
                return F.linear(query, w, b).chunk(3, dim=-1)  # (N, L, 3E) -> 3 x (N, L, E)
            ws = (w[:E], w[E : 2 * E], w[2 * E :])
        else:
            ws = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        bs = (None, None, None) if b is None else (b[:E], b[E : 2 * E], b[2 * E :])
        return tuple(F.linear(x, w, bb) for x, w, bb in zip((query, key, value), ws, bs))

    def _heads(self, x: Tensor) -> Tensor:
        n, t, _ = x.shape
        return x.reshape(n, t, self.num_heads, self.head_dim).transpose(1, 2)  # (N, T, E) -> (N, h, T, E/h)

    def _join(self, x: Tensor) -> Tensor:
        n, _, t, _ = x.shape
        return x.transpose(1, 2).reshape(n, t, self.embed_dim)  # (N, h, T, E/h) -> (N, T, E)

    def _check(self, query: Tensor, key: Tensor, value: Tensor) -> bool:
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            # PyTorch's _mha_shape_check asserts: an AssertionError too
            raise AttentionMaskShapeError(
                f"MultiheadAttention: expected query, key and value all 3-D (batched) or all 2-D "
                f"(unbatched), got {query.shape}, {key.shape} and {value.shape}"
            )
        widths = (query.shape[-1], key.shape[-1], value.shape[-1])
        if widths != (self.embed_dim, self.kdim, self.vdim) or key.shape[:-1] != value.shape[:-1]:
            # PyTorch asserts these (a kdim mismatch of packed weights: RuntimeError; this is both)
            raise AttentionMaskShapeError(
                f"MultiheadAttention: expected query (..., {self.embed_dim}), key (..., {self.kdim}) and value "
                f"(..., {self.vdim}) with matching key/value lengths, got {query.shape}, {key.shape} and "
                f"{value.shape}"
            )
        b = 0 if self.batch_first else 1
        if batched and key.shape[b] != query.shape[b]:  # (matmul would broadcast a batch of 1)
            raise ShapeError(
                f"MultiheadAttention: expected query and key of one batch size (dim {b}), got "
                f"{query.shape} and {key.shape}"
            )
        return batched

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        native = mha_fast_path(self, query, key, value, attn_mask, key_padding_mask)
        return self._attend(
            query,
            key,
            value,
            key_padding_mask,
            need_weights,
            attn_mask,
            average_attn_weights,
            is_causal,
            native,
        )

    def _attend(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Any,
        need_weights: bool,
        attn_mask: Any,
        average_attn_weights: bool,
        is_causal: bool,
        native: bool,
    ) -> tuple[Tensor, Tensor | None]:
        """``forward``'s computation; ``native``: as PyTorch's fused inference kernels compute it
        (``transformer_fastpath``), which take no causal hint and give NaN for a query whose keys
        are all masked. Outside them the hint needs its mask, and such a query gets NaN with the
        weights (softmax's 0/0) and 0 through SDPA without them, as in PyTorch."""
        batched = self._check(query, key, value)
        check_mask_ranks(batched, attn_mask, key_padding_mask, self.num_heads, query.shape[-2], key.shape[-2])
        same = (query is key, key is value)
        if not batched:  # (L, E) -> (1, L, E)
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                kpm = key_padding_mask
                key_padding_mask = kpm.unsqueeze(0) if isinstance(kpm, Tensor) else np.asarray(kpm)[None]
        elif not self.batch_first:  # (L, N, E) -> (N, L, E)
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        if same[0] and same[1]:
            key = value = query
        elif same[1]:
            value = key
        static = self.__dict__.get("_static_kv")  # F.multi_head_attention_forward's static_k/v
        N, L, S = query.shape[0], query.shape[1], static_source_len(static, key.shape[1])
        H, dt = self.num_heads, query._data.dtype
        for name, m in (("key_padding_mask", key_padding_mask), ("attn_mask", attn_mask)):  # PyTorch's order
            if isinstance(m, Tensor) and m._data.dtype.kind != "f" and m._data.dtype != np.bool_:
                # PyTorch's F._canonical_mask: its class and words (an int 0/1 mask is ambiguous)
                raise AssertionError(f"only bool and floating types of {name} are supported")
        if native:
            is_causal = False
        elif is_causal and attn_mask is None:
            raise RuntimeError(
                "Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                "method `generate_square_subsequent_mask` to create this mask."
            )
        # PyTorch hands the hint to SDPA in place of the mask when it needs no weights and has no
        # padding mask: the top-left triangle over every key column, bias_k's and the zero one too
        # (a meta query keeps the given mask: shapes only, and the hint's would be a CPU array)
        hint = is_causal and key_padding_mask is None and not need_weights and not query.is_meta
        if hint:
            attn_mask = None
        both = isinstance(key_padding_mask, Tensor) and isinstance(attn_mask, Tensor)
        if both and key_padding_mask.dtype != attn_mask.dtype:
            # PyTorch's F._canonical_mask warns so; the masks still merge
            warnings.warn(
                "Support for mismatched key_padding_mask and attn_mask is deprecated. Use same type for both instead.",
                stacklevel=user_stacklevel(),
            )
        if need_weights and not native:
            _check_weights_mask_dtype(attn_mask, key_padding_mask, dt)
        mask = self._mask(attn_mask, key_padding_mask, N, L, S, batched, dt)

        q, k, v = self._project(query, key, value)  # (N, L, E), (N, S, E), (N, S, E)
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(N, 1, self.embed_dim)], dim=1)  # (N, S, E) -> (N, S+1, E)
            v = cat([v, self.bias_v.expand(N, 1, self.embed_dim)], dim=1)
            mask = None if mask is None else _pad_key(mask)
        q, k, v = self._heads(q), self._heads(k), self._heads(v)  # (N, T, E) -> (N, h, T, E/h)
        if static is not None:
            k, v = use_static_kv(static, k, v, N, H, self.head_dim)
        if self.add_zero_attn:
            zero = zeros(N, H, 1, self.head_dim, dtype=dt, device=k.device)
            k, v = cat([k, zero], dim=2), cat([v, zero], dim=2)  # (N, h, S, E/h) -> (N, h, S+1, E/h)
            mask = None if mask is None else _pad_key(mask)
        if hint:
            mask = _blocked_to_sdpa(~np.tril(np.ones((L, k.shape[2]), dtype=bool)), dt)

        attn_mask_t = None if mask is None else Tensor(mask, _wrap=True)
        safe = not (native or need_weights)  # PyTorch's SDPA path: 0 for a fully masked query
        w = attention_weights(q, k, attn_mask_t, zero_blocked_rows=safe)  # (N, h, L, S)
        if self.training and self.dropout > 0.0:
            w = F.dropout(w, self.dropout, training=True)
        out = matmul(w, v)  # (N, h, L, S) @ (N, h, S, E/h) -> (N, h, L, E/h)
        # PyTorch reads out_proj's weight and bias rather than calling the module, so hooks on
        # out_proj never fire and a wrapper put in its place is not run
        out = F.linear(
            self._join(out), self.out_proj.weight, self.out_proj.bias
        )  # (N, h, L, E/h) -> (N, L, E)
        if not batched:
            out = out.squeeze(0)  # (1, L, E) -> (L, E)
        elif not self.batch_first:
            out = out.transpose(0, 1)  # (N, L, E) -> (L, N, E)
        if not need_weights:
            return out, None
        if average_attn_weights:
            w = w.mean(1)  # (N, h, L, S) -> (N, L, S)
        return out, (w if batched else w.squeeze(0))

    def _mask(
        self, attn_mask: Any, key_padding_mask: Any, N: int, L: int, S: int, batched: bool, dt: Any
    ) -> Any:
        """attn_mask and key_padding_mask merged into one SDPA-convention array of shape
        broadcastable to (N, h, L, S), or None."""
        merged = None
        if attn_mask is not None:
            m = _blocked_to_sdpa(attn_mask, dt)
            if m.shape == (L, S):
                pass
            elif m.ndim == 3 and m.shape == ((N if batched else 1) * self.num_heads, L, S):
                m = m.reshape(N, self.num_heads, L, S)  # (N*h, L, S) -> (N, h, L, S)
            else:
                raise ShapeError(
                    f"MultiheadAttention: expected attn_mask of shape {(L, S)} or "
                    f"{((N if batched else 1) * self.num_heads, L, S)}, got {m.shape}"
                )
            merged = m
        if key_padding_mask is not None:
            m = _blocked_to_sdpa(key_padding_mask, dt)
            if m.shape != (N, S):
                raise AttentionMaskShapeError(
                    f"MultiheadAttention: expected key_padding_mask of shape {(N, S) if batched else (S,)}, "
                    f"got {m.shape if batched else m.shape[1:]}"
                )
            merged = _merge(merged, m[:, None, None, :], dt)  # (N, S) -> (N, 1, 1, S)
        return merged
