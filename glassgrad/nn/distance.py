"""Distance modules with PyTorch's constructor arguments: ``PairwiseDistance``, ``CosineSimilarity``."""

from __future__ import annotations

import glassgrad.nn.functional as F
from glassgrad.nn.module import Module
from glassgrad.tensor import Tensor

__all__ = ["PairwiseDistance", "CosineSimilarity"]


class PairwiseDistance(Module):
    """``||x1 - x2 + eps||_p`` over the last dim (the order ``p`` is kept as ``self.norm``, as PyTorch).

    Shape:
        x1, x2 ``(N, D)`` or ``(D,)``, broadcastable; output ``(N,)`` or ``()`` (``keepdim``: ``(N, 1)``).

    >>> PairwiseDistance(p=1.0)
    PairwiseDistance()
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim``, each norm floored at ``eps``.

    Shape:
        x1, x2 ``(*1, D, *2)``, broadcastable; output ``(*1, *2)``.
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
