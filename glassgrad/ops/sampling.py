"""Index producers without a gradient: ``multinomial`` (random draws of category indices),
``nonzero`` (the positions of non-zero entries) and ``one_hot`` (indices to one-hot vectors).

None of them records a node: their results are integer tensors, which carry no gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.backend import array_module
from glassgrad.errors import ArgumentError, DTypeError, ShapeError
from glassgrad.meta_array import MetaArray, meta_array
from glassgrad.operand_errors import int_arg
from glassgrad.ops.indexing import _check_range, _int_array
from glassgrad.random import get_generator
from glassgrad.tensor import Tensor

__all__ = ["multinomial", "nonzero", "one_hot"]


def multinomial(probs: Tensor, num_samples: int, replacement: bool = False, generator: Any = None) -> Tensor:
    """Draw category indices with probabilities proportional to ``probs`` (rows need not sum to 1).

    With replacement: inverse CDF, ``searchsorted`` of uniforms into the cumulative sums. Without:
    the exponential race (Gumbel top-k): category i arrives at time E_i / p_i with E_i ~ Exp(1);
    the first ``num_samples`` to arrive are a sample without replacement. Draws come from
    ``glassgrad.random`` so ``manual_seed`` reproduces them.

    Shape:
        probs ``(n,)`` -> ``(num_samples,)``; ``(B, n)`` -> ``(B, num_samples)``; int64.
    """
    p = probs._data if isinstance(probs, Tensor) else np.asarray(probs)
    if p.ndim not in (1, 2):
        raise ShapeError(f"multinomial: expected probs with 1 or 2 dims, got shape {p.shape}")
    if p.dtype.kind != "f":
        raise DTypeError(f"multinomial: expected floating probs, got {p.dtype}")
    xp = array_module(p)
    n = p.shape[-1]
    p2 = p.reshape(p.shape[0] if p.ndim == 2 else 1, n).astype(np.float64)  # (B, n); float64: an accurate CDF
    if num_samples <= 0:
        raise ShapeError(f"multinomial: expected num_samples > 0, got {num_samples}")
    if p.__class__ is MetaArray:  # no values to check or draw from; PyTorch's meta kernel checks no more
        return Tensor(
            meta_array((num_samples,) if p.ndim == 1 else (p.shape[0], num_samples), np.int64), _wrap=True
        )
    if not replacement and num_samples > n:
        raise ShapeError(
            f"multinomial: expected num_samples <= {n} categories without replacement, got {num_samples} "
            "(cannot sample n_sample > prob_dist.size(-1) samples without replacement)"
        )
    if not bool(xp.all(xp.isfinite(p2))) or bool(xp.any(p2 < 0)):
        raise ArgumentError(  # (a RuntimeError too, as PyTorch's)
            f"multinomial: expected non-negative finite probabilities, got {p.dtype} {p.shape} "
            "(probability tensor contains either `inf`, `nan` or element < 0)"
        )
    total = p2.sum(axis=1)
    if n == 0 or bool(xp.any(total <= 0)):
        raise ArgumentError(
            f"multinomial: expected every row of probs {p.shape} to have a positive sum "
            "(invalid multinomial distribution (sum of probabilities <= 0))"
        )
    rng = get_generator(generator)
    rows = p2.shape[0]
    if replacement:
        # One searchsorted for all rows: row r's CDF (scaled to [0, 1]) and its uniforms shifted by r.
        cdf = xp.cumsum(p2, axis=1) / total[:, None] + xp.arange(rows)[:, None]  # (B, n)
        u = rng.random((rows, num_samples)) + xp.arange(rows)[:, None]  # (B, S)
        idx = xp.searchsorted(cdf.ravel(), u.ravel(), side="right")  # (B * n,), (B * S,) -> (B * S,)
        idx = idx.reshape(rows, num_samples)  # (B * S,) -> (B, S)
        idx = idx - n * xp.arange(rows)[:, None]
        # rounding can leave cdf[-1] a hair below 1: clamp to the last category with mass
        last = n - 1 - xp.argmax(p2[:, ::-1] > 0, axis=1)
        idx = xp.minimum(idx, last[:, None])
    else:
        keys = p2 / rng.standard_exponential((rows, n))  # larger = arrives earlier
        idx = xp.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    idx = idx.astype(np.int64)
    return Tensor(idx.reshape(num_samples) if p.ndim == 1 else idx, _wrap=True)  # (1, S) -> (S,) for 1-D


def nonzero(x: Tensor, as_tuple: bool = False) -> Any:
    """Indices of the non-zero entries: an int64 ``(n, x.ndim)`` tensor (or one per dim).

    ``as_tuple=True`` gives ``x.ndim`` tensors of shape ``(n,)``; a 0-d ``x`` counts as 1-d there
    (PyTorch's ``(tensor([0]),)`` for a non-zero scalar)."""
    idx = array_module(x._data).argwhere(x._data).astype(np.int64)
    if as_tuple:
        if x._data.ndim == 0:
            return (Tensor(array_module(idx).zeros(idx.shape[0], dtype=np.int64), _wrap=True),)
        return tuple(Tensor(idx[:, k].copy(), _wrap=True) for k in range(idx.shape[1]))
    return Tensor(idx, _wrap=True)


def one_hot(indices: Any, num_classes: int = -1) -> Tensor:
    """int64 one-hot vectors: ``out[..., c] = (indices[...] == c)``.

    Shape:
        indices ``(*)`` -> ``(*, num_classes)``; ``num_classes=-1`` means ``max(indices) + 1``.
    """
    idx = _int_array(indices, "one_hot", ("int64",))
    num_classes = int_arg("one_hot", "num_classes", num_classes)
    xp = array_module(idx)
    # PyTorch: only -1 means "infer"; an empty index needs a positive count, and any other
    # negative count fails its range check (it used to be inferred here, silently)
    if idx.size == 0 and num_classes <= 0:
        raise ShapeError(
            f"one_hot: cannot infer num_classes from an empty index; pass num_classes > 0, got {num_classes}"
        )
    if num_classes < -1:
        raise ArgumentError(f"one_hot: expected num_classes -1 (inferred) or >= 0, got {num_classes}")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1
    _check_range(idx, num_classes, "one_hot", -1, idx.shape)
    return Tensor((idx[..., None] == xp.arange(num_classes)).astype(np.int64), _wrap=True)
