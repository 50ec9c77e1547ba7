"""PyTorch's inference fast paths of ``MultiheadAttention`` and the Transformer encoder: when
they run, and what they return that the plain path does not.

glassgrad has no fused kernels and no nested tensors, but a ported script must get PyTorch's
values, and those paths' values differ where the plain path's are defined otherwise:

- ``_native_multi_head_attention`` (MultiheadAttention in eval without grad, self-attention,
  ``batch_first`` ...) and ``_transformer_encoder_layer_fwd`` (the encoder layer's) ignore the
  ``is_causal`` hint and give NaN for a query whose keys are all masked (SDPA's plain path: 0);
  the encoder layer's also reads a float mask as bool, blocked wherever it is not 0;
- the encoder's nested-tensor path (eval, a left-aligned ``src_key_padding_mask``, no ``mask``)
  runs each sequence on its first unpadded tokens and returns 0 at the padded positions
  (without PyTorch's once-per-process warning that its nested-tensor API is a prototype: there
  are no nested tensors here, and its advice, ``layout=torch.jagged``, would not apply).

The predicates below are PyTorch's conditions (``torch.backends.mha.get_fastpath_enabled()``,
mode, grad, layout, options). ``TransformerEncoder`` also keeps PyTorch's attributes
(``enable_nested_tensor``, ``use_nested_tensor``, ``mask_check``) and gives PyTorch's
``UserWarning`` when ``enable_nested_tensor=True`` asks for the path and the layer rules it out;
the reasons are PyTorch's, in its order and words.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

import glassgrad.nn.functional as F
from glassgrad import dtypes
from glassgrad.amp.autocast_mode import is_autocast_enabled
from glassgrad.autograd.grad_mode import is_grad_enabled
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "get_fastpath_enabled",
    "set_fastpath_enabled",
    "relu_or_gelu",
    "why_not_nested",
    "use_nested_tensor",
    "mha_fast_path",
    "encoder_layer_fast_path",
    "nested_padding",
    "canonical_mask",
    "detect_is_causal",
    "encoder_layer_blocks",
]

_FASTPATH = {"enabled": True}


def get_fastpath_enabled() -> bool:
    """``torch.backends.mha.get_fastpath_enabled``: whether the fast paths may run (default True)."""
    return _FASTPATH["enabled"]


def set_fastpath_enabled(value: bool) -> None:
    """``torch.backends.mha.set_fastpath_enabled``: allow or forbid the fast paths."""
    _FASTPATH["enabled"] = bool(value)


def _is_float(mask: Any) -> bool:
    return isinstance(mask, Tensor) and mask.is_floating_point()


def _recording(*tensors: Any) -> bool:
    """Grad enabled and one of ``tensors`` requires grad: PyTorch then keeps the plain path."""
    return is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


def relu_or_gelu(activation: Any) -> int:
    """PyTorch's ``activation_relu_or_gelu``: 1 for relu, 2 for gelu (function or module), else 0."""
    from glassgrad.nn.activation import GELU, ReLU

    if activation == F.relu or isinstance(activation, ReLU):  # == : F.relu may be an Overridable
        return 1
    if activation == F.gelu or isinstance(activation, GELU):
        return 2
    return 0


def why_not_nested(layer: Any, layer_cls: type) -> str:
    """The first reason ``layer`` rules out the fast path, or "" if none."""
    name = "encoder_layer"
    if not isinstance(layer, layer_cls):
        return f"{name} was not TransformerEncoderLayer"
    attn = layer.self_attn
    reasons = (
        (layer.norm_first, f"{name}.norm_first was True"),
        # (no space before the parenthesis: PyTorch's text)
        (
            not attn.batch_first,
            f"{name}.self_attn.batch_first was not True(use batch_first for better inference performance)",
        ),
        (not attn._qkv_same_embed_dim, f"{name}.self_attn._qkv_same_embed_dim was not True"),
        (attn.in_proj_bias is None, f"{name}.self_attn was passed bias=False"),
        (not relu_or_gelu(layer.activation), f"{name}.activation_relu_or_gelu was not True"),
        (layer.norm1.eps != layer.norm2.eps, f"{name}.norm1.eps was not equal to {name}.norm2.eps"),
        (attn.num_heads % 2 == 1, f"{name}.self_attn.num_heads is odd"),
    )
    return next((why for ruled_out, why in reasons if ruled_out), "")


