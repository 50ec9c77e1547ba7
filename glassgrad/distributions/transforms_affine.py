"""``AffineTransform``: ``y = loc + scale * x``, the transform behind location-scale families."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import glassgrad as gg
from glassgrad.distributions import constraints
from glassgrad.distributions.transforms import Transform, _sum_rightmost
from glassgrad.tensor import Tensor

__all__ = ["AffineTransform"]


def _shape_of(a: Any) -> tuple:
    return tuple(a.shape) if isinstance(a, Tensor) else ()


class AffineTransform(Transform):
    """``y = loc + scale * x``; ``log|dy/dx| = log|scale|``, summed over the last ``event_dim``
    dims.

    Args:
        loc: the shift (a number or a Tensor broadcastable with x).
        scale: the scale (a number or a Tensor broadcastable with x).
        event_dim: how many trailing dims form one event (0: elementwise).
        cache_size: as for every transform.

    Shape:
        ``forward_shape(s)`` = ``inverse_shape(s)`` = broadcast(s, loc, scale): a ``loc`` or
        ``scale`` with more dims than the base widens a ``TransformedDistribution``'s batch.
    """

    bijective = True

    def __init__(self, loc: Any, scale: Any, event_dim: int = 0, cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        self.loc, self.scale, self.event_dim = loc, scale, event_dim

    @property
    def domain(self) -> Any:  # type: ignore[override]
        # the event dims are part of the domain, so that a chain of transforms and
        # TransformedDistribution count them as PyTorch does
        if self.event_dim == 0:
            return constraints.real
        return constraints.independent(constraints.real, self.event_dim)

    @property
    def codomain(self) -> Any:  # type: ignore[override]
        return self.domain

    def with_cache(self, cache_size: int = 1) -> Transform:
        if cache_size == self._cache_size:
            return self
        return AffineTransform(self.loc, self.scale, self.event_dim, cache_size=cache_size)

    @property
    def sign(self) -> Any:
        if isinstance(self.scale, Tensor):
            return self.scale.sign()
        return 1 if self.scale > 0 else (-1 if self.scale < 0 else 0)

    def _call(self, x: Tensor) -> Tensor:
        return self.loc + self.scale * x

    def _inverse(self, y: Tensor) -> Tensor:
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        if isinstance(self.scale, Tensor):
            term = self.scale.abs().log()
        else:
            term = gg.full_like(x, math.log(abs(self.scale)))
        shape = tuple(x.shape)
        if self.event_dim:
            term = term.expand(shape) if tuple(term.shape) != shape else term
            return _sum_rightmost(term, self.event_dim)
        return term.expand(shape) if tuple(term.shape) != shape else term

    def forward_shape(self, shape: tuple) -> tuple:
        try:
            return tuple(np.broadcast_shapes(tuple(shape), _shape_of(self.loc), _shape_of(self.scale)))
        except ValueError:
            raise ValueError(
                f"AffineTransform: expected a shape broadcastable with loc {_shape_of(self.loc)} and "
                f"scale {_shape_of(self.scale)}, got {tuple(shape)}"
            ) from None

    inverse_shape = forward_shape

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AffineTransform) or self.event_dim != other.event_dim:
            return False
        return all(
            bool((a == b).all()) if isinstance(a, Tensor) or isinstance(b, Tensor) else a == b
            for a, b in ((self.loc, other.loc), (self.scale, other.scale))
        )

    __hash__ = object.__hash__
