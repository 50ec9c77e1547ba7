"""``kl_divergence(p, q)`` = KL(p ‖ q) = E_p[log p − log q], by closed forms registered per pair of
distribution types with ``register_kl`` (as ``torch.distributions.kl``)."""

from __future__ import annotations

import functools
import math
import warnings
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
from glassgrad.distributions.one_hot_categorical import OneHotCategorical
from glassgrad.distributions.uniform import Uniform
from glassgrad.ops.linalg import solve_triangular
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["kl_divergence", "register_kl"]

_KL: dict[tuple[type, type], Callable] = {}


def register_kl(type_p: type, type_q: type) -> Callable[[Callable], Callable]:
    """Decorator: register ``fn(p, q)`` as KL(p ‖ q) for p of ``type_p`` and q of ``type_q``.

    Lookup picks the most specific registered pair for the two types (p's type first, as PyTorch). Any classes
    are accepted, as in PyTorch: a library's own abstract base (Pyro's ``Distribution``, which its
    distributions mix into ``torch.distributions.Distribution``) may stand for "any distribution".
    """
    if not (isinstance(type_p, type) and isinstance(type_q, type)):
        raise TypeError(f"register_kl: expected two classes, got {type_p!r} and {type_q!r}")

    def decorator(fn: Callable) -> Callable:
        _KL[type_p, type_q] = fn
        return fn

    return decorator


@functools.total_ordering
class _Match:
    """A registered pair, ordered lexicographically by subclassing: p's type first, then q's."""

    __slots__ = ["types"]

    def __init__(self, *types: type) -> None:
        self.types = types

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Match) and self.types == other.types

    def __le__(self, other: _Match) -> bool:
        for x, y in zip(self.types, other.types):
            if not issubclass(x, y):
                return False
            if x is not y:
                break
        return True

    __hash__ = None  # type: ignore[assignment]


def _dispatch(tp: type, tq: type) -> Callable | None:
    """The most specific registered pair for (tp, tq), as PyTorch's: the p-first and q-first
    lexicographic minima, with a RuntimeWarning when they name different functions."""
    matches = [(a, b) for a, b in _KL if issubclass(tp, a) and issubclass(tq, b)]
    if not matches:
        return None
    left_p, left_q = min(_Match(*m) for m in matches).types
    right_q, right_p = min(_Match(*reversed(m)) for m in matches).types
    left, right = _KL[left_p, left_q], _KL[right_p, right_q]
    if left is not right:
        warnings.warn(
            f"Ambiguous kl_divergence({tp.__name__}, {tq.__name__}). Please register_kl({left_p.__name__}, "
            f"{right_q.__name__})",
            RuntimeWarning,
            stacklevel=user_stacklevel(),
        )
    return left


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p ‖ q), one value per distribution of the (broadcast) batch.

    Raises:
        NotImplementedError: no closed form is registered for the pair of types.
    """
    fn = _dispatch(type(p), type(q))
    if fn is None:
        raise NotImplementedError(
            f"kl_divergence: no closed form is registered for ({type(p).__name__}, {type(q).__name__})"
        )
    return fn(p, q)


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


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p: OneHotCategorical, q: OneHotCategorical) -> Tensor:
    return _kl_categorical_categorical(p._categorical, q._categorical)


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


# ---------------------------------------------------------------- round 29: discrete, relaxed and low-rank families
from glassgrad.distributions.continuous_bernoulli import ContinuousBernoulli  # noqa: E402
from glassgrad.distributions.geometric import Geometric  # noqa: E402
from glassgrad.distributions.gumbel import Gumbel  # noqa: E402
from glassgrad.distributions.lowrank_multivariate_normal import LowRankMultivariateNormal  # noqa: E402
from glassgrad.distributions.poisson import Poisson  # noqa: E402


def _infinite_like(t: Tensor) -> Tensor:
    return gg.full(tuple(t.shape), math.inf, dtype=t.dtype)


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p: Poisson, q: Poisson) -> Tensor:
    # λp log(λp/λq) − (λp − λq)
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p: Geometric, q: Geometric) -> Tensor:
    # −H(p) − E_p[k] log(1 − q) − log q, with E_p[k] + 1 = 1/p
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p: Bernoulli, q: Poisson) -> Tensor:
    return -p.entropy() - (p.probs * q.rate.log() - q.rate)


@register_kl(Poisson, Bernoulli)
@register_kl(Poisson, Binomial)
def _kl_poisson_bounded(p: Poisson, q: Distribution) -> Tensor:
    return _infinite_like(p.rate)  # Poisson mass beyond the bounded support


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_cb_cb(p: ContinuousBernoulli, q: ContinuousBernoulli) -> Tensor:
    t1 = p.mean * (p.logits - q.logits)
    t2 = p._cont_bern_log_norm() + (-p.probs).log1p()
    t3 = -q._cont_bern_log_norm() - (-q.probs).log1p()
    return t1 + t2 + t3


@register_kl(ContinuousBernoulli, Normal)
def _kl_cb_normal(p: ContinuousBernoulli, q: Normal) -> Tensor:
    # −H(p) − E_p[log N(x; μ, σ)], from p's first two moments
    t2 = 0.5 * (math.log(2.0 * math.pi) + (q.loc / q.scale) ** 2) + q.scale.log()
    t3 = (p.variance + p.mean**2 - 2.0 * q.loc * p.mean) / (2.0 * q.scale**2)
    return -p.entropy() + t2 + t3


@register_kl(ContinuousBernoulli, Uniform)
def _kl_cb_uniform(p: ContinuousBernoulli, q: Uniform) -> Tensor:
    result = -p.entropy() + (q.high - q.low).log()
    # PyTorch's test (kept for parity): finite only when [low, high] strictly contains [0, 1]
    return _where((q.low >= 0.0) | (q.high <= 1.0), math.inf, result)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_cb(p: Uniform, q: ContinuousBernoulli) -> Tensor:
    result = -p.entropy() - p.mean * q.logits - (-q.probs).log1p() - q._cont_bern_log_norm()
    return _where((p.high >= 1.0) | (p.low <= 0.0), math.inf, result)


@register_kl(Normal, ContinuousBernoulli)
@register_kl(Gumbel, ContinuousBernoulli)
def _kl_unbounded_cb(p: Distribution, q: ContinuousBernoulli) -> Tensor:
    return _infinite_like(p.loc)  # mass outside [0, 1]


# The low-rank normal keeps the Cholesky factor of its covariance, so the full-covariance closed
# form applies to every pairing of the two.
register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)(_kl_mvn_mvn)
register_kl(LowRankMultivariateNormal, MultivariateNormal)(_kl_mvn_mvn)
register_kl(MultivariateNormal, LowRankMultivariateNormal)(_kl_mvn_mvn)
# the continuous families' closed forms register themselves on import (round 29)
from glassgrad.distributions import _kl_continuous  # noqa: E402, F401

# two members of one exponential family without a closed form of their own: the Bregman divergence
from glassgrad.distributions.exp_family import ExponentialFamily, kl_exponential_family  # noqa: E402

register_kl(ExponentialFamily, ExponentialFamily)(kl_exponential_family)
