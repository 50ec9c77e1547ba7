"""``RelaxedOneHotCategorical`` (Concrete / Gumbel-softmax) and its log-space base
``ExpRelaxedCategorical``: reparameterisable relaxations of a one-hot categorical."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from glassgrad.distributions import constraints, utils
from glassgrad.distributions.categorical import Categorical
from glassgrad.distributions.distribution import Distribution
from glassgrad.distributions.transformed_distribution import TransformedDistribution
from glassgrad.distributions.transforms import ExpTransform
from glassgrad.tensor import Tensor

__all__ = ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"]


class ExpRelaxedCategorical(Distribution):
    r"""The log of a ``RelaxedOneHotCategorical`` sample, as ``torch.distributions.ExpRelaxedCategorical``::

        rsample  = log_softmax((logits + g) / τ),   g ~ Gumbel(0, 1)
        log p(y) = Σₖ log_softmax(s)ₖ + lgamma(K) + (K − 1) log τ,   s = logits − τ y

    Args:
        temperature: τ > 0 (a tensor).
        probs / logits: exactly one, (…, K), as for ``Categorical``.
        validate_args: as for every distribution.

    Shape:
        ``batch_shape`` = the parameter's shape without its last dim; ``event_shape`` = (K,).
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "probs": constraints.simplex,
        "logits": constraints.real_vector,
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(
        self, temperature: Any, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        self.temperature = utils.as_param(temperature)
        k = self._categorical._num_events
        super().__init__(tuple(self._categorical.batch_shape), (k,), validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> ExpRelaxedCategorical:
        shape = tuple(batch_shape) + tuple(self.event_shape)
        new = ExpRelaxedCategorical(self.temperature, logits=self.logits.expand(*shape), validate_args=False)
        new = self._fill_instance(ExpRelaxedCategorical, new, _instance)  # a subclass expands to itself
        new._validate_args = self._validate_args
        return new

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def param_shape(self) -> tuple:
        return self._categorical.param_shape

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = utils.clamp_probs(utils.standard_uniform(shape, self.logits.dtype))
        gumbels = -((-u.log()).log())
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(-1, keepdim=True)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        k = self._categorical._num_events
        log_scale = math.lgamma(k) + (k - 1) * self.temperature.log()
        score = self.logits - value * self.temperature
        return (score - score.logsumexp(-1, keepdim=True)).sum(-1) + log_scale


class RelaxedOneHotCategorical(TransformedDistribution):
    r"""A relaxed one-hot vector on the simplex: ``exp`` of an ``ExpRelaxedCategorical`` sample,
    as ``torch.distributions.RelaxedOneHotCategorical`` (the Gumbel-softmax distribution).

    Args:
        temperature: τ > 0 (a tensor).
        probs / logits: exactly one, (…, K).
        validate_args: as for every distribution.

    Shape:
        ``batch_shape`` = the parameter's shape without its last dim; ``event_shape`` = (K,).
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "probs": constraints.simplex,
        "logits": constraints.real_vector,
    }
    support = constraints.simplex
    has_rsample = True

    def __init__(
        self, temperature: Any, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> RelaxedOneHotCategorical:
        new = self._get_checked_instance(RelaxedOneHotCategorical, _instance)
        TransformedDistribution.__init__(new, self.base_dist.expand(batch_shape), ExpTransform(), False)
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
