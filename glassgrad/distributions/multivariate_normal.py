"""``MultivariateNormal``: the Gaussian N(μ, Σ) over vectors, parameterised by Σ or its Cholesky factor."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

import glassgrad as gg
from glassgrad.distributions import constraints, utils
from glassgrad.distributions._continuous import expand_attributes
from glassgrad.distributions.distribution import Distribution
from glassgrad.ops.linalg import cholesky, solve_triangular
from glassgrad.tensor import Tensor

__all__ = ["MultivariateNormal"]


def diagonal(m: Tensor) -> Tensor:
    """The diagonal of each matrix, built from differentiable ops. (…, n, n) -> (…, n)."""
    n = m.shape[-1]
    return (m * gg.eye(n, dtype=m.dtype)).sum(-1)


def mahalanobis(scale_tril: Tensor, diff: Tensor) -> Tensor:
    """|L⁻¹ d|², the squared Mahalanobis distance. L (…, n, n), d (…, n) -> (…)."""
    shape = np.broadcast_shapes(tuple(scale_tril.shape[:-2]), tuple(diff.shape[:-1]))
    n = diff.shape[-1]
    low = scale_tril.expand(*shape, n, n)
    z = solve_triangular(low, diff.expand(*shape, n).unsqueeze(-1), upper=False)  # (…, n) -> (…, n, 1)
    return (z**2).sum((-2, -1))


def _precision_to_scale_tril(p: Tensor) -> Tensor:
    """L with L Lᵀ = P⁻¹, from the Cholesky factor of P with rows and columns reversed (PyTorch's
    way: reversing turns the upper factor of P⁻¹ into a lower one, and no inverse of P is formed).
    (…, k, k) -> (…, k, k)."""
    lf = cholesky(p.flip((-2, -1)))
    l_inv = lf.flip((-2, -1)).mT
    eye = gg.eye(p.shape[-1], dtype=p.dtype).expand(p.shape)
    return solve_triangular(l_inv, eye, upper=False)


class MultivariateNormal(Distribution):
    r"""The multivariate normal N(μ, Σ), as ``torch.distributions.MultivariateNormal``; give
    ``covariance_matrix`` Σ or ``scale_tril`` L (lower triangular, positive diagonal, Σ = L Lᵀ).

    Everything goes through L (Σ is factored once, by Cholesky)::

        log p(x) = −½ (k log 2π + |L⁻¹ (x − μ)|²) − Σᵢ log Lᵢᵢ
        H        = ½ k (1 + log 2π) + Σᵢ log Lᵢᵢ
        rsample  = μ + L ε,   ε ~ N(0, I_k)

    A diagonal covariance is ``scale_tril=torch.diag_embed(sigma)`` or
    ``covariance_matrix=diag(sigma²)``; ``Independent(Normal(mu, sigma), 1)`` is the same
    distribution, cheaper. Given ``precision_matrix`` P = Σ⁻¹, L comes from the Cholesky factor of
    P with its rows and columns reversed (no inverse of P is formed), as PyTorch's.

    Args:
        loc: μ, shape (…, k).
        covariance_matrix: Σ, shape (…, k, k), symmetric positive-definite.
        precision_matrix: P = Σ⁻¹, shape (…, k, k), symmetric positive-definite.
        scale_tril: L, shape (…, k, k).
        validate_args: check the parameters now and that log_prob's values are real vectors.

    Shape:
        ``batch_shape`` = broadcast(loc's shape without its last dim, the matrix's without its
        last two); ``event_shape`` = (k,).
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(
        self,
        loc: Any,
        covariance_matrix: Any = None,
        precision_matrix: Any = None,
        scale_tril: Any = None,
        validate_args: bool | None = None,
    ) -> None:
        given = {
            name: m
            for name, m in (
                ("covariance_matrix", covariance_matrix),
                ("precision_matrix", precision_matrix),
                ("scale_tril", scale_tril),
            )
            if m is not None
        }
        if len(given) != 1:
            raise ValueError(
                "MultivariateNormal: expected exactly one of covariance_matrix, precision_matrix or "
                f"scale_tril, got {sorted(given) or 'none'}"
            )
        ((which, matrix),) = given.items()
        loc = utils.as_param(loc)
        if loc.ndim < 1:
            raise ValueError(
                f"MultivariateNormal: expected loc of at least one dim (…, k), got shape {tuple(loc.shape)}"
            )
        matrix = utils.as_param(matrix)
        k = loc.shape[-1]
        if matrix.ndim < 2 or tuple(matrix.shape[-2:]) != (k, k):
            raise ValueError(
                f"MultivariateNormal: expected {which} of shape (…, {k}, {k}) to match loc {tuple(loc.shape)}, "
                f"got {tuple(matrix.shape)}"
            )
        batch = np.broadcast_shapes(tuple(loc.shape[:-1]), tuple(matrix.shape[:-2]))
        self.loc = loc.expand(*batch, k)
        setattr(self, which, matrix.expand(*batch, k, k))
        super().__init__(batch, (k,), validate_args)
        # Validated first (a matrix that is not positive definite gets the constraint's message).
        if which == "covariance_matrix":
            self._unbroadcasted_scale_tril = cholesky(matrix)
        elif which == "precision_matrix":
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(matrix)
        else:
            self._unbroadcasted_scale_tril = matrix

    def expand(self, batch_shape: tuple, _instance: Any = None) -> MultivariateNormal:
        return expand_attributes(
            self, batch_shape, _instance, keep=("_unbroadcasted_scale_tril",), cls=MultivariateNormal
        )

    # The two forms not given are lazy properties of the class, as PyTorch's: a subclass reaches them
    # through super() (gpytorch's MultivariateNormal: ``super().covariance_matrix``), and a given one
    # is an instance attribute that hides its property.
    @utils.lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(*self.batch_shape, *self.event_shape, *self.event_shape)

    @utils.lazy_property
    def covariance_matrix(self) -> Tensor:
        low = self._unbroadcasted_scale_tril
        return (low @ low.mT).expand(*self.batch_shape, *self.event_shape, *self.event_shape)

    @utils.lazy_property
    def precision_matrix(self) -> Tensor:
        low = self._unbroadcasted_scale_tril
        return gg.cholesky_inverse(low).expand(*self.batch_shape, *self.event_shape, *self.event_shape)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return (self._unbroadcasted_scale_tril**2).sum(-1).expand(*self.batch_shape, *self.event_shape)

    def _half_log_det(self) -> Tensor:
        """½ log det Σ = Σᵢ log Lᵢᵢ, shape (the matrix's batch)."""
        return diagonal(self._unbroadcasted_scale_tril).log().sum(-1)

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        eps = utils.standard_normal(self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(
            -1
        )  # L ε: (…, k, 1) -> (…, k)

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
