"""Closed-form KL divergences of the continuous families added in round 29 (Beta, Cauchy,
Exponential, Gamma, HalfNormal, Laplace, Pareto, TransformedDistribution pairs) and between them and
Normal, Uniform, Gumbel and ContinuousBernoulli: the pairs ``torch.distributions.kl`` registers. Pairs whose p puts mass
where q has none are +∞ (one per distribution of p's batch, as PyTorch's). Registered on import
(``kl.py`` imports this module); the cross-family pairs are in ``_kl_continuous_cross``."""

from __future__ import annotations

import math

import glassgrad as gg
from glassgrad.distributions.beta import Beta
from glassgrad.distributions.cauchy import Cauchy
from glassgrad.distributions.continuous_bernoulli import ContinuousBernoulli
from glassgrad.distributions.exponential import Exponential
from glassgrad.distributions.gamma import Gamma
from glassgrad.distributions.gumbel import Gumbel
from glassgrad.distributions.half_normal import HalfNormal
from glassgrad.distributions.kl import _kl_dirichlet_dirichlet, kl_divergence, register_kl
from glassgrad.distributions.laplace import Laplace
from glassgrad.distributions.normal import Normal
from glassgrad.distributions.pareto import Pareto
from glassgrad.distributions.transformed_distribution import TransformedDistribution
from glassgrad.distributions.uniform import Uniform
from glassgrad.tensor import Tensor

__all__: list[str] = []

EULER = 0.57721566490153286060


def inf_like(t: Tensor) -> Tensor:
    return gg.full_like(t, math.inf)


def x_log_x(t: Tensor) -> Tensor:
    """t log t, 0 at t = 0 (the limit, as PyTorch's ``xlogy(t, t)``: Uniform(0, 1) against Beta)."""
    return gg.special.xlogy(t, t)


@register_kl(Beta, Beta)
def _kl_beta_beta(p: Beta, q: Beta) -> Tensor:
    return _kl_dirichlet_dirichlet(p._dirichlet, q._dirichlet)


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p: Cauchy, q: Cauchy) -> Tensor:
    # log(((γp + γq)² + (x₀p − x₀q)²) / (4 γp γq))
    num = (p.scale + q.scale).pow(2) + (p.loc - q.loc).pow(2)
    return (num / (4 * p.scale * q.scale)).log()


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p: Exponential, q: Exponential) -> Tensor:
    ratio = q.rate / p.rate
    return ratio - ratio.log() - 1


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p: Gamma, q: Gamma) -> Tensor:
    # αq log(βp/βq) + lgamma(αq) − lgamma(αp) + (αp − αq) ψ(αp) + (βq − βp) αp/βp
    t1 = q.concentration * (p.rate / q.rate).log()
    t2 = gg.lgamma(q.concentration) - gg.lgamma(p.concentration)
    t3 = (p.concentration - q.concentration) * gg.digamma(p.concentration)
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Gumbel, Gumbel)
def _kl_gumbel_gumbel(p: Gumbel, q: Gumbel) -> Tensor:
    r = p.scale / q.scale
    lq, lp = q.loc / q.scale, p.loc / q.scale
    t3 = (lq + gg.lgamma(r + 1) - lp).exp()  # E_p[exp(−(x − μq)/σq)]
    return -r.log() - lq + lp + r * EULER + t3 - (1 + EULER)


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p: HalfNormal, q: HalfNormal) -> Tensor:
    var_ratio = (p.scale / q.scale).pow(2)
    return 0.5 * (var_ratio - 1 - var_ratio.log())


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p: Laplace, q: Laplace) -> Tensor:
    ratio = p.scale / q.scale
    d = (p.loc - q.loc).abs()
    return -ratio.log() + d / q.scale + ratio * (-d / p.scale).exp() - 1


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p: Pareto, q: Pareto) -> Tensor:
    # +∞ where p starts below q's support
    ratio = q.alpha / p.alpha
    result = q.alpha * (p.scale / q.scale).log() - ratio.log() + ratio - 1
    return gg.where(p.scale < q.scale, math.inf, result)


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p: TransformedDistribution, q: TransformedDistribution) -> Tensor:
    # the same bijection on both sides leaves KL unchanged
    if p.transforms != q.transforms:
        raise NotImplementedError(
            f"kl_divergence: {type(p).__name__} and {type(q).__name__} apply different transforms "
            f"({p.transforms} and {q.transforms}); only equal transforms have a closed form"
        )
    if tuple(p.event_shape) != tuple(q.event_shape):
        raise NotImplementedError(
            f"kl_divergence: TransformedDistributions of event shapes {tuple(p.event_shape)} and "
            f"{tuple(q.event_shape)}; expected equal event shapes"
        )
    return kl_divergence(p.base_dist, q.base_dist)


# p's support reaches where q's density is zero: KL = +∞ (one per distribution of p's batch)
def _register_infinite(p_type: type, q_types: tuple, param: str) -> None:
    def fn(p, q):
        return inf_like(getattr(p, param))

    for q_type in q_types:
        register_kl(p_type, q_type)(fn)


_register_infinite(Beta, (Pareto,), "concentration1")
_register_infinite(Exponential, (Beta, Pareto, Uniform), "rate")
_register_infinite(Gamma, (Beta, Pareto, Uniform), "rate")
_register_infinite(Gumbel, (Beta, Exponential, Gamma, Pareto, Uniform), "loc")
_register_infinite(Laplace, (Beta, Exponential, Gamma, Pareto, Uniform), "loc")
_register_infinite(Normal, (Beta, Exponential, Gamma, Pareto, Uniform), "loc")
_register_infinite(Pareto, (Beta, Uniform), "scale")
# ContinuousBernoulli lives on [0, 1]: the families reaching past it have infinite KL against it
for _p_type, _param in ((Exponential, "rate"), (Gamma, "rate"), (Laplace, "loc"), (Pareto, "scale")):
    _register_infinite(_p_type, (ContinuousBernoulli,), _param)
_register_infinite(ContinuousBernoulli, (Pareto,), "probs")


@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_cb(p: Beta, q: ContinuousBernoulli) -> Tensor:
    # −H(p) − E_p[log q(x)], log q(x) = x logit(λ) + log(1 − λ) + log C(λ), linear in x
    return -p.entropy() - p.mean * q.logits - (-q.probs).log1p() - q._cont_bern_log_norm()


@register_kl(ContinuousBernoulli, Exponential)
def _kl_cb_exponential(p: ContinuousBernoulli, q: Exponential) -> Tensor:
    # −H(p) − E_p[log r − r x]
    return -p.entropy() - q.rate.log() + q.rate * p.mean


from glassgrad.distributions import _kl_continuous_cross  # noqa: E402, F401  (registers the rest)
