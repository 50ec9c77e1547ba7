"""Position information for attention, which by itself ignores order: a fixed sinusoidal table, a learned
table, and rotary embeddings (RoPE).

The first two are *added* to the token embeddings; rotary embeddings instead *rotate* each query and
key, pair of coordinates by pair, by an angle proportional to the position, so that the score
q_m . k_n depends on m - n only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.errors import ShapeError
from glassgrad.factories import empty
from glassgrad.nn import init
from glassgrad.nn.dropout import Dropout
from glassgrad.nn.module import Module, Parameter
from glassgrad.ops.joining import cat
from glassgrad.tensor import Tensor

__all__ = ["SinusoidalPositionalEncoding", "LearnedPositionalEmbedding", "RotaryEmbedding"]


def sinusoidal_table(max_len: int, d_model: int) -> np.ndarray:
    """PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(pos / 10000^(2i/d)), float64 (max_len, d)."""
    pos = np.arange(max_len)[:, None]  # (max_len, 1)
    two_i = np.arange(0, d_model, 2)  # (ceil(d/2),)
    angle = pos / 10000.0 ** (two_i / d_model)  # (max_len, ceil(d/2))
    pe = np.zeros((max_len, d_model))
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle[:, : d_model // 2])  # an odd d has one sine more than cosines
    return pe


def _positions(module: Module, x: Tensor, offset: int, max_len: int) -> tuple[int, int]:
    """(time dim, length) of ``x`` for a module with ``batch_first``, checked against ``max_len``."""
    t_dim = x.ndim - 2 if module.batch_first or x.ndim < 3 else 0
    T = x.shape[t_dim]
    if offset < 0 or offset + T > max_len:
        raise ShapeError(
            f"{type(module).__name__}: expected positions offset + T <= max_len={max_len}, got offset={offset}, "
            f"input {x.shape}"
        )
    return t_dim, T


def _add_table(x: Tensor, table: Tensor, t_dim: int) -> Tensor:
    if t_dim == 0 and x.ndim == 3:
        return x + table.unsqueeze(1)  # (T, d) -> (T, 1, d): broadcast over the batch of (T, N, d)
    return x + table  # (T, d) broadcasts over the leading dims of (*, T, d)


class SinusoidalPositionalEncoding(Module):
    """Adds the fixed sinusoidal table of "Attention Is All You Need" to its input, then dropout.

    Each pair of columns (2i, 2i+1) is a sine/cosine at frequency 1 / 10000^(2i/d): fast in the
    first columns, slow in the last, so every position gets a distinct code, and PE[pos + k] is a
    fixed rotation of PE[pos] for each pair.

    Args:
        d_model: the embedding width d.
        max_len: the longest sequence.
        dropout: dropout after the addition (the original uses 0.1).
        batch_first: input (N, T, d) (default) or (T, N, d).

    Shape:
        input (N, T, d), (T, N, d) or (T, d); returns the same. Buffer ``pe``: (max_len, d).

    >>> pe = SinusoidalPositionalEncoding(4, max_len=3)
    >>> pe.pe
    tensor([[ 0.0000,  1.0000,  0.0000,  1.0000],
            [ 0.8415,  0.5403,  0.0100,  0.9999],
            [ 0.9093, -0.4161,  0.0200,  0.9998]])
    """

    def __init__(
        self,
        d_model: int,
        max_len: int = 5000,
        dropout: float = 0.0,
        batch_first: bool = True,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        dt = dtypes.to_np_dtype(dtype if dtype is not None else dtypes.get_default_dtype())
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.dropout = Dropout(dropout)
        self.register_buffer("pe", Tensor(sinusoidal_table(max_len, d_model).astype(dt), _wrap=True))

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        """x plus the codes of positions offset .. offset + T - 1 (offset for decoding step by step)."""
        t_dim, T = _positions(self, x, offset, self.max_len)
        return self.dropout(_add_table(x, self.pe[offset : offset + T], t_dim))

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}"


class LearnedPositionalEmbedding(Module):
    """Adds a learned vector per position (GPT's ``wpe``): ``x + weight[offset : offset + T]``.

    Args:
        max_len: the longest sequence (rows of ``weight``).
        d_model: the embedding width.
        batch_first: input (N, T, d) (default) or (T, N, d).

    Shape:
        input (N, T, d), (T, N, d) or (T, d); returns the same. ``weight``: (max_len, d), init N(0, 1)
        as ``nn.Embedding``.
    """

    def __init__(self, max_len: int, d_model: int, batch_first: bool = True, dtype: Any = None) -> None:
        super().__init__()
        self.max_len, self.d_model, self.batch_first = max_len, d_model, batch_first
        self.weight = Parameter(
            empty(max_len, d_model, dtype=dtype if dtype is not None else dtypes.get_default_dtype())
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        t_dim, T = _positions(self, x, offset, self.max_len)
        return _add_table(x, self.weight[offset : offset + T], t_dim)

    def extra_repr(self) -> str:
        return f"{self.max_len}, {self.d_model}"


class RotaryEmbedding(Module):
    """Rotary position embedding (RoPE): rotate each query/key by its position.

    Coordinate j of the first half and coordinate j of the second half form a pair (the "rotate
    half" layout of GPT-NeoX and Llama), rotated by the angle pos * theta_j with
    theta_j = base^(-2j / head_dim). A rotation keeps norms, and R(m)^T R(n) = R(n - m), so
    q_m . k_n depends only on n - m. Apply it to queries and keys (not values) after the head split.

    Args:
        head_dim: the per-head width (even).
        base: the frequency base (10000 in the RoFormer paper).

    Shape:
        input (*, T, head_dim), usually (B, H, T, head_dim); returns the same. Buffer ``inv_freq``
        (head_dim / 2,) is not saved in the state dict.
    """

    def __init__(self, head_dim: int, base: float = 10000.0) -> None:
        super().__init__()
        if head_dim <= 0 or head_dim % 2:
            raise ValueError(f"RotaryEmbedding: expected an even head_dim > 0, got {head_dim}")
        self.head_dim, self.base = head_dim, base
        inv_freq = base ** (-np.arange(0, head_dim, 2) / head_dim)  # (head_dim/2,): theta_j
        self.register_buffer("inv_freq", Tensor(inv_freq, _wrap=True), persistent=False)

    def cos_sin(self, T: int, offset: int = 0, dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
        """cos and sin of pos * theta_j for pos = offset .. offset + T - 1, each (T, head_dim / 2)."""
        angle = np.arange(offset, offset + T)[:, None] * self.inv_freq._data[None, :]  # (T, 1) * (1, D/2)
        return np.cos(angle).astype(dtype), np.sin(angle).astype(dtype)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        """x rotated by the positions offset .. offset + T - 1 (offset = tokens already in a KV cache)."""
        if x.ndim < 2 or x.shape[-1] != self.head_dim:
            raise ShapeError(f"RotaryEmbedding: expected input (*, T, {self.head_dim}), got {x.shape}")
        cos, sin = self.cos_sin(x.shape[-2], offset, x._data.dtype)
        c, s = Tensor(cos, _wrap=True), Tensor(sin, _wrap=True)
        half = self.head_dim // 2
        x1, x2 = x[..., :half], x[..., half:]  # (*, T, D) -> 2 x (*, T, D/2)
        return cat(
            [x1 * c - x2 * s, x2 * c + x1 * s], dim=-1
        )  # each pair (x1_j, x2_j) rotated by pos theta_j

    def extra_repr(self) -> str:
        return f"head_dim={self.head_dim}, base={self.base}"
