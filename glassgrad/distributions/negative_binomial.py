"""``NegativeBinomial``: failures before ``total_count`` successes of coins with success
probability p (PyTorch's convention: ``probs`` is the probability of each counted event)."""

from __future__ import annotations

from typing import Any, ClassVar

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.backend import array_module, to_numpy
from glassgrad.distributions import constraints, utils
from glassgrad.distributions.distribution import Distribution
from glassgrad.random import get_generator
from glassgrad.tensor import Tensor

__all__ = ["NegativeBinomial"]


class NegativeBinomial(Distribution):
    r"""The negative binomial distribution, as ``torch.distributions.NegativeBinomial``::

        log p(k) = r log σ(−ℓ) + k log σ(ℓ) + lgamma(r + k) − lgamma(k + 1) − lgamma(r)

    with r = ``total_count`` and ℓ = ``logits`` (p = σ(ℓ)). ``sample`` draws a Gamma–Poisson
    mixture; counts are floats of the parameter's dtype. There is no closed-form entropy.

    Args:
        total_count: r >= 0 (real-valued).
        probs: p in [0, 1).
        logits: any real number.
        validate_args: check the parameters now and log_prob's values.

    Shape:
        ``batch_shape`` = broadcast(total_count, parameter); ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "total_count": constraints.greater_than_eq(0),
        "probs": constraints.half_open_interval(0.0, 1.0),
        "logits": constraints.real,
    }
    _param = utils._given_param  # PyTorch's private name for the form given (probs or logits)
    support = constraints.nonnegative_integer

    def __init__(
        self, total_count: Any, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("NegativeBinomial: expected exactly one of probs or logits, got "
                             + ("both" if probs is not None else "neither"))  # fmt: skip
        given = utils.as_param(probs if probs is not None else logits)
        count, param = utils.broadcast_all(total_count, given)
        self.total_count = count.type_as(param)
        if probs is not None:
            self.probs = param
            self.logits_ = utils.probs_to_logits(param, is_binary=True)
        else:
            self.logits = param
            self.probs_ = utils.logits_to_probs(param, is_binary=True)
        self._given = "probs" if probs is not None else "logits"
        super().__init__(tuple(param.shape), (), validate_args)

    # the form not given is derived from the other and kept as probs_/logits_ (PyTorch's lazy
    # properties, on the class: a subclass reaches them through super())
    probs = utils.derived_form("probs")
    logits = utils.derived_form("logits")

    def expand(self, batch_shape: tuple, _instance: Any = None) -> NegativeBinomial:
        shape = tuple(batch_shape)
        param = getattr(self, self._given).expand(*shape)
        new = NegativeBinomial(self.total_count.expand(*shape), **{self._given: param}, validate_args=False)
        new = self._fill_instance(NegativeBinomial, new, _instance)  # a subclass expands to itself
        new._validate_args = self._validate_args
        return new

    @property
    def param_shape(self) -> tuple:
        return self._param.shape  # a Size, as PyTorch's _param.size()

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.logits.exp()

    @property
    def mode(self) -> Tensor:
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        return self.mean / gg.sigmoid(-self.logits)

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with gg.no_grad():
            xp = array_module(self.logits._data)
            r = to_numpy(self.total_count.expand(*shape)._data)
            odds = to_numpy(self.logits.exp().expand(*shape)._data)
            gen = get_generator()
            # Poisson(λ) with λ ~ Gamma(shape r, scale p / (1 − p)); r = 0 gives λ = 0
            lam = gen.gamma(r + (r == 0), odds) * (r > 0)
            draws = gen.poisson(lam)
            return Tensor(xp.asarray(draws, dtype=odds.dtype).reshape(shape), _wrap=True)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        r, logits = self.total_count, self.logits
        unnormalised = r * F.logsigmoid(-logits) + value * F.logsigmoid(logits)
        log_norm = -(r + value).lgamma() + (1.0 + value).lgamma() + r.lgamma()
        # r = k = 0 is the certain event: lgamma(0) terms cancel to 0 there
        log_norm = gg.where(r + value == 0.0, 0.0, log_norm)
        return unnormalised - log_norm
