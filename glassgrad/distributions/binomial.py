"""``Binomial``: the number of successes in ``total_count`` independent coins that each show 1
with probability p, given by ``probs`` or by ``logits``."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

import glassgrad as gg
from glassgrad.backend import array_module, to_numpy
from glassgrad.distributions import constraints, utils
from glassgrad.distributions.distribution import Distribution
from glassgrad.random import get_generator
from glassgrad.tensor import Tensor

__all__ = ["Binomial"]


def _clamp_by_zero(x: Tensor) -> Tensor:
    """max(x, 0) whose gradient at 0 is 1/2 (PyTorch's, so log_prob's gradient matches at logit 0)."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(Distribution):
    r"""The binomial distribution, as ``torch.distributions.Binomial``: ``total_count`` (n) trials,
    each a success with probability p; give exactly one of ``probs`` (p) or ``logits``
    (log p − log(1 − p)). ``total_count`` broadcasts with the parameter.

    ::

        log p(k) = log C(n, k) + k log p + (n − k) log(1 − p)
                 = k logit − n max(logit, 0) − n log1p(e^−|logit|) + log C(n, k)

    The second form (PyTorch's) stays finite for p near 0 or 1 and gives gradients in ``probs``
    or ``logits``. ``entropy`` and ``enumerate_support`` enumerate {0, …, n}, so they need one
    total_count for the whole batch (NotImplementedError otherwise, as in PyTorch).

    Args:
        total_count: n, a non-negative integer (a number or a tensor); default 1.
        probs: p in [0, 1].
        logits: any real number.
        validate_args: check the parameters now and that log_prob's values are in {0, …, n}.

    Shape:
        ``batch_shape`` = the broadcast shape of ``total_count`` and the parameter; ``event_shape`` = ().

    Example:
        >>> import glassgrad as gg
        >>> d = Binomial(4, probs=gg.tensor([0.5]))
        >>> d.mean, d.log_prob(gg.tensor([2.0])).exp()
        (tensor([2.]), tensor([0.3750]))
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "total_count": constraints.nonnegative_integer,
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    _param = utils._given_param  # PyTorch's private name for the form given (probs or logits)
    has_enumerate_support = True

    def __init__(
        self, total_count: Any = 1, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Binomial: expected exactly one of probs or logits, got "
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

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Binomial:
        """The same distribution broadcast to ``batch_shape`` (views of the parameters, no checks)."""
        shape = tuple(batch_shape)
        new = self._get_checked_instance(Binomial, _instance)
        new.total_count = self.total_count.expand(*shape)
        new._given = self._given
        for name in ("probs", "logits"):
            own = name if name == self._given else name + "_"
            setattr(new, own, getattr(self, name).expand(*shape))
        Distribution.__init__(new, shape, (), validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.integer_interval(0, self.total_count)

    @property
    def param_shape(self) -> tuple:
        return self._param.shape  # a Size, as PyTorch's _param.size()

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with gg.no_grad():
            xp = array_module(self.probs._data)
            n = to_numpy(self.total_count.expand(*shape)._data)
            p = to_numpy(self.probs.expand(*shape)._data)
            # the generator draws integer counts on the host, vectorised over n and p; a count is
            # a float of the parameter's dtype, as PyTorch's torch.binomial returns
            draws = get_generator().binomial(n.astype(np.int64), p)
            return Tensor(xp.asarray(draws, dtype=p.dtype).reshape(shape), _wrap=True)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        log_factorial_n = (n + 1).lgamma()
        log_factorial_k = (value + 1).lgamma()
        log_factorial_nmk = (n - value + 1).lgamma()
        # k log p + (n − k) log(1 − p) = k logit − n max(logit, 0) − n log1p(e^−|logit|)
        normalize_term = n * _clamp_by_zero(logits) + n * (-logits.abs()).exp().log1p() - log_factorial_n
        return value * logits - log_factorial_k - log_factorial_nmk - normalize_term

    def entropy(self) -> Tensor:
        """−Σₖ p(k) log p(k) over k = 0, …, n (one n for the whole batch). Shape: ``batch_shape``."""
        log_prob = self.log_prob(self._support_values("entropy", expand=False))  # (n + 1, *batch)
        return -(log_prob.exp() * log_prob).sum(0)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """0, …, n as the parameter's dtype: (n + 1, *batch_shape), or (n + 1, 1, …) unexpanded."""
        return self._support_values("enumerate_support", expand)

    def _support_values(self, op: str, expand: bool) -> Tensor:
        count = self.total_count._data
        top = int(count.max()) if count.size else 0
        if count.size and count.min() != top:
            raise NotImplementedError(f"Binomial.{op}: inhomogeneous total_count is not supported")
        param = getattr(self, self._given)
        values = gg.arange(1 + top, dtype=param.dtype).reshape((-1,) + (1,) * len(self.batch_shape))
        return values.expand(-1, *self.batch_shape) if expand else values
