"""``EmbeddingBag``: a lookup table whose forward reduces bags of ids (sum, mean or max) at once."""

from __future__ import annotations

from typing import Any

import glassgrad.nn.functional as F
from glassgrad.nn import init
from glassgrad.nn.embedding import _pretrained_shape, _table, _table_sizes
from glassgrad.nn.module import Module
from glassgrad.tensor import Tensor

__all__ = ["EmbeddingBag"]


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings, without materialising each bag's rows.

    Args:
        num_embeddings, embedding_dim: the table's rows and columns.
        max_norm, norm_type: rescale rows looked up, in place, to ``norm_type``-norm at most ``max_norm``.
        mode: ``"sum"``, ``"mean"`` (default) or ``"max"``.
        include_last_offset: ``offsets`` carries the end of the last bag as one more entry.
        padding_idx: an id left out of every bag; its row starts at zero and gets no gradient.
        _weight: an initial table (``from_pretrained``).

    Shape:
        ``forward(input, offsets=None, per_sample_weights=None)``: input ``(B, L)`` (each row a bag)
        or ``(L,)`` with offsets ``(B,)``; returns ``(B, embedding_dim)``.

    Attributes:
        weight: ``(num_embeddings, embedding_dim)``, init N(0, 1) (padding row 0), as PyTorch.

    >>> import glassgrad as gg
    >>> bag = EmbeddingBag(10, 3, mode="sum")
    >>> bag
    EmbeddingBag(10, 3, mode='sum')
    >>> bag(gg.tensor([1, 2, 4, 5, 4]), gg.tensor([0, 2])).shape
    glassgrad.Size([2, 3])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight: Tensor | None = None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        num_embeddings, embedding_dim, padding_idx = _table_sizes(
            "EmbeddingBag", num_embeddings, embedding_dim, padding_idx
        )
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode has to be one of sum, mean or max, got {mode!r}")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        self.mode, self.include_last_offset, self.padding_idx = mode, include_last_offset, padding_idx
        self.weight = _table(
            "EmbeddingBag", num_embeddings, embedding_dim, _weight, dtype, requires_grad=True
        )
        if _weight is None:
            self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(
        self,
        input: Tensor,  # noqa: A002
        offsets: Tensor | None = None,
        per_sample_weights: Tensor | None = None,
    ) -> Tensor:
        return F.embedding_bag(
            input,
            self.weight,
            offsets,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.mode,
            self.sparse,
            per_sample_weights,
            self.include_last_offset,
            self.padding_idx,
        )

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
    ) -> EmbeddingBag:
        """An EmbeddingBag whose table is ``embeddings`` (shared), frozen unless ``freeze=False``.

        Shape:
            embeddings ``(num_embeddings, embedding_dim)``.
        """
        rows, cols = _pretrained_shape("EmbeddingBag", embeddings)
        bag = cls(
            rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings,
            include_last_offset, padding_idx,
        )  # fmt: skip
        bag.weight.requires_grad = not freeze
        return bag
