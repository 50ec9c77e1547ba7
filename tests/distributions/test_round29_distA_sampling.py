# ruff: noqa: N999  (the group name distA is in the file name)
"""Sampling, rsample gradients, expand, validation and module paths of the continuous families of
round 29. Draws come from NumPy's generator (not PyTorch's), so samples are compared statistically:
the sample mean against PyTorch's mean (within 5 standard errors) and, where PyTorch has a cdf, the
Kolmogorov–Smirnov distance to PyTorch's cdf; rsample gradients against hand-derived dx/dθ."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest

import glassgrad as gg

N = 20000
KS_BOUND = 1.95 / math.sqrt(N)  # the KS test's 0.1% critical value

CASES = {  # name -> (constructor args (float64), has cdf in PyTorch)
    "Exponential": ((np.array([0.5, 2.0]),), True),
    "Laplace": ((np.array([0.0, 1.0]), np.array([1.0, 0.3])), True),
    "LogNormal": ((np.array([0.0, 0.5]), np.array([0.25, 0.5])), True),
    "HalfNormal": ((np.array([0.5, 2.0]),), True),
    "Cauchy": ((np.array([0.0, 1.0]), np.array([1.0, 0.3])), True),
    "HalfCauchy": ((np.array([0.5, 2.0]),), True),
    "Gamma": ((np.array([0.3, 4.0]), np.array([1.0, 2.5])), True),
    "Chi2": ((np.array([0.7, 5.0]),), True),
    "Beta": ((np.array([0.5, 3.0]), np.array([2.0, 0.7])), False),
    "StudentT": ((np.array([5.0, 9.0]), np.array([0.0, 1.0]), np.array([1.0, 0.5])), False),
    "Pareto": ((np.array([1.0, 0.5]), np.array([3.0, 5.0])), True),
    "Weibull": ((np.array([1.0, 2.0]), np.array([0.8, 3.0])), True),
}


def _pair(torch, name, **kw):
    args, _ = CASES[name]
    td = getattr(torch.distributions, name)(*[torch.tensor(a) for a in args])
    gd = getattr(gg.distributions, name)(*[gg.tensor(a, dtype=gg.float64) for a in args], **kw)
    return td, gd


@pytest.mark.parametrize("name", list(CASES))
def test_samples_match_torch_statistically(torch, name):
    gg.manual_seed(0)
    td, gd = _pair(torch, name)
    x = gd.sample((N,))
    assert tuple(x.shape) == (N, 2) and x.dtype == gg.float64
    xs = x.numpy()
    if name not in ("Cauchy", "HalfCauchy"):  # no mean / infinite variance
        mean, var = td.mean.numpy(), td.variance.numpy()
        assert np.all(np.abs(xs.mean(0) - mean) < 5 * np.sqrt(var / N)), (xs.mean(0), mean)
    if CASES[name][1]:
        xs_sorted = np.sort(xs, 0)
        cdf = td.cdf(torch.tensor(xs_sorted)).numpy()
        ecdf = np.arange(1, N + 1)[:, None] / N
        assert np.max(np.abs(cdf - ecdf)) < KS_BOUND + 1.0 / N


def _rsample_grads(name, gd, params, x):
    """Hand-derived dx/dθ of a reparameterised draw x, per parameter name."""
    p = {k: v.detach().numpy() for k, v in params.items()}
    if name == "Exponential":
        return {"rate": -x / p["rate"]}
    if name in ("Laplace", "Cauchy"):
        return {"loc": np.ones_like(x), "scale": (x - p["loc"]) / p["scale"]}
    if name == "StudentT":
        return {"loc": np.ones_like(x), "scale": (x - p["loc"]) / p["scale"]}
    if name == "LogNormal":
        return {"loc": x, "scale": x * (np.log(x) - p["loc"]) / p["scale"]}
    if name in ("HalfNormal", "HalfCauchy"):
        return {"scale": x / p["scale"]}
    if name == "Gamma":
        return {"rate": -x / p["rate"]}
    if name == "Pareto":  # x = s exp(E / α)
        return {"scale": x / p["scale"], "alpha": -x * np.log(x / p["scale"]) / p["alpha"]}
    if name == "Weibull":  # x = λ E^(1/k)
        return {"scale": x / p["scale"], "concentration": -x * np.log(x / p["scale"]) / p["concentration"]}
    raise KeyError(name)


RSAMPLE = {  # name -> parameter names in constructor order, which of them get gradients
    "Exponential": (("rate",), ("rate",)),
    "Laplace": (("loc", "scale"), ("loc", "scale")),
    "Cauchy": (("loc", "scale"), ("loc", "scale")),
    "LogNormal": (("loc", "scale"), ("loc", "scale")),
    "HalfNormal": (("scale",), ("scale",)),
    "HalfCauchy": (("scale",), ("scale",)),
    "Gamma": (("concentration", "rate"), ("rate",)),
    "StudentT": (("df", "loc", "scale"), ("loc", "scale")),
    "Pareto": (("scale", "alpha"), ("scale", "alpha")),
    "Weibull": (("scale", "concentration"), ("scale", "concentration")),
}


@pytest.mark.parametrize("name", list(RSAMPLE))
def test_rsample_gradients(name):
    names, grad_names = RSAMPLE[name]
    args, _ = CASES[name]
    params = {k: gg.tensor(a, dtype=gg.float64, requires_grad=k in grad_names) for k, a in zip(names, args)}
    gd = getattr(gg.distributions, name)(*params.values())
    x = gd.rsample((7,))
    assert tuple(x.shape) == (7, 2) and x.requires_grad
    w = np.random.default_rng(1).standard_normal((7, 2))
    (x * gg.tensor(w)).sum().backward()
    expected = _rsample_grads(name, gd, params, x.detach().numpy())
    for k in grad_names:
        np.testing.assert_allclose(params[k].grad.numpy(), (w * expected[k]).sum(0), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "name, args",
    [
        ("Gamma", (np.array([0.5, 2.0]), np.array([1.0, 1.0]))),
        ("Chi2", (np.array([3.0, 2.0]),)),
        ("Beta", (np.array([0.5, 2.0]), np.array([1.0, 1.0]))),
        ("StudentT", (np.array([3.0, 2.0]),)),
    ],
)
def test_rsample_differentiates_the_concentration(name, args):
    # the values of these gradients: tests/distributions/test_gamma_reparam.py
    cls = getattr(gg.distributions, name)
    params = [gg.tensor(a, dtype=gg.float64, requires_grad=True) for a in args]
    d = cls(*params)
    d.rsample((3,)).sum().backward()
    assert all(p.grad is not None and np.isfinite(p.grad.numpy()).all() for p in params)
    assert d.sample((3,)).grad_fn is None and tuple(d.sample((3,)).shape) == (3, 2)
    with gg.no_grad():
        assert d.rsample((3,)).grad_fn is None


@pytest.mark.parametrize("name", list(CASES))
def test_expand(torch, name):
    td, gd = _pair(torch, name)
    te, ge = td.expand((4, 2)), gd.expand((4, 2))
    assert type(ge) is type(gd) and tuple(ge.batch_shape) == tuple(te.batch_shape) == (4, 2)
    assert tuple(ge.sample((3,)).shape) == (3, 4, 2)
    v = te.sample()
    np.testing.assert_allclose(ge.log_prob(gg.tensor(v.numpy())).numpy(), te.log_prob(v).numpy(), rtol=1e-9)
    np.testing.assert_allclose(ge.entropy().numpy(), te.entropy().numpy(), rtol=1e-9)


BAD = {  # name -> constructor args with one invalid parameter, and a value outside the support
    "Exponential": ((-1.0,), -0.5),
    "Laplace": ((0.0, 0.0), float("nan")),
    "LogNormal": ((0.0, -1.0), 0.0),
    "HalfNormal": ((-1.0,), -0.5),
    "Cauchy": ((0.0, -2.0), float("nan")),
    "HalfCauchy": ((0.0,), -1.0),
    "Gamma": ((-1.0, 1.0), -1.0),
    "Chi2": ((-3.0,), -1.0),
    "Beta": ((1.0, -1.0), 1.5),
    "StudentT": ((-1.0,), float("nan")),
    "Pareto": ((1.0, -2.0), 0.5),
    "Weibull": ((-1.0, 2.0), -1.0),
}


@pytest.mark.parametrize("name", list(BAD))
def test_validation(torch, name):
    args, bad_value = BAD[name]
    tcls, gcls = getattr(torch.distributions, name), getattr(gg.distributions, name)
    with pytest.raises(ValueError):
        tcls(*[torch.tensor(a) for a in args])
    # (LogNormal, Pareto and Weibull are checked first by their base distribution, as in PyTorch)
    with pytest.raises(
        ValueError, match=name if name not in ("LogNormal", "Pareto", "Weibull") else "expected parameter"
    ):
        gcls(*[gg.tensor(a) for a in args])
    gcls(*[gg.tensor(a) for a in args], validate_args=False)  # no check asked for
    good = CASES[name][0]
    td = tcls(*[torch.tensor(a[0]) for a in good])
    gd = gcls(*[gg.tensor(float(a[0])) for a in good])
    with pytest.raises(ValueError):
        td.log_prob(torch.tensor(bad_value))
    with pytest.raises(ValueError, match="log_prob"):
        gd.log_prob(gg.tensor(bad_value))


MODULES = {
    "exponential": "Exponential", "laplace": "Laplace", "log_normal": "LogNormal", "half_normal": "HalfNormal",
    "cauchy": "Cauchy", "half_cauchy": "HalfCauchy", "gamma": "Gamma", "chi2": "Chi2", "beta": "Beta",
    "studentT": "StudentT", "pareto": "Pareto", "weibull": "Weibull",
}  # fmt: skip


@pytest.mark.parametrize("module", list(MODULES))
def test_module_paths(torch, module):
    name = MODULES[module]
    assert hasattr(importlib.import_module(f"torch.distributions.{module}"), name)
    mod = importlib.import_module(f"glassgrad.distributions.{module}")
    assert getattr(mod, name) is getattr(gg.distributions, name)
    assert name in gg.distributions.__all__


def test_transformed_structure(torch):
    D = gg.distributions
    for name, args in [("LogNormal", (0.0, 1.0)), ("HalfNormal", (1.0,)), ("HalfCauchy", (1.0,)),
                       ("Pareto", (1.0, 2.0)), ("Weibull", (1.0, 2.0))]:  # fmt: skip
        gd = getattr(D, name)(*[gg.tensor(a) for a in args])
        td = getattr(torch.distributions, name)(*[torch.tensor(a) for a in args])
        assert isinstance(gd, D.TransformedDistribution)
        assert type(gd.base_dist).__name__ == type(td.base_dist).__name__
        assert [type(t).__name__ for t in gd.transforms] == [type(t).__name__ for t in td.transforms]


def test_scalar_params_and_repr(torch):
    D = gg.distributions
    for name, args in [("Exponential", (2.0,)), ("Gamma", (2.0, 3.0)), ("StudentT", (3.0,)),
                       ("Pareto", (1.0, 2.0)), ("Beta", (2.0, 3.0)), ("Chi2", (4.0,))]:  # fmt: skip
        gd = getattr(D, name)(*args)
        td = getattr(torch.distributions, name)(*args)
        assert tuple(gd.batch_shape) == tuple(td.batch_shape) == ()
        assert gd.mean.dtype == gg.float32 and float(gd.mean) == pytest.approx(float(td.mean))
        assert repr(gd) == repr(td)
    assert repr(D.Exponential(gg.tensor(1.0))) == "Exponential(rate: 1.0)"
    assert repr(D.Chi2(gg.tensor(3.0))) == repr(torch.distributions.Chi2(torch.tensor(3.0)))


@pytest.mark.parametrize("name", list(CASES))
def test_float32_dtypes_follow_torch(torch, name):
    args, _ = CASES[name]
    td = getattr(torch.distributions, name)(*[torch.tensor(a, dtype=torch.float32) for a in args])
    gd = getattr(gg.distributions, name)(*[gg.tensor(a, dtype=gg.float32) for a in args])
    x = gd.sample((4,))
    assert x.dtype == gg.float32 and td.sample((4,)).dtype == torch.float32
    v = td.sample((4,))
    g_lp, t_lp = gd.log_prob(gg.tensor(v.numpy())), td.log_prob(v)
    assert g_lp.dtype == gg.float32
    np.testing.assert_allclose(g_lp.numpy(), t_lp.numpy(), rtol=2e-5, atol=1e-5)
    np.testing.assert_allclose(gd.entropy().numpy(), td.entropy().numpy(), rtol=2e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["Gamma", "Chi2"])
def test_gamma_cdf_matches_torch(torch, name):
    args, _ = CASES[name]
    v = np.array([[0.05, 0.7], [1.3, 4.0], [9.0, 0.2]])
    t_params = [torch.tensor(a, requires_grad=(name == "Gamma" and i == 1)) for i, a in enumerate(args)]
    g_params = [
        gg.tensor(a, dtype=gg.float64, requires_grad=(name == "Gamma" and i == 1)) for i, a in enumerate(args)
    ]
    tv, gv = torch.tensor(v, requires_grad=True), gg.tensor(v, requires_grad=True)
    t_cdf = getattr(torch.distributions, name)(*t_params).cdf(tv)
    g_cdf = getattr(gg.distributions, name)(*g_params).cdf(gv)
    np.testing.assert_allclose(g_cdf.detach().numpy(), t_cdf.detach().numpy(), rtol=1e-12, atol=1e-15)
    t_cdf.sum().backward()
    g_cdf.sum().backward()
    np.testing.assert_allclose(gv.grad.numpy(), tv.grad.numpy(), rtol=1e-12, atol=1e-15)
    if name == "Gamma":
        np.testing.assert_allclose(g_params[1].grad.numpy(), t_params[1].grad.numpy(), rtol=1e-12)


def test_gamma_cdf_closed_forms():
    # P(1, x) = 1 − e^−x, P(2, x) = 1 − (1 + x) e^−x, P(½, x) = erf(√x); also far in the tails
    x = np.array([1e-8, 0.01, 0.5, 1.0, 3.0, 10.0, 30.0, 200.0])
    D = gg.distributions
    for conc, expected in [
        (1.0, -np.expm1(-x)),
        (2.0, 1 - (1 + x) * np.exp(-x)),
        (0.5, np.array([math.erf(math.sqrt(t)) for t in x])),
    ]:
        got = (
            D.Gamma(gg.tensor(conc, dtype=gg.float64), gg.tensor(1.0, dtype=gg.float64))
            .cdf(gg.tensor(x))
            .numpy()
        )
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)  # (the P(2, ·) form cancels near 0)


def test_gamma_cdf_refuses_concentration_gradient(torch):
    # neither library differentiates P(a, x) in a: both refuse at backward
    c = gg.tensor([2.0], dtype=gg.float64, requires_grad=True)
    out = gg.distributions.Gamma(c, gg.tensor([1.0], dtype=gg.float64)).cdf(
        gg.tensor([1.0], dtype=gg.float64)
    )
    with pytest.raises(NotImplementedError, match="gammainc.*a"):
        out.sum().backward()
    tc = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    t_out = torch.distributions.Gamma(tc, torch.tensor([1.0], dtype=torch.float64)).cdf(torch.tensor([1.0]))
    with pytest.raises(RuntimeError):
        t_out.sum().backward()
