"""``LogisticNormal``: a normal vector pushed onto the simplex by stick breaking."""

from __future__ import annotations

from typing import Any, ClassVar

from glassgrad.distributions import constraints
from glassgrad.distributions.normal import Normal
from glassgrad.distributions.transformed_distribution import TransformedDistribution
from glassgrad.distributions.transforms import StickBreakingTransform
from glassgrad.tensor import Tensor

__all__ = ["LogisticNormal"]


class LogisticNormal(TransformedDistribution):
    r"""The logistic-normal distribution on the (K+1)-simplex, as ``torch.distributions.LogisticNormal``:
    ``TransformedDistribution(Normal(loc, scale), StickBreakingTransform())`` with the last dim of
    the normal's batch made the event, so that ``log(X / (1 − X.cumsum(−1)))[..., :−1]`` is
    normal (up to the stick-breaking offsets). A scalar ``loc``/``scale`` gives a 2-point simplex.

    Args:
        loc: the normal's mean, shape ``(…, K)``.
        scale: its standard deviation (> 0), broadcast with ``loc``.
        validate_args: check scale > 0 now and that log_prob's values lie on the simplex.

    Shape:
        ``batch_shape`` = broadcast(loc, scale)[:-1]; ``event_shape`` = ``(K + 1,)``.
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        base = Normal(loc, scale, validate_args=validate_args)
        if not tuple(base.batch_shape):
            base = base.expand((1,))
        super().__init__(base, StickBreakingTransform(), validate_args=validate_args)

    @property
    def loc(self) -> Tensor:
        return self.base_dist.base_dist.loc

    @property
    def scale(self) -> Tensor:
        return self.base_dist.base_dist.scale
