"""``Independent``: reinterpret some batch dims of a distribution as event dims."""

from __future__ import annotations

from typing import Any, ClassVar

from glassgrad.distributions import constraints
from glassgrad.distributions.distribution import Distribution
from glassgrad.tensor import Tensor

__all__ = ["Independent"]


class Independent(Distribution):
    r"""Treat the last ``reinterpreted_batch_ndims`` batch dims of ``base_distribution`` as
    event dims, as ``torch.distributions.Independent``: ``log_prob`` and ``entropy`` sum over
    them. ``Independent(Normal(mu, sigma), 1)`` is a diagonal Gaussian over vectors (a VAE's
    posterior), whose ``log_prob`` gives one number per vector.

    Args:
        base_distribution: the distribution to reinterpret.
        reinterpreted_batch_ndims: how many trailing batch dims become event dims.
        validate_args: as for every distribution.

    Shape:
        ``batch_shape`` = the base's without its last n dims; ``event_shape`` = those n dims +
        the base's event shape.
    """

    arg_constraints: ClassVar[dict] = {}

    def __init__(
        self,
        base_distribution: Distribution,
        reinterpreted_batch_ndims: int,
        validate_args: bool | None = None,
    ) -> None:
        n = reinterpreted_batch_ndims
        batch = tuple(base_distribution.batch_shape)
        if not isinstance(n, int) or not 0 <= n <= len(batch):
            raise ValueError(
                f"Independent: expected 0 <= reinterpreted_batch_ndims <= len(batch_shape {batch}) = {len(batch)}, "
                f"got {n!r}"
            )
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = n
        split = len(batch) - n
        super().__init__(batch[:split], batch[split:] + tuple(base_distribution.event_shape), validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Independent:
        """The base expanded to ``batch_shape`` plus the reinterpreted dims, as PyTorch's."""
        extra = tuple(self.event_shape[: self.reinterpreted_batch_ndims])
        base = self.base_dist.expand(tuple(batch_shape) + extra)
        new = Independent(base, self.reinterpreted_batch_ndims, validate_args=False)
        new = self._fill_instance(Independent, new, _instance)  # a subclass expands to itself
        new._validate_args = self._validate_args
        return new

    @property
    def has_rsample(self) -> bool:  # type: ignore[override]
        return self.base_dist.has_rsample

    @constraints.dependent_property
    def support(self) -> Any:  # type: ignore[override]
        """The base's support over whole events (``independent(base support, n)``), as PyTorch:
        a transform from ``biject_to`` then spans the reinterpreted dims too."""
        result = self.base_dist.support
        if self.reinterpreted_batch_ndims:
            result = constraints.independent(result, self.reinterpreted_batch_ndims)
        return result

    @property
    def has_enumerate_support(self) -> bool:  # type: ignore[override]
        # a product over reinterpreted dims is not enumerated (as PyTorch); with none, the base's
        return False if self.reinterpreted_batch_ndims else self.base_dist.has_enumerate_support

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The base's support (shape ``(n,) + batch_shape + event_shape`` when ``expand``); only
        with no reinterpreted dims, as PyTorch's."""
        if self.reinterpreted_batch_ndims:
            raise NotImplementedError(
                f"Independent.enumerate_support: enumerating the product over {self.reinterpreted_batch_ndims} "
                "reinterpreted dims is not implemented"
            )
        return self.base_dist.enumerate_support(expand=expand)

    @property
    def mean(self) -> Tensor:
        return self.base_dist.mean

    @property
    def mode(self) -> Tensor:
        return self.base_dist.mode

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance

    def _sum_rightmost(self, value: Tensor) -> Tensor:
        n = self.reinterpreted_batch_ndims
        return value.sum(tuple(range(-n, 0))) if n else value

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value: Tensor) -> Tensor:
        return self._sum_rightmost(self.base_dist.log_prob(value))

    def entropy(self) -> Tensor:
        return self._sum_rightmost(self.base_dist.entropy())

    def __repr__(self) -> str:
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
