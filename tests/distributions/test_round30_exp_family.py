"""ExponentialFamily (round 30) against torch.distributions.exp_family in float64: which families
derive from it, their natural parameters, log normalizers and mean carrier measures, the Bregman
entropy of the base class and the same-family KL rule (values, and gradients through q)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.distributions.exp_family import ExponentialFamily, kl_exponential_family

RNG = np.random.default_rng(300)
TOL = dict(rtol=1e-9, atol=1e-12)
GRAD_TOL = dict(rtol=1e-7, atol=1e-12)

# name -> (builder(lib, tensors), params for p, params for q)
FAMILIES = {
    "Bernoulli": (
        lambda d, t: d.Bernoulli(probs=t["p"]),
        {"p": RNG.uniform(0.1, 0.9, (3,))},
        {"p": RNG.uniform(0.1, 0.9, (3,))},
    ),
    "Beta": (
        lambda d, t: d.Beta(t["a"], t["b"]),
        {"a": RNG.uniform(0.5, 3, (3,)), "b": RNG.uniform(0.5, 3, (3,))},
        {"a": RNG.uniform(0.5, 3, (3,)), "b": RNG.uniform(0.5, 3, (3,))},
    ),
    "ContinuousBernoulli": (
        lambda d, t: d.ContinuousBernoulli(probs=t["p"]),
        {"p": np.array([0.1, 0.499, 0.5, 0.7])},
        {"p": np.array([0.3, 0.6, 0.52, 0.9])},
    ),
    "Dirichlet": (
        lambda d, t: d.Dirichlet(t["c"]),
        {"c": RNG.uniform(0.5, 3, (2, 4))},
        {"c": RNG.uniform(0.5, 3, (2, 4))},
    ),
    "Exponential": (
        lambda d, t: d.Exponential(t["r"]),
        {"r": RNG.uniform(0.5, 3, (3,))},
        {"r": RNG.uniform(0.5, 3, (3,))},
    ),
    "Gamma": (
        lambda d, t: d.Gamma(t["a"], t["b"]),
        {"a": RNG.uniform(0.5, 3, (3,)), "b": RNG.uniform(0.5, 3, (3,))},
        {"a": RNG.uniform(0.5, 3, (3,)), "b": RNG.uniform(0.5, 3, (3,))},
    ),
    "Normal": (
        lambda d, t: d.Normal(t["m"], t["s"]),
        {"m": RNG.standard_normal(3), "s": RNG.uniform(0.5, 3, (3,))},
        {"m": RNG.standard_normal(3), "s": RNG.uniform(0.5, 3, (3,))},
    ),
    "Poisson": (
        lambda d, t: d.Poisson(t["r"]),
        {"r": RNG.uniform(0.5, 3, (3,))},
        {"r": RNG.uniform(0.5, 3, (3,))},
    ),
}


def _make(torch, name, which):
    build, pp, qp = FAMILIES[name]
    params = pp if which == "p" else qp
    tt = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    gt = {k: gg.tensor(v, dtype=gg.float64, requires_grad=True) for k, v in params.items()}
    return build(torch.distributions, tt), build(gg.distributions, gt), tt, gt


def test_same_families_derive_from_it(torch):
    tef = torch.distributions.ExponentialFamily
    for name in torch.distributions.__all__:
        tcls = getattr(torch.distributions, name)
        if isinstance(tcls, type) and issubclass(tcls, tef) and hasattr(gg.distributions, name):
            assert issubclass(getattr(gg.distributions, name), ExponentialFamily), name
    assert issubclass(gg.distributions.Chi2, ExponentialFamily)
    assert not issubclass(gg.distributions.Laplace, ExponentialFamily)
    assert gg.distributions.ExponentialFamily is ExponentialFamily
    for name in FAMILIES:
        assert issubclass(getattr(torch.distributions, name), tef)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_natural_params_log_normalizer_and_carrier(torch, name):
    td, gd, *_ = _make(torch, name, "p")
    tn, gn = td._natural_params, gd._natural_params
    assert len(tn) == len(gn)
    for a, b in zip(gn, tn):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **TOL)
    np.testing.assert_allclose(
        gd._log_normalizer(*gn).detach().numpy(), td._log_normalizer(*tn).detach().numpy(), **TOL
    )
    try:
        expect = td._mean_carrier_measure
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            _ = gd._mean_carrier_measure
    else:
        assert gd._mean_carrier_measure == expect


@pytest.mark.parametrize("name", [n for n in FAMILIES if n not in ("Beta", "Dirichlet", "Poisson")])
def test_bregman_entropy_matches_torch_and_closed_form(torch, name):
    td, gd, *_ = _make(torch, name, "p")
    ours = ExponentialFamily.entropy(gd)
    ref = torch.distributions.ExponentialFamily.entropy(td)
    np.testing.assert_allclose(ours.detach().numpy(), ref.detach().numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.detach().numpy(), gd.entropy().detach().numpy(), rtol=1e-8, atol=1e-10)
    assert tuple(ours.shape) == tuple(td.batch_shape)


@pytest.mark.parametrize("name", ["Beta", "Dirichlet", "Poisson"])
def test_bregman_entropy_needs_the_carrier_measure(torch, name):
    td, gd, *_ = _make(torch, name, "p")
    with pytest.raises(NotImplementedError):
        torch.distributions.ExponentialFamily.entropy(td)
    with pytest.raises(NotImplementedError):
        ExponentialFamily.entropy(gd)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_bregman_kl_matches_torch(torch, name):
    from torch.distributions.kl import _kl_expfamily_expfamily

    tp, gp, *_ = _make(torch, name, "p")
    tq, gq, tqp, gqp = _make(torch, name, "q")
    t_out, g_out = _kl_expfamily_expfamily(tp, tq), kl_exponential_family(gp, gq)
    np.testing.assert_allclose(g_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(
        g_out.detach().numpy(), gg.distributions.kl_divergence(gp, gq).detach().numpy(), rtol=1e-8, atol=1e-10
    )
    t_grads = torch.autograd.grad(t_out.sum(), list(tqp.values()))
    g_out.sum().backward()
    for k, tg in zip(tqp, t_grads):
        np.testing.assert_allclose(gqp[k].grad.numpy(), tg.numpy(), err_msg=k, **GRAD_TOL)


def _families(lib, base):
    """The same two toy families in both libraries: exponential with rate λ, written two ways."""

    class Expo(base):
        arg_constraints: ClassVar[dict] = {}
        _mean_carrier_measure = 0

        def __init__(self, rate):
            self.rate = rate
            super().__init__(tuple(rate.shape), ())

        @property
        def _natural_params(self):
            return (-self.rate,)

        def _log_normalizer(self, x):
            return -(-x).log()

    class Expo2(Expo):
        pass

    return Expo, Expo2


def test_kl_dispatches_to_the_bregman_rule_as_torch(torch):
    r1, r2 = np.array([0.5, 2.0]), np.array([1.5, 0.7])
    tE, tE2 = _families(torch, torch.distributions.ExponentialFamily)
    gE, gE2 = _families(gg, ExponentialFamily)
    t_out = torch.distributions.kl_divergence(tE(torch.tensor(r1)), tE(torch.tensor(r2)))
    g_out = gg.distributions.kl_divergence(gE(gg.tensor(r1)), gE(gg.tensor(r2)))
    np.testing.assert_allclose(g_out.detach().numpy(), t_out.detach().numpy(), **TOL)
    np.testing.assert_allclose(g_out.detach().numpy(), np.log(r1 / r2) + r2 / r1 - 1, **TOL)  # closed form
    with pytest.raises(NotImplementedError):
        torch.distributions.kl_divergence(tE(torch.tensor(r1)), tE2(torch.tensor(r2)))
    with pytest.raises(NotImplementedError, match="Expo"):
        gg.distributions.kl_divergence(gE(gg.tensor(r1)), gE2(gg.tensor(r2)))
    ent = gE(gg.tensor(r1)).entropy()
    np.testing.assert_allclose(ent.detach().numpy(), 1 - np.log(r1), **TOL)
