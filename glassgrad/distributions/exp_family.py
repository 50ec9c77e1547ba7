"""``ExponentialFamily``: the base class of distributions with densities
``p(x; θ) = exp(⟨t(x), θ⟩ − F(θ) + k(x))``, whose entropy and same-family KL divergence follow from
the log normalizer F by automatic differentiation (Bregman divergences)."""

from __future__ import annotations

from typing import Any

import glassgrad as gg
from glassgrad.distributions.distribution import Distribution
from glassgrad.tensor import Tensor

__all__ = ["ExponentialFamily"]


def _grad_of_log_normalizer(dist: Any) -> tuple[list, Tensor, tuple]:
    """The natural parameters as fresh leaves, F at them, and ∇F (the mean of t(x)) there."""
    params = [p.detach().requires_grad_() for p in dist._natural_params]
    with gg.enable_grad():
        log_norm = dist._log_normalizer(*params)
        # the graph is kept: F(θ) stays in the result, as in PyTorch (a later backward reaches θ)
        grads = gg.autograd.grad(log_norm.sum(), params, retain_graph=True)
    return params, log_norm, grads


class ExponentialFamily(Distribution):
    r"""Base class of exponential families, as ``torch.distributions.ExponentialFamily``: a
    subclass gives its natural parameters θ (``_natural_params``, a tuple of tensors), its log
    normalizer F (``_log_normalizer(*θ)``) and E[k(X)] (``_mean_carrier_measure``). Then::

        H(p)        = F(θ) − ⟨θ, ∇F(θ)⟩ − E[k(X)]
        KL(p ‖ q)   = F(θ_q) − F(θ_p) − ⟨θ_q − θ_p, ∇F(θ_p)⟩     (p, q of the same family)

    with ∇F from autograd. Families with a closed-form entropy (all of PyTorch's) override
    ``entropy``; the KL rule (registered for two members of the same family) is used where no
    closed form is registered. As in PyTorch, θ_p is detached there, so both results carry
    gradients through q's parameters only.
    """

    @property
    def _natural_params(self) -> tuple[Tensor, ...]:
        raise NotImplementedError(f"{type(self).__name__}: _natural_params is not implemented")

    def _log_normalizer(self, *natural_params: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}: _log_normalizer is not implemented")

    @property
    def _mean_carrier_measure(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__}: _mean_carrier_measure is not implemented")

    def entropy(self) -> Tensor:
        """H = F(θ) − ⟨θ, ∇F(θ)⟩ − E[k(X)], one value per batch element."""
        result: Any = -self._mean_carrier_measure
        params, log_norm, grads = _grad_of_log_normalizer(self)
        result = result + log_norm
        batch = tuple(self.batch_shape)
        for p, g in zip(params, grads):
            result = result - (p * g).reshape(batch + (-1,)).sum(-1)
        return result


def _sum_rightmost(value: Tensor, dims: int) -> Tensor:
    """Sum the last ``dims`` dims, PyTorch's way: a value with fewer dims (a Wishart's scalar
    natural parameter) is summed whole."""
    if dims <= 0:
        return value
    return value.reshape(tuple(value.shape[: max(value.ndim - dims, 0)]) + (-1,)).sum(-1)


def kl_exponential_family(p: ExponentialFamily, q: ExponentialFamily) -> Tensor:
    """KL(p ‖ q) as the Bregman divergence of the log normalizer (p and q of one family)."""
    if type(p) is not type(q):
        raise NotImplementedError(
            f"kl_divergence: no closed form is registered for ({type(p).__name__}, {type(q).__name__}), "
            "and the exponential-family (Bregman) form needs two members of one family"
        )
    p_params, p_log_norm, grads = _grad_of_log_normalizer(p)
    q_params = q._natural_params
    result = q._log_normalizer(*q_params) - p_log_norm
    for pp, qp, g in zip(p_params, q_params, grads):
        result = result - _sum_rightmost((qp - pp) * g, len(q.event_shape))
    return result
