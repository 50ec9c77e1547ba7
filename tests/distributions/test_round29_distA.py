# ruff: noqa: N999  (the group name distA is in the file name)
"""The continuous families of round 29 (Exponential, Laplace, LogNormal, HalfNormal, Cauchy,
HalfCauchy, Gamma, Chi2, Beta, StudentT, Pareto, Weibull) against torch.distributions in float64:
log_prob, entropy, cdf, icdf, the moments and their gradients w.r.t. the parameters, with the same
parameters in both libraries."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

RNG = np.random.default_rng(29)
TOL = dict(rtol=1e-9, atol=1e-12)
# PyTorch's trigamma (the gradient of digamma) is good to about 1e-9 relative (scipy agrees with
# glassgrad's to 1e-15), so gradients through digamma get a wider tolerance
GRAD_TOL = dict(rtol=1e-7, atol=1e-12)

_pos = lambda *s: RNG.uniform(0.5, 3.0, s)  # noqa: E731

# name -> (builder(lib, tensors), params, values inside the support, probabilities for icdf or None)
FAMILIES = {
    "Exponential": (lambda d, t: d.Exponential(t["rate"]), {"rate": _pos(3, 2)}, _pos(4, 3, 2), True),
    "Laplace": (
        lambda d, t: d.Laplace(t["loc"], t["scale"]),
        {"loc": RNG.standard_normal((3,)), "scale": _pos(2, 3)},
        RNG.standard_normal((2, 3)) * 2,
        True,
    ),
    "LogNormal": (
        lambda d, t: d.LogNormal(t["loc"], t["scale"]),
        {"loc": RNG.standard_normal((3,)) * 0.3, "scale": _pos(3)},
        _pos(5, 3),
        True,
    ),
    "HalfNormal": (lambda d, t: d.HalfNormal(t["scale"]), {"scale": _pos(4)}, _pos(2, 4), True),
    "Cauchy": (
        lambda d, t: d.Cauchy(t["loc"], t["scale"]),
        {"loc": RNG.standard_normal((2, 1)), "scale": _pos(3)},
        RNG.standard_normal((2, 3)) * 3,
        True,
    ),
    "HalfCauchy": (lambda d, t: d.HalfCauchy(t["scale"]), {"scale": _pos(3)}, _pos(2, 3) * 2, True),
    "Gamma": (
        lambda d, t: d.Gamma(t["concentration"], t["rate"]),
        {"concentration": RNG.uniform(0.3, 4.0, (3,)), "rate": _pos(2, 3)},
        _pos(2, 3),
        False,
    ),
    "Chi2": (lambda d, t: d.Chi2(t["df"]), {"df": RNG.uniform(0.5, 6.0, (4,))}, _pos(3, 4), False),
    "Beta": (
        lambda d, t: d.Beta(t["c1"], t["c0"]),
        {"c1": RNG.uniform(0.3, 4.0, (3,)), "c0": RNG.uniform(0.3, 4.0, (2, 1))},
        RNG.uniform(0.05, 0.95, (2, 3)),
        False,
    ),
    "StudentT": (
        lambda d, t: d.StudentT(t["df"], t["loc"], t["scale"]),
        {"df": RNG.uniform(0.5, 6.0, (4,)), "loc": RNG.standard_normal((4,)), "scale": _pos(4)},
        RNG.standard_normal((2, 4)) * 2,
        False,
    ),
    "Pareto": (
        lambda d, t: d.Pareto(t["scale"], t["alpha"]),
        {"scale": _pos(3), "alpha": RNG.uniform(0.5, 4.0, (3,))},
        _pos(2, 3) + 3.0,
        True,
    ),
    "Weibull": (
        lambda d, t: d.Weibull(t["scale"], t["concentration"]),
        {"scale": _pos(3), "concentration": RNG.uniform(0.5, 4.0, (3,))},
        _pos(2, 3),
        True,
    ),
}


def _both(torch, name):
    build, params, values, has_icdf = FAMILIES[name]
    tt = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    gt = {k: gg.tensor(v, dtype=gg.float64, requires_grad=True) for k, v in params.items()}
    return build(torch.distributions, tt), build(gg.distributions, gt), tt, gt, values, has_icdf


def _check(torch, t_out, g_out, tt, gt):
    np.testing.assert_allclose(g_out.detach().numpy(), t_out.detach().numpy(), **TOL)
    assert g_out.dtype == gg.float64 and tuple(g_out.shape) == tuple(t_out.shape)
    names = list(tt)
    t_grads = torch.autograd.grad(t_out.sum(), [tt[k] for k in names], allow_unused=True)
    g_out.sum().backward()
    for k, tg in zip(names, t_grads):
        gg_grad = gt[k].grad
        if tg is None:
            assert gg_grad is None or not np.any(gg_grad.numpy()), k
        else:
            np.testing.assert_allclose(gg_grad.numpy(), tg.numpy(), err_msg=k, **GRAD_TOL)
        gt[k].grad = None


@pytest.mark.parametrize("name", list(FAMILIES))
def test_shapes_and_support(torch, name):
    td, gd, *_ = _both(torch, name)
    assert tuple(gd.batch_shape) == tuple(td.batch_shape)
    assert tuple(gd.event_shape) == tuple(td.event_shape)
    assert gd.has_rsample == td.has_rsample
    assert set(gd.arg_constraints) == set(td.arg_constraints)
    assert type(gd).__name__ == type(td).__name__
    assert repr(gd).split("(")[0] == repr(td).split("(")[0]
    for s in [(), (5,), (2, 3)]:
        x = gd.sample(s)
        assert tuple(x.shape) == tuple(td.sample(s).shape) and x.dtype == gg.float64
        assert not x.requires_grad
        assert gd.support.check(x).all()


@pytest.mark.parametrize("name", list(FAMILIES))
def test_log_prob(torch, name):
    td, gd, tt, gt, values, _ = _both(torch, name)
    _check(torch, td.log_prob(torch.tensor(values)), gd.log_prob(gg.tensor(values)), tt, gt)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_entropy(torch, name):
    td, gd, tt, gt, *_ = _both(torch, name)
    _check(torch, td.entropy(), gd.entropy(), tt, gt)


@pytest.mark.parametrize("name", list(FAMILIES))
@pytest.mark.parametrize("moment", ["mean", "mode", "variance", "stddev"])
def test_moments(torch, name, moment):
    td, gd, tt, gt, *_ = _both(torch, name)
    t_out, g_out = getattr(td, moment), getattr(gd, moment)
    np.testing.assert_allclose(g_out.detach().numpy(), t_out.detach().numpy(), **TOL)
    assert tuple(g_out.shape) == tuple(t_out.shape)
    t_fin = torch.isfinite(t_out).all() and t_out.requires_grad
    if bool(t_fin):
        _check(torch, t_out, g_out, tt, gt)


@pytest.mark.parametrize("name", [n for n, f in FAMILIES.items() if f[3]])
def test_cdf_icdf(torch, name):
    td, gd, tt, gt, values, _ = _both(torch, name)
    _check(torch, td.cdf(torch.tensor(values)), gd.cdf(gg.tensor(values)), tt, gt)
    probs = RNG.uniform(0.02, 0.98, values.shape)
    td, gd, tt, gt, *_ = _both(torch, name)  # fresh graphs (Weibull keeps 1/k from its constructor)
    _check(torch, td.icdf(torch.tensor(probs)), gd.icdf(gg.tensor(probs)), tt, gt)
