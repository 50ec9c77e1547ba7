"""Round 30 families built on transforms or gamma ratios (FisherSnedecor, InverseGamma,
Kumaraswamy, LogisticNormal, GeneralizedPareto) against torch.distributions in float64: log_prob,
entropy, cdf/icdf, the moments and their gradients, shapes, expand, support and module paths;
samples (NumPy's generator) compared by mean and Kolmogorov–Smirnov distance."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest

import glassgrad as gg

RNG = np.random.default_rng(30)
TOL = dict(rtol=1e-9, atol=1e-12)
GRAD_TOL = dict(rtol=1e-7, atol=1e-12)  # through digamma: PyTorch's trigamma is good to ~1e-9

_pos = lambda *s: RNG.uniform(0.5, 3.0, s)  # noqa: E731

# name -> (builder(lib, tensors), params, values inside the support, has cdf/icdf)
FAMILIES = {
    "FisherSnedecor": (
        lambda d, t: d.FisherSnedecor(t["df1"], t["df2"]),
        {"df1": RNG.uniform(1.0, 8.0, (3,)), "df2": RNG.uniform(1.0, 9.0, (2, 3))},
        _pos(2, 3),
        False,
    ),
    "InverseGamma": (
        lambda d, t: d.InverseGamma(t["concentration"], t["rate"]),
        {"concentration": RNG.uniform(0.5, 4.0, (3,)), "rate": _pos(2, 3)},
        _pos(2, 3),
        False,
    ),
    "Kumaraswamy": (
        lambda d, t: d.Kumaraswamy(t["c1"], t["c0"]),
        {"c1": RNG.uniform(0.5, 4.0, (3,)), "c0": RNG.uniform(0.5, 4.0, (2, 1))},
        RNG.uniform(0.05, 0.95, (2, 3)),
        True,
    ),
    "LogisticNormal": (
        lambda d, t: d.LogisticNormal(t["loc"], t["scale"]),
        {"loc": RNG.standard_normal((2, 3)), "scale": _pos(3)},
        RNG.dirichlet(np.ones(4), (5, 2)),
        False,
    ),
    "GeneralizedPareto": (
        lambda d, t: d.GeneralizedPareto(t["loc"], t["scale"], t["concentration"]),
        {
            "loc": RNG.standard_normal((4,)),
            "scale": _pos(4),
            "concentration": np.array([0.3, -0.2, 0.0, 0.7]),
        },
        None,  # built from loc below (inside the support)
        True,
    ),
}
_gp = FAMILIES["GeneralizedPareto"]
FAMILIES["GeneralizedPareto"] = (_gp[0], _gp[1], _gp[1]["loc"] + RNG.uniform(0.05, 1.5, (3, 4)), True)


def _both(torch, name):
    build, params, values, has_cdf = FAMILIES[name]
    tt = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    gt = {k: gg.tensor(v, dtype=gg.float64, requires_grad=True) for k, v in params.items()}
    return build(torch.distributions, tt), build(gg.distributions, gt), tt, gt, values, has_cdf


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
def test_shapes_support_and_paths(torch, name):
    td, gd, *_ = _both(torch, name)
    assert tuple(gd.batch_shape) == tuple(td.batch_shape)
    assert tuple(gd.event_shape) == tuple(td.event_shape)
    assert gd.has_rsample == td.has_rsample
    assert set(gd.arg_constraints) == set(td.arg_constraints)
    assert type(gd).__name__ == type(td).__name__
    for s in [(), (5,), (2, 3)]:
        x = gd.sample(s)
        assert tuple(x.shape) == tuple(td.sample(s).shape) and x.dtype == gg.float64
        assert not x.requires_grad and gd.support.check(x).all()
    module = type(td).__module__.rsplit(".", 1)[1]
    assert getattr(importlib.import_module(f"glassgrad.distributions.{module}"), name) is type(gd)
    assert getattr(gg.distributions, name) is type(gd)
    for shape in [(4,) + tuple(td.batch_shape), (2, 1) + tuple(td.batch_shape)]:
        te, ge = td.expand(shape), gd.expand(shape)
        assert type(ge) is type(gd) and tuple(ge.batch_shape) == tuple(te.batch_shape)
        assert tuple(ge.event_shape) == tuple(te.event_shape)
        what = "loc" if name == "LogisticNormal" else "mean"
        np.testing.assert_allclose(
            getattr(ge, what).detach().numpy(), getattr(te, what).detach().numpy(), **TOL
        )


@pytest.mark.parametrize("name", [n for n in FAMILIES if n != "GeneralizedPareto"])
def test_log_prob(torch, name):
    td, gd, tt, gt, values, _ = _both(torch, name)
    _check(torch, td.log_prob(torch.tensor(values)), gd.log_prob(gg.tensor(values)), tt, gt)


@pytest.mark.parametrize("name", ["InverseGamma", "Kumaraswamy", "GeneralizedPareto"])  # torch has no other
def test_entropy(torch, name):
    td, gd, tt, gt, *_ = _both(torch, name)
    _check(torch, td.entropy(), gd.entropy(), tt, gt)


@pytest.mark.parametrize("name", [n for n in FAMILIES if n != "LogisticNormal"])
@pytest.mark.parametrize("moment", ["mean", "mode", "variance", "stddev"])
def test_moments(torch, name, moment):
    td, gd, tt, gt, *_ = _both(torch, name)
    t_out, g_out = getattr(td, moment), getattr(gd, moment)
    np.testing.assert_allclose(g_out.detach().numpy(), t_out.detach().numpy(), **TOL)
    assert tuple(g_out.shape) == tuple(t_out.shape)
    if bool(torch.isfinite(t_out).all()) and t_out.requires_grad:
        _check(torch, t_out, g_out, tt, gt)


@pytest.mark.parametrize("name", ["Kumaraswamy"])
def test_cdf_icdf(torch, name):
    td, gd, tt, gt, values, _ = _both(torch, name)
    _check(torch, td.cdf(torch.tensor(values)), gd.cdf(gg.tensor(values)), tt, gt)
    probs = RNG.uniform(0.02, 0.98, values.shape)
    td, gd, tt, gt, *_ = _both(torch, name)
    _check(torch, td.icdf(torch.tensor(probs)), gd.icdf(gg.tensor(probs)), tt, gt)


def test_generalized_pareto_matches_scipy_and_torch(torch):
    """PyTorch 2.13's GeneralizedPareto log_prob/cdf raise in float64 (its isclose against a float32
    zero), so float64 values are checked against scipy's genpareto and float32 ones against torch."""
    from scipy import stats

    _, params, values, _ = FAMILIES["GeneralizedPareto"]
    gd = gg.distributions.GeneralizedPareto(
        *[gg.tensor(params[k]) for k in ("loc", "scale", "concentration")]
    )
    ref = stats.genpareto(params["concentration"], loc=params["loc"], scale=params["scale"])
    v, u = gg.tensor(values), gg.tensor(RNG.uniform(0.02, 0.98, values.shape))
    np.testing.assert_allclose(gd.log_prob(v).numpy(), ref.logpdf(values), **TOL)
    np.testing.assert_allclose(gd.cdf(v).numpy(), ref.cdf(values), **TOL)
    np.testing.assert_allclose(gd.log_survival_function(v).numpy(), ref.logsf(values), **TOL)
    np.testing.assert_allclose(gd.icdf(u).numpy(), ref.ppf(u.numpy()), **TOL)
    np.testing.assert_allclose(
        gd.support.upper_bound.numpy(),
        [np.inf, params["loc"][1] + params["scale"][1] / 0.2, np.inf, np.inf],
        **TOL,
    )
    assert gg.distributions.constraints.is_dependent(type(gd).support)
    # float32 against torch, with gradients
    tt = {k: torch.tensor(x, dtype=torch.float32, requires_grad=True) for k, x in params.items()}
    gt = {k: gg.tensor(x, dtype=gg.float32, requires_grad=True) for k, x in params.items()}
    td = torch.distributions.GeneralizedPareto(tt["loc"], tt["scale"], tt["concentration"])
    g32 = gg.distributions.GeneralizedPareto(gt["loc"], gt["scale"], gt["concentration"])
    for method, arg in [
        ("log_prob", values),
        ("cdf", values),
        ("log_survival_function", values),
        ("icdf", u.numpy()),
    ]:
        t_out = getattr(td, method)(torch.tensor(arg, dtype=torch.float32))
        g_out = getattr(g32, method)(gg.tensor(arg, dtype=gg.float32))
        np.testing.assert_allclose(g_out.detach().numpy(), t_out.detach().numpy(), rtol=2e-5, atol=1e-6)
        t_grads = torch.autograd.grad(t_out.sum(), list(tt.values()))
        g_out.sum().backward()
        for k, tg in zip(tt, t_grads):
            np.testing.assert_allclose(
                gt[k].grad.numpy(), tg.numpy(), rtol=2e-4, atol=1e-5, err_msg=f"{method} {k}"
            )
            gt[k].grad = None
    # ξ = −1 is the uniform on [μ, μ + σ]: the log density stays finite (−log σ) up to the upper end
    gu = gg.distributions.GeneralizedPareto(
        gg.tensor(0.0, dtype=gg.float64), gg.tensor(2.0, dtype=gg.float64), gg.tensor(-1.0, dtype=gg.float64)
    )
    np.testing.assert_allclose(
        gu.log_prob(gg.tensor([0.0, 1.0, 2.0], dtype=gg.float64)).numpy(), [-math.log(2.0)] * 3, **TOL
    )


