"""``torch.sparse.spdiags(diagonals, offsets, shape, layout=None)``: a sparse COO matrix of ``shape``
with row ``k`` of ``diagonals`` on diagonal ``offsets[k]`` (0 the main one, > 0 above, < 0 below),
as SciPy's ``spdiags``: entry ``(j - offsets[k], j)`` takes ``diagonals[k, j]``, for the columns
``j`` where that row exists and ``diagonals`` has a column. The entries come diagonal by diagonal,
uncoalesced, as PyTorch's. Differentiable w.r.t. ``diagonals`` (PyTorch has no derivative there).

>>> import glassgrad as gg
>>> gg.sparse.spdiags(gg.tensor([[1., 2., 3.], [4., 5., 6.]]), gg.tensor([0, -1]), (3, 3)).to_dense()
tensor([[1., 0., 0.],
        [4., 2., 0.],
        [0., 5., 3.]])
"""

from __future__ import annotations

from typing import Any

from glassgrad.backend import array_module

__all__ = ["spdiags"]


def spdiags(diagonals: Any, offsets: Any, shape: Any, layout: Any = None) -> Any:
    """See the module. ``diagonals``: ``(k, n)`` (or ``(n,)``: one diagonal); ``offsets``: int64,
    ``(k,)`` or 0-d; ``shape``: ``(rows, cols)``; ``layout``: None or ``sparse_coo``."""
    from glassgrad import layouts
    from glassgrad.dtypes import int64
    from glassgrad.sparse import sparse_coo_tensor
    from glassgrad.sparse_tensor import sparse_coo, strided
    from glassgrad.tensor import Tensor

    if layout is not None and layout is not sparse_coo:
        if layout in (layouts.sparse_csr, layouts.sparse_csc):
            raise NotImplementedError(
                f"spdiags: layout {layout} is not supported (glassgrad has sparse COO only)"
            )
        name = "Strided" if layout is strided else str(layout)
        raise RuntimeError(f"Only output layouts (Sparse, SparseCsc, SparseCsr) are supported, got {name}")
    if not isinstance(diagonals, Tensor) or not isinstance(offsets, Tensor):
        raise TypeError(
            f"spdiags: expected Tensors for diagonals and offsets, got {type(diagonals).__name__} "
            f"and {type(offsets).__name__}"
        )
    if len(shape) != 2:
        raise RuntimeError("Output shape must be 2d")
    if offsets.ndim > 1:
        raise RuntimeError("Offsets must be scalar or vector")
    if offsets.dtype != int64:
        raise RuntimeError(f"Offset Tensor must have dtype Long but got {_short(offsets.dtype)}")
    if diagonals.ndim not in (1, 2):
        raise RuntimeError(f"spdiags: expected diagonals of 1 or 2 dims, got shape {tuple(diagonals.shape)}")
    diag = diagonals if diagonals.ndim == 2 else diagonals.unsqueeze(0)
    offs = [int(o) for o in offsets.reshape(-1).tolist()]
    if len(offs) != diag.shape[0]:
        raise RuntimeError(
            f"Number of diagonals ({diag.shape[0]}) does not match the number of offsets ({len(offs)})"
        )
    if len(set(offs)) != len(offs):
        raise RuntimeError("Offset tensor contains duplicate values")
    rows, cols = (int(s) for s in shape)
    xp = array_module()
    which, columns = [], []
    for k, o in enumerate(offs):
        j = xp.arange(max(0, o), max(max(0, o), min(cols, rows + o, diag.shape[1])), dtype=xp.int64)
        which.append(xp.full(j.shape, k, dtype=xp.int64))
        columns.append(j)
    k_idx, j_idx = xp.concatenate(which), xp.concatenate(columns)
    offs_arr = xp.asarray(offs, dtype=xp.int64)
    indices = xp.stack([j_idx - offs_arr[k_idx], j_idx])
    values = diag[Tensor(k_idx, _wrap=True), Tensor(j_idx, _wrap=True)]
    return sparse_coo_tensor(indices, values, (rows, cols))


def _short(dtype: Any) -> str:
    """PyTorch's scalar-type name of ``dtype`` in its errors (``Float``, ``Int``, ...)."""
    names = {"float32": "Float", "float64": "Double", "float16": "Half", "int32": "Int", "int16": "Short",
             "int8": "Char", "uint8": "Byte", "bool": "Bool"}  # fmt: skip
    key = repr(dtype).split(".")[-1]
    return names.get(key, key)
