"""The pruning methods of ``torch.nn.utils.prune``, each a :class:`BasePruningMethod` whose
``compute_mask`` picks the entries (or channels) to zero:

- ``Identity``: nothing (a mask of ones, for code that expects a pruned module);
- ``RandomUnstructured`` / ``L1Unstructured``: ``amount`` single entries, at random / of least
  absolute value;
- ``RandomStructured`` / ``LnStructured``: ``amount`` whole slices along ``dim`` (output channels
  for ``dim=0``), at random / of least ``n``-norm;
- ``CustomFromMask``: a given mask.

``amount`` is a fraction of the units (a float in [0, 1], rounded half to even) or a count (an
int). Ties in magnitude or norm are broken by position: the lower flat index is pruned first
(``L1Unstructured``) or kept first (``LnStructured``); PyTorch leaves the order among ties open.
"""

from __future__ import annotations

import math
from typing import Any

from glassgrad.backend import array_module
from glassgrad.errors import ShapeError
from glassgrad.nn.module import Module
from glassgrad.nn.utils.prune_base import BasePruningMethod, as_tensor, nparams_to_prune, validate_amount_init
from glassgrad.random import get_generator
from glassgrad.tensor import Tensor

__all__ = [
    "Identity",
    "RandomUnstructured",
    "L1Unstructured",
    "RandomStructured",
    "LnStructured",
    "CustomFromMask",
]


class Identity(BasePruningMethod):
    """Prunes nothing: the mask stays ``default_mask``."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return default_mask

    @classmethod
    def apply(cls, module: Module, name: str) -> Identity:
        return super().apply(module, name)


def _unstructured_mask(default_mask: Tensor, prune_idx: Any) -> Tensor:
    mask = default_mask._data.copy()
    mask.reshape(-1)[prune_idx] = 0  # the copy is contiguous, so reshape is a view
    return as_tensor(mask)


class _Unstructured(BasePruningMethod):
    """What the two unstructured methods share: ``amount`` entries are zeroed, and a subclass says
    which (``_pruned``: the flat indices of ``k`` entries of ``t``)."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: float | int) -> None:
        validate_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        k = nparams_to_prune(self.amount, t.numel())
        if k == 0:
            return as_tensor(default_mask._data.copy())
        return _unstructured_mask(default_mask, self._pruned(t, k))

    def _pruned(self, t: Tensor, k: int) -> Any:
        raise NotImplementedError


class RandomUnstructured(_Unstructured):
    """Zeroes ``amount`` entries drawn uniformly at random (from glassgrad's generator)."""

    def _pruned(self, t: Tensor, k: int) -> Any:
        xp = array_module(t._data)
        scores = xp.asarray(get_generator().random(t.numel()))  # (numel,) uniform keys
        return xp.argpartition(-scores, k - 1)[:k]  # the k largest keys

    @classmethod
    def apply(cls, module: Module, name: str, amount: float | int) -> RandomUnstructured:
        return super().apply(module, name, amount=amount)


class L1Unstructured(_Unstructured):
    """Zeroes the ``amount`` entries of least absolute value."""

    def _pruned(self, t: Tensor, k: int) -> Any:
        xp = array_module(t._data)
        return xp.argsort(xp.abs(t._data).reshape(-1), kind="stable")[:k]  # (numel,) smallest first

    @classmethod
    def apply(
        cls, module: Module, name: str, amount: float | int, importance_scores: Tensor | None = None
    ) -> L1Unstructured:
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


def _check_structured(t: Tensor, dim: int) -> int:
    if t.ndim <= 1:
        raise ShapeError(
            f"prune: structured pruning expects a tensor of 2 or more dims, got shape {tuple(t.shape)}"
        )
    if not -t.ndim <= dim < t.ndim:
        raise IndexError(
            f"prune: expected dim in [{-t.ndim}, {t.ndim - 1}] for shape {tuple(t.shape)}, got {dim}"
        )
    return dim % t.ndim


