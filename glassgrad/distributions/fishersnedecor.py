"""``FisherSnedecor``: the F distribution, the ratio of two scaled chi-squared variables."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions import constraints, utils
from glassgrad.distributions._continuous import tiny
from glassgrad.distributions.distribution import Distribution
from glassgrad.distributions.gamma import Gamma
from glassgrad.tensor import Tensor

__all__ = ["FisherSnedecor"]


class FisherSnedecor(Distribution):
    r"""The F distribution F(d₁, d₂), as ``torch.distributions.FisherSnedecor``: X = (U₁/d₁)/(U₂/d₂)
    for independent U_i ~ χ²(d_i), drawn as the ratio of Γ(d₁/2, d₁) and Γ(d₂/2, d₂) variates::

        log p(x) = lgamma((d₁+d₂)/2) − lgamma(d₁/2) − lgamma(d₂/2) + (d₁/2) log(d₁/d₂)
                   + (d₁/2 − 1) log x − ((d₁+d₂)/2) log(1 + d₁x/d₂)
        mean = d₂/(d₂ − 2) (NaN for d₂ <= 2),   mode = (d₁ − 2)/d₁ · d₂/(d₂ + 2) (NaN for d₁ <= 2)
        variance = 2d₂²(d₁ + d₂ − 2) / (d₁(d₂ − 2)²(d₂ − 4)) (NaN for d₂ <= 4)

    ``rsample`` is differentiable in both degrees of freedom (implicit reparameterisation of the
    gamma draws); the denominator and the ratio are floored at the dtype's tiny, as PyTorch's.

    Args:
        df1: d₁ > 0.
        df2: d₂ > 0.
        validate_args: check both > 0 now and that log_prob's values are > 0.

    Shape:
        ``batch_shape`` = broadcast(df1, df2); ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "df1": constraints.positive,
        "df2": constraints.positive,
    }
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1: Any, df2: Any, validate_args: bool | None = None) -> None:
        self.df1, self.df2 = utils.broadcast_all(df1, df2)
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2)
        super().__init__(tuple(self.df1.shape), (), validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> FisherSnedecor:
        shape = (batch_shape,) if isinstance(batch_shape, int) else tuple(batch_shape)
        new = self._get_checked_instance(FisherSnedecor, _instance)
        new.df1, new.df2 = self.df1.expand(shape), self.df2.expand(shape)
        new._gamma1, new._gamma2 = self._gamma1.expand(shape), self._gamma2.expand(shape)
        Distribution.__init__(new, shape, (), validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        df2 = gg.where(self.df2 > 2, self.df2, math.nan)
        return df2 / (df2 - 2)

    @property
    def mode(self) -> Tensor:
        mode = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        return gg.where(self.df1 > 2, mode, math.nan)

    @property
    def variance(self) -> Tensor:
        df1, df2 = self.df1, gg.where(self.df2 > 4, self.df2, math.nan)
        return 2 * df2.pow(2) * (df1 + df2 - 2) / (df1 * (df2 - 2).pow(2) * (df2 - 4))

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        with gg.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        x1 = self._gamma1.rsample(sample_shape).reshape(shape)
        x2 = self._gamma2.rsample(sample_shape).reshape(shape)
        floor = tiny(x2)
        return (x1 / x2.clamp(min=floor)).clamp(min=floor)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        half1, half2 = self.df1 * 0.5, self.df2 * 0.5
        ratio = self.df1 / self.df2
        norm = gg.lgamma(half1 + half2) - gg.lgamma(half1) - gg.lgamma(half2)
        return (
            norm
            + half1 * ratio.log()
            + (half1 - 1) * gg.log(value)
            - (half1 + half2) * gg.log1p(ratio * value)
        )
