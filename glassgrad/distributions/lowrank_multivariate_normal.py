"""``LowRankMultivariateNormal``: the Gaussian with covariance W Wᵀ + diag(D)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

import glassgrad as gg
from glassgrad.distributions import constraints, utils
from glassgrad.distributions.distribution import Distribution
from glassgrad.distributions.multivariate_normal import diagonal, mahalanobis
from glassgrad.ops.linalg import cholesky
from glassgrad.tensor import Tensor

__all__ = ["LowRankMultivariateNormal"]


class LowRankMultivariateNormal(Distribution):
    r"""N(μ, W Wᵀ + diag(D)), as ``torch.distributions.LowRankMultivariateNormal``::

        rsample  = μ + W ε_W + √D ε_D,   ε_W ~ N(0, I_r), ε_D ~ N(0, I_k)
        log p(x) = −½ (k log 2π + (x − μ)ᵀ Σ⁻¹ (x − μ) + log det Σ)

    The densities go through the Cholesky factor of the k × k covariance (PyTorch uses the
    Woodbury identity on the r × r capacitance matrix instead; the values agree to rounding,
    this form costs O(k³) per matrix).

    Args:
        loc: μ, (…, k).
        cov_factor: W, (…, k, r).
        cov_diag: D, (…, k), positive.
        validate_args: check the parameters now and log_prob's values.

    Shape:
        ``batch_shape`` = broadcast(loc[:-1], cov_factor[:-2], cov_diag[:-1]); ``event_shape`` = (k,).
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "loc": constraints.real_vector,
        "cov_factor": constraints.independent(constraints.real, 2),
        "cov_diag": constraints.independent(constraints.positive, 1),
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc: Any, cov_factor: Any, cov_diag: Any, validate_args: bool | None = None) -> None:
        loc, cov_factor, cov_diag = (utils.as_param(v) for v in (loc, cov_factor, cov_diag))
        if loc.ndim < 1:
            raise ValueError(
                f"LowRankMultivariateNormal: expected loc of at least one dim, got shape {tuple(loc.shape)}"
            )
        k = loc.shape[-1]
        if cov_factor.ndim < 2 or cov_factor.shape[-2] != k:
            raise ValueError(
                f"LowRankMultivariateNormal: expected cov_factor of shape (…, {k}, rank) to match loc "
                f"{tuple(loc.shape)}, got {tuple(cov_factor.shape)}"
            )
        if cov_diag.ndim < 1 or cov_diag.shape[-1] != k:
            raise ValueError(
                f"LowRankMultivariateNormal: expected cov_diag of shape (…, {k}) to match loc {tuple(loc.shape)}, "
                f"got {tuple(cov_diag.shape)}"
            )
        try:
            batch = np.broadcast_shapes(
                tuple(loc.shape[:-1]), tuple(cov_factor.shape[:-2]), tuple(cov_diag.shape[:-1])
            )
        except ValueError:
            raise ValueError(
                f"LowRankMultivariateNormal: incompatible batch shapes of loc {tuple(loc.shape)}, cov_factor "
                f"{tuple(cov_factor.shape)} and cov_diag {tuple(cov_diag.shape)}"
            ) from None
        r = cov_factor.shape[-1]
        self.loc = loc.expand(*batch, k)
        self.cov_factor = cov_factor.expand(*batch, k, r)
        self.cov_diag = cov_diag.expand(*batch, k)
        self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag = cov_factor, cov_diag
        super().__init__(batch, (k,), validate_args)
        w, d = cov_factor, cov_diag
        self._unbroadcasted_scale_tril = cholesky(w @ w.mT + gg.diag_embed(d))

    def expand(self, batch_shape: tuple, _instance: Any = None) -> LowRankMultivariateNormal:
        shape = tuple(batch_shape)
        k, r = self.cov_factor.shape[-2:]
        new = LowRankMultivariateNormal(
            self.loc.expand(*shape, k), self.cov_factor.expand(*shape, k, r), self.cov_diag.expand(*shape, k),
            validate_args=False,
        )  # fmt: skip
        new = self._fill_instance(LowRankMultivariateNormal, new, _instance)  # a subclass expands to itself
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return ((w**2).sum(-1) + d).expand(*self.batch_shape, *self.event_shape)

    @property
    def covariance_matrix(self) -> Tensor:
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        k = self.event_shape[0]
        return (w @ w.mT + gg.diag_embed(d)).expand(*self.batch_shape, k, k)

    @property
    def scale_tril(self) -> Tensor:
        k = self.event_shape[0]
        return self._unbroadcasted_scale_tril.expand(*self.batch_shape, k, k)

    @property
    def precision_matrix(self) -> Tensor:
        return gg.linalg.inv(self.covariance_matrix)

    def _half_log_det(self) -> Tensor:
        return diagonal(self._unbroadcasted_scale_tril).log().sum(-1)

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        r = self.cov_factor.shape[-1]
        eps_w = utils.standard_normal(shape[:-1] + (r,), self.loc.dtype)
        eps_d = utils.standard_normal(shape, self.loc.dtype)
        low_rank = (self._unbroadcasted_cov_factor @ eps_w.unsqueeze(-1)).squeeze(-1)  # (…, k, r)(…, r, 1)
        return self.loc + low_rank + self._unbroadcasted_cov_diag.sqrt() * eps_d

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        k = self.event_shape[0]
        m = mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        return -0.5 * (k * math.log(2 * math.pi) + m) - self._half_log_det()

    def entropy(self) -> Tensor:
        k = self.event_shape[0]
        h = 0.5 * k * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h.expand(*self.batch_shape) if tuple(self.batch_shape) else h
