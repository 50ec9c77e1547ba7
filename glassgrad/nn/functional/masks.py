"""Attention masks: look-ahead (causal), key padding and local window.

Two conventions meet here, both PyTorch's. ``F.scaled_dot_product_attention`` takes bool masks
that are True where a query MAY attend; ``nn.MultiheadAttention``'s ``attn_mask`` and every
``*_key_padding_mask`` are True where it may NOT. ``causal_mask`` and ``local_window_mask`` follow
the first ("allowed"); ``padding_mask`` follows the second (True at padding), because that is where
it is used. Invert with ``~`` to switch. None of these carries a gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.errors import ShapeError
from glassgrad.tensor import Tensor

__all__ = ["causal_mask", "local_window_mask", "padding_mask"]


def _offsets(L: int, S: int | None) -> np.ndarray:
    """key index minus query index, (L, S)."""
    S = L if S is None else S
    return np.arange(S)[None, :] - np.arange(L)[:, None]  # (1, S) - (L, 1) -> (L, S)


def causal_mask(L: int, S: int | None = None, device: Any = None) -> Tensor:
    """True where query i may see key j, i.e. j <= i (the look-ahead mask, SDPA's convention).

    Shape:
        returns (L, S), S defaults to L.

    >>> causal_mask(3)
    tensor([[ True, False, False],
            [ True,  True, False],
            [ True,  True,  True]])
    """
    return Tensor(_offsets(L, S) <= 0, _wrap=True)


def local_window_mask(L: int, window: int, S: int | None = None, causal: bool = False) -> Tensor:
    """True where |j - i| <= window: query i sees keys i-window .. i+window (only up to i if causal).

    Shape:
        returns (L, S), S defaults to L.

    >>> local_window_mask(4, 1).int()
    tensor([[1, 1, 0, 0],
            [1, 1, 1, 0],
            [0, 1, 1, 1],
            [0, 0, 1, 1]], dtype=glassgrad.int32)
    """
    if window < 0:
        raise ValueError(f"local_window_mask: expected window >= 0, got {window}")
    d = _offsets(L, S)
    allowed = np.abs(d) <= window
    return Tensor(allowed & (d <= 0) if causal else allowed, _wrap=True)


def padding_mask(lengths: Any, max_len: int | None = None) -> Tensor:
    """True at padding: position t of sequence b is padding when t >= lengths[b]
    (PyTorch's ``key_padding_mask`` convention; ``~`` gives SDPA's "attend" mask).

    Shape:
        lengths: (B,) ints; returns (B, max_len), max_len defaulting to max(lengths).

    >>> padding_mask([2, 3])
    tensor([[False, False,  True],
            [False, False, False]])
    """
    n = np.asarray(lengths._data if isinstance(lengths, Tensor) else lengths)
    if n.ndim != 1:
        raise ShapeError(f"padding_mask: expected lengths of shape (B,), got {n.shape}")
    T = int(n.max()) if max_len is None and n.size else int(max_len or 0)
    return Tensor(np.arange(T)[None, :] >= n[:, None], _wrap=True)  # (1, T) >= (B, 1) -> (B, T)
