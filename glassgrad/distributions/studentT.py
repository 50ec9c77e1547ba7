# ruff: noqa: N999  (PyTorch's module name, torch.distributions.studentT)
"""``StudentT``: a heavy-tailed location-scale family; a normal whose precision is Γ-distributed."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions import constraints, utils
from glassgrad.distributions._continuous import expand_params, standard_gamma
from glassgrad.distributions.distribution import Distribution
from glassgrad.tensor import Tensor

__all__ = ["StudentT"]


class StudentT(Distribution):
    r"""Student's t distribution with ν degrees of freedom, location μ and scale σ, as
    ``torch.distributions.StudentT``::

        log p(x) = −(ν + 1)/2 · log(1 + y²/ν) − log σ − ½ log(νπ) − lgamma(ν/2) + lgamma((ν + 1)/2),
                   y = (x − μ) / σ
        mean = μ (ν > 1, else NaN);  variance = σ² ν / (ν − 2) (ν > 2), ∞ (1 < ν <= 2), NaN (ν <= 1)
        rsample  = μ + σ z / √(c / ν),   z ~ N(0, 1),  c ~ χ²(ν)

    ``rsample`` is differentiable in μ, σ and ν (the χ² draw by the implicit gradient of gamma
    draws, ``Gamma``).

    Args:
        df: ν > 0.
        loc: μ (default 0).
        scale: σ > 0 (default 1).
        validate_args: check ν, σ > 0 now and that log_prob's values are real.

    Shape:
        ``batch_shape`` = broadcast(df, loc, scale); ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "df": constraints.positive,
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.real
    has_rsample = True

    def __init__(self, df: Any, loc: Any = 0.0, scale: Any = 1.0, validate_args: bool | None = None) -> None:
        self.df, self.loc, self.scale = utils.broadcast_all(df, loc, scale)
        super().__init__(tuple(self.df.shape), (), validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> StudentT:
        return expand_params(self, StudentT, batch_shape, ("df", "loc", "scale"), _instance)

    @property
    def mean(self) -> Tensor:
        return gg.where(self.df > 1, self.loc, math.nan)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        finite = self.scale.pow(2) * self.df / (self.df - 2)
        return gg.where(self.df > 2, finite, gg.where(self.df > 1, math.inf, math.nan))

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        z = utils.standard_normal(shape, self.df.dtype)
        chi2 = standard_gamma(0.5 * self.df, shape) * 2  # χ²(ν) = 2 Γ(ν/2, 1)
        return self.loc + self.scale * (z * (chi2 / self.df).rsqrt())

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        df = self.df
        y = (value - self.loc) / self.scale
        norm = (
            self.scale.log()
            + 0.5 * df.log()
            + 0.5 * math.log(math.pi)
            + gg.lgamma(0.5 * df)
            - gg.lgamma(0.5 * (df + 1.0))
        )
        return -0.5 * (df + 1.0) * (y.pow(2) / df).log1p() - norm

    def entropy(self) -> Tensor:
        df = self.df
        half, half1 = 0.5 * df, 0.5 * (df + 1)
        lbeta = gg.lgamma(half) + math.lgamma(0.5) - gg.lgamma(half1)
        return self.scale.log() + half1 * (gg.digamma(half1) - gg.digamma(half)) + 0.5 * df.log() + lbeta
