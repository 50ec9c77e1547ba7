"""Closed-form KL divergences between different continuous families (Beta, Exponential, Gamma,
Gumbel, Laplace, Normal, Pareto, Uniform), the pairs ``torch.distributions.kl`` registers. Each is
−H(p) − E_p[log q], with E_p of q's sufficient statistics in closed form."""

from __future__ import annotations

import math

import glassgrad as gg
from glassgrad.distributions._kl_continuous import EULER, x_log_x
from glassgrad.distributions.beta import Beta
from glassgrad.distributions.exponential import Exponential
from glassgrad.distributions.gamma import Gamma
from glassgrad.distributions.gumbel import Gumbel
from glassgrad.distributions.kl import register_kl
from glassgrad.distributions.laplace import Laplace
from glassgrad.distributions.normal import Normal
from glassgrad.distributions.pareto import Pareto
from glassgrad.distributions.uniform import Uniform
from glassgrad.tensor import Tensor

__all__: list[str] = []

_LOG_2PI = math.log(2 * math.pi)


def _neg_log_normal(q: Normal, mean: Tensor, second_central: Tensor) -> Tensor:
    """−E_p[log N(x; μq, σq²)] from p's mean and variance: ½ log(2π σq²) + (Var + (E − μq)²) / (2σq²)."""
    return 0.5 * _LOG_2PI + q.scale.log() + (second_central + (mean - q.loc).pow(2)) / (2 * q.scale.pow(2))


def _neg_log_gamma(q: Gamma, mean: Tensor, mean_log: Tensor) -> Tensor:
    """−E_p[log Γ(x; α, β)] from E_p[x] and E_p[log x]."""
    a, b = q.concentration, q.rate
    return gg.lgamma(a) - a * b.log() - (a - 1) * mean_log + b * mean


# ------------------------------------------------------------------ p = Beta
@register_kl(Beta, Exponential)
def _kl_beta_exponential(p: Beta, q: Exponential) -> Tensor:
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p: Beta, q: Gamma) -> Tensor:
    c1, c0 = p.concentration1, p.concentration0
    mean_log = gg.digamma(c1) - gg.digamma(c1 + c0)
    return -p.entropy() + _neg_log_gamma(q, c1 / (c1 + c0), mean_log)


@register_kl(Beta, Normal)
def _kl_beta_normal(p: Beta, q: Normal) -> Tensor:
    c1, c0 = p.concentration1, p.concentration0
    e = c1 / (c1 + c0)
    return -p.entropy() + _neg_log_normal(q, e, e * (1 - e) / (c1 + c0 + 1))


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p: Beta, q: Uniform) -> Tensor:
    result = -p.entropy() + (q.high - q.low).log()
    return gg.where((q.low > 0) | (q.high < 1), math.inf, result)


# ------------------------------------------------------------------ p = Exponential
@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p: Exponential, q: Gamma) -> Tensor:
    ratio = q.rate / p.rate
    a = q.concentration
    return -a * ratio.log() + ratio + gg.lgamma(a) + a * EULER - (1 + EULER)


@register_kl(Exponential, Gumbel)
def _kl_exponential_gumbel(p: Exponential, q: Gumbel) -> Tensor:
    prod = p.rate * q.scale
    loc_ratio = q.loc / q.scale
    return prod.log() - 1 - loc_ratio + loc_ratio.exp() * prod / (prod + 1) + prod.reciprocal()


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p: Exponential, q: Normal) -> Tensor:
    return -p.entropy() + _neg_log_normal(q, p.mean, p.variance)


# ------------------------------------------------------------------ p = Gamma
@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p: Gamma, q: Exponential) -> Tensor:
    return -p.entropy() - q.rate.log() + q.rate * p.concentration / p.rate


@register_kl(Gamma, Gumbel)
def _kl_gamma_gumbel(p: Gamma, q: Gumbel) -> Tensor:
    a = p.concentration
    prod = p.rate * q.scale
    loc_ratio = q.loc / q.scale
    t1 = (a - 1) * gg.digamma(a) - gg.lgamma(a) - a
    t2 = prod.log() + a / prod
    t3 = (
        loc_ratio.exp() * (1 + prod.reciprocal()).pow(-a) - loc_ratio
    )  # E_p[exp(−(x − μ)/σ)] = (1 + 1/(βσ))^−α e^{μ/σ}
    return t1 + t2 + t3


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p: Gamma, q: Normal) -> Tensor:
    return -p.entropy() + _neg_log_normal(q, p.mean, p.variance)


