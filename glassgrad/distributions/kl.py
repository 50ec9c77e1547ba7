"""``kl_divergence(p, q)`` = KL(p ‖ q) = E_p[log p − log q], by closed forms registered per pair of
distribution types with ``register_kl`` (as ``torch.distributions.kl``)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.distributions.bernoulli import Bernoulli
from glassgrad.distributions.binomial import Binomial
from glassgrad.distributions.categorical import Categorical
from glassgrad.distributions.dirichlet import Dirichlet
from glassgrad.distributions.distribution import Distribution
from glassgrad.distributions.independent import Independent
from glassgrad.distributions.multivariate_normal import MultivariateNormal, diagonal, mahalanobis
from glassgrad.distributions.normal import Normal
from glassgrad.distributions.uniform import Uniform
from glassgrad.ops.linalg import solve_triangular
from glassgrad.tensor import Tensor

__all__ = ["kl_divergence", "register_kl"]

_KL: dict[tuple[type, type], Callable] = {}


def register_kl(type_p: type, type_q: type) -> Callable[[Callable], Callable]:
    """Decorator: register ``fn(p, q)`` as KL(p ‖ q) for p of ``type_p`` and q of ``type_q``.

    Lookup picks the most specific registered pair for the two types (by their MROs).
    """
    if not (issubclass(type_p, Distribution) and issubclass(type_q, Distribution)):
        raise TypeError(f"register_kl: expected Distribution subclasses, got {type_p!r} and {type_q!r}")

    def decorator(fn: Callable) -> Callable:
        _KL[type_p, type_q] = fn
        return fn

    return decorator


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p ‖ q), one value per distribution of the (broadcast) batch.

    Raises:
        NotImplementedError: no closed form is registered for the pair of types.
    """
    tp, tq = type(p), type(q)
    matches = [(tp.__mro__.index(a) + tq.__mro__.index(b), fn) for (a, b), fn in _KL.items()
               if issubclass(tp, a) and issubclass(tq, b)]  # fmt: skip
    if not matches:
        raise NotImplementedError(
            f"kl_divergence: no closed form is registered for ({tp.__name__}, {tq.__name__})"
        )
    return min(matches, key=lambda m: m[0])[1](p, q)


def _where(cond: Tensor, value: float, t: Tensor) -> Tensor:
    return gg.where(cond, value, t)


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> Tensor:
    # ½ (σp²/σq² + (μp − μq)²/σq² − 1 − log(σp²/σq²))
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p: Dirichlet, q: Dirichlet) -> Tensor:
    # lgamma(Σα) − Σ lgamma(α) − lgamma(Σβ) + Σ lgamma(β) + Σ (α − β)(ψ(α) − ψ(Σα))
    a, b = p.concentration, q.concentration
    a0 = a.sum(-1)
    t1 = gg.lgamma(a0) - gg.lgamma(a).sum(-1) - gg.lgamma(b.sum(-1)) + gg.lgamma(b).sum(-1)
    return t1 + ((a - b) * (gg.digamma(a) - gg.digamma(a0).unsqueeze(-1))).sum(-1)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    # p log(p/q) + (1 − p) log((1 − p)/(1 − q)), from the logits (log p = −softplus(−logit));
    # 0 log 0 = 0, and a positive mass where q has none gives +∞
    t1 = p.probs * (F.softplus(-q.logits) - F.softplus(-p.logits))
    t1 = _where(p.probs == 0, 0.0, _where(q.probs == 0, math.inf, t1))
    t2 = (1 - p.probs) * (F.softplus(q.logits) - F.softplus(p.logits))
    t2 = _where(p.probs == 1, 0.0, _where(q.probs == 1, math.inf, t2))
    return t1 + t2


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p: Binomial, q: Binomial) -> Tensor:
    # n (p log(p/q) + log((1 − p)/(1 − q))) for equal counts; +∞ where p has more trials than q
    # (mass beyond q's support). Fewer trials than q has no closed form (PyTorch refuses it too).
    if np.any(p.total_count._data < q.total_count._data):
        raise NotImplementedError(
            "kl_divergence: KL between Binomials where q.total_count > p.total_count is not implemented"
        )
    kl = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p() - (-q.probs).log1p())
    return _where(p.total_count > q.total_count, math.inf, kl)


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Tensor:
    # Σₖ pₖ (log pₖ − log qₖ), with the same conventions at zero masses
    t = p.probs * (p.logits - q.logits)
    t = _where(p.probs == 0, 0.0, _where(q.probs == 0, math.inf, t))
    return t.sum(-1)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p: Uniform, q: Uniform) -> Tensor:
    # log((bq − aq) / (bp − ap)) when [ap, bp) ⊆ [aq, bq), else +∞
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return _where((q.low > p.low) | (q.high < p.high), math.inf, result)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p: MultivariateNormal, q: MultivariateNormal) -> Tensor:
    # ½ (tr(Σq⁻¹ Σp) + |Lq⁻¹ (μq − μp)|² − k) + log det Lq − log det Lp
    if p.event_shape != q.event_shape:
        raise ValueError(
            f"kl_divergence: expected MultivariateNormals of the same event shape, got {p.event_shape} and {q.event_shape}"
        )
    k = p.event_shape[0]
    lp, lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    half_term1 = diagonal(lq).log().sum(-1) - diagonal(lp).log().sum(-1)
    shape = np.broadcast_shapes(tuple(lp.shape), tuple(lq.shape))
    term2 = (solve_triangular(lq.expand(*shape), lp.expand(*shape), upper=False) ** 2).sum(
        (-2, -1)
    )  # |Lq⁻¹ Lp|²_F
    term3 = mahalanobis(lq, q.loc - p.loc)
    return half_term1 + 0.5 * (term2 + term3 - k)


@register_kl(Independent, Independent)
def _kl_independent_independent(p: Independent, q: Independent) -> Tensor:
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("kl_divergence: Independents with different reinterpreted_batch_ndims")
    return p._sum_rightmost(kl_divergence(p.base_dist, q.base_dist))
