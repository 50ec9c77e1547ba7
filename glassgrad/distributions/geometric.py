"""``Geometric``: the number of failures before the first success of coins with success
probability p, given by ``probs`` or ``logits``."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.distributions import constraints, utils
from glassgrad.distributions.distribution import Distribution
from glassgrad.tensor import Tensor

__all__ = ["Geometric"]


class Geometric(Distribution):
    r"""The geometric distribution over {0, 1, 2, …}, as ``torch.distributions.Geometric``::

        log p(k) = k log(1 − p) + log p,     H = BCE_with_logits(logits, p) / p

    Args:
        probs: p in (0, 1].
        logits: log p − log(1 − p).
        validate_args: check the parameter now (p must be positive) and log_prob's values.

    Shape:
        ``batch_shape`` = the parameter's shape; ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Geometric: expected exactly one of probs or logits, got "
                             + ("both" if probs is not None else "neither"))  # fmt: skip
        if probs is not None:
            (self.probs,) = utils.broadcast_all(probs)
            self.logits_ = utils.probs_to_logits(self.probs, is_binary=True)
        else:
            (self.logits,) = utils.broadcast_all(logits)
            self.probs_ = utils.logits_to_probs(self.logits, is_binary=True)
        self._given = "probs" if probs is not None else "logits"
        param = getattr(self, self._given)
        super().__init__(tuple(param.shape), (), validate_args)
        if self._validate_args and probs is not None and not bool(np.all(self.probs._data > 0)):
            raise ValueError(
                f"Geometric: expected probs in (0, 1] (a zero success probability has no distribution), got "
                f"shape {tuple(self.probs.shape)} with zeros:\n{self.probs}"
            )

    # the form not given is derived from the other and kept as probs_/logits_ (PyTorch's lazy
    # properties, on the class: a subclass reaches them through super())
    probs = utils.derived_form("probs")
    logits = utils.derived_form("logits")

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Geometric:
        param = getattr(self, self._given).expand(*tuple(batch_shape))
        new = Geometric(**{self._given: param}, validate_args=False)
        new = self._fill_instance(Geometric, new, _instance)  # a subclass expands to itself
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        return 1.0 / self.probs - 1.0

    @property
    def mode(self) -> Tensor:
        return gg.zeros_like(self.probs)

    @property
    def variance(self) -> Tensor:
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with gg.no_grad():
            tiny = float(np.finfo(self.probs._data.dtype).tiny)
            u = utils.standard_uniform(shape, self.probs.dtype).clamp(min=tiny)
            # inverse CDF: the first k with 1 − (1 − p)^(k+1) > u
            return (u.log() / (-self.probs.expand(*shape)).log1p()).floor()

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value, probs = utils.broadcast_all(value, self.probs)
        # p = 1 puts all mass on 0: 0 · log(0) must be 0, not nan
        failure = gg.where((probs == 1) & (value == 0), 0.0, probs)
        return value * (-failure).log1p() + self.probs.log()

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none") / self.probs
