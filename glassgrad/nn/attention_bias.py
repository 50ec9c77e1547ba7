"""``torch.nn.attention.bias``: causal masks for queries and keys of different lengths.

With L queries and S keys, a causal mask can be aligned two ways:

- **upper left** (``causal_upper_left``, the same as ``is_causal=True``): query i sees keys
  0..i, so the first query is aligned with the first key;
- **lower right** (``causal_lower_right``): query i sees keys 0..i + (S - L), so the last query
  is aligned with the last key; this is the mask for decoding L new tokens after S - L cached
  ones.

A ``CausalBias`` is a Tensor holding that bool mask (True = attend, SDPA's convention), so it
can be passed as ``attn_mask`` to ``F.scaled_dot_product_attention``, printed, and used in any
other op as a bool tensor. PyTorch's ``CausalBias`` is a data-less wrapper whose dtype reads
``float32`` and which refuses other ops; here the dtype is ``bool`` (the mask it stands for).

>>> from glassgrad.nn.attention.bias import causal_lower_right, causal_upper_left
>>> causal_upper_left(2, 4)
tensor([[ True, False, False, False],
        [ True,  True, False, False]])
>>> causal_lower_right(2, 4)
tensor([[ True,  True,  True, False],
        [ True,  True,  True,  True]])
"""

from __future__ import annotations

import enum
import warnings
from typing import Any

import numpy as np

from glassgrad.tensor import Tensor
from glassgrad.torch_function import _disabled_torch_function_impl
from glassgrad.user_frames import user_stacklevel

__all__ = ["CausalBias", "CausalVariant", "causal_lower_right", "causal_upper_left"]


class CausalVariant(enum.IntEnum):
    """How the causal mask is aligned when there are not as many queries as keys."""

    UPPER_LEFT = 1
    LOWER_RIGHT = 2


def _mask(variant: CausalVariant, seq_len_q: int, seq_len_kv: int) -> np.ndarray:
    """The (L, S) bool mask: key j is visible to query i when j <= i (+ S - L for lower right)."""
    offset = 0 if variant is CausalVariant.UPPER_LEFT else seq_len_kv - seq_len_q
    return np.tri(seq_len_q, seq_len_kv, k=offset, dtype=bool)


class CausalBias(Tensor):
    """A causal attention mask of shape (seq_len_q, seq_len_kv), aligned as ``variant`` says.

    Args:
        variant: ``CausalVariant.UPPER_LEFT`` or ``CausalVariant.LOWER_RIGHT``.
        seq_len_q: L, the number of queries.
        seq_len_kv: S, the number of keys (and values).

    Shape:
        (L, S), bool; broadcasts over the (batch, heads) dims of SDPA's scores (*, L, S).
    """

    # SDPA reads the mask itself; other ops give plain Tensors
    __torch_function__ = _disabled_torch_function_impl

    def __init__(self, variant: CausalVariant, seq_len_q: int, seq_len_kv: int) -> None:
        if not isinstance(variant, CausalVariant):
            raise TypeError(f"CausalBias: expected a CausalVariant, got {type(variant).__name__}")
        for name, n in (("seq_len_q", seq_len_q), ("seq_len_kv", seq_len_kv)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
                raise ValueError(f"CausalBias: expected {name} to be an int >= 0, got {n!r}")
        super().__init__(_mask(variant, int(seq_len_q), int(seq_len_kv)), _wrap=True)
        self.variant = variant
        self.seq_len_q = int(seq_len_q)
        self.seq_len_kv = int(seq_len_kv)

    def _materialize(self, device: Any = None) -> Tensor:
        """The mask as a plain bool Tensor (PyTorch's private spelling, kept for scripts)."""
        return Tensor(self._data.copy(), _wrap=True)


# The public path, as PyTorch names it (``type(bias)`` prints torch.nn.attention.bias.CausalBias).
CausalBias.__module__ = "glassgrad.nn.attention.bias"


def _sizes(op: str, size: tuple) -> tuple[int, int]:
    if len(size) != 2:
        raise ValueError(f"{op}: expected 2 sizes (seq_len_q, seq_len_kv), got {len(size)}: {size}")
    return size[0], size[1]


def causal_upper_left(*size: int) -> CausalBias:
    """The causal mask with query i seeing keys 0..i (as ``is_causal=True``).

    Shape:
        ``causal_upper_left(L, S)`` is (L, S).
    """
    return CausalBias(CausalVariant.UPPER_LEFT, *_sizes("causal_upper_left", size))


def causal_lower_right(*size: int) -> CausalBias:
    """The causal mask with the last query seeing every key: query i sees keys 0..i + S - L.

    With L > S the first L - S queries see no key; their attention output is 0 (glassgrad's and
    PyTorch's math path), and a warning says so, as PyTorch warns.

    Shape:
        ``causal_lower_right(L, S)`` is (L, S).
    """
    seq_len_q, seq_len_kv = _sizes("causal_lower_right", size)
    if isinstance(seq_len_q, int) and isinstance(seq_len_kv, int) and seq_len_q > seq_len_kv:
        warnings.warn(
            f"causal_lower_right: with seq_len_q {seq_len_q} > seq_len_kv {seq_len_kv} the first "
            f"{seq_len_q - seq_len_kv} queries attend to no key (their attention output is 0)",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    return CausalBias(CausalVariant.LOWER_RIGHT, seq_len_q, seq_len_kv)
