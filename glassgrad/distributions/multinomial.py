"""``Multinomial``: the counts of each of K outcomes in ``total_count`` categorical draws."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

import glassgrad as gg
from glassgrad.backend import array_module, to_numpy
from glassgrad.distributions import constraints
from glassgrad.distributions.binomial import Binomial
from glassgrad.distributions.categorical import Categorical
from glassgrad.distributions.distribution import Distribution
from glassgrad.random import get_generator
from glassgrad.tensor import Tensor

__all__ = ["Multinomial"]


class Multinomial(Distribution):
    r"""The multinomial distribution, as ``torch.distributions.Multinomial``::

        log p(x) = log n! − Σₖ log xₖ! + Σₖ xₖ log pₖ,   n = Σₖ xₖ

    ``log_prob`` does not need ``total_count`` (n is read from the value); ``sample`` and
    ``entropy`` do. Counts are floats of the parameter's dtype.

    Args:
        total_count: n, a Python int (one count for the whole batch).
        probs: (…, K) non-negative weights (normalised).
        logits: (…, K) unnormalised log-probabilities.
        validate_args: check the parameter now and log_prob's values.

    Shape:
        ``batch_shape`` = the parameter's shape without its last dim; ``event_shape`` = (K,).
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "probs": constraints.simplex,
        "logits": constraints.real_vector,
    }

    def __init__(
        self, total_count: int = 1, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        if not isinstance(total_count, (int, np.integer)):
            raise NotImplementedError(
                f"Multinomial: expected total_count to be a Python int (one count for the batch), got "
                f"{type(total_count).__name__}"
            )
        self.total_count = int(total_count)
        self._categorical = Categorical(probs=probs, logits=logits, validate_args=validate_args)
        self._binomial = Binomial(
            total_count=self.total_count, probs=self._categorical.probs, validate_args=False
        )
        batch = tuple(self._categorical.batch_shape)
        super().__init__(batch, tuple(self._categorical.param_shape[-1:]), validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Multinomial:
        # the categorical expands with the form it was given (probs stay probs: rebuilding from
        # logits turned a zero probability into the dtype's eps in mean and variance)
        shape = (batch_shape,) if isinstance(batch_shape, int) else tuple(batch_shape)
        new = self._get_checked_instance(Multinomial, _instance)  # a subclass expands to itself
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(shape)
        new._binomial = Binomial(
            total_count=self.total_count, probs=new._categorical.probs, validate_args=False
        )
        Distribution.__init__(new, shape, tuple(self.event_shape), validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.multinomial(self.total_count)

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def param_shape(self) -> tuple:
        return self._categorical.param_shape

    @property
    def mean(self) -> Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with gg.no_grad():
            xp = array_module(self.probs._data)
            p = to_numpy(self.probs._data).astype(np.float64)
            p = p / p.sum(-1, keepdims=True)
            # the generator broadcasts over the batch of probability vectors: size = sample + batch
            draws = get_generator().multinomial(self.total_count, p, size=shape[:-1])
            return Tensor(xp.asarray(draws, dtype=self.probs._data.dtype), _wrap=True)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        shape = np.broadcast_shapes(tuple(self.logits.shape), tuple(value.shape))
        logits, value = self.logits.expand(*shape), value.expand(*shape)
        # an impossible outcome drawn 0 times contributes 0 · (−∞) = 0
        logits = gg.where((value == 0) & (logits == -math.inf), 0.0, logits)
        log_factorial_n = (value.sum(-1) + 1).lgamma()
        log_factorial_xs = (value + 1).lgamma().sum(-1)
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)

    def entropy(self) -> Tensor:
        """n H(Categorical) − log n! + Σₖ E[log xₖ!], each xₖ ~ Binomial(n, pₖ). Shape: ``batch_shape``."""
        n = self.total_count
        support = self._binomial.enumerate_support(expand=False)  # (n + 1, 1, …, 1)
        binomial_probs = self._binomial.log_prob(support).exp()
        weights = (support + 1).lgamma()
        # log n! in the default dtype, as PyTorch computes it (a float32 term by default)
        log_n_factorial = gg.tensor(float(n + 1)).lgamma()
        return n * self._categorical.entropy() - log_n_factorial + (binomial_probs * weights).sum((0, -1))