def use_nested_tensor(layer: Any, layer_cls: type, enable: bool) -> bool:
    """PyTorch's ``use_nested_tensor``: ``enable`` unless the layer rules the path out, which
    warns as PyTorch's ``TransformerEncoder`` does (called from its ``__init__``)."""
    why = why_not_nested(layer, layer_cls)
    if enable and why:
        warnings.warn(
            f"enable_nested_tensor is True, but self.use_nested_tensor is False because {why}",
            stacklevel=user_stacklevel(),
        )
        return False
    return enable


def mha_fast_path(attn: Any, query: Any, key: Any, value: Any, attn_mask: Any, key_padding_mask: Any) -> bool:
    """Whether PyTorch's ``MultiheadAttention.forward`` calls ``_native_multi_head_attention``
    (its conditions; a float mask, training, a grad to record or any option it lacks rule it out)."""
    if _is_float(attn_mask) or _is_float(key_padding_mask) or not _FASTPATH["enabled"]:
        return False
    if query.ndim != 3 or query is not key or key is not value or query.is_meta:
        return False
    w, b, out = attn.in_proj_weight, attn.in_proj_bias, attn.out_proj
    if w is None or b is None or query.dtype != w.dtype or query.dtype != b.dtype:
        return False
    if attn.training or attn.num_heads % 2 or not attn.batch_first or attn.bias_k is not None:
        return False
    if attn.bias_v is not None or attn.add_zero_attn or not attn._qkv_same_embed_dim:
        return False
    return not is_autocast_enabled() and not _recording(query, w, b, out.weight, out.bias)


def _layer_tensors(layer: Any) -> tuple:
    attn = layer.self_attn
    parts = (attn.out_proj, layer.norm1, layer.norm2, layer.linear1, layer.linear2)
    return (attn.in_proj_weight, attn.in_proj_bias, *(t for m in parts for t in (m.weight, m.bias)))


def encoder_layer_fast_path(layer: Any, src: Any) -> bool:
    """Whether PyTorch's ``TransformerEncoderLayer.forward`` calls ``_transformer_encoder_layer_fwd``."""
    attn = layer.self_attn
    if not _FASTPATH["enabled"] or src.ndim != 3 or layer.training or src.is_meta:
        return False
    if not attn.batch_first or attn.in_proj_bias is None or not attn._qkv_same_embed_dim:
        return False
    if not relu_or_gelu(layer.activation) or layer.norm1.eps != layer.norm2.eps or attn.num_heads % 2:
        return False
    if is_autocast_enabled() or any(m._forward_hooks or m._forward_pre_hooks for m in layer.modules()):
        return False
    return not _recording(src, *_layer_tensors(layer))


def nested_padding(encoder: Any, src: Any, mask: Any, key_padding_mask: Any) -> Any:
    """The (N, S) bool array of the positions PyTorch's nested-tensor path drops, or None when
    ``TransformerEncoder.forward`` would not take that path.

    The path keeps, of each sequence, as many leading tokens as its mask leaves unpadded (for a
    mask that is not left-aligned, only with ``mask_check=False``), so the result is padding
    "from the count on", whatever the mask's own pattern."""
    if key_padding_mask is None or mask is not None or src.ndim != 3 or src.is_meta:
        return None
    first = encoder.layers[0]
    if not _FASTPATH["enabled"] or not getattr(encoder, "use_nested_tensor", False) or first.training:
        return None
    kpm = key_padding_mask._data if isinstance(key_padding_mask, Tensor) else np.asarray(key_padding_mask)
    keep = ~kpm if kpm.dtype == np.bool_ else kpm == 0  # PyTorch's mask.logical_not() of its float form
    counts = keep.sum(-1, keepdims=True)  # (N, 1)
    padded = np.arange(keep.shape[-1]) >= counts  # (1, S) >= (N, 1) -> (N, S)
    if getattr(encoder, "mask_check", True) and (keep == padded).any():  # not left-aligned
        return None
    if is_autocast_enabled() or _recording(src, *_layer_tensors(first)):
        return None
    if padded.all():
        raise RuntimeError("to_padded_tensor: at least one constituent tensor should have non-zero numel")
    return padded


