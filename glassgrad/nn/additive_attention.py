"""``AdditiveAttention``: Bahdanau attention, score(h_i, s_j) = v^T tanh(W [h_i; s_j]).

Splitting ``W`` column-wise into the part that sees the key ``h_i`` and the part that sees the
query ``s_j`` gives ``v^T tanh(W_k h_i + W_q s_j)``: the keys are projected once for every query,
and the sum broadcasts to a (queries x keys) grid, so all scores come from one tanh and one
product with ``v``. A softmax over the keys turns scores into weights, and the context is the
weighted sum of the values (the keys themselves by default).
"""

from __future__ import annotations

from typing import Any

import glassgrad.nn.functional as F
from glassgrad.errors import ShapeError
from glassgrad.nn.linear import Linear
from glassgrad.nn.module import Module
from glassgrad.tensor import Tensor

__all__ = ["AdditiveAttention"]


class AdditiveAttention(Module):
    """Bahdanau (additive) attention.

    Args:
        query_dim: size of a query ``s_j`` (e.g. the decoder state).
        key_dim: size of a key ``h_i`` (e.g. an encoder output).
        hidden_dim: size of the tanh layer (rows of ``W``).

    Attributes:
        W_q: ``Linear(query_dim, hidden_dim, bias=False)``; W_k: ``Linear(key_dim, hidden_dim)``
        (its bias is W's bias); v: ``Linear(hidden_dim, 1, bias=False)``.

    Shape:
        query ``(N, Dq)`` or ``(N, Lq, Dq)``; keys ``(N, Lk, Dk)``; values ``(N, Lk, Dv)`` (default:
        keys); key_padding_mask ``(N, Lk)`` bool, True where a key is padding ->
        ``(context, weights)``: ``(N, Dv)`` and ``(N, Lk)``, or ``(N, Lq, Dv)`` and ``(N, Lq, Lk)``.

    >>> import glassgrad as gg
    >>> att = AdditiveAttention(4, 6, 8)
    >>> ctx, w = att(gg.randn(2, 4), gg.randn(2, 5, 6))
    >>> tuple(ctx.shape), tuple(w.shape), [round(float(s), 4) for s in w.sum(-1).detach()]
    ((2, 6), (2, 5), [1.0, 1.0])
    """

    def __init__(
        self, query_dim: int, key_dim: int, hidden_dim: int, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        self.W_q = Linear(query_dim, hidden_dim, bias=False, dtype=dtype)
        self.W_k = Linear(key_dim, hidden_dim, dtype=dtype)
        self.v = Linear(hidden_dim, 1, bias=False, dtype=dtype)

    def forward(
        self,
        query: Tensor,
        keys: Tensor,
        values: Tensor | None = None,
        key_padding_mask: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        single = query.ndim == 2
        if single:
            query = query.unsqueeze(1)  # (N, Dq) -> (N, 1, Dq)
        values = keys if values is None else values
        if (
            keys.ndim != 3
            or query.ndim != 3
            or values.shape[:2] != keys.shape[:2]
            or query.shape[0] != keys.shape[0]
        ):
            raise ShapeError(
                f"AdditiveAttention: expected query (N, [Lq,] Dq), keys (N, Lk, Dk), values (N, Lk, Dv), "
                f"got {tuple(query.shape)}, {tuple(keys.shape)}, {tuple(values.shape)}"
            )
        q = self.W_q(query).unsqueeze(2)  # (N, Lq, A) -> (N, Lq, 1, A)
        k = self.W_k(keys).unsqueeze(1)  # (N, Lk, A) -> (N, 1, Lk, A)
        scores = self.v(F.tanh(q + k)).squeeze(-1)  # (N, Lq, Lk, A) -> (N, Lq, Lk, 1) -> (N, Lq, Lk)
        if key_padding_mask is not None:
            scores = scores.masked_fill(key_padding_mask.unsqueeze(1), float("-inf"))  # (N, Lk) -> (N, 1, Lk)
        weights = F.softmax(scores, dim=-1)
        context = weights @ values  # (N, Lq, Lk) @ (N, Lk, Dv) -> (N, Lq, Dv)
        if single:
            return context.squeeze(1), weights.squeeze(1)
        return context, weights

    def extra_repr(self) -> str:
        return f"query_dim={self.W_q.in_features}, key_dim={self.W_k.in_features}, hidden_dim={self.W_k.out_features}"