N = 20000
KS_BOUND = 1.95 / math.sqrt(N)  # the KS test's 0.1% critical value
SAMPLING = {  # name -> constructor args; checked by mean (finite variance) and by KS where a cdf exists
    "FisherSnedecor": (np.array([3.0, 10.0]), np.array([9.0, 12.0])),
    "InverseGamma": (np.array([3.0, 5.0]), np.array([1.0, 2.5])),
    "Kumaraswamy": (np.array([0.7, 3.0]), np.array([2.0, 0.8])),
    "GeneralizedPareto": (np.array([0.0, 1.0]), np.array([1.0, 0.5]), np.array([0.2, -0.3])),
}


@pytest.mark.parametrize("name", list(SAMPLING))
def test_samples_match_torch_statistically(torch, name):
    gg.manual_seed(0)
    args = SAMPLING[name]
    td = getattr(torch.distributions, name)(*[torch.tensor(a) for a in args])
    gd = getattr(gg.distributions, name)(*[gg.tensor(a, dtype=gg.float64) for a in args])
    xs = gd.sample((N,)).numpy()
    mean, var = td.mean.numpy(), td.variance.numpy()
    assert np.all(np.abs(xs.mean(0) - mean) < 5 * np.sqrt(var / N)), (xs.mean(0), mean)
    if name in ("FisherSnedecor", "InverseGamma"):  # no cdf in torch: the base Gamma's cdf of the ratio
        return
    if name == "GeneralizedPareto":  # torch's cdf raises in float64: scipy's
        from scipy import stats

        cdf = stats.genpareto(args[2], loc=args[0], scale=args[1]).cdf(np.sort(xs, 0))
    else:
        cdf = td.cdf(torch.tensor(np.sort(xs, 0))).numpy()
    ecdf = np.arange(1, N + 1)[:, None] / N
    assert np.max(np.abs(cdf - ecdf)) < KS_BOUND + 1.0 / N


