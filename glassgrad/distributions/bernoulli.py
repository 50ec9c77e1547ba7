"""``Bernoulli``: a coin that shows 1 with probability p, given by ``probs`` or by ``logits``."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.distributions import constraints, utils
from glassgrad.distributions._continuous import expand_attributes
from glassgrad.distributions.exp_family import ExponentialFamily
from glassgrad.tensor import Tensor

__all__ = ["Bernoulli"]


class Bernoulli(ExponentialFamily):
    r"""The Bernoulli distribution, as ``torch.distributions.Bernoulli``; give exactly one of
    ``probs`` (p) or ``logits`` (log p − log(1 − p)).

    ::

        log p(x) = x log p + (1 − x) log(1 − p) = −BCE_with_logits(logits, x)
        H        = BCE_with_logits(logits, p)

    The log-probability is computed from the logits (stable for p near 0 or 1); with ``probs``
    the logits are log p − log(1 − p) with p clamped to [ε, 1 − ε], as in PyTorch.

    Args:
        probs: p in [0, 1].
        logits: any real number.
        validate_args: check the parameter now and that log_prob's values are 0 or 1.

    Shape:
        ``batch_shape`` = the parameter's shape; ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    _param = utils._given_param  # PyTorch's private name for the form given (probs or logits)
    support = constraints.boolean
    _mean_carrier_measure = 0
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Bernoulli: expected exactly one of probs or logits, got "
                             + ("both" if probs is not None else "neither"))  # fmt: skip
        if probs is not None:
            self.probs = utils.as_param(probs)
            self.logits_ = utils.probs_to_logits(self.probs, is_binary=True)
        else:
            self.logits = utils.as_param(logits)
            self.probs_ = utils.logits_to_probs(self.logits, is_binary=True)
        param = self.probs if probs is not None else self.logits
        super().__init__(tuple(param.shape), (), validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Bernoulli:
        return expand_attributes(self, batch_shape, _instance, cls=Bernoulli)

    # the form not given is derived from the other and kept as probs_/logits_ (PyTorch's lazy
    # properties, on the class: a subclass reaches them through super())
    probs = utils.derived_form("probs")
    logits = utils.derived_form("logits")

    @property
    def param_shape(self) -> tuple:
        return self._param.shape  # a Size, as PyTorch's _param.size()

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return gg.where(self.probs == 0.5, math.nan, mode)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with gg.no_grad():
            u = utils.standard_uniform(shape, self.probs.dtype)
            return (u < self.probs.expand(*shape)).to(self.probs.dtype)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = utils.broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = gg.tensor([0.0, 1.0], dtype=self.probs.dtype).reshape((2,) + (1,) * len(self.batch_shape))
        return values.expand(2, *self.batch_shape) if expand else values

    # ------------------------------------------------------------ exponential family: θ = logit(p), F = log(1 + e^θ)
    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (gg.logit(self.probs),)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        return x.exp().log1p()
