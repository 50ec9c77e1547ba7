"""Why PyTorch's Transformer encoder would not take its nested-tensor fast path, for its warning.

glassgrad has no nested tensors and no fast path; ``TransformerEncoder`` keeps PyTorch's
attributes (``enable_nested_tensor``, ``use_nested_tensor``, ``mask_check``) and gives PyTorch's
``UserWarning`` when ``enable_nested_tensor=True`` asks for the path and the layer rules it out
(``batch_first=False``, pre-norm, an odd number of heads ...), so a ported script prints what it
printed under PyTorch. The reasons are PyTorch's, in its order and words.
"""

from __future__ import annotations

import warnings
from typing import Any

import glassgrad.nn.functional as F
from glassgrad.user_frames import user_stacklevel

__all__ = ["relu_or_gelu", "why_not_nested", "use_nested_tensor"]


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