def test_inverse_gamma_and_logistic_normal_samples(torch):
    gg.manual_seed(1)
    a, b = np.array([3.0, 0.7]), np.array([2.0, 1.5])
    x = gg.distributions.InverseGamma(gg.tensor(a), gg.tensor(b)).sample((N,)).numpy()
    cdf = (
        torch.distributions.Gamma(torch.tensor(a), torch.tensor(b))
        .cdf(torch.tensor(np.sort(1 / x, 0)))
        .numpy()
    )
    assert np.max(np.abs(cdf - np.arange(1, N + 1)[:, None] / N)) < KS_BOUND + 1.0 / N
    loc, scale = np.array([0.5, -0.3]), np.array([0.7, 1.2])
    y = gg.distributions.LogisticNormal(gg.tensor(loc), gg.tensor(scale)).sample((N,)).numpy()
    assert y.shape == (N, 3) and np.allclose(y.sum(-1), 1)
    # the stick-breaking inverse recovers normals of the given loc/scale (offsets log(K − i))
    z = np.log(y[:, 0] / (1 - y[:, 0])) + np.log(2.0)
    assert abs(z.mean() - loc[0]) < 5 * scale[0] / math.sqrt(N)


@pytest.mark.parametrize("name", ["FisherSnedecor", "InverseGamma", "Kumaraswamy", "GeneralizedPareto"])
def test_rsample_carries_gradients(name):
    args = [gg.tensor(a, dtype=gg.float64, requires_grad=True) for a in SAMPLING[name]]
    gg.manual_seed(2)
    x = getattr(gg.distributions, name)(*args).rsample((64,))
    x.sum().backward()
    for a in args:
        assert a.grad is not None and np.all(np.isfinite(a.grad.numpy())) and np.any(a.grad.numpy() != 0)


def test_fisher_snedecor_rsample_gradient_in_expectation():
    """E[dX/dθ] = dE[X]/dθ: E[X] = d₂/(d₂ − 2) does not depend on d₁ and has derivative
    −2/(d₂ − 2)² in d₂; the per-draw derivatives' means are checked within 5 standard errors."""
    n = 20000
    d1 = gg.full((n,), 4.0, dtype=gg.float64, requires_grad=True)
    d2 = gg.full((n,), 9.0, dtype=gg.float64, requires_grad=True)
    gg.manual_seed(3)
    gg.distributions.FisherSnedecor(d1, d2).rsample().sum().backward()
    for grad, expect in [(d1.grad.numpy(), 0.0), (d2.grad.numpy(), -2 / 7.0**2)]:
        assert np.all(np.isfinite(grad))
        assert abs(grad.mean() - expect) < 5 * grad.std() / math.sqrt(n), (grad.mean(), expect)


def test_validation_refuses_bad_parameters(torch):
    for name, args in [
        ("FisherSnedecor", (-1.0, 2.0)),
        ("InverseGamma", (1.0, -2.0)),
        ("Kumaraswamy", (0.0, 1.0)),
        ("LogisticNormal", (0.0, -1.0)),
        ("GeneralizedPareto", (0.0, -1.0, 0.1)),
    ]:
        with pytest.raises(ValueError):
            getattr(torch.distributions, name)(*[torch.tensor(a) for a in args], validate_args=True)
        with pytest.raises(ValueError):
            getattr(gg.distributions, name)(*[gg.tensor(a) for a in args], validate_args=True)
    gp = gg.distributions.GeneralizedPareto(
        gg.tensor(0.0), gg.tensor(1.0), gg.tensor(-0.5), validate_args=True
    )
    with pytest.raises(ValueError):
        gp.log_prob(gg.tensor(3.0))  # beyond μ − σ/ξ = 2
