"""``MixtureSameFamily``: a batch of mixtures whose components all come from one distribution family."""

from __future__ import annotations

from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions import constraints
from glassgrad.distributions.categorical import Categorical
from glassgrad.distributions.distribution import Distribution
from glassgrad.tensor import Tensor

__all__ = ["MixtureSameFamily"]


class MixtureSameFamily(Distribution):
    r"""A mixture p(x) = Σₖ πₖ pₖ(x), as ``torch.distributions.MixtureSameFamily``: the mixing
    weights are a ``Categorical`` over the last batch dim of ``component_distribution``::

        log p(x) = logsumexp_k (log πₖ + log pₖ(x))

    Args:
        mixture_distribution: a ``Categorical`` with batch shape B and K outcomes.
        component_distribution: a distribution with batch shape (*B, K).
        validate_args: as for every distribution.

    Shape:
        ``batch_shape`` = B; ``event_shape`` = the components' event shape.
    """

    arg_constraints: ClassVar[dict] = {}
    has_rsample = False

    def __init__(
        self,
        mixture_distribution: Distribution,
        component_distribution: Distribution,
        validate_args: bool | None = None,
    ) -> None:
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(
                f"MixtureSameFamily: expected mixture_distribution to be a Categorical, got "
                f"{type(mixture_distribution).__name__}"
            )
        if not isinstance(component_distribution, Distribution):
            raise ValueError(
                f"MixtureSameFamily: expected component_distribution to be a Distribution, got "
                f"{type(component_distribution).__name__}"
            )
        mb, cb = tuple(mixture_distribution.batch_shape), tuple(component_distribution.batch_shape)
        # PyTorch aligns the two batch shapes from the right, so one set of weights (mixture batch
        # shape ()) may mix a whole batch of components
        if len(cb) < 1 or any(m != c and m != 1 and c != 1 for m, c in zip(reversed(mb), reversed(cb[:-1]))):
            raise ValueError(
                f"MixtureSameFamily: expected the mixture's batch shape {mb} to broadcast with the components' "
                f"batch shape {cb} without its last dim"
            )
        k = mixture_distribution.logits.shape[-1]
        if cb[-1] != k:
            raise ValueError(
                f"MixtureSameFamily: expected the components' last batch dim ({cb[-1]}) to equal the mixture's "
                f"number of outcomes ({k})"
            )
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        self._num_component = k
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(cb[:-1], tuple(component_distribution.event_shape), validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> MixtureSameFamily:
        shape = tuple(batch_shape)
        comp = self._component_distribution.expand(shape + (self._num_component,))
        mix = Categorical(logits=self._mixture_distribution.logits.expand(*shape, self._num_component),
                          validate_args=False)  # fmt: skip
        new = MixtureSameFamily(mix, comp, validate_args=False)
        new = self._fill_instance(MixtureSameFamily, new, _instance)  # a subclass expands to itself
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property
    def support(self) -> Any:  # type: ignore[override]
        # the components' support checked with the component dim given back to the value (a bound
        # that differs per component, (*B, K), does not broadcast with a value of shape (*B,))
        return constraints.MixtureSameFamilyConstraint(self._component_distribution.support)

    @property
    def mixture_distribution(self) -> Categorical:
        return self._mixture_distribution

    @property
    def component_distribution(self) -> Distribution:
        return self._component_distribution

    def _pad_probs(self) -> Tensor:
        """The mixing weights (*B, K) with the event's dims appended, to weigh component moments."""
        probs = self._mixture_distribution.probs
        return probs.reshape(tuple(probs.shape) + (1,) * self._event_ndims)

    @property
    def mean(self) -> Tensor:
        return (self._pad_probs() * self._component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self) -> Tensor:
        # law of total variance: E[Var(X | k)] + Var(E[X | k])
        p, d = self._pad_probs(), -1 - self._event_ndims
        comp = self._component_distribution
        mean_cond_var = (p * comp.variance).sum(d)
        var_cond_mean = (p * (comp.mean - self.mean.unsqueeze(d)) ** 2).sum(d)
        return mean_cond_var + var_cond_mean

    def _pad(self, x: Tensor) -> Tensor:
        return x.unsqueeze(-1 - self._event_ndims)

    def cdf(self, x: Tensor) -> Tensor:
        cdf_x = self._component_distribution.cdf(self._pad(x))
        return (cdf_x * self._mixture_distribution.probs).sum(-1)

    def log_prob(self, x: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(x)
        log_prob_x = self._component_distribution.log_prob(self._pad(x))  # (S, *B, K)
        log_mix = self._mixture_distribution.logits.log_softmax(-1)  # (*B, K)
        return (log_prob_x + log_mix).logsumexp(-1)

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        with gg.no_grad():
            if isinstance(sample_shape, int):
                sample_shape = (sample_shape,)
            es = tuple(self.event_shape)
            mix, batch = self._mixture_distribution, tuple(self.batch_shape)
            if tuple(mix.batch_shape) != batch:  # weights broadcast over the batch: one draw per element
                mix = mix.expand(batch)
            index = mix.sample(sample_shape)  # (S, *B)
            comp = self._component_distribution.sample(sample_shape)  # (S, *B, K, *E)
            index = index.reshape(tuple(index.shape) + (1,) * (1 + len(es)))
            index = index.expand(*index.shape[: len(index.shape) - len(es)], *es)  # (S, *B, 1, *E)
            return comp.gather(-1 - len(es), index).squeeze(-1 - len(es))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(\n  {self._mixture_distribution!r},\n  {self._component_distribution!r})"
        )
