"""Transforms onto matrix spaces and through a CDF, with ``torch.distributions.transforms``' names:
``CorrCholeskyTransform`` (vectors to Cholesky factors of correlation matrices, the bijection
behind ``LKJCholesky``), ``PositiveDefiniteTransform`` and ``CumulativeDistributionTransform``
(copulas). Re-exported by ``distributions.transforms``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.distributions import constraints
from glassgrad.distributions.transforms import Transform
from glassgrad.distributions.transforms_more import LowerCholeskyTransform
from glassgrad.distributions.utils import tril_matrix_to_vec, vec_to_tril_matrix
from glassgrad.tensor import Tensor

__all__ = ["CorrCholeskyTransform", "PositiveDefiniteTransform", "CumulativeDistributionTransform"]


class CorrCholeskyTransform(Transform):
    r"""Unconstrained vectors of length D(D−1)/2 to Cholesky factors of D×D correlation matrices
    (lower-triangular, positive diagonal, rows of unit length), as PyTorch's: the vector fills the
    strict lower triangle row by row, each entry goes through tanh to r ∈ (−1, 1), and row i is
    built by a signed stick breaking, y_ij = r_ij · sqrt(1 − Σ_{k<j} y_ik²), with the diagonal
    taking what is left. Bijective. Shape: (…, N) -> (…, D, D).

    ``log|det J| = ½ Σ_{i, j<i−1} log(1 − Σ_{k<=j} y_ik²) + Σ log(1 − tanh² x)``, one value per vector.
    """

    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def _call(self, x: Tensor) -> Tensor:
        eps = float(np.finfo(x._data.dtype).eps)
        r = vec_to_tril_matrix(x.tanh().clamp(min=-1 + eps, max=1 - eps), diag=-1)
        # the stick left before each column: prod_{k<j} sqrt(1 − r_ik²), 1 at column 0
        left = F.pad((1 - r.pow(2)).sqrt().cumprod(-1)[..., :-1], (1, 0), value=1.0)
        eye = gg.eye(r.shape[-1], dtype=r.dtype)
        return (r + eye) * left

    def _inverse(self, y: Tensor) -> Tensor:
        left = F.pad((1 - (y * y).cumsum(-1))[..., :-1], (1, 0), value=1.0)
        t = tril_matrix_to_vec(y, diag=-1) / tril_matrix_to_vec(left, diag=-1).sqrt()
        return 0.5 * (t.log1p() - (-t).log1p())

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor, intermediates: Any = None) -> Tensor:
        remaining = tril_matrix_to_vec(1 - (y * y).cumsum(-1), diag=-2)
        stick = 0.5 * remaining.log().sum(-1)
        tanh = -2 * (x + F.softplus(-2 * x) - math.log(2.0)).sum(-1)
        return stick + tanh

    def forward_shape(self, shape: tuple) -> tuple:
        if len(shape) < 1:
            raise ValueError("CorrCholeskyTransform.forward_shape: expected at least 1 dim, got ()")
        n = shape[-1]
        d = round((0.25 + 2 * n) ** 0.5 + 0.5)
        if d * (d - 1) // 2 != n:
            raise ValueError(
                f"CorrCholeskyTransform.forward_shape: a last dim of {n} is not D(D−1)/2 for any D"
            )
        return tuple(shape[:-1]) + (d, d)

    def inverse_shape(self, shape: tuple) -> tuple:
        if len(shape) < 2:
            raise ValueError(
                f"CorrCholeskyTransform.inverse_shape: expected at least 2 dims, got {tuple(shape)}"
            )
        if shape[-2] != shape[-1]:
            raise ValueError(
                f"CorrCholeskyTransform.inverse_shape: expected square matrices, got shape {tuple(shape)}"
            )
        d = shape[-1]
        return tuple(shape[:-2]) + (d * (d - 1) // 2,)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CorrCholeskyTransform)

    __hash__ = object.__hash__


class PositiveDefiniteTransform(Transform):
    """Unconstrained square matrices to positive-definite ones: ``L Lᵀ`` with ``L`` from
    ``LowerCholeskyTransform``; the inverse goes back through the Cholesky factor. Not flagged
    bijective and without a Jacobian term, as PyTorch's."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite
    event_dim = 2
    bijective = False

    def _call(self, x: Tensor) -> Tensor:
        low = LowerCholeskyTransform()(x)
        return low @ low.mT

    def _inverse(self, y: Tensor) -> Tensor:
        return LowerCholeskyTransform().inv(gg.linalg.cholesky(y))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PositiveDefiniteTransform)

    __hash__ = object.__hash__


class CumulativeDistributionTransform(Transform):
    """``y = distribution.cdf(x)`` onto the unit interval; inverse ``icdf``; ``log|dy/dx|`` is the
    density, ``distribution.log_prob(x)``. ``TransformedDistribution(MultivariateNormal(...),
    [CumulativeDistributionTransform(Normal(0, 1))])`` is a Gaussian copula."""

    bijective = True
    codomain = constraints.unit_interval
    sign = 1

    def __init__(self, distribution: Any, cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        self.distribution = distribution

    @property
    def domain(self) -> Any:  # type: ignore[override]
        return self.distribution.support

    def with_cache(self, cache_size: int = 1) -> Transform:
        if cache_size == self._cache_size:
            return self
        return CumulativeDistributionTransform(self.distribution, cache_size=cache_size)

    def _call(self, x: Tensor) -> Tensor:
        return self.distribution.cdf(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return self.distribution.log_prob(x)
