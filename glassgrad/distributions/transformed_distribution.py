"""``TransformedDistribution``: a base distribution pushed through a chain of transforms."""

from __future__ import annotations

from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions.distribution import Distribution
from glassgrad.distributions.transforms import Transform, _sum_rightmost
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
        ``batch_shape`` and ``event_shape`` are the base's, the event widened to the largest
        ``event_dim`` among the transforms.
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
        self.base_dist = base_distribution
        self.transforms = list(transforms)
        shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        event_dim = max([len(base_distribution.event_shape)] + [t.event_dim for t in self.transforms])
        if event_dim > len(shape):
            raise ValueError(
                f"TransformedDistribution: a transform has event_dim {event_dim} but the base distribution's "
                f"shape {shape} has only {len(shape)} dims"
            )
        # shape-changing transforms (stick-breaking, reshape) move the event: follow forward_shape,
        # the event dims changing by as many dims as the whole shape gains or loses
        out = shape
        for t in self.transforms:
            out = tuple(t.forward_shape(out))
        event_dim = event_dim + len(out) - len(shape)
        split = len(out) - event_dim
        super().__init__(out[:split], out[split:], validate_args=validate_args)

    @property
    def has_rsample(self) -> bool:  # type: ignore[override]
        return self.base_dist.has_rsample

    @property
    def support(self) -> Any:  # type: ignore[override]
        return self.transforms[-1].codomain if self.transforms else self.base_dist.support

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
            # the event dims a transform declares it changes (a reshape), not the tensors' ndim,
            # which broadcasting by the transform's parameters also changes
            dom = max(t.event_dim, getattr(t.domain, "event_dim", 0))
            event_dim += dom - max(t.event_dim, getattr(t.codomain, "event_dim", 0))
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
