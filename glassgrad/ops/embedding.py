"""The ``embedding`` primitive: rows of a table looked up by integer ids, one node
(``EmbeddingBackward0``, as PyTorch's ``grad_fn``).

    out[..., :] = weight[ids[...], :]

VJP: each id's row receives the gradient of every position that read it (scatter-added: an id
may repeat). Two PyTorch options change only this gradient, never the values or the forward-mode
tangent: ``padding_idx`` (that row gets nothing) and ``scale_grad_by_freq`` (each position's share
is divided by how often its id occurs in ``ids``). With ``sparse`` the gradient is handed on as
``SparseRows`` (one row per looked-up id, padding entries left out: PyTorch's sparse COO gradient,
autograd/sparse_grad.py) instead of the dense table. Backward is first-order only. Validation
lives in ``nn.functional.embedding``.
"""

from __future__ import annotations

from glassgrad.autograd.function import Primitive as Function
from glassgrad.autograd.sparse_grad import SparseRows
from glassgrad.backend import array_module
from glassgrad.ops.indexing import _scatter_add_rows

__all__ = ["Embedding", "NO_FREQ"]

# PyTorch's words, raised at backward as there (embedding and embedding_bag alike)
NO_FREQ = "embedding_backward: scale_grad_by_freq not supported with sparse gradients"


class Embedding(Function):
    """out = weight[ids] (see the module docstring).

    Attributes ``ids`` (an integer array, any shape, values in [0, num_embeddings)),
    ``padding_idx`` (None or a non-negative row), ``scale_grad_by_freq`` and ``sparse``.

    Shape:
        weight ``(num_embeddings, D)``, ids ``(*)`` -> ``(*, D)``.
    """

    name = "embedding"

    @staticmethod
    def forward(ctx, weight, ids=None, padding_idx=None, scale_grad_by_freq=False, sparse=False):
        return weight[ids]  # (*) ids -> (*, D) rows, a new array

    @staticmethod
    def backward(ctx, g):
        a = ctx.attrs
        xp = array_module(g)
        ids = a["ids"].reshape(-1)  # (*) -> (M,)
        rows = g.reshape(ids.size, g.shape[-1])  # (*, D) -> (M, D): one gradient row per position
        if a["scale_grad_by_freq"] and a.get("sparse"):
            raise RuntimeError(NO_FREQ)
        if a["scale_grad_by_freq"]:
            _, inverse, counts = xp.unique(ids, return_inverse=True, return_counts=True)
            rows = rows * (1.0 / counts[inverse]).astype(g.dtype)[:, None]  # (M, 1): PyTorch's 1 / count
        if a.get("sparse"):
            keep = ids != a["padding_idx"] if a["padding_idx"] is not None else slice(None)
            return SparseRows(ids[keep], rows[keep], ctx.shapes[0])  # (nnz,) ids, (nnz, D) rows
        if a["padding_idx"] is not None:
            # skipped, not scaled by 0, as PyTorch: an inf or nan there must not reach the row
            rows = xp.where((ids != a["padding_idx"])[:, None], rows, g.dtype.type(0))  # (M, 1) mask
        dw = xp.zeros(ctx.shapes[0], dtype=g.dtype)
        _scatter_add_rows(dw, ids, rows)
        return dw