def canonical_mask(mask: Any, dtype: Any, name: str, other: Any = None, other_name: str = "") -> Any:
    """PyTorch's ``F._canonical_mask``, as its encoder and encoder layer apply it: a bool mask
    (True = blocked) as a float one (-inf = blocked) of ``dtype``, warning when ``other`` (the
    other mask, as given) has another dtype. Its float masks keep the MultiheadAttention inside
    off PyTorch's fused path."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        mask = Tensor(np.asarray(mask), _wrap=True)
    if mask._data.dtype.kind != "f" and mask._data.dtype != np.bool_:
        # PyTorch's class and words (F._canonical_mask): an integer 0/1 mask is ambiguous
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if isinstance(other, Tensor) and other.dtype != mask.dtype:
        warnings.warn(
            f"Support for mismatched {name} and {other_name} is deprecated. Use same type for both instead.",
            stacklevel=user_stacklevel(),
        )
    if mask._data.dtype != np.bool_:
        return mask
    return Tensor(np.where(mask._data, -np.inf, 0.0).astype(dtypes.to_np_dtype(dtype)), _wrap=True)


def detect_is_causal(mask: Any, is_causal: bool | None, src: Any, layers: Any) -> bool:
    """PyTorch's ``_detect_is_causal_mask`` in ``TransformerEncoder``/``TransformerDecoder``:
    ``is_causal=None`` with a mask equal to the look-ahead mask of the sequence length (float -inf
    or bool True above the diagonal) hands ``is_causal=True`` to every layer, as PyTorch's (a
    layer subclass reading the hint saw False); a given True/False is kept.

    Shape: src ``(S, E)``, ``(S, N, E)`` or (``batch_first``) ``(N, S, E)``; mask ``(S, S)``.
    """
    if is_causal is not None or mask is None:
        return bool(is_causal)
    batch_first = bool(getattr(getattr(layers[0], "self_attn", None), "batch_first", False))
    size = src.shape[0] if src.dim() == 2 else src.shape[1 if batch_first else 0]
    data = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if data.shape != (size, size) or data.dtype.kind not in "fb":
        return False
    upper = np.triu(np.ones((size, size), dtype=bool), 1)
    causal = upper if data.dtype == np.bool_ else np.where(upper, -np.inf, 0.0)
    return bool((data == causal).all())


def encoder_layer_blocks(
    layer: Any, src: Any, src_mask: Any, key_padding_mask: Any, is_causal: bool
) -> tuple[Callable, Callable]:
    """The attention and MLP blocks that ``TransformerEncoderLayer.forward`` composes, as PyTorch
    runs them: its fused layer (no causal hint, NaN for a fully masked query, float masks read as
    blocked where not 0), or the layer's own ``_sa_block``/``_ff_block`` on the masks in their
    float form."""
    kpm = canonical_mask(key_padding_mask, src.dtype, "src_key_padding_mask", src_mask, "src_mask")
    mask = canonical_mask(src_mask, src.dtype, "src_mask")
    if encoder_layer_fast_path(layer, src):
        attn = layer.self_attn
        # its kernel takes the masks as bool: a float one blocks wherever it is not 0, so an additive
        # bias (0.5, -2.0) blocks as -inf does instead of being added
        kpm, mask = (None if m is None else Tensor(m._data != 0, _wrap=True) for m in (kpm, mask))

        def fused_sa(x: Any) -> Any:
            return attn._attend(x, x, x, kpm, False, mask, True, False, True)[0]

        return fused_sa, lambda x: layer.linear2(layer.activation(layer.linear1(x)))
    return (lambda x: layer._sa_block(x, mask, kpm, is_causal)), layer._ff_block
