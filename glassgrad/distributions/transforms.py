"""Bijective transforms for ``TransformedDistribution``, as ``torch.distributions.transforms``.

A transform maps ``x`` to ``y = t(x)``; ``t.inv`` is its inverse (itself a transform, whose
``inv`` is ``t`` again) and ``t.log_abs_det_jacobian(x, y)`` is ``log |dy/dx|``. The transforms
here act elementwise (``event_dim`` 0) unless given ``event_dim``, in which case the Jacobian term
is summed over the last ``event_dim`` dims, one value per event. Built from Tensor ops, so
gradients flow through the forward map, the inverse and the Jacobian term.
"""

from __future__ import annotations

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
    "identity_transform",
]


def _sum_rightmost(value: Tensor, dims: int) -> Tensor:
    """Sum the last ``dims`` dims of ``value`` (none when ``dims`` is 0)."""
    return value.sum(tuple(range(-dims, 0))) if dims > 0 else value


def _event_dims(t: Transform) -> tuple[int, int]:
    """The event dims of ``t``'s domain and codomain. A transform that declares only ``event_dim``
    (both constraints elementwise, the older way of writing one) has it on both sides."""
    d, c = t.domain.event_dim, t.codomain.event_dim
    return (t.event_dim, t.event_dim) if d == c == 0 else (d, c)


def _widen(constraint: Any, event_dim: int) -> Any:
    """``constraint`` over ``event_dim`` trailing dims (wrapped in ``independent`` if it has fewer)."""
    extra = event_dim - constraint.event_dim
    return constraints.independent(constraint, extra) if extra > 0 else constraint


class Transform:
    """Base class of invertible maps ``y = t(x)``.

    Args:
        cache_size: 0 or 1; with 1 the last ``(x, y)`` pair is remembered so that ``inv(y)``
            of a just-computed ``y`` returns the very ``x`` (no numerical round trip).

    Subclasses define ``_call(x)``, ``_inverse(y)`` and ``log_abs_det_jacobian(x, y)``.
    """

    bijective = False  # as PyTorch: a transform says so when it is a bijection
    # declared, not given, as PyTorch's: a subclass that sets no domain (dreamerv3's TanhBijector)
    # fails where one is read (TransformedDistribution, event_dim) with PyTorch's AttributeError
    domain: Any
    codomain: Any

    def __init__(self, cache_size: int = 0) -> None:
        if cache_size not in (0, 1):
            raise ValueError(f"{type(self).__name__}: expected cache_size 0 or 1, got {cache_size!r}")
        self._cache_size = cache_size
        self._inv: Transform | None = None
        if cache_size == 1:
            self._cached_x_y: tuple = (None, None)  # PyTorch's name: Pyro's flows read and clear it
        super().__init__()  # cooperative, as PyTorch's: Pyro's TransformModule is also an nn.Module

    @property
    def event_dim(self) -> int:
        """The event dims of domain and codomain when they agree (as PyTorch: a ``real_vector``
        domain gives 1); a transform may also set it."""
        given = self.__dict__.get("_event_dim")
        if given is not None:
            return given
        d, c = self.domain.event_dim, self.codomain.event_dim
        if d == c:
            return d
        raise ValueError(
            f"{type(self).__name__}.event_dim: the domain has {d} event dims and the codomain {c}; "
            "use either .domain.event_dim or .codomain.event_dim"
        )

    @event_dim.setter
    def event_dim(self, value: int) -> None:
        self.__dict__["_event_dim"] = value

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
        if self._cache_size == 0:
            return self._call(x)
        x_old, y_old = self._cached_x_y
        if x is x_old:
            return y_old
        y = self._call(x)
        self._cached_x_y = (x, y)
        return y

    def _inv_call(self, y: Tensor) -> Tensor:
        if self._cache_size == 0:
            return self._inverse(y)
        x_old, y_old = self._cached_x_y
        if y is y_old:
            return x_old
        x = self._inverse(y)
        self._cached_x_y = (x, y)
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
        self.bijective = transform.bijective

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return self._inv.event_dim

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

    def forward_shape(self, shape: tuple) -> tuple:
        return self._inv.inverse_shape(shape)

    def inverse_shape(self, shape: tuple) -> tuple:
        return self._inv.forward_shape(shape)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _InverseTransform) and self._inv == other._inv

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._inv!r})"