def _channel_mask(t: Tensor, dim: int, keep: Any, default_mask: Tensor) -> Tensor:
    """Ones on the channels ``keep`` (indices or booleans along ``dim``), zeros elsewhere, times the
    old mask."""
    xp = array_module(t._data)
    mask = xp.zeros(t.shape, dtype=t._data.dtype)
    mask[tuple(keep if d == dim else slice(None) for d in range(t.ndim))] = 1
    mask *= default_mask._data.astype(mask.dtype, copy=False)
    return as_tensor(mask)


class RandomStructured(BasePruningMethod):
    """Zeroes ``amount`` whole slices along ``dim``, drawn uniformly at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount: float | int, dim: int = -1) -> None:
        validate_amount_init(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        dim = _check_structured(t, self.dim)
        channels = t.shape[dim]
        k = nparams_to_prune(self.amount, channels)
        if k == 0:
            return default_mask
        xp = array_module(t._data)
        scores = xp.asarray(get_generator().random(channels))  # (channels,) uniform keys
        keep = scores > xp.partition(scores, k - 1)[k - 1]  # all but the k smallest keys
        return _channel_mask(t, dim, keep, default_mask)

    @classmethod
    def apply(cls, module: Module, name: str, amount: float | int, dim: int = -1) -> RandomStructured:
        return super().apply(module, name, amount=amount, dim=dim)


def channel_norms(t: Tensor, n: float | int | str, dim: int) -> Any:
    """The ``n``-norm of each slice of ``t`` along ``dim``: (size of dim,). ``n`` is a number,
    ``inf``/``-inf``, ``"fro"`` (= 2) or ``"nuc"`` (3-D ``t`` only: the slices are matrices)."""
    xp = array_module(t._data)
    a = xp.moveaxis(t._data, dim, 0)  # (C, ...)
    if n == "nuc":
        if a.ndim != 3:
            raise ShapeError(
                f"prune: the nuclear norm needs a 3-D tensor (matrices per channel), got {a.ndim}-D"
            )
        return xp.linalg.norm(a, ord="nuc", axis=(1, 2))
    if n == "fro":
        n = 2
    if isinstance(n, str):
        raise ValueError(f"prune: expected n to be a number, inf, 'fro' or 'nuc', got {n!r}")
    flat = a.reshape(a.shape[0], -1)  # (C, ...) -> (C, rest)
    return xp.linalg.norm(flat, ord=float(n) if not math.isinf(n) else n, axis=1)


class LnStructured(BasePruningMethod):
    """Zeroes the ``amount`` slices along ``dim`` of least ``n``-norm (see :func:`channel_norms`)."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount: float | int, n: float | int | str, dim: int = -1) -> None:
        validate_amount_init(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        dim = _check_structured(t, self.dim)
        channels = t.shape[dim]
        k = nparams_to_prune(self.amount, channels)
        if k == 0:
            return default_mask
        xp = array_module(t._data)
        norms = channel_norms(t, self.n, dim)
        keep = xp.argsort(-norms, kind="stable")[: channels - k]  # the largest norms survive
        return _channel_mask(t, dim, keep, default_mask)

    @classmethod
    def apply(
        cls,
        module: Module,
        name: str,
        amount: float | int,
        n: float | int | str,
        dim: int,
        importance_scores: Tensor | None = None,
    ) -> LnStructured:
        return super().apply(module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Zeroes where ``mask`` is 0: the new mask is ``default_mask * mask``."""

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if tuple(default_mask.shape) != tuple(self.mask.shape):
            raise ShapeError(
                f"prune: expected a mask of shape {tuple(default_mask.shape)}, got {tuple(self.mask.shape)}"
            )
        mask = self.mask._data if isinstance(self.mask, Tensor) else array_module().asarray(self.mask)
        return as_tensor(default_mask._data * mask.astype(default_mask._data.dtype, copy=False))

    @classmethod
    def apply(cls, module: Module, name: str, mask: Tensor) -> CustomFromMask:
        return super().apply(module, name, mask=mask)
