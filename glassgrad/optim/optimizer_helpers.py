"""Helpers the optimizer families share: option checks, weight decay and state tensors."""

from __future__ import annotations

from typing import Any

from glassgrad.tensor import Tensor

__all__ = [
    "refuse_differentiable",
    "check_betas",
    "betas_of",
    "apply_weight_decay",
    "state_like",
]


def refuse_differentiable(name: str, differentiable: bool) -> None:
    """Raise for ``differentiable=True``: glassgrad does not differentiate through optimizer steps."""
    if differentiable:
        raise NotImplementedError(f"{name}: differentiable=True is not supported")


def check_betas(name: str, betas: Any) -> None:
    """Raise unless ``betas`` is a pair ``(β₁, β₂)`` of numbers in [0, 1)."""
    if not isinstance(betas, tuple | list) or len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
        raise ValueError(f"{name}: expected betas (b1, b2) with 0 <= b < 1, got {betas!r}")


def betas_of(group: dict) -> tuple[float, float]:
    """A group's ``(β₁, β₂)`` as numbers: PyTorch also takes one-element tensors there (kept in the
    group as given), which the NumPy updates would otherwise mix in as tensors."""
    return tuple(float(b) for b in group["betas"])  # type: ignore[return-value]


def apply_weight_decay(p: Tensor, g: Any, lr: float, wd: float, decoupled: bool = False) -> Any:
    """Weight decay λ = ``wd`` on ``p``: ``θ ← θ (1 − γ λ)`` in place if ``decoupled``, else the new
    gradient ``g + λ θ`` (a new array: the given one may be shared); see ``real_views.decay_array``."""
    from glassgrad.optim.real_views import decay_array

    return decay_array(p._data, g, lr, wd, decoupled)


def state_like(p: Tensor, arr: Any) -> Tensor:
    """A state tensor over ``arr`` (shaped like ``p``) laid out as ``p``: a plain Tensor, or for a
    DTensor parameter a DTensor with its mesh and placements, as PyTorch's ``zeros_like(p)`` is."""
    make = getattr(type(p), "_state_like", None)
    return make(p, arr) if make is not None else Tensor(arr, _wrap=True)
