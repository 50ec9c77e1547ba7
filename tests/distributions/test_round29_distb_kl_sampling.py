"""Round 29 families: kl_divergence against PyTorch (values and gradients), sample moments and
dtypes, rsample with the same noise as PyTorch, and validate_args errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import distributions as D

RNG = np.random.default_rng(290)
TOL = dict(rtol=1e-9, atol=1e-11)


def _np(t):
    return np.asarray(t._data if isinstance(t, gg.Tensor) else t.detach().numpy())


KL = {  # name -> (params, make_p, make_q)
    "Poisson": (
        {"a": RNG.uniform(0.5, 3, (3,))},
        lambda d, t: d.Poisson(t["a"]),
        lambda d, t: d.Poisson(t["a"] * 2 + 0.1),
    ),
    "Geometric": (
        {"a": RNG.uniform(0.1, 0.9, (3,))},
        lambda d, t: d.Geometric(probs=t["a"]),
        lambda d, t: d.Geometric(logits=t["a"] * 2 - 1),
    ),
    "ContinuousBernoulli": (
        {"a": np.array([0.2, 0.4999, 0.7])},
        lambda d, t: d.ContinuousBernoulli(probs=t["a"]),
        lambda d, t: d.ContinuousBernoulli(logits=t["a"] * 3 - 1),
    ),
    "Bernoulli-Poisson": (
        {"a": RNG.uniform(0.1, 0.9, (3,))},
        lambda d, t: d.Bernoulli(t["a"]),
        lambda d, t: d.Poisson(t["a"] + 1),
    ),
    "CB-Normal": (
        {"a": RNG.uniform(0.1, 0.9, (3,))},
        lambda d, t: d.ContinuousBernoulli(t["a"]),
        lambda d, t: d.Normal(t["a"] - 0.5, t["a"] + 0.5),
    ),
    "CB-Uniform": (
        {"a": np.array([0.3, 0.6])},
        lambda d, t: d.ContinuousBernoulli(t["a"]),
        lambda d, t: d.Uniform(t["a"] - 1, t["a"] + 1),
    ),
    "Uniform-CB": (
        {"a": np.array([0.3, 0.6])},
        lambda d, t: d.Uniform(t["a"] * 0.5, t["a"] + 0.2),
        lambda d, t: d.ContinuousBernoulli(t["a"]),
    ),
    "LowRank-LowRank": (
        {"a": RNG.standard_normal((2, 3))},
        lambda d, t: d.LowRankMultivariateNormal(t["a"], t["a"].unsqueeze(-1), t["a"] ** 2 + 0.5),
        lambda d, t: d.LowRankMultivariateNormal(t["a"] * 0, t["a"].unsqueeze(-1) * 0.5, t["a"].abs() + 1),
    ),
    "LowRank-MVN": (
        {"a": RNG.standard_normal((2, 3))},
        lambda d, t: d.LowRankMultivariateNormal(t["a"], t["a"].unsqueeze(-1), t["a"] ** 2 + 0.5),
        lambda d, t: d.MultivariateNormal(
            t["a"] + 1,
            scale_tril=d.LowRankMultivariateNormal(t["a"], t["a"].unsqueeze(-1), t["a"] ** 2 + 1).scale_tril,
        ),
    ),
    "MVN-LowRank": (
        {"a": RNG.standard_normal((2, 3))},
        lambda d, t: d.MultivariateNormal(
            t["a"] * 2,
            covariance_matrix=d.LowRankMultivariateNormal(
                t["a"], t["a"].unsqueeze(-1), t["a"] ** 2 + 0.5
            ).covariance_matrix,
        ),
        lambda d, t: d.LowRankMultivariateNormal(t["a"], t["a"].unsqueeze(-1), t["a"] ** 2 + 0.5),
    ),
}


@pytest.mark.parametrize("name", list(KL))
def test_kl_divergence_and_gradient_match_torch(torch, name):
    params, make_p, make_q = KL[name]
    out = []
    for lib, dmod in ((gg, D), (torch, torch.distributions)):
        t = {k: lib.tensor(v, requires_grad=True) for k, v in params.items()}
        kl = dmod.kl_divergence(make_p(dmod, t), make_q(dmod, t))
        value = _np(kl).copy()
        kl[np.isfinite(value)].sum().backward() if lib is torch else (
            kl * gg.tensor(np.isfinite(value) * 1.0)
        ).sum().backward()
        out.append((value, _np(t["a"].grad)))
    np.testing.assert_allclose(out[0][0], out[1][0], **TOL)
    np.testing.assert_allclose(out[0][1], out[1][1], **TOL)


def test_kl_to_a_bounded_support_is_infinite(torch):
    p = D.Poisson(gg.tensor([1.0, 2.0]))
    for q in (D.Bernoulli(gg.tensor([0.5, 0.5])), D.Binomial(3, gg.tensor([0.5, 0.5]))):
        assert np.all(np.isinf(_np(D.kl_divergence(p, q))))
    assert np.all(np.isinf(_np(D.kl_divergence(D.Normal(0.0, 1.0), D.ContinuousBernoulli(0.3)))))


MOMENTS = [
    ("Poisson", lambda: D.Poisson(gg.tensor([0.5, 3.0, 10.0], dtype=gg.float64))),
    ("Geometric", lambda: D.Geometric(gg.tensor([0.2, 0.5, 0.9], dtype=gg.float64))),
    (
        "NegativeBinomial",
        lambda: D.NegativeBinomial(
            gg.tensor([1.0, 2.5, 6.0], dtype=gg.float64), gg.tensor([0.3, 0.5, 0.2], dtype=gg.float64)
        ),
    ),
    ("ContinuousBernoulli", lambda: D.ContinuousBernoulli(gg.tensor([0.1, 0.5, 0.8], dtype=gg.float64))),
    ("Multinomial", lambda: D.Multinomial(7, gg.tensor([0.2, 0.3, 0.5], dtype=gg.float64))),
    (
        "LowRankMVN",
        lambda: D.LowRankMultivariateNormal(
            gg.tensor([1.0, -1.0, 0.0], dtype=gg.float64),
            gg.tensor([[1.0], [0.5], [-1.0]], dtype=gg.float64),
            gg.tensor([0.5, 1.0, 2.0], dtype=gg.float64),
        ),
    ),
    (
        "MixtureSameFamily",
        lambda: D.MixtureSameFamily(
            D.Categorical(gg.tensor([0.3, 0.7], dtype=gg.float64)),
            D.Normal(gg.tensor([-2.0, 1.0], dtype=gg.float64), gg.tensor([0.5, 1.0], dtype=gg.float64)),
        ),
    ),
]


@pytest.mark.parametrize(("name", "make"), MOMENTS, ids=[m[0] for m in MOMENTS])
def test_sample_moments_and_dtype(name, make):
    gg.manual_seed(0)
    d = make()
    x = d.sample((20000,))
    assert x.dtype == gg.float64 and tuple(x.shape) == (20000, *d.batch_shape, *d.event_shape)
    xs = _np(x)
    mean, var = _np(d.mean), _np(d.variance)
    se = np.sqrt(var / 20000)
    assert np.all(np.abs(xs.mean(0) - mean) < 5 * se + 1e-12), (xs.mean(0), mean)
    np.testing.assert_allclose(xs.var(0), var, rtol=0.1)
    if name in ("Poisson", "Geometric", "NegativeBinomial", "Multinomial"):
        assert np.all(xs == np.round(xs)) and np.all(xs >= 0)
    if name == "Multinomial":
        assert np.all(xs.sum(-1) == 7)


def test_relaxed_rsample_with_the_same_noise_matches_torch(torch, monkeypatch):
    noise = RNG.uniform(0.01, 0.99, (3, 2, 4))
    monkeypatch.setattr(torch, "rand", lambda *a, **k: torch.tensor(noise))
    monkeypatch.setattr(D.utils, "standard_uniform", lambda shape, dtype: gg.tensor(noise))
    logits = RNG.standard_normal((2, 4))
    for make in (
        lambda d, lib, lg: d.RelaxedOneHotCategorical(lib.tensor(0.6), logits=lg),
        lambda d, lib, lg: d.RelaxedBernoulli(lib.tensor(0.6), logits=lg),
        lambda d, lib, lg: d.ContinuousBernoulli(logits=lg),
    ):
        lg, tlg = gg.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
        x, tx = make(D, gg, lg).rsample((3,)), make(torch.distributions, torch, tlg).rsample((3,))
        np.testing.assert_allclose(_np(x), _np(tx), **TOL)
        (x**2).sum().backward()
        (tx**2).sum().backward()
        np.testing.assert_allclose(_np(lg.grad), _np(tlg.grad), **TOL)


def test_lowrank_rsample_with_the_same_noise_matches_torch(torch, monkeypatch):
    eps_w, eps_d = RNG.standard_normal((4, 2, 1)), RNG.standard_normal((4, 2, 3))
    calls = []

    def fixed(shape, dtype=None, **k):
        calls.append(shape)
        return eps_w if tuple(shape)[-1] == 1 else eps_d

    monkeypatch.setattr(
        torch.distributions.lowrank_multivariate_normal,
        "_standard_normal",
        lambda shape, dtype, device: torch.tensor(fixed(shape)),
    )
    monkeypatch.setattr(D.utils, "standard_normal", lambda shape, dtype: gg.tensor(fixed(shape)))
    loc, w, dg = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 1)), RNG.uniform(0.5, 2, (3,))
    grads = []
    for lib, dmod in ((gg, D), (torch, torch.distributions)):
        t = [lib.tensor(v, requires_grad=True) for v in (loc, w, dg)]
        x = dmod.LowRankMultivariateNormal(*t).rsample((4,))
        (x**2).sum().backward()
        grads.append((_np(x).copy(), [_np(v.grad) for v in t]))
    np.testing.assert_allclose(grads[0][0], grads[1][0], **TOL)
    for a, b in zip(grads[0][1], grads[1][1]):
        np.testing.assert_allclose(a, b, **TOL)


@pytest.mark.parametrize(
    "make",
    [
        lambda: D.Poisson(gg.tensor([-1.0])),
        lambda: D.Geometric(gg.tensor([0.0, 0.5])),
        lambda: D.Geometric(gg.tensor([1.5])),
        lambda: D.NegativeBinomial(gg.tensor([-1.0]), gg.tensor([0.5])),
        lambda: D.NegativeBinomial(gg.tensor([2.0]), gg.tensor([1.0])),
        lambda: D.Multinomial(3, gg.tensor([-0.5, 1.0])),
        lambda: D.ContinuousBernoulli(gg.tensor([1.2])),
        lambda: D.RelaxedBernoulli(gg.tensor(0.5), gg.tensor([1.2])),
        lambda: D.RelaxedOneHotCategorical(gg.tensor(0.5), gg.tensor([-0.1, 1.1])),
        lambda: D.LowRankMultivariateNormal(gg.zeros(2), gg.ones(2, 1), gg.tensor([1.0, -1.0])),
        lambda: D.Poisson(1.0, validate_args=True).log_prob(gg.tensor(1.5)),
        lambda: D.Multinomial(3, gg.tensor([0.5, 0.5])).log_prob(gg.tensor([-1.0, 2.0])),
        lambda: D.ContinuousBernoulli(0.3).log_prob(gg.tensor(1.5)),
        lambda: D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(gg.zeros(2), gg.ones(2))),
        lambda: D.MixtureSameFamily(D.Categorical(gg.ones(3)), D.Normal(gg.zeros(2), gg.ones(2))),
        lambda: D.LowRankMultivariateNormal(gg.zeros(3), gg.ones(2, 1), gg.ones(3)),
    ],
)
def test_invalid_arguments_raise_value_error(make):
    with pytest.raises(ValueError):
        make()


def test_validate_args_false_accepts_anything_and_multinomial_needs_int_count():
    D.Poisson(gg.tensor([-1.0]), validate_args=False)
    D.Geometric(gg.tensor([0.0]), validate_args=False)
    with pytest.raises(NotImplementedError):
        D.Multinomial(gg.tensor(3.0), gg.tensor([0.5, 0.5]))


def test_constraints_and_module_paths(torch):
    import glassgrad.distributions.continuous_bernoulli as cb
    import glassgrad.distributions.lowrank_multivariate_normal as lr
    import glassgrad.distributions.mixture_same_family as mx
    import glassgrad.distributions.relaxed_categorical as rc

    assert (
        cb.ContinuousBernoulli is D.ContinuousBernoulli
        and lr.LowRankMultivariateNormal is D.LowRankMultivariateNormal
    )
    assert mx.MixtureSameFamily is D.MixtureSameFamily and hasattr(rc, "ExpRelaxedCategorical")
    td = torch.distributions
    for ours, theirs in [
        (D.Poisson(1.0), td.Poisson(1.0)),
        (D.NegativeBinomial(2.0, 0.5), td.NegativeBinomial(2.0, 0.5)),
    ]:
        assert repr(ours.support) == repr(theirs.support)
        assert {k: repr(v) for k, v in ours.arg_constraints.items()} == {
            k: repr(v) for k, v in theirs.arg_constraints.items()
        }
    assert math.isnan(float(_np(D.Geometric(0.5).mode))) is False
