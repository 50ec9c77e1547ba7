"""``OneHotCategorical``: a categorical outcome written as a one-hot vector, and its
straight-through variant (``OneHotCategoricalStraightThrough``) whose ``rsample`` passes the
gradient of the probabilities through the hard sample."""

from __future__ import annotations

from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions import constraints
from glassgrad.distributions._continuous import expand_attributes
from glassgrad.distributions.categorical import Categorical
from glassgrad.distributions.distribution import Distribution
from glassgrad.tensor import Tensor

__all__ = ["OneHotCategorical", "OneHotCategoricalStraightThrough"]


class OneHotCategorical(Distribution):
    r"""The categorical distribution over K outcomes, each sample a one-hot vector of length K, as
    ``torch.distributions.OneHotCategorical``; give exactly one of ``probs`` or ``logits``.

    ``log_prob(value)`` is the log-probability of the outcome at ``value``'s largest entry (its 1)::

        log p(e_k) = log pₖ
        mean = p,   variance = p (1 − p),   mode = e_argmax(p)

    Args:
        probs: (…, K) non-negative weights (normalised to sum to 1).
        logits: (…, K) unnormalised log-probabilities.
        validate_args: check the parameter now and that log_prob's values are one-hot.

    Shape:
        ``batch_shape`` = the parameter's shape without its last dim; ``event_shape`` = (K,);
        ``sample(sample_shape)`` returns ``sample_shape + batch_shape + (K,)`` in the parameter's dtype.

    Example:
        >>> import glassgrad as gg
        >>> d = OneHotCategorical(probs=gg.tensor([1.0, 3.0]))
        >>> d.log_prob(gg.tensor([0.0, 1.0]))
        tensor(-0.2877)
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "probs": constraints.simplex,
        "logits": constraints.real_vector,
    }
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        self._categorical = Categorical(probs, logits)  # validates the parameter, as PyTorch's does
        k = self._categorical.param_shape[-1]
        super().__init__(tuple(self._categorical.batch_shape), (k,), validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> OneHotCategorical:
        return expand_attributes(self, batch_shape, _instance, cls=OneHotCategorical)

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def param_shape(self) -> tuple:
        return self._categorical.param_shape

    @property
    def _param(self) -> Tensor:  # PyTorch's private name for the parameter as given
        return self._categorical._param

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        probs = self.probs
        return gg.nn.functional.one_hot(probs.argmax(-1), probs.shape[-1]).to(probs)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        """(sample_shape + batch_shape + (K,)) one-hot draws, in the parameter's dtype."""
        indices = self._categorical.sample(sample_shape)  # sample_shape + batch_shape
        return gg.nn.functional.one_hot(indices, self._categorical._num_events).to(self.probs)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.max(-1)[1])  # (…, K) -> the index of each 1

    def entropy(self) -> Tensor:
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The K one-hot vectors, (K,) + (1,) * len(batch_shape) + (K,), expanded over the batch."""
        n = self.event_shape[0]
        values = gg.eye(n, dtype=self.probs.dtype).view((n,) + (1,) * len(self.batch_shape) + (n,))
        return values.expand((n,) + tuple(self.batch_shape) + (n,)) if expand else values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    r"""``OneHotCategorical`` with the straight-through gradient estimator, as
    ``torch.distributions.OneHotCategoricalStraightThrough``: ``rsample`` returns the hard
    one-hot sample in the forward pass, while its gradient is that of the probabilities::

        rsample = sample + (p − stop_gradient(p))
    """

    has_rsample = True

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        samples = self.sample(sample_shape)
        probs = self.probs
        return samples + (probs - probs.detach())
