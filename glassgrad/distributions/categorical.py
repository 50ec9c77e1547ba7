"""``Categorical``: one of K outcomes, given by ``probs`` (any non-negative weights) or ``logits``."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

import glassgrad as gg
from glassgrad.distributions import constraints, utils
from glassgrad.distributions._continuous import expand_attributes
from glassgrad.distributions.distribution import Distribution
from glassgrad.tensor import Tensor

__all__ = ["Categorical"]


class Categorical(Distribution):
    r"""The categorical distribution over {0, …, K−1}, as ``torch.distributions.Categorical``;
    give exactly one of ``probs`` or ``logits`` (each with the K outcomes in the last dim).

    ``probs`` are normalised to sum to 1 and ``logits`` to log-probabilities
    (``logits − logsumexp(logits)``), so either may be unnormalised::

        log p(k) = logits[k]
        H        = −Σₖ pₖ log pₖ

    ``sample`` draws integer indices (int64); ``log_prob`` takes them. This is the policy
    distribution of most reinforcement-learning scripts (``Categorical(logits=net(state))``).

    Args:
        probs: (…, K) non-negative weights.
        logits: (…, K) unnormalised log-probabilities.
        validate_args: check the parameter now and that log_prob's values are valid indices.

    Shape:
        ``batch_shape`` = the parameter's shape without its last dim; ``event_shape`` = ().

    Example:
        >>> import glassgrad as gg
        >>> d = Categorical(probs=gg.tensor([1.0, 3.0]))
        >>> d.probs, d.log_prob(gg.tensor(1))
        (tensor([0.2500, 0.7500]), tensor(-0.2877))
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "probs": constraints.simplex,
        "logits": constraints.real_vector,
    }
    _param = utils._given_param  # PyTorch's private name for the form given (probs or logits)
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: expected exactly one of probs or logits, got "
                             + ("both" if probs is not None else "neither"))  # fmt: skip
        param = utils.as_param(probs if probs is not None else logits)
        if param.ndim < 1:
            raise ValueError(
                f"Categorical: expected a parameter with at least one dim (…, K), got shape {tuple(param.shape)}"
            )
        if probs is not None:
            self.probs = param / param.sum(-1, keepdim=True)
            self.logits_ = utils.probs_to_logits(self.probs)
        else:
            self.logits = param - param.logsumexp(-1, keepdim=True)
            self.probs_ = utils.logits_to_probs(self.logits)
        self._num_events = param.shape[-1]
        super().__init__(tuple(param.shape[:-1]), (), validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Categorical:
        return expand_attributes(self, batch_shape, _instance, cls=Categorical)

    # the form not given is derived from the other and kept as probs_/logits_ (PyTorch's lazy
    # properties, on the class: a subclass reaches them through super())
    probs = utils.derived_form("probs")
    logits = utils.derived_form("logits")

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def param_shape(self) -> tuple:
        return self._param.shape  # a Size, as PyTorch's _param.size()

    @property
    def mean(self) -> Tensor:
        return gg.full(tuple(self.batch_shape), math.nan, dtype=self.probs.dtype)

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)

    @property
    def variance(self) -> Tensor:
        return gg.full(tuple(self.batch_shape), math.nan, dtype=self.probs.dtype)

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        if isinstance(sample_shape, int):
            sample_shape = (sample_shape,)
        n = int(np.prod(sample_shape))
        with gg.no_grad():
            probs_2d = self.probs.reshape(-1, self._num_events)  # (…, K) -> (B, K)
            draws = gg.multinomial(probs_2d, n, replacement=True)  # (B, n)
            # (B, n) -> (n, B) -> sample_shape + batch_shape
            return draws.T.reshape(tuple(sample_shape) + tuple(self.batch_shape))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value = value.long()
        shape = np.broadcast_shapes(tuple(value.shape), tuple(self.batch_shape))
        logits = self.logits.expand(*shape, self._num_events)  # (…, K)
        index = value.expand(*shape).unsqueeze(-1)  # (…,) -> (…, 1)
        return logits.gather(-1, index).squeeze(-1)

    def entropy(self) -> Tensor:
        min_real = float(np.finfo(self.logits._data.dtype).min)
        return -(self.logits.clamp(min=min_real) * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = gg.arange(self._num_events).reshape((-1,) + (1,) * len(self.batch_shape))
        return values.expand(self._num_events, *self.batch_shape) if expand else values
