"""``Embedding``: a lookup table of learned vectors, indexed by integer ids."""

from __future__ import annotations

from typing import Any

import glassgrad.nn.functional as F
from glassgrad import dtypes
from glassgrad.errors import ArgumentAssertionError, DTypeError, ShapeError
from glassgrad.factories import empty
from glassgrad.nn import init
from glassgrad.nn.input_checks import checkable
from glassgrad.nn.module import Module, Parameter
from glassgrad.nn.sizes import layer_sizes
from glassgrad.tensor import Tensor

__all__ = ["Embedding"]


class Embedding(Module):
    """Row ``i`` of ``weight`` is the vector of id ``i``; ``forward`` gathers rows.

    Args:
        num_embeddings: number of ids (rows).
        embedding_dim: size of each vector.
        padding_idx: an id whose row starts at zero and gets no gradient (negative counts from the end).
        max_norm: if given, rows looked up are rescaled in place to norm at most ``max_norm``.
        norm_type: the p of the p-norm for ``max_norm``.
        scale_grad_by_freq: divide each row's gradient by its id's count in the mini-batch.
        sparse: the weight's ``.grad`` a sparse COO tensor of the rows looked up (``optim.SparseAdam``).
        _weight: an initial weight ``(num_embeddings, embedding_dim)`` (used by ``from_pretrained``).
        _freeze: whether that weight is frozen.

    Shape:
        input ``(*)`` integer ids, output ``(*, embedding_dim)``.

    Attributes:
        weight: ``(num_embeddings, embedding_dim)``, init N(0, 1) (padding row 0), as PyTorch.

    >>> import glassgrad as gg
    >>> emb = Embedding(10, 3, padding_idx=0)
    >>> emb
    Embedding(10, 3, padding_idx=0)
    >>> emb(gg.tensor([[0, 2], [4, 9]])).shape
    glassgrad.Size([2, 2, 3])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        num_embeddings, embedding_dim, padding_idx = _table_sizes(
            "Embedding", num_embeddings, embedding_dim, padding_idx
        )
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        self.weight = _table(
            "Embedding", num_embeddings, embedding_dim, _weight, dtype, requires_grad=not _freeze
        )
        if _weight is None:
            self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        ids = input._data if isinstance(input, Tensor) else input
        if checkable(input) and (getattr(ids, "dtype", None) is None or ids.dtype.kind not in "iu"):
            raise DTypeError(
                f"{self!r}: expected integer ids, got {getattr(ids, 'dtype', type(input).__name__)}"
            )
        return F.embedding(
            input,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.sparse,
        )

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An Embedding whose weight is ``embeddings`` (shared), frozen unless ``freeze=False``.

        Shape:
            embeddings ``(num_embeddings, embedding_dim)``.
        """
        rows, cols = _pretrained_shape("Embedding", embeddings)
        return cls(
            rows,
            cols,
            padding_idx,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            sparse,
            _weight=embeddings,
            _freeze=freeze,
        )


# What Embedding and EmbeddingBag share: the checks on the table's sizes, its padding row and an
# initial weight; each names the class in its errors.
def _table_sizes(
    owner: str, num_embeddings: Any, embedding_dim: Any, padding_idx: Any
) -> tuple[int, int, Any]:
    """``(num_embeddings, embedding_dim, padding_idx)`` checked: the sizes as ints, padding_idx
    counted from the front (None stays None)."""
    num_embeddings, embedding_dim = layer_sizes(
        owner, num_embeddings=num_embeddings, embedding_dim=embedding_dim
    )
    if padding_idx is not None:
        if not -num_embeddings <= padding_idx < num_embeddings:
            raise ArgumentAssertionError(  # PyTorch asserts: "padding_idx must be within num_embeddings"
                f"{owner}: expected padding_idx in [-{num_embeddings}, {num_embeddings}), got {padding_idx}"
            )
        padding_idx = padding_idx + num_embeddings if padding_idx < 0 else padding_idx
    return num_embeddings, embedding_dim, padding_idx


def _table(
    owner: str,
    num_embeddings: int,
    embedding_dim: int,
    _weight: Tensor | None,
    dtype: Any,
    requires_grad: bool,
) -> Parameter:
    """The table as a Parameter: ``_weight`` itself (shared; its shape checked), else a new
    uninitialised one of ``dtype`` (the default dtype when None) that the caller then initialises."""
    if _weight is None:
        dt = dtype if dtype is not None else dtypes.get_default_dtype()
        return Parameter(empty(num_embeddings, embedding_dim, dtype=dt), requires_grad=requires_grad)
    if tuple(_weight.shape) != (num_embeddings, embedding_dim):
        raise ShapeError(
            f"{owner}: expected _weight of shape {(num_embeddings, embedding_dim)}, got {tuple(_weight.shape)}"
        )
    return Parameter(_weight, requires_grad=requires_grad)


def _pretrained_shape(owner: str, embeddings: Tensor) -> tuple[int, int]:
    """``from_pretrained``'s table size, from a 2-D ``embeddings``."""
    if embeddings.ndim != 2:
        raise ShapeError(
            f"{owner}.from_pretrained: expected a 2-D tensor, got shape {tuple(embeddings.shape)}"
        )
    rows, cols = embeddings.shape
    return rows, cols
