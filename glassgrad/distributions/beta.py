"""``Beta``: a distribution on [0, 1], the two-coordinate Dirichlet."""

from __future__ import annotations

from numbers import Number
from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions import constraints, utils
from glassgrad.distributions._continuous import check_properties
from glassgrad.distributions.dirichlet import Dirichlet
from glassgrad.distributions.distribution import Distribution
from glassgrad.distributions.exp_family import ExponentialFamily
from glassgrad.tensor import Tensor

__all__ = ["Beta"]


class Beta(ExponentialFamily):
    r"""The beta distribution Beta(α, β), as ``torch.distributions.Beta``: the first coordinate of
    a ``Dirichlet([α, β])``::

        log p(x) = (α − 1) log x + (β − 1) log(1 − x) − log B(α, β)
        mean = α / (α + β),   variance = α β / ((α + β)² (α + β + 1))

    Sampling draws NumPy's gamma variates (``Dirichlet``); ``rsample`` is differentiable in both
    concentrations (through ``Dirichlet.rsample``).

    Args:
        concentration1: α > 0.
        concentration0: β > 0.
        validate_args: check α, β > 0 now and that log_prob's values lie in [0, 1].

    Shape:
        ``batch_shape`` = broadcast(concentration1, concentration0); ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1: Any, concentration0: Any, validate_args: bool | None = None) -> None:
        if isinstance(concentration1, Number) and isinstance(concentration0, Number):
            both = gg.tensor([float(concentration1), float(concentration0)])
        else:
            c1, c0 = utils.broadcast_all(concentration1, concentration0)
            both = gg.stack([c1, c0], -1)
        self._dirichlet = Dirichlet(both, validate_args=False)
        super().__init__(tuple(self._dirichlet.batch_shape), (), validate_args)
        check_properties(self, ("concentration1", "concentration0"))

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Beta:
        shape = (batch_shape,) if isinstance(batch_shape, int) else tuple(batch_shape)
        new = self._get_checked_instance(Beta, _instance)
        new._dirichlet = self._dirichlet.expand(shape)
        Distribution.__init__(new, shape, (), validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def concentration1(self) -> Tensor:
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self) -> Tensor:
        return self._dirichlet.concentration[..., 1]

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        return self._dirichlet.sample(sample_shape)[..., 0]

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        return self._dirichlet.rsample(sample_shape)[..., 0]

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        heads_tails = gg.stack([value, 1.0 - value], -1)
        return self._dirichlet.log_prob(heads_tails)

    def entropy(self) -> Tensor:
        return self._dirichlet.entropy()

    # ------------------------------------------------------------ exponential family: θ = (α, β), F = log B(α, β)
    @property
    def _natural_params(self) -> tuple[Tensor, Tensor]:
        return (self.concentration1, self.concentration0)

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        return gg.lgamma(x) + gg.lgamma(y) - gg.lgamma(x + y)
