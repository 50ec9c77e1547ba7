"""``Dirichlet``: the distribution over the probability simplex with concentration α."""

from __future__ import annotations

from typing import Any, ClassVar

import glassgrad as gg
from glassgrad.distributions import constraints, utils
from glassgrad.distributions._continuous import standard_gamma
from glassgrad.distributions.distribution import Distribution
from glassgrad.distributions.exp_family import ExponentialFamily
from glassgrad.tensor import Tensor

__all__ = ["Dirichlet"]


class Dirichlet(ExponentialFamily):
    r"""The Dirichlet distribution Dir(α), as ``torch.distributions.Dirichlet``.

    ::

        log p(x) = Σ (α_k − 1) log x_k + lgamma(Σ α_k) − Σ lgamma(α_k)
        H        = Σ lgamma(α_k) − lgamma(α₀) − (K − α₀) ψ(α₀) − Σ (α_k − 1) ψ(α_k),   α₀ = Σ α_k
        sample   = g / Σ g,   g_k ~ Gamma(α_k, 1)

    Args:
        concentration: α > 0, shape ``(..., K)``: the last dim is the event.
        validate_args: check α > 0 now and that log_prob's values lie on the simplex.

    Shape:
        ``batch_shape`` = ``concentration.shape[:-1]``; ``event_shape`` = ``(K,)``.

    Example:
        >>> import glassgrad as gg
        >>> d = Dirichlet(gg.ones(3))
        >>> d.sample((2,)).shape
        glassgrad.Size([2, 3])
    """

    arg_constraints: ClassVar[dict[str, constraints.Constraint]] = {
        "concentration": constraints.independent(constraints.positive, 1)
    }
    support = constraints.simplex
    # PyTorch reparameterises through the gamma draws' implicit gradient, which glassgrad lacks:
    # rsample draws like sample and refuses a concentration that requires grad (see rsample).
    has_rsample = True

    def __init__(self, concentration: Any, validate_args: bool | None = None) -> None:
        concentration = utils.as_param(concentration)
        if concentration.dim() < 1:
            raise ValueError(
                f"Dirichlet: expected a concentration of at least one dim (..., K), "
                f"got shape {tuple(concentration.shape)}"
            )
        self.concentration = concentration
        shape = tuple(concentration.shape)
        super().__init__(shape[:-1], shape[-1:], validate_args)

    def expand(self, batch_shape: tuple, _instance: Any = None) -> Dirichlet:
        """The same distribution broadcast to ``batch_shape`` (a view of α, no checks)."""
        shape = tuple(batch_shape)
        new = self._get_checked_instance(Dirichlet, _instance)
        new.concentration = self.concentration.expand(*shape, *self.event_shape)
        Distribution.__init__(new, shape, tuple(self.event_shape), validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self) -> Tensor:
        # (α − 1)⁺ normalised; where every α_k < 1 that is 0 / 0 and PyTorch puts the mode on the
        # vertex its argmax picks (the first NaN, so vertex 0); we follow it
        conc_m1 = (self.concentration - 1).clamp(min=0.0)
        mode = conc_m1 / conc_m1.sum(-1, keepdim=True)
        inner = (self.concentration < 1).all(-1)
        if bool(inner.any()):
            vertex = gg.nn.functional.one_hot(mode.argmax(-1), self.concentration.shape[-1])
            mode = gg.where(inner.unsqueeze(-1), vertex.to(mode.dtype), mode)
        return mode

    @property
    def variance(self) -> Tensor:
        con0 = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        with gg.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        """g / Σ g with g_k ~ Gamma(α_k, 1), differentiable in α through the gamma draws' implicit
        gradient (``Gamma``) and the normalisation: an unbiased pathwise gradient, though not
        PyTorch's estimator (which differentiates each marginal Beta's CDF instead)."""
        if isinstance(sample_shape, int):
            sample_shape = (sample_shape,)
        shape = self._extended_shape(tuple(sample_shape))
        conc = self.concentration
        # drawn and normalised in float64, as PyTorch's _sample_dirichlet: a float32 Gamma(α, 1) draw
        # with α = 0.01 falls below float32's tiny 40 % of the time, and two such draws (floored at
        # tiny, so no 0 / 0) made a spurious mode at 1/2 in Beta(0.01, 0.01)
        wide = conc.dtype in (gg.float16, gg.float32)
        draws = standard_gamma(conc.double() if wide else conc, shape)
        x = draws / draws.sum(-1, keepdim=True)
        x = x.to(conc.dtype) if wide else x
        # kept inside the simplex's faces, as PyTorch's: x_k rounds to 1 when the other draws are below
        # its ulp, and log_prob(1) is then ±inf; the clamp moves the value, the gradient stays x's
        info = gg.finfo(x.dtype)
        clamped = x.detach().clamp(min=info.tiny, max=1 - info.eps / 2)
        return x + (clamped - x.detach())

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        conc = self.concentration
        return (gg.xlogy(conc - 1.0, value)).sum(-1) + gg.lgamma(conc.sum(-1)) - gg.lgamma(conc).sum(-1)

    def entropy(self) -> Tensor:
        k = self.concentration.shape[-1]
        conc = self.concentration
        a0 = conc.sum(-1)
        return (
            gg.lgamma(conc).sum(-1)
            - gg.lgamma(a0)
            - (k - a0) * gg.digamma(a0)
            - ((conc - 1.0) * gg.digamma(conc)).sum(-1)
        )

    # ------------------------------------------------------------ exponential family: θ = α, F = Σ lgamma(α) − lgamma(Σα)
    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (self.concentration,)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        return gg.lgamma(x).sum(-1) - gg.lgamma(x.sum(-1))
