"""``Laplace``: the double-exponential distribution around ``loc``."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from glassgrad.distributions import constraints, utils
from glassgrad.distributions._continuous import expand_params
from glassgrad.distributions.distribution import Distribution
from glassgrad.tensor import Tensor

__all__ = ["Laplace"]


class Laplace(Distribution):
    r"""The Laplace distribution with location μ and scale b, as ``torch.distributions.Laplace``::

        log p(x) = −log(2b) − |x − μ| / b
        cdf(x)   = ½ − ½ sign(x − μ) expm1(−|x − μ| / b)
        H        = 1 + log(2b)
        rsample  = μ − b sign(u) log(1 − |u|),   u ~ U(ε − 1, 1)   (ε: the dtype's epsilon)

    Args:
        loc: μ (real).
        scale: b > 0.
        validate_args: check b > 0 now and that log_prob's values are real.

    Shape:
        ``batch_shape`` = broadcast(loc, scale); ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.real
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = utils.broadcast_all(loc, scale)
        super().__init__(tuple(self.loc.shape), (), validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Laplace:
        return expand_params(self, Laplace, batch_shape, ("loc", "scale"), _instance)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale.pow(2)

    @property
    def stddev(self) -> Tensor:
        return math.sqrt(2) * self.scale

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        eps = float(np.finfo(self.loc._data.dtype).eps)
        u = utils.standard_uniform(self._extended_shape(sample_shape), self.loc.dtype)
        u = (eps - 1) + u * (2 - eps)  # U(ε − 1, 1): |u| < 1 keeps the log finite
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        d = value - self.loc
        return 0.5 - 0.5 * d.sign() * (-d.abs() / self.scale).expm1()

    def icdf(self, value: Tensor) -> Tensor:
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self) -> Tensor:
        return 1 + (2 * self.scale).log()
