"""``TransformedDistribution``: a base distribution pushed through a chain of transforms."""

from __future__ import annotations

from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions import constraints
from glassgrad.distributions.distribution import Distribution
from glassgrad.distributions.independent import Independent
from glassgrad.distributions.transforms import (
    ComposeTransform,
    Transform,
    _event_dims,
    _sum_rightmost,
    _widen,
)
from glassgrad.tensor import Tensor

__all__ = ["TransformedDistribution"]


class TransformedDistribution(Distribution):
    r"""``Y = f_n(...f_1(X))`` for ``X ~ base_distribution``, as
    ``torch.distributions.TransformedDistribution``::

        log p_Y(y) = log p_X(x) − Σ_i log|det J_{f_i}(x_{i−1})|,   x = f^{-1}(y)

    ``TransformedDistribution(Uniform(0, 1), SigmoidTransform().inv)`` is the logistic
    distribution (the prior of many normalizing-flow scripts).

    Args:
        base_distribution: the distribution of X.
        transforms: one ``Transform`` or a list, applied in order.
        validate_args: as for every distribution.

    Shape:
        the base's ``batch_shape + event_shape`` mapped by the transforms' ``forward_shape``
        (broadcast with an affine's parameters, lengthened by stick breaking, ...); the event is
        the last ``max(codomain.event_dim, base event dims + the change the transforms make)`` dims
        of it. A base with fewer event dims than the transforms' domain is wrapped in
        ``Independent``, as PyTorch does.
    """

    arg_constraints: ClassVar[dict] = {}

    def __init__(
        self, base_distribution: Distribution, transforms: Any, validate_args: bool | None = None
    ) -> None:
        if isinstance(transforms, Transform):
            transforms = [transforms]
        elif not isinstance(transforms, (list, tuple)) or not all(
            isinstance(t, Transform) for t in transforms
        ):
            raise ValueError(
                f"TransformedDistribution: expected transforms to be a Transform or a list of Transforms, got "
                f"{type(transforms).__name__}"
            )
        self.transforms = list(transforms)
        chain = ComposeTransform(self.transforms)
        dom, cod = chain.domain.event_dim, chain.codomain.event_dim
        base_event = len(base_distribution.event_shape)
        base_shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        if len(base_shape) < dom:
            raise ValueError(
                f"TransformedDistribution: the transforms' events span {dom} dims but the base "
                f"distribution's shape {base_shape} has only {len(base_shape)}"
            )
        out = chain.forward_shape(base_shape)
        # a transform whose parameters have more dims than the base (an AffineTransform's loc)
        # widens the batch: the base is expanded to the shape the transforms map back from
        wide = chain.inverse_shape(out)
        if wide != base_shape:
            base_distribution = base_distribution.expand(wide[: len(wide) - base_event])
        if dom > base_event:  # events of several of the base's elements: one log density each
            base_distribution = Independent(base_distribution, dom - base_event)
        self.base_dist = base_distribution
        event_dim = max(cod, base_event + cod - dom)
        split = len(out) - event_dim
        super().__init__(out[:split], out[split:], validate_args=validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> TransformedDistribution:
        """The same transforms over the base expanded to the batch the transforms map back from."""
        batch = (batch_shape,) if isinstance(batch_shape, int) else tuple(batch_shape)
        cls = type(self)
        new = _instance if _instance is not None else cls.__new__(cls)
        shape = ComposeTransform(self.transforms).inverse_shape(batch + tuple(self.event_shape))
        new.base_dist = self.base_dist.expand(shape[: len(shape) - len(self.base_dist.event_shape)])
        new.transforms = self.transforms
        Distribution.__init__(new, batch, tuple(self.event_shape), validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def has_rsample(self) -> bool:  # type: ignore[override]
        return self.base_dist.has_rsample

    @constraints.dependent_property(is_discrete=False)
    def support(self) -> Any:  # type: ignore[override]
        if not self.transforms:
            return self.base_dist.support
        # the codomain over the whole event (a vector of positives after ExpTransform of one)
        return _widen(self.transforms[-1].codomain, len(self.event_shape))

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        with gg.no_grad():
            x = self.base_dist.sample(sample_shape)
            for t in self.transforms:
                x = t(x)
            return x

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        x = self.base_dist.rsample(sample_shape)
        for t in self.transforms:
            x = t(x)
        return x

    def log_prob(self, value: Tensor) -> Tensor:
        """One log density per event, shape ``sample_shape + batch_shape``."""
        if self._validate_args:
            self._validate_sample(value)
        event_dim = len(self.event_shape)
        total: Any = 0.0
        y = value
        for t in reversed(self.transforms):
            x = t.inv(y)
            dom, cod = _event_dims(t)
            event_dim += dom - cod
            total = total - _sum_rightmost(t.log_abs_det_jacobian(x, y), event_dim - dom)
            y = x
        base = self.base_dist.log_prob(y)
        return total + _sum_rightmost(base, event_dim - len(self.base_dist.event_shape))

    def cdf(self, value: Tensor) -> Tensor:
        sign = 1
        for t in self.transforms:
            sign = sign * t.sign
        for t in reversed(self.transforms):
            value = t.inv(value)
        cdf = self.base_dist.cdf(value)
        return cdf if isinstance(sign, int) and sign == 1 else sign * (cdf - 0.5) + 0.5

    def icdf(self, value: Tensor) -> Tensor:
        sign = 1
        for t in self.transforms:
            sign = sign * t.sign
        if not (isinstance(sign, int) and sign == 1):
            value = sign * (value - 0.5) + 0.5
        x = self.base_dist.icdf(value)
        for t in self.transforms:
            x = t(x)
        return x
