"""``torch.functional`` for glassgrad: the module a script reaches with ``import torch.functional``.
It holds the same functions as the top level (``glassgrad.einsum is glassgrad.functional.einsum``).
``torch.functional`` is not ``torch.nn.functional``: ``F.relu`` is an ``AttributeError`` here, as in
PyTorch.

>>> import glassgrad as gg
>>> import glassgrad.functional as F
>>> F.einsum("i,i->", gg.ones(3), gg.ones(3))
tensor(3.)
"""

from __future__ import annotations

from glassgrad import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    block_diag,
    broadcast_shapes,
    broadcast_tensors,
    cartesian_prod,
    cdist,
    chain_matmul,
    einsum,
    istft,
    lu,
    meshgrid,
    norm,
    pca_lowrank,
    split,
    stft,
    svd_lowrank,
    tensordot,
    unique,
    unique_consecutive,
    unravel_index,
)

__all__ = [
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "block_diag",
    "broadcast_shapes",
    "broadcast_tensors",
    "cartesian_prod",
    "cdist",
    "chain_matmul",
    "einsum",
    "istft",
    "lu",
    "meshgrid",
    "norm",
    "pca_lowrank",
    "split",
    "stft",
    "svd_lowrank",
    "tensordot",
    "unique",
    "unique_consecutive",
    "unravel_index",
]