class ComposeTransform(Transform):
    """Apply ``parts`` in order: ``y = parts[-1](...parts[0](x))``; the Jacobian terms add."""

    def __init__(self, parts: list, cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        # the cache lives in the parts, as PyTorch's: the inverse chain (made of the parts' inverses)
        # then gives back the very x of a cached y instead of recomputing it (atanh(1) = inf)
        parts = [p.with_cache(cache_size) for p in parts] if cache_size else list(parts)
        self.parts = parts  # event_dim: from the chain's domain and codomain, as PyTorch

    def with_cache(self, cache_size: int = 1) -> Transform:
        if cache_size == self._cache_size:
            return self
        return ComposeTransform(self.parts, cache_size=cache_size)

    def _dims(self) -> tuple[int, int]:
        """The event dims of the chain's domain and codomain: a part's events may span more dims
        than its neighbours', and a reshaping part moves them."""
        dims = [_event_dims(p) for p in self.parts]
        if not dims:
            return 0, 0
        dom = dims[-1][1]
        for d, c in reversed(dims):
            dom = max(dom + d - c, d)
        cod = dims[0][0]
        for d, c in dims:
            cod = max(cod + c - d, c)
        return dom, cod

    @property
    def domain(self) -> Any:  # type: ignore[override]
        return _widen(self.parts[0].domain, self._dims()[0]) if self.parts else constraints.real

    @property
    def codomain(self) -> Any:  # type: ignore[override]
        return _widen(self.parts[-1].codomain, self._dims()[1]) if self.parts else constraints.real

    def forward_shape(self, shape: tuple) -> tuple:
        for p in self.parts:
            shape = p.forward_shape(shape)
        return tuple(shape)

    def inverse_shape(self, shape: tuple) -> tuple:
        for p in reversed(self.parts):
            shape = p.inverse_shape(shape)
        return tuple(shape)

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

    def __call__(self, x: Tensor) -> Tensor:
        return self._call(x)  # each part caches its own pair

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
        xs = [x]
        for p in self.parts[:-1]:
            xs.append(p(xs[-1]))
        xs.append(y)
        total: Any = 0.0
        event_dim = self._dims()[0]
        for p, a, b in zip(self.parts, xs[:-1], xs[1:]):
            d, c = _event_dims(p)
            # a part whose events span fewer dims than the chain's gives more terms: sum them up
            total = total + _sum_rightmost(p.log_abs_det_jacobian(a, b), event_dim - d)
            event_dim += c - d
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

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
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


def _clipped_sigmoid(x: Tensor) -> Tensor:
    """PyTorch's private helper (pytorch-forecasting imports it): ``sigmoid(x)`` in [tiny, 1 − ε]."""
    return _clamp_unit(gg.sigmoid(x))


class SigmoidTransform(Transform):
    """``y = sigmoid(x)``, kept in [tiny, 1 − ε] (the dtype's smallest normal number and epsilon) so
    that the inverse (``log y − log1p(−y)``) stays finite, as PyTorch's; ``log|dy/dx| =
    −softplus(−x) − softplus(x)``."""

    domain = constraints.real
    codomain = constraints.unit_interval
    bijective = True
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


# AffineTransform lives in its own file (this one is near the size limit)
from glassgrad.distributions.transforms_affine import AffineTransform  # noqa: E402

# the transforms added in round 29 live in their own file (this one is near the size limit)
from glassgrad.distributions.transforms_more import *  # noqa: E402, F403
from glassgrad.distributions.transforms_more import __all__ as _more_all  # noqa: E402

__all__ += _more_all

# the matrix and CDF transforms (round 30) live in their own file too
from glassgrad.distributions.transforms_matrix import *  # noqa: E402, F403
from glassgrad.distributions.transforms_matrix import __all__ as _matrix_all  # noqa: E402

__all__ += _matrix_all
