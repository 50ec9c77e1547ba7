"""``F.multi_head_attention_forward``: ``nn.MultiheadAttention``'s computation on weights the caller
holds (CLIP's ``AttentionPool2d`` passes separate q/k/v Linear weights; port round 26).

The computation is ``MultiheadAttention.forward``'s own: its methods run on a small holder of the
given tensors, so masks, ``bias_k``/``bias_v``, ``add_zero_attn``, dropout and the returned weights
follow the module exactly. Inputs are sequence-first, ``(L, N, E)``, or unbatched ``(L, E)``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from glassgrad.errors import AttentionMaskShapeError, ShapeError
from glassgrad.tensor import Tensor

__all__ = ["multi_head_attention_forward", "check_mask_ranks", "static_source_len", "use_static_kv"]


def check_mask_ranks(
    batched: bool, attn_mask: Any, key_padding_mask: Any, num_heads: int, L: int, S: int
) -> None:
    """PyTorch's ``_mha_shape_check`` of the masks, run before the ``is_causal`` hint may drop
    ``attn_mask``: ``key_padding_mask`` (N, S), or (S,) unbatched; ``attn_mask`` 2-D or 3-D, and
    unbatched a 3-D one (num_heads, L, S). Raises ``AttentionMaskShapeError`` (an AssertionError)."""
    kpm_dims = 2 if batched else 1
    kind = "batched (3-D)" if batched else "unbatched (2-D)"
    if key_padding_mask is not None and key_padding_mask.ndim != kpm_dims:
        raise AttentionMaskShapeError(
            f"For {kind} `query`, expected `key_padding_mask` to be `None` or {kpm_dims}-D"
            f" but found {key_padding_mask.ndim}-D tensor instead"
        )
    if attn_mask is None:
        return
    if attn_mask.ndim not in (2, 3):
        raise AttentionMaskShapeError(
            f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D"
            f" but found {attn_mask.ndim}-D tensor instead"
        )
    if not batched and attn_mask.ndim == 3 and tuple(attn_mask.shape) != (num_heads, L, S):
        raise AttentionMaskShapeError(
            f"Expected `attn_mask` shape to be {(num_heads, L, S)} but got {tuple(attn_mask.shape)}"
        )


def static_source_len(static: Any, S: int) -> int:
    """The key length the masks are checked against: a given ``static_k`` (N*h, S', E/h) replaces
    the projected keys, so ``key_padding_mask`` is (N, S') as in PyTorch; else the key's S."""
    if static is None or static[0] is None:
        return S
    return static[0].shape[1]


def use_static_kv(static: Any, k: Tensor, v: Tensor, N: int, H: int, hd: int) -> tuple[Tensor, Tensor]:
    """Put ``static_k``/``static_v`` (N*h, S', E/h), row ``n*h + i`` for batch n and head i, in
    place of the projected per-head keys/values (N, h, S, E/h). PyTorch checks the sizes with
    ``assert``: ``AttentionMaskShapeError`` is an AssertionError too."""
    out = []
    for name, given, x in (("static_k", static[0], k), ("static_v", static[1], v)):
        if given is None:
            out.append(x)
            continue
        if given.ndim != 3 or given.shape[0] != N * H or given.shape[2] != hd:
            raise AttentionMaskShapeError(
                f"multi_head_attention_forward: expected {name} of shape ({N * H}, S, {hd}) "
                f"(batch*num_heads, source length, head_dim), got {tuple(given.shape)}"
            )
        out.append(given.reshape(N, H, given.shape[1], hd))  # (N*h, S', E/h) -> (N, h, S', E/h)
    return out[0], out[1]


def _holder() -> type:
    """A class carrying MultiheadAttention's forward and helpers, without being a Module (the weights
    stay the caller's tensors, not Parameters of a new layer)."""
    from glassgrad.nn.attention import MultiheadAttention as M  # (nn.attention imports F: no cycle at load)

    names = ("_attend", "_check", "_project", "_heads", "_join", "_mask")
    return type("_MultiHeadAttentionCall", (), {n: getattr(M, n) for n in names})


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention with the given projection weights (see ``nn.MultiheadAttention``).

    Shape:
        query ``(L, N, E)`` or ``(L, E)``; key ``(S, N, kdim)``; value ``(S, N, vdim)``;
        ``in_proj_weight`` ``(3E, E)``, or with ``use_separate_proj_weight`` ``q/k/v_proj_weight``
        ``(E, E)``, ``(E, kdim)``, ``(E, vdim)``; ``in_proj_bias`` ``(3E,)``; ``out_proj_weight`` ``(E, E)``;
        ``static_k``/``static_v`` ``(N*h, S', E/h)`` used as the per-head keys/values in place of
        the projected ones (then ``key_padding_mask`` is ``(N, S')``).
        Returns output ``(L, N, E)`` and weights ``(N, L, S)`` (per head ``(N, h, L, S)`` without
        ``average_attn_weights``), or None without ``need_weights``.
    """
    # PyTorch asserts so: bias_k/bias_v append to the projected keys, which static ones replace
    if static_k is not None and bias_k is not None:
        raise AttentionMaskShapeError("bias cannot be added to static key.")
    if static_v is not None and bias_v is not None:
        raise AttentionMaskShapeError("bias cannot be added to static value.")
    E = query.shape[-1]
    if embed_dim_to_check != E or num_heads <= 0 or E % num_heads:
        raise ShapeError(
            f"multi_head_attention_forward: expected query width {embed_dim_to_check} divisible by "
            f"num_heads={num_heads}, got query of shape {tuple(query.shape)}"
        )
    h = _holder()()
    h.embed_dim, h.num_heads, h.head_dim = E, num_heads, E // num_heads
    h.kdim, h.vdim = key.shape[-1], value.shape[-1]
    h._qkv_same_embed_dim = not use_separate_proj_weight
    if use_separate_proj_weight:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise ValueError(
                "multi_head_attention_forward: use_separate_proj_weight=True needs q_proj_weight, "
                "k_proj_weight and v_proj_weight"
            )
    elif in_proj_weight is None:
        raise ValueError(
            "multi_head_attention_forward: expected in_proj_weight (or use_separate_proj_weight=True)"
        )
    h.in_proj_weight, h.in_proj_bias = in_proj_weight, in_proj_bias
    h.q_proj_weight, h.k_proj_weight, h.v_proj_weight = q_proj_weight, k_proj_weight, v_proj_weight
    h.bias_k, h.bias_v, h.add_zero_attn = bias_k, bias_v, add_zero_attn
    h.dropout, h.training, h.batch_first = dropout_p, training, False
    h.out_proj = SimpleNamespace(weight=out_proj_weight, bias=out_proj_bias)
    h._static_kv = None if static_k is None and static_v is None else (static_k, static_v)
    # never PyTorch's fused path: that is the module's alone
    args = (key_padding_mask, need_weights, attn_mask, average_attn_weights, is_causal, False)
    return h._attend(query, key, value, *args)
