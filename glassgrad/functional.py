"""``torch.functional`` for glassgrad: the module a script reaches with ``import torch.functional``.
It holds the same functions as the top level (``glassgrad.einsum is glassgrad.functional.einsum``).
PyTorch's ``block_diag``, ``chain_matmul``, ``lu``,
``pca_lowrank``/``svd_lowrank``, ``unique_consecutive`` and ``unravel_index`` are not there yet.
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
    broadcast_shapes,
    broadcast_tensors,
    cartesian_prod,
    cdist,
    einsum,
    istft,
    meshgrid,
    norm,
    split,
    stft,
    tensordot,
    unique,
)

__all__ = [
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "broadcast_shapes",
    "broadcast_tensors",
    "cartesian_prod",
    "cdist",
    "einsum",
    "istft",
    "meshgrid",
    "norm",
    "split",
    "stft",
    "tensordot",
    "unique",
]
