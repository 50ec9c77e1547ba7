# ruff: noqa: N999  (the group name distA is in the file name)
"""kl_divergence for the continuous families of round 29 against torch.distributions.kl_divergence:
the same parameters (float64) in both libraries, values (finite and +∞) and gradients."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

RNG = np.random.default_rng(2929)
TOL = dict(rtol=1e-9, atol=1e-12)
GRAD_TOL = dict(rtol=1e-7, atol=1e-10)  # PyTorch's trigamma is good to about 1e-9 relative

_pos = lambda lo=0.5, hi=3.0, s=(3,): RNG.uniform(lo, hi, s)  # noqa: E731

DISTS = {  # name -> (builder(lib, params), params)
    "Beta": (lambda d, t: d.Beta(t["a"], t["b"]), {"a": _pos(), "b": _pos()}),
    "Cauchy": (lambda d, t: d.Cauchy(t["loc"], t["scale"]), {"loc": RNG.standard_normal(3), "scale": _pos()}),
    "Exponential": (lambda d, t: d.Exponential(t["rate"]), {"rate": _pos()}),
    "Gamma": (lambda d, t: d.Gamma(t["c"], t["r"]), {"c": _pos(), "r": _pos()}),
    "Gumbel": (lambda d, t: d.Gumbel(t["loc"], t["scale"]), {"loc": RNG.standard_normal(3), "scale": _pos()}),
    "HalfNormal": (lambda d, t: d.HalfNormal(t["scale"]), {"scale": _pos()}),
    "HalfCauchy": (lambda d, t: d.HalfCauchy(t["scale"]), {"scale": _pos()}),
    "Laplace": (
        lambda d, t: d.Laplace(t["loc"], t["scale"]),
        {"loc": RNG.standard_normal(3), "scale": _pos()},
    ),
    "LogNormal": (
        lambda d, t: d.LogNormal(t["loc"], t["scale"]),
        {"loc": RNG.standard_normal(3), "scale": _pos()},
    ),
    "Normal": (lambda d, t: d.Normal(t["loc"], t["scale"]), {"loc": RNG.standard_normal(3), "scale": _pos()}),
    # alpha in (0.5, 4): some entries have no mean / variance, so +∞ KLs are covered
    "Pareto": (
        lambda d, t: d.Pareto(t["scale"], t["alpha"]),
        {"scale": _pos(0.2, 1.0), "alpha": np.array([0.7, 1.5, 3.5])},
    ),
    "Uniform": (
        lambda d, t: d.Uniform(t["lo"], t["hi"]),
        {"lo": np.array([0.1, 0.3, -0.2]), "hi": np.array([0.6, 0.9, 0.5])},
    ),
    "UniformWide": (
        lambda d, t: d.Uniform(t["lo"], t["hi"]),
        {"lo": np.array([-5.0, 0.05, 0.3]), "hi": np.array([5.0, 0.95, 2.0])},
    ),
}

PAIRS = [
    ("Beta", "Beta"), ("Cauchy", "Cauchy"), ("Exponential", "Exponential"), ("Gamma", "Gamma"),
    ("Gumbel", "Gumbel"), ("HalfNormal", "HalfNormal"), ("HalfCauchy", "HalfCauchy"), ("Laplace", "Laplace"),
    ("LogNormal", "LogNormal"), ("Pareto", "Pareto"),
    ("Beta", "Pareto"), ("Beta", "Exponential"), ("Beta", "Gamma"), ("Beta", "Normal"), ("Beta", "Uniform"),
    ("Beta", "UniformWide"),
    ("Exponential", "Beta"), ("Exponential", "Pareto"), ("Exponential", "Uniform"), ("Exponential", "Gamma"),
    ("Exponential", "Gumbel"), ("Exponential", "Normal"),
    ("Gamma", "Beta"), ("Gamma", "Pareto"), ("Gamma", "Uniform"), ("Gamma", "Exponential"), ("Gamma", "Gumbel"),
    ("Gamma", "Normal"),
    ("Gumbel", "Beta"), ("Gumbel", "Exponential"), ("Gumbel", "Gamma"), ("Gumbel", "Pareto"), ("Gumbel", "Uniform"),
    ("Gumbel", "Normal"),
    ("Laplace", "Beta"), ("Laplace", "Exponential"), ("Laplace", "Gamma"), ("Laplace", "Pareto"),
    ("Laplace", "Uniform"), ("Laplace", "Normal"),
    ("Normal", "Beta"), ("Normal", "Exponential"), ("Normal", "Gamma"), ("Normal", "Pareto"), ("Normal", "Uniform"),
    ("Normal", "Gumbel"), ("Normal", "Laplace"),
    ("Pareto", "Beta"), ("Pareto", "Uniform"), ("Pareto", "Exponential"), ("Pareto", "Gamma"), ("Pareto", "Normal"),
    ("Uniform", "Beta"), ("UniformWide", "Beta"), ("Uniform", "Exponential"), ("UniformWide", "Exponential"),
    ("Uniform", "Gamma"), ("UniformWide", "Gamma"), ("Uniform", "Gumbel"), ("Uniform", "Normal"),
    ("Uniform", "Pareto"), ("UniformWide", "Pareto"),
]  # fmt: skip


def _make(torch, name):
    build, params = DISTS[name]
    tt = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    gt = {k: gg.tensor(v, dtype=gg.float64, requires_grad=True) for k, v in params.items()}
    return build(torch.distributions, tt), build(gg.distributions, gt), tt, gt


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "-".join(p))
def test_kl_matches_torch(torch, pair):
    tp, gp, ttp, gtp = _make(torch, pair[0])
    tq, gq, ttq, gtq = _make(torch, pair[1])
    t_kl = torch.distributions.kl_divergence(tp, tq)
    g_kl = gg.distributions.kl_divergence(gp, gq)
    np.testing.assert_allclose(g_kl.detach().numpy(), t_kl.detach().numpy(), **TOL)
    assert tuple(g_kl.shape) == tuple(t_kl.shape) and g_kl.dtype == gg.float64
    finite = torch.isfinite(t_kl)
    if not bool(finite.any()) or not t_kl.requires_grad:
        return
    names = [("p", k) for k in ttp] + [("q", k) for k in ttq]
    t_params = [ttp[k] for k in ttp] + [ttq[k] for k in ttq]
    g_params = [gtp[k] for k in gtp] + [gtq[k] for k in gtq]
    t_grads = torch.autograd.grad(t_kl[finite].sum(), t_params, allow_unused=True)
    g_kl[gg.tensor(finite.numpy())].sum().backward()
    for name, tg, gp_ in zip(names, t_grads, g_params):
        if tg is None:
            assert gp_.grad is None or not np.any(gp_.grad.numpy()), name
        else:
            np.testing.assert_allclose(gp_.grad.numpy(), tg.numpy(), err_msg=str(name), **GRAD_TOL)


def test_kl_transformed_needs_equal_transforms(torch):
    D = gg.distributions
    p, q = D.Weibull(gg.tensor(1.0), gg.tensor(2.0)), D.Weibull(gg.tensor(1.5), gg.tensor(2.0))
    with pytest.raises(NotImplementedError, match="kl_divergence"):
        D.kl_divergence(p, q)
    tp = torch.distributions.Weibull(torch.tensor(1.0), torch.tensor(2.0))
    tq = torch.distributions.Weibull(torch.tensor(1.5), torch.tensor(2.0))
    with pytest.raises(NotImplementedError):
        torch.distributions.kl_divergence(tp, tq)