# ------------------------------------------------------------------ p = Gumbel, Laplace, Normal
@register_kl(Gumbel, Normal)
def _kl_gumbel_normal(p: Gumbel, q: Normal) -> Tensor:
    return -p.entropy() + _neg_log_normal(q, p.mean, p.variance)


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p: Laplace, q: Normal) -> Tensor:
    return -p.entropy() + _neg_log_normal(q, p.loc, 2 * p.scale.pow(2))


@register_kl(Normal, Gumbel)
def _kl_normal_gumbel(p: Normal, q: Gumbel) -> Tensor:
    # E_p[exp(−(x − μq)/σq)] = exp(−(μp − μq)/σq + σp² / (2σq²))
    z = (p.loc - q.loc) / q.scale
    ratio = p.scale / q.scale
    return -p.entropy() + q.scale.log() + z + (-z + 0.5 * ratio.pow(2)).exp()


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p: Normal, q: Laplace) -> Tensor:
    # E_p|x − μq| = σp √(2/π) exp(−d²/(2σp²)) + d erf(d / (σp √2)),  d = μp − μq
    d = p.loc - q.loc
    z = d / p.scale
    mean_abs = math.sqrt(2 / math.pi) * p.scale * (-0.5 * z.pow(2)).exp() + d * (z * math.sqrt(0.5)).erf()
    return -(p.scale / q.scale).log() + mean_abs / q.scale - 0.5 * (1 + math.log(0.5 * math.pi))


# ------------------------------------------------------------------ p = Pareto (+∞ where q's moments diverge)
@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p: Pareto, q: Exponential) -> Tensor:
    prod = p.scale * q.rate
    result = (p.alpha / prod).log() - p.alpha.reciprocal() + p.alpha * prod / (p.alpha - 1) - 1
    return gg.where(p.alpha <= 1, math.inf, result)


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p: Pareto, q: Gamma) -> Tensor:
    mean_log = p.scale.log() + p.alpha.reciprocal()
    result = -p.entropy() + _neg_log_gamma(q, p.alpha * p.scale / (p.alpha - 1), mean_log)
    return gg.where(p.alpha <= 1, math.inf, result)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p: Pareto, q: Normal) -> Tensor:
    m = p.scale / (p.alpha - 1)
    result = -p.entropy() + _neg_log_normal(q, p.alpha * m, p.alpha * m.pow(2) / (p.alpha - 2))
    return gg.where(p.alpha <= 2, math.inf, result)


# ------------------------------------------------------------------ p = Uniform
def _uniform_mean_log(low: Tensor, high: Tensor) -> Tensor:
    """E[log x] for x ~ U(low, high): (h log h − h − l log l + l) / (h − l)."""
    width = high - low
    return (x_log_x(high) - x_log_x(low) - width) / width


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p: Uniform, q: Beta) -> Tensor:
    c1, c0 = q.concentration1, q.concentration0
    width = p.high - p.low
    mean_log1m = -(x_log_x(1 - p.high) - x_log_x(1 - p.low) + width) / width
    lbeta = gg.lgamma(c1) + gg.lgamma(c0) - gg.lgamma(c1 + c0)
    result = -width.log() - (c1 - 1) * _uniform_mean_log(p.low, p.high) - (c0 - 1) * mean_log1m + lbeta
    return gg.where((p.high > 1) | (p.low < 0), math.inf, result)


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p: Uniform, q: Exponential) -> Tensor:
    result = q.rate * (p.high + p.low) / 2 - ((p.high - p.low) * q.rate).log()
    return gg.where(p.low < 0, math.inf, result)


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p: Uniform, q: Gamma) -> Tensor:
    result = -p.entropy() + _neg_log_gamma(q, p.mean, _uniform_mean_log(p.low, p.high))
    return gg.where(p.low < 0, math.inf, result)


@register_kl(Uniform, Gumbel)
def _kl_uniform_gumbel(p: Uniform, q: Gumbel) -> Tensor:
    ratio = q.scale / (p.high - p.low)
    hd, ld = (p.high - q.loc) / q.scale, (p.low - q.loc) / q.scale
    return ratio.log() + 0.5 * (hd + ld) - ratio * ((-hd).exp() - (-ld).exp())


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p: Uniform, q: Normal) -> Tensor:
    return -p.entropy() + _neg_log_normal(q, p.mean, p.variance)


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p: Uniform, q: Pareto) -> Tensor:
    width = p.high - p.low
    t1 = (q.alpha * q.scale.pow(q.alpha) * width).log()
    result = (q.alpha + 1) * _uniform_mean_log(p.low, p.high) - t1
    return gg.where(p.low < q.scale, math.inf, result)
