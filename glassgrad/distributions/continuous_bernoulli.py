"""``ContinuousBernoulli``: the continuous relaxation of a coin on [0, 1] (Loaiza-Ganem and
Cunningham, 2019), given by ``probs`` λ or ``logits``."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.distributions import constraints, utils
from glassgrad.distributions.exp_family import ExponentialFamily
from glassgrad.tensor import Tensor

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(ExponentialFamily):
    r"""The continuous Bernoulli distribution on [0, 1], as ``torch.distributions.ContinuousBernoulli``::

        p(x) = C(λ) λ^x (1 − λ)^(1−x),   C(λ) = 2 atanh(1 − 2λ) / (1 − 2λ)   (C(½) = 2)

    Near λ = ½ the closed forms divide 0 by 0, so inside ``lims`` the log-normaliser, mean and
    variance use their Taylor expansions around ½ (as PyTorch does). ``probs`` are clamped to
    [ε, 1 − ε] after validation.

    Args:
        probs: λ in [0, 1].
        logits: log λ − log(1 − λ).
        lims: the (low, high) band around ½ where the Taylor forms are used.
        validate_args: check the parameter now and that log_prob's values are in [0, 1].

    Shape:
        ``batch_shape`` = the parameter's shape; ``event_shape`` = ().
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    _param = utils._given_param  # PyTorch's private name for the form given (probs or logits)
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(
        self,
        probs: Any = None,
        logits: Any = None,
        lims: tuple = (0.499, 0.501),
        validate_args: bool | None = None,
    ) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("ContinuousBernoulli: expected exactly one of probs or logits, got "
                             + ("both" if probs is not None else "neither"))  # fmt: skip
        if probs is not None:
            (self.probs,) = utils.broadcast_all(probs)
        else:
            (self.logits,) = utils.broadcast_all(logits)
        self._given = "probs" if probs is not None else "logits"
        self._lims = lims
        super().__init__(tuple(getattr(self, self._given).shape), (), validate_args)
        # validated before the clamp, which would otherwise hide a bad value
        if probs is not None:
            self.probs = utils.clamp_probs(self.probs)
            self.logits_ = utils.probs_to_logits(self.probs, is_binary=True)
        else:
            self.probs_ = utils.clamp_probs(utils.logits_to_probs(self.logits, is_binary=True))

    # the form not given is derived from the other and kept as probs_/logits_ (PyTorch's lazy
    # properties, on the class: a subclass reaches them through super())
    probs = utils.derived_form("probs")
    logits = utils.derived_form("logits")

    def expand(self, batch_shape: tuple, _instance: Any = None) -> ContinuousBernoulli:
        param = getattr(self, self._given).expand(*tuple(batch_shape))
        new = ContinuousBernoulli(**{self._given: param}, lims=self._lims, validate_args=False)
        new = self._fill_instance(ContinuousBernoulli, new, _instance)  # a subclass expands to itself
        new._validate_args = self._validate_args
        return new

    @property
    def param_shape(self) -> tuple:
        return self._param.shape  # a Size, as PyTorch's _param.size()

    # ------------------------------------------------------------ the stable/Taylor split
    def _outside_unstable_region(self) -> Tensor:
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self) -> Tensor:
        """λ outside the band, and a harmless stand-in (the band's low end) inside it."""
        return gg.where(self._outside_unstable_region(), self.probs, self._lims[0] * gg.ones_like(self.probs))

    def _cont_bern_log_norm(self) -> Tensor:
        """log C(λ)."""
        cut = self._cut_probs()
        below = gg.where(cut <= 0.5, cut, gg.zeros_like(cut))
        above = gg.where(cut >= 0.5, cut, gg.ones_like(cut))
        # log|log(1 − λ) − log λ| − log|1 − 2λ|, each branch kept away from its own singularity
        log_norm = ((-cut).log1p() - cut.log()).abs().log() - gg.where(
            cut <= 0.5, (-2.0 * below).log1p(), (2.0 * above - 1.0).log()
        )
        x = (self.probs - 0.5) ** 2
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return gg.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self) -> Tensor:
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / ((-cut).log1p() - cut.log())
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x**2) * x
        return gg.where(self._outside_unstable_region(), mus, taylor)

    @property
    def variance(self) -> Tensor:
        cut = self._cut_probs()
        var = cut * (cut - 1.0) / (1.0 - 2.0 * cut) ** 2 + 1.0 / ((-cut).log1p() - cut.log()) ** 2
        x = (self.probs - 0.5) ** 2
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return gg.where(self._outside_unstable_region(), var, taylor)

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        u = utils.standard_uniform(self._extended_shape(sample_shape), self.probs.dtype)
        return self.icdf(u)

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        u = utils.standard_uniform(self._extended_shape(sample_shape), self.probs.dtype)
        with gg.no_grad():
            return self.icdf(u)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = utils.broadcast_all(self.logits, value)
        return (
            -F.binary_cross_entropy_with_logits(logits, value, reduction="none") + self._cont_bern_log_norm()
        )

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        cut = self._cut_probs()
        cdfs = (cut**value * (1.0 - cut) ** (1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        inner = gg.where(self._outside_unstable_region(), cdfs, value)
        return gg.where(
            value <= 0.0, gg.zeros_like(inner), gg.where(value >= 1.0, gg.ones_like(inner), inner)
        )

    def icdf(self, value: Tensor) -> Tensor:
        cut = self._cut_probs()
        x = ((-cut + value * (2.0 * cut - 1.0)).log1p() - (-cut).log1p()) / (cut.log() - (-cut).log1p())
        return gg.where(self._outside_unstable_region(), x, value)

    def entropy(self) -> Tensor:
        log0 = (-self.probs).log1p()
        log1 = self.probs.log()
        return self.mean * (log0 - log1) - self._cont_bern_log_norm() - log0

    @property
    def _natural_params(self) -> tuple:
        return (self.logits,)

    # ------------------------------------------------------------ exponential family: θ = logits,
    # F(θ) = log((e^θ − 1)/θ), by its Taylor series inside the unstable region around θ = 0
    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (self.logits,)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        lo, hi = self._lims[0] - 0.5, self._lims[1] - 0.5
        outside = (x <= lo) | (x > hi)
        cut = gg.where(outside, x, lo * gg.ones_like(x))
        exact = gg.expm1(cut).abs().log() - cut.abs().log()
        taylor = 0.5 * x + x.pow(2) / 24.0 - x.pow(4) / 2880.0
        return gg.where(outside, exact, taylor)
