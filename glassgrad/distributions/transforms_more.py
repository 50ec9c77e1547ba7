"""More transforms with ``torch.distributions.transforms``' names: power, softmax, stick-breaking,
abs, softplus, tanh, the event-reshaping ones (independent, reshape), the slice-wise ones (cat, stack)
and the lower-Cholesky map. Re-exported by ``distributions.transforms``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.distributions import constraints, utils
from glassgrad.distributions.transforms import Transform, _sum_rightmost

# the slice-wise transforms live in their own file (size limit); exported from here
from glassgrad.distributions.transforms_slices import CatTransform, StackTransform
from glassgrad.tensor import Tensor

__all__ = [
    "PowerTransform",
    "SoftmaxTransform",
    "StickBreakingTransform",
    "AbsTransform",
    "SoftplusTransform",
    "IndependentTransform",
    "ReshapeTransform",
    "CatTransform",
    "StackTransform",
    "LowerCholeskyTransform",
    "TanhTransform",
]


class TanhTransform(Transform):
    """``y = tanh(x)``; inverse ``atanh``; ``log|dy/dx| = 2 (log 2 − x − softplus(−2x))``."""

    domain = constraints.real
    codomain = constraints.interval(-1.0, 1.0)
    bijective = True
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


class PowerTransform(Transform):
    """``y = x ** exponent`` on x > 0; ``log|dy/dx| = log|exponent · y / x|``."""

    domain = constraints.positive
    codomain = constraints.positive
    bijective = True

    def __init__(self, exponent: Any, cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        (self.exponent,) = utils.broadcast_all(exponent)

    def with_cache(self, cache_size: int = 1) -> Transform:
        return (
            self if cache_size == self._cache_size else PowerTransform(self.exponent, cache_size=cache_size)
        )

    @property
    def sign(self) -> Any:
        return self.exponent.sign()

    def _call(self, x: Tensor) -> Tensor:
        return x.pow(self.exponent)

    def _inverse(self, y: Tensor) -> Tensor:
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return (self.exponent * y / x).abs().log()

    def forward_shape(self, shape: tuple) -> tuple:
        return tuple(np.broadcast_shapes(tuple(shape), tuple(self.exponent.shape)))

    inverse_shape = forward_shape

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PowerTransform) and bool((self.exponent == other.exponent).all())

    __hash__ = object.__hash__


class SoftmaxTransform(Transform):
    """Unconstrained vectors to the simplex by ``softmax`` over the last dim (not bijective:
    the inverse ``log y`` is one of many preimages; no Jacobian term)."""

    domain = constraints.real_vector
    codomain = constraints.simplex
    event_dim = 1
    bijective = False

    def _call(self, x: Tensor) -> Tensor:
        return x.softmax(-1)

    def _inverse(self, y: Tensor) -> Tensor:
        return y.log()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SoftmaxTransform)

    __hash__ = object.__hash__


def _clipped_sigmoid(x: Tensor) -> Tensor:
    info = np.finfo(x._data.dtype)
    return gg.sigmoid(x).clamp(min=float(info.tiny), max=1.0 - float(info.eps))


class StickBreakingTransform(Transform):
    """R^K to the (K+1)-simplex by stick breaking: coordinate i takes the fraction
    ``sigmoid(x_i − log(K − i))`` of what is left (the offset maps 0 to the uniform point).
    Bijective; the Jacobian term is one value per vector. Shape: (…, K) -> (…, K + 1)."""

    domain = constraints.real_vector
    codomain = constraints.simplex
    event_dim = 1
    bijective = True

    @staticmethod
    def _offset(k: int, like: Tensor) -> Tensor:
        return gg.arange(k, 0, -1, dtype=like.dtype)  # K, K − 1, …, 1

    def _call(self, x: Tensor) -> Tensor:
        z = _clipped_sigmoid(x - self._offset(x.shape[-1], x).log())
        left = (1 - z).cumprod(-1)  # what remains of the stick after each break
        ones = gg.ones(tuple(x.shape[:-1]) + (1,), dtype=x.dtype)
        return gg.cat([z, ones], -1) * gg.cat([ones, left], -1)

    def _inverse(self, y: Tensor) -> Tensor:
        y_crop = y[..., :-1]
        k = y_crop.shape[-1]
        remaining = (1 - y_crop.cumsum(-1)).clamp(min=float(np.finfo(y._data.dtype).tiny))
        return y_crop.log() - remaining.log() + self._offset(k, y).log()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        x = x - self._offset(x.shape[-1], x).log()
        return (-x + F.logsigmoid(x) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape: tuple) -> tuple:
        return tuple(shape[:-1]) + (shape[-1] + 1,)

    def inverse_shape(self, shape: tuple) -> tuple:
        return tuple(shape[:-1]) + (shape[-1] - 1,)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StickBreakingTransform)

    __hash__ = object.__hash__


class AbsTransform(Transform):
    """``y = |x|`` (not bijective: the inverse returns y itself)."""

    domain = constraints.real
    codomain = constraints.positive
    bijective = False

    def _call(self, x: Tensor) -> Tensor:
        return x.abs()

    def _inverse(self, y: Tensor) -> Tensor:
        return y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AbsTransform)

    __hash__ = object.__hash__


class SoftplusTransform(Transform):
    """``y = log(1 + eˣ)``; inverse ``y + log(−expm1(−y))``; ``log|dy/dx| = −softplus(−x)``."""

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = 1

    def _call(self, x: Tensor) -> Tensor:
        return F.softplus(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return (-(-y).expm1()).log() + y

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -F.softplus(-x)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SoftplusTransform)

    __hash__ = object.__hash__


class IndependentTransform(Transform):
    """``base_transform`` with its last ``reinterpreted_batch_ndims`` batch dims made event dims:
    the Jacobian term is summed over them."""

    def __init__(
        self, base_transform: Transform, reinterpreted_batch_ndims: int, cache_size: int = 0
    ) -> None:
        super().__init__(cache_size=cache_size)
        self.base_transform = base_transform.with_cache(cache_size)
        self.reinterpreted_batch_ndims = int(reinterpreted_batch_ndims)
        self.event_dim = base_transform.event_dim + self.reinterpreted_batch_ndims

    def with_cache(self, cache_size: int = 1) -> Transform:
        if cache_size == self._cache_size:
            return self
        return IndependentTransform(
            self.base_transform, self.reinterpreted_batch_ndims, cache_size=cache_size
        )

    @property
    def domain(self) -> Any:  # type: ignore[override]
        return constraints.independent(self.base_transform.domain, self.reinterpreted_batch_ndims)

    @property
    def codomain(self) -> Any:  # type: ignore[override]
        return constraints.independent(self.base_transform.codomain, self.reinterpreted_batch_ndims)

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return self.base_transform.bijective

    @property
    def sign(self) -> Any:
        return self.base_transform.sign

    def _call(self, x: Tensor) -> Tensor:
        return self.base_transform(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return _sum_rightmost(self.base_transform.log_abs_det_jacobian(x, y), self.reinterpreted_batch_ndims)

    def forward_shape(self, shape: tuple) -> tuple:
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape: tuple) -> tuple:
        return self.base_transform.inverse_shape(shape)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_transform!r}, {self.reinterpreted_batch_ndims})"


class ReshapeTransform(Transform):
    """Reshape the rightmost dims from ``in_shape`` to ``out_shape`` (same number of elements);
    volume-preserving, so the Jacobian term is 0 per batch element."""

    bijective = True

    def __init__(self, in_shape: tuple, out_shape: tuple, cache_size: int = 0) -> None:
        self.in_shape, self.out_shape = tuple(in_shape), tuple(out_shape)
        if math.prod(self.in_shape) != math.prod(self.out_shape):
            raise ValueError(
                f"ReshapeTransform: expected in_shape {self.in_shape} and out_shape {self.out_shape} to have "
                "the same number of elements"
            )
        super().__init__(cache_size=cache_size)
        self.event_dim = len(self.in_shape)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if cache_size == self._cache_size:
            return self
        return ReshapeTransform(self.in_shape, self.out_shape, cache_size=cache_size)

    @property
    def domain(self) -> Any:  # type: ignore[override]
        return constraints.independent(constraints.real, len(self.in_shape))

    @property
    def codomain(self) -> Any:  # type: ignore[override]
        return constraints.independent(constraints.real, len(self.out_shape))

    def _call(self, x: Tensor) -> Tensor:
        batch = tuple(x.shape[: x.ndim - len(self.in_shape)])
        return x.reshape(batch + self.out_shape)

    def _inverse(self, y: Tensor) -> Tensor:
        batch = tuple(y.shape[: y.ndim - len(self.out_shape)])
        return y.reshape(batch + self.in_shape)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return gg.zeros(tuple(x.shape[: x.ndim - len(self.in_shape)]), dtype=x.dtype)

    def _check(self, op: str, shape: tuple, expect: tuple) -> None:
        if len(shape) < len(expect) or tuple(shape[len(shape) - len(expect) :]) != expect:
            raise ValueError(
                f"ReshapeTransform.{op}: expected a shape ending in {expect}, got {tuple(shape)}"
            )

    def forward_shape(self, shape: tuple) -> tuple:
        self._check("forward_shape", tuple(shape), self.in_shape)
        return tuple(shape[: len(shape) - len(self.in_shape)]) + self.out_shape

    def inverse_shape(self, shape: tuple) -> tuple:
        self._check("inverse_shape", tuple(shape), self.out_shape)
        return tuple(shape[: len(shape) - len(self.out_shape)]) + self.in_shape


class LowerCholeskyTransform(Transform):
    """Unconstrained square matrices to lower-triangular ones with a positive diagonal: the
    strict lower triangle is kept and the diagonal exponentiated (no Jacobian term)."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky
    event_dim = 2
    bijective = False  # as PyTorch flags it

    def _call(self, x: Tensor) -> Tensor:
        return x.tril(-1) + gg.diag_embed(x.diagonal(dim1=-2, dim2=-1).exp())

    def _inverse(self, y: Tensor) -> Tensor:
        return y.tril(-1) + gg.diag_embed(y.diagonal(dim1=-2, dim2=-1).log())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LowerCholeskyTransform)

    __hash__ = object.__hash__
