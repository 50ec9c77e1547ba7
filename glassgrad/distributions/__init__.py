"""Probability distributions with ``torch.distributions``' names and semantics.

``Normal``, ``Uniform``, ``Bernoulli``, ``Binomial``, ``Categorical``, ``OneHotCategorical`` (and its
straight-through variant), ``Gumbel``, ``Dirichlet``, ``MultivariateNormal`` (full covariance, through its
Cholesky factor), ``Independent`` and ``TransformedDistribution`` (with the transforms of
``distributions.transforms``), with ``sample``/``rsample``, ``log_prob``,
``entropy``, ``mean``/``mode``/``stddev``/``variance``, and ``kl_divergence`` for each pair of
the same family (``register_kl`` adds more). They are built from Tensor ops, so gradients flow
through ``log_prob``, ``entropy`` and ``rsample`` — the policy-gradient and VAE recipes::

    dist = Categorical(logits=policy(state))
    action = dist.sample()
    loss = -(dist.log_prob(action) * advantage).mean()

    z = Normal(mu, (0.5 * logvar).exp()).rsample()   # differentiable in mu and logvar
"""

from glassgrad.distributions import constraints, transforms
from glassgrad.distributions.bernoulli import Bernoulli
from glassgrad.distributions.binomial import Binomial
from glassgrad.distributions.categorical import Categorical
from glassgrad.distributions.dirichlet import Dirichlet
from glassgrad.distributions.distribution import Distribution
from glassgrad.distributions.gumbel import Gumbel
from glassgrad.distributions.independent import Independent
from glassgrad.distributions.kl import kl_divergence, register_kl
from glassgrad.distributions.multivariate_normal import MultivariateNormal
from glassgrad.distributions.normal import Normal
from glassgrad.distributions.one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from glassgrad.distributions.transformed_distribution import TransformedDistribution
from glassgrad.distributions.transforms import (
    AffineTransform,
    ComposeTransform,
    ExpTransform,
    SigmoidTransform,
    TanhTransform,
    Transform,
)
from glassgrad.distributions.uniform import Uniform

__all__ = [
    "Distribution",
    "Normal",
    "Uniform",
    "Bernoulli",
    "Binomial",
    "Categorical",
    "Dirichlet",
    "OneHotCategorical",
    "OneHotCategoricalStraightThrough",
    "Gumbel",
    "MultivariateNormal",
    "Independent",
    "kl_divergence",
    "register_kl",
    "constraints",
    "transforms",
    "TransformedDistribution",
    "Transform",
    "ComposeTransform",
    "ExpTransform",
    "AffineTransform",
    "SigmoidTransform",
    "TanhTransform",
]

# ---------------------------------------------------------------- round 29 (distB): discrete, relaxed, mixture,
# low-rank families, more transforms and the constraint registries
from glassgrad.distributions import constraint_registry
from glassgrad.distributions.constraint_registry import biject_to, transform_to
from glassgrad.distributions.continuous_bernoulli import ContinuousBernoulli
from glassgrad.distributions.geometric import Geometric
from glassgrad.distributions.lowrank_multivariate_normal import LowRankMultivariateNormal
from glassgrad.distributions.mixture_same_family import MixtureSameFamily
from glassgrad.distributions.multinomial import Multinomial
from glassgrad.distributions.negative_binomial import NegativeBinomial
from glassgrad.distributions.poisson import Poisson
from glassgrad.distributions.relaxed_bernoulli import RelaxedBernoulli
from glassgrad.distributions.relaxed_categorical import RelaxedOneHotCategorical
from glassgrad.distributions.transforms import (
    AbsTransform,
    CatTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PowerTransform,
    ReshapeTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
)

__all__ += [
    "Poisson",
    "Geometric",
    "NegativeBinomial",
    "Multinomial",
    "MixtureSameFamily",
    "LowRankMultivariateNormal",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "ContinuousBernoulli",
    "biject_to",
    "transform_to",
    "constraint_registry",
    "PowerTransform",
    "SoftmaxTransform",
    "StickBreakingTransform",
    "AbsTransform",
    "SoftplusTransform",
    "IndependentTransform",
    "ReshapeTransform",
    "CatTransform",
    "StackTransform",
    "LowerCholeskyTransform",
]
# continuous families (round 29); importing each also makes glassgrad.distributions.<module> an attribute
from glassgrad.distributions.beta import Beta  # noqa: E402
from glassgrad.distributions.cauchy import Cauchy  # noqa: E402
from glassgrad.distributions.chi2 import Chi2  # noqa: E402
from glassgrad.distributions.exponential import Exponential  # noqa: E402
from glassgrad.distributions.gamma import Gamma  # noqa: E402
from glassgrad.distributions.half_cauchy import HalfCauchy  # noqa: E402
from glassgrad.distributions.half_normal import HalfNormal  # noqa: E402
from glassgrad.distributions.laplace import Laplace  # noqa: E402
from glassgrad.distributions.log_normal import LogNormal  # noqa: E402
from glassgrad.distributions.pareto import Pareto  # noqa: E402
from glassgrad.distributions.studentT import StudentT  # noqa: E402
from glassgrad.distributions.weibull import Weibull  # noqa: E402

__all__ += [
    "Beta",
    "Cauchy",
    "Chi2",
    "Exponential",
    "Gamma",
    "HalfCauchy",
    "HalfNormal",
    "Laplace",
    "LogNormal",
    "Pareto",
    "StudentT",
    "Weibull",
]

# ---------------------------------------------------------------- round 30 (dist): matrix and CDF transforms,
# more families
from glassgrad.distributions.transforms import (  # noqa: E402
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    PositiveDefiniteTransform,
    identity_transform,
)

__all__ += [
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform",
    "PositiveDefiniteTransform",
    "identity_transform",
]
from glassgrad.distributions.fishersnedecor import FisherSnedecor  # noqa: E402
from glassgrad.distributions.generalized_pareto import GeneralizedPareto  # noqa: E402
from glassgrad.distributions.inverse_gamma import InverseGamma  # noqa: E402
from glassgrad.distributions.kumaraswamy import Kumaraswamy  # noqa: E402
from glassgrad.distributions.logistic_normal import LogisticNormal  # noqa: E402

__all__ += ["FisherSnedecor", "GeneralizedPareto", "InverseGamma", "Kumaraswamy", "LogisticNormal"]
from glassgrad.distributions.exp_family import ExponentialFamily  # noqa: E402

__all__ += ["ExponentialFamily"]
from glassgrad.distributions.lkj_cholesky import LKJCholesky  # noqa: E402
from glassgrad.distributions.von_mises import VonMises  # noqa: E402

__all__ += ["LKJCholesky", "VonMises"]
from glassgrad.distributions.wishart import Wishart  # noqa: E402

__all__ += ["Wishart"]
