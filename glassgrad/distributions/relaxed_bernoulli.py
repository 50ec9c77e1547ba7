"""``RelaxedBernoulli`` (binary Concrete / Gumbel-sigmoid) and its logit-space base
``LogitRelaxedBernoulli``: reparameterisable relaxations of a coin (Maddison et al., 2017;
Jang et al., 2017)."""

from __future__ import annotations

from typing import Any, ClassVar

from glassgrad.distributions import constraints, utils
from glassgrad.distributions.distribution import Distribution
from glassgrad.distributions.transformed_distribution import TransformedDistribution
from glassgrad.distributions.transforms import SigmoidTransform
from glassgrad.tensor import Tensor

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli"]


class LogitRelaxedBernoulli(Distribution):
    r"""The logit of a ``RelaxedBernoulli`` sample, as ``torch.distributions.LogitRelaxedBernoulli``::

        rsample  = (ℓ + log u − log(1 − u)) / τ,   u ~ U(0, 1)
        log p(y) = log τ + (ℓ − τ y) − 2 log(1 + e^(ℓ − τ y))

    Args:
        temperature: τ > 0 (a tensor).
        probs / logits: exactly one; the coin's p or log-odds ℓ.
        validate_args: as for every distribution.

    Shape:
        ``batch_shape`` = the parameter's shape; ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    _param = utils._given_param  # PyTorch's private name for the form given (probs or logits)
    support = constraints.real
    has_rsample = False  # PyTorch's flag, although rsample works (RelaxedBernoulli's is True)

    def __init__(
        self, temperature: Any, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("LogitRelaxedBernoulli: expected exactly one of probs or logits, got "
                             + ("both" if probs is not None else "neither"))  # fmt: skip
        self.temperature = utils.as_param(temperature)
        if probs is not None:
            (self.probs,) = utils.broadcast_all(probs)
            self.logits_ = utils.probs_to_logits(self.probs, is_binary=True)
        else:
            (self.logits,) = utils.broadcast_all(logits)
            self.probs_ = utils.logits_to_probs(self.logits, is_binary=True)
        self._given = "probs" if probs is not None else "logits"
        super().__init__(tuple(getattr(self, self._given).shape), (), validate_args)

    # the form not given is derived from the other and kept as probs_/logits_ (PyTorch's lazy
    # properties, on the class: a subclass reaches them through super())
    probs = utils.derived_form("probs")
    logits = utils.derived_form("logits")

    def expand(self, batch_shape: tuple, _instance: Any = None) -> LogitRelaxedBernoulli:
        param = getattr(self, self._given).expand(*tuple(batch_shape))
        new = LogitRelaxedBernoulli(self.temperature, **{self._given: param}, validate_args=False)
        new = self._fill_instance(LogitRelaxedBernoulli, new, _instance)  # a subclass expands to itself
        new._validate_args = self._validate_args
        return new

    @property
    def param_shape(self) -> tuple:
        return self._param.shape  # a Size, as PyTorch's _param.size()

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = utils.clamp_probs(utils.standard_uniform(shape, self.logits.dtype))
        return (u.log() - (-u).log1p() + self.logits) / self.temperature

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = utils.broadcast_all(self.logits, value)
        diff = logits - value * self.temperature
        return self.temperature.log() + diff - 2 * diff.exp().log1p()


class RelaxedBernoulli(TransformedDistribution):
    r"""A relaxed coin on (0, 1): ``sigmoid`` of a ``LogitRelaxedBernoulli`` sample, as
    ``torch.distributions.RelaxedBernoulli``. Low temperatures push samples towards 0 and 1.

    Args:
        temperature: τ > 0 (a tensor).
        probs / logits: exactly one.
        validate_args: as for every distribution.

    Shape:
        ``batch_shape`` = the parameter's shape; ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    support = constraints.unit_interval
    has_rsample = True

    def __init__(
        self, temperature: Any, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        base = LogitRelaxedBernoulli(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, SigmoidTransform(), validate_args=validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> RelaxedBernoulli:
        new = self._get_checked_instance(RelaxedBernoulli, _instance)
        TransformedDistribution.__init__(new, self.base_dist.expand(batch_shape), SigmoidTransform(), False)
        new._validate_args = self._validate_args
        return new

    @property
    def temperature(self) -> Tensor:
        return self.base_dist.temperature

    @property
    def logits(self) -> Tensor:
        return self.base_dist.logits

    @property
    def probs(self) -> Tensor:
        return self.base_dist.probs

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
