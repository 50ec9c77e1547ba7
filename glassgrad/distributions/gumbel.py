"""``Gumbel``: the extreme-value (Gumbel) distribution, the noise of the Gumbel-max trick and of
Gumbel-softmax relaxations."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

import glassgrad as gg
from glassgrad.distributions import constraints, utils
from glassgrad.distributions._continuous import expand_params
from glassgrad.distributions.distribution import Distribution
from glassgrad.tensor import Tensor

__all__ = ["Gumbel"]

_EULER = 0.57721566490153286060  # the Euler–Mascheroni constant


class Gumbel(Distribution):
    r"""The Gumbel distribution with location ``loc`` and scale ``scale``, as
    ``torch.distributions.Gumbel``::

        log p(x) = z − eᶻ − log scale,   z = (loc − x) / scale
        rsample  = loc − scale · log(−log u),   u ~ U[tiny, 1 − eps)
        mean = loc + γ scale,   mode = loc,   stddev = π scale / √6,   H = log scale + 1 + γ

    (``tiny`` and ``eps`` are the dtype's smallest normal number and machine epsilon, the bounds
    PyTorch gives its uniform base distribution, so that both logs stay finite.)

    Args:
        loc: the location (real).
        scale: the scale, > 0.
        validate_args: check scale > 0 now and that log_prob's values are real.

    Shape:
        ``batch_shape`` = broadcast(loc, scale); ``event_shape`` = ().

    Example:
        >>> import glassgrad as gg
        >>> Gumbel(gg.tensor(0.0), gg.tensor(1.0)).log_prob(gg.tensor(0.0))
        tensor(-1.)
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.real
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = utils.broadcast_all(loc, scale)
        finfo = np.finfo(self.loc._data.dtype)
        self._low, self._high = float(finfo.tiny), 1 - float(finfo.eps)
        super().__init__(tuple(self.loc.shape), (), validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Gumbel:
        new = expand_params(self, Gumbel, batch_shape, ("loc", "scale"), _instance)
        new._low, new._high = self._low, self._high
        return new

    @property
    def mean(self) -> Tensor:
        return self.loc + self.scale * _EULER

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self) -> Tensor:
        return self.stddev.pow(2)

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        u = utils.standard_uniform(self._extended_shape(sample_shape), self.loc.dtype)
        u = self._low + u * (self._high - self._low)  # PyTorch's base Uniform(tiny, 1 - eps)
        # the order of PyTorch's transforms: log, negate, log, then loc + (-scale) * x
        return self.loc + (-self.scale) * (-u.log()).log()

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        y = (self.loc - value) / self.scale
        return (y - y.exp()) - self.scale.log()

    # PyTorch's Gumbel is its transforms over Uniform(tiny, 1 − eps): cdf and icdf pass through that
    # uniform's cdf/icdf and through (u − ½) + ½ (its monotonizing of a tensor sign), so icdf(0) and
    # icdf(1) are finite, and values just inside (0, 1) round as PyTorch's do
    def cdf(self, value: Tensor) -> Tensor:
        u = (-(-(value - self.loc) / self.scale).exp()).exp()
        return ((u - self._low) / (self._high - self._low)).clamp(0, 1) - 0.5 + 0.5

    def icdf(self, value: Tensor) -> Tensor:
        # PyTorch's sign is a tensor of scale's shape and dtype (the product of its transforms'
        # signs), so a Python number is taken and the result has the promotion of that product
        sign = gg.ones_like(self.scale)
        u = (sign * (value - 0.5) + 0.5) * (self._high - self._low) + self._low
        return self.loc + (-self.scale) * (-u.log()).log()

    def entropy(self) -> Tensor:
        return self.scale.log() + (1 + _EULER)
