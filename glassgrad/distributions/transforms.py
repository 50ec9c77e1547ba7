"""Bijective transforms for ``TransformedDistribution``, as ``torch.distributions.transforms``.

A transform maps ``x`` to ``y = t(x)``; ``t.inv`` is its inverse (itself a transform, whose
``inv`` is ``t`` again) and ``t.log_abs_det_jacobian(x, y)`` is ``log |dy/dx|``. The transforms
here act elementwise (``event_dim`` 0) unless given ``event_dim``, in which case the Jacobian term
is summed over the last ``event_dim`` dims, one value per event. Built from Tensor ops, so
gradients flow through the forward map, the inverse and the Jacobian term.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.distributions import constraints
from glassgrad.tensor import Tensor

__all__ = [
    "Transform",
    "ComposeTransform",
    "ExpTransform",
    "AffineTransform",
    "SigmoidTransform",
    "TanhTransform",
    "identity_transform",
]


def _sum_rightmost(value: Tensor, dims: int) -> Tensor:
    """Sum the last ``dims`` dims of ``value`` (none when ``dims`` is 0)."""
    return value.sum(tuple(range(-dims, 0))) if dims > 0 else value


class Transform:
    """Base class of invertible maps ``y = t(x)``.

    Args:
        cache_size: 0 or 1; with 1 the last ``(x, y)`` pair is remembered so that ``inv(y)``
            of a just-computed ``y`` returns the very ``x`` (no numerical round trip).

    Subclasses define ``_call(x)``, ``_inverse(y)`` and ``log_abs_det_jacobian(x, y)``.
    """

    bijective = True
    event_dim = 0
    domain: Any = constraints.real
    codomain: Any = constraints.real

    def __init__(self, cache_size: int = 0) -> None:
        if cache_size not in (0, 1):
            raise ValueError(f"{type(self).__name__}: expected cache_size 0 or 1, got {cache_size!r}")
        self._cache_size = cache_size
        self._cached: tuple | None = None
        self._inv: Transform | None = None

    @property
    def sign(self) -> int:
        raise NotImplementedError(f"{type(self).__name__}: sign is not defined")

    @property
    def inv(self) -> Transform:
        """The inverse transform; ``t.inv.inv is t``."""
        if self._inv is None:
            self._inv = _InverseTransform(self)
        return self._inv

    def with_cache(self, cache_size: int = 1) -> Transform:
        if cache_size == self._cache_size:
            return self
        return type(self)(cache_size=cache_size)

    def __call__(self, x: Tensor) -> Tensor:
        if self._cache_size and self._cached is not None and self._cached[0] is x:
            return self._cached[1]
        y = self._call(x)
        if self._cache_size:
            self._cached = (x, y)
        return y

    def _inv_call(self, y: Tensor) -> Tensor:
        if self._cache_size and self._cached is not None and self._cached[1] is y:
            return self._cached[0]
        x = self._inverse(y)
        if self._cache_size:
            self._cached = (x, y)
        return x

    def _call(self, x: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}: the forward map is not implemented")

    def _inverse(self, y: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}: the inverse map is not implemented")

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}: log_abs_det_jacobian is not implemented")

    def forward_shape(self, shape: tuple) -> tuple:
        return shape

    def inverse_shape(self, shape: tuple) -> tuple:
        return shape

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _InverseTransform(Transform):
    """The inverse of a transform: forward and inverse swapped, the Jacobian term negated."""

    def __init__(self, transform: Transform) -> None:
        super().__init__(cache_size=transform._cache_size)
        self._inv = transform
        self.event_dim = transform.event_dim
        self.bijective = transform.bijective

    @property
    def domain(self) -> Any:  # type: ignore[override]
        return self._inv.codomain

    @property
    def codomain(self) -> Any:  # type: ignore[override]
        return self._inv.domain

    @property
    def sign(self) -> int:
        return self._inv.sign

    @property
    def inv(self) -> Transform:
        return self._inv

    def with_cache(self, cache_size: int = 1) -> Transform:
        return self._inv.with_cache(cache_size).inv

    def __call__(self, x: Tensor) -> Tensor:
        return self._inv._inv_call(x)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -self._inv.log_abs_det_jacobian(y, x)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _InverseTransform) and self._inv == other._inv

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._inv!r})"


class ComposeTransform(Transform):
    """Apply ``parts`` in order: ``y = parts[-1](...parts[0](x))``; the Jacobian terms add."""

    def __init__(self, parts: list, cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        self.parts = list(parts)
        self.event_dim = max((p.event_dim for p in self.parts), default=0)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if cache_size == self._cache_size:
            return self
        return ComposeTransform(self.parts, cache_size=cache_size)

    @property
    def domain(self) -> Any:  # type: ignore[override]
        return self.parts[0].domain if self.parts else constraints.real

    @property
    def codomain(self) -> Any:  # type: ignore[override]
        return self.parts[-1].codomain if self.parts else constraints.real

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(p.bijective for p in self.parts)

    @property
    def sign(self) -> int:
        s = 1
        for p in self.parts:
            s = s * p.sign
        return s

    @property
    def inv(self) -> Transform:
        if self._inv is None:
            inverse = ComposeTransform([p.inv for p in reversed(self.parts)])
            inverse._inv = self
            self._inv = inverse
        return self._inv

    def _call(self, x: Tensor) -> Tensor:
        for p in self.parts:
            x = p(x)
        return x

    def _inverse(self, y: Tensor) -> Tensor:
        for p in reversed(self.parts):
            y = p.inv(y)
        return y

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        if not self.parts:
            return gg.zeros_like(x)
        total: Any = 0.0
        for p in self.parts:
            y_p = p(x)
            # a part with a smaller event_dim gives one term per element: sum it up to ours
            total = total + _sum_rightmost(p.log_abs_det_jacobian(x, y_p), self.event_dim - p.event_dim)
            x = y_p
        return total

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ComposeTransform) and self.parts == other.parts

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        inner = ",\n    ".join(repr(p) for p in self.parts)
        return f"{type(self).__name__}(\n    {inner}\n)"


identity_transform = ComposeTransform([])


class ExpTransform(Transform):
    """``y = exp(x)``; ``log|dy/dx| = x``."""

    codomain = constraints.positive
    sign = 1

    def _call(self, x: Tensor) -> Tensor:
        return x.exp()

    def _inverse(self, y: Tensor) -> Tensor:
        return y.log()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExpTransform)

    __hash__ = object.__hash__


def _clamp_unit(y: Tensor) -> Tensor:
    """``y`` in [tiny, 1 − ε]: a lower bound of ε instead of tiny would cut the gradient below about
    sigmoid(−16) in float32."""
    info = np.finfo(y._data.dtype)
    return y.clamp(min=float(info.tiny), max=1 - float(info.eps))


class SigmoidTransform(Transform):
    """``y = sigmoid(x)``, kept in [tiny, 1 − ε] (the dtype's smallest normal number and epsilon) so
    that the inverse (``log y − log1p(−y)``) stays finite, as PyTorch's; ``log|dy/dx| =
    −softplus(−x) − softplus(x)``."""

    codomain = constraints.unit_interval
    sign = 1

    def _call(self, x: Tensor) -> Tensor:
        return _clamp_unit(gg.sigmoid(x))

    def _inverse(self, y: Tensor) -> Tensor:
        y = _clamp_unit(y)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -F.softplus(-x) - F.softplus(x)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SigmoidTransform)

    __hash__ = object.__hash__


class TanhTransform(Transform):
    """``y = tanh(x)``; inverse ``atanh``; ``log|dy/dx| = 2 (log 2 − x − softplus(−2x))``."""

    codomain = constraints.interval(-1.0, 1.0)
    sign = 1

    def _call(self, x: Tensor) -> Tensor:
        return x.tanh()

    def _inverse(self, y: Tensor) -> Tensor:
        return y.atanh()  # (the log form loses y near 0: 1 ± y rounds to 1)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        # the softplus form stays accurate where 1 − tanh(x)² underflows
        return 2.0 * (math.log(2.0) - x - F.softplus(-2.0 * x))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TanhTransform)

    __hash__ = object.__hash__


class AffineTransform(Transform):
    """``y = loc + scale * x``; ``log|dy/dx| = log|scale|``, summed over the last ``event_dim``
    dims.

    Args:
        loc: the shift (a number or a Tensor broadcastable with x).
        scale: the scale (a number or a Tensor broadcastable with x).
        event_dim: how many trailing dims form one event (0: elementwise).
        cache_size: as for every transform.
    """

    def __init__(self, loc: Any, scale: Any, event_dim: int = 0, cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        self.loc, self.scale, self.event_dim = loc, scale, event_dim

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

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AffineTransform) or self.event_dim != other.event_dim:
            return False
        return all(
            bool((a == b).all()) if isinstance(a, Tensor) or isinstance(b, Tensor) else a == b
            for a, b in ((self.loc, other.loc), (self.scale, other.scale))
        )

    __hash__ = object.__hash__


# the transforms added in round 29 live in their own file (this one is near the size limit)
from glassgrad.distributions.transforms_more import *  # noqa: E402, F403
from glassgrad.distributions.transforms_more import __all__ as _more_all  # noqa: E402

__all__ += _more_all
