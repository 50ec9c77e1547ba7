"""``EmbeddingBag``: a lookup table whose forward reduces bags of ids (sum, mean or max) at once."""

from __future__ import annotations

import numbers
from typing import Any

import glassgrad.nn.functional as F
from glassgrad import dtypes
from glassgrad.errors import ShapeError
from glassgrad.factories import empty
from glassgrad.nn import init
from glassgrad.nn.module import Module, Parameter
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
        for key, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 0:
                raise ValueError(f"EmbeddingBag: expected {key} to be a non-negative int, got {v!r}")
        num_embeddings, embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"EmbeddingBag: expected padding_idx in [-{num_embeddings}, {num_embeddings}), got {padding_idx}"
                )
            padding_idx = padding_idx % num_embeddings
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode has to be one of sum, mean or max, got {mode!r}")
        if scale_grad_by_freq or sparse:
            raise NotImplementedError(
                "EmbeddingBag: scale_grad_by_freq and sparse gradients are not supported"
            )
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        self.mode, self.include_last_offset, self.padding_idx = mode, include_last_offset, padding_idx
        if _weight is None:
            dt = dtype if dtype is not None else dtypes.get_default_dtype()
            self.weight = Parameter(empty(num_embeddings, embedding_dim, dtype=dt))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ShapeError(
                    f"EmbeddingBag: expected _weight of shape {(num_embeddings, embedding_dim)}, "
                    f"got {tuple(_weight.shape)}"
                )
            self.weight = Parameter(_weight)

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
        if embeddings.ndim != 2:
            raise ShapeError(
                f"EmbeddingBag.from_pretrained: expected a 2-D tensor, got shape {tuple(embeddings.shape)}"
            )
        rows, cols = embeddings.shape
        bag = cls(
            rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings,
            include_last_offset, padding_idx,
        )  # fmt: skip
        bag.weight.requires_grad = not freeze
        return bag
