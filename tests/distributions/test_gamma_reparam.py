"""Implicit reparameterisation of gamma draws (ops/gamma_reparam.py): dx/dα against the CDF's own
finite differences and PyTorch's ``_standard_gamma_grad``; rsample gradients of Gamma, Chi2,
StudentT, Beta and Dirichlet are the formula's on the drawn values and unbiased (Monte Carlo
against the derivative of a closed-form mean)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.backend import quietly
from glassgrad.distributions import Beta, Chi2, Dirichlet, Gamma, StudentT
from glassgrad.ops.gamma_reparam import standard_gamma_grad_array as _grad_array
from glassgrad.ops.special_gamma import gammainc_array
from glassgrad.ops.special_series import lgamma_array


def standard_gamma_grad_array(a, x):
    return quietly(_grad_array, a, x)  # (digamma's reflection branch warns on positive α too)


ALPHAS = np.array([0.01, 0.3, 1.0, 4.5, 50.0, 900.0])
QUANTILES = np.array([0.01, 0.2, 0.5, 0.8, 0.99])


def _points():
    """x at spread-out places of each Gamma(α, 1) (quantiles of many draws)."""
    rng = np.random.default_rng(5)
    a = np.repeat(ALPHAS, QUANTILES.size)
    x = np.concatenate([np.quantile(rng.standard_gamma(al, 20000), QUANTILES) for al in ALPHAS])
    return a, np.maximum(x, 1e-300)


def test_gradient_is_the_cdf_implicit_derivative():
    a, x = _points()
    h = 1e-5 * a
    dp_da = (gammainc_array(a + h, x) - gammainc_array(a - h, x)) / (2 * h)
    density = np.exp((a - 1) * np.log(x) - x - quietly(lgamma_array, a))
    np.testing.assert_allclose(standard_gamma_grad_array(a, x), -dp_da / density, rtol=1e-6)


def test_gradient_matches_torch_approximation(torch):
    a, x = _points()
    theirs = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(x)).numpy()
    ours = gg._standard_gamma_grad(gg.tensor(a), gg.tensor(x)).numpy()
    # PyTorch approximates (measured up to 4e-4 relative against mpmath); ours is exact to rounding
    np.testing.assert_allclose(ours, theirs, rtol=1e-3)


def test_edges():
    out = standard_gamma_grad_array(np.array([2.0, -1.0, 0.0, 2.0]), np.array([0.0, 1.0, 1.0, np.nan]))
    assert out[0] == 0.0 and np.isnan(out[1:]).all()


def test_standard_gamma_node_and_gradient(torch):
    gg.manual_seed(3)
    a = gg.tensor([0.2, 2.0, 30.0], dtype=gg.float64, requires_grad=True)
    x = gg._standard_gamma(a)
    assert x.grad_fn.name() == torch._standard_gamma(torch.tensor([1.0], requires_grad=True)).grad_fn.name()
    (x * gg.tensor([1.0, 2.0, 3.0], dtype=gg.float64)).sum().backward()
    expected = standard_gamma_grad_array(a.detach().numpy(), x.detach().numpy()) * [1, 2, 3]
    np.testing.assert_allclose(a.grad.numpy(), expected, rtol=1e-12)
    with gg.no_grad():
        assert gg._standard_gamma(a).grad_fn is None


def _mc(make, derivative, batches=10, size=5000, seed=11):
    """The pathwise gradient of the sample mean over ``batches`` batches of draws against the
    derivative of the closed-form mean: within 4 standard errors of the batches' own spread."""
    gg.manual_seed(seed)
    param = gg.tensor([make[0]], dtype=gg.float64, requires_grad=True)
    grads = []
    for _ in range(batches):
        param.grad = None
        make[1](param).rsample((size,)).mean().backward()
        grads.append(param.grad.numpy()[0])
    se = np.std(grads) / np.sqrt(batches)
    assert abs(np.mean(grads) - derivative) < 4 * se, (np.mean(grads), derivative, se)


@pytest.mark.parametrize(
    "name, make, derivative",
    [
        # d/dα E[x] = 1/β for Gamma(α, β) and 1 for Chi2(k) (E = k)
        ("Gamma", (2.5, lambda p: Gamma(p, 2.0)), 0.5),
        ("Gamma-small", (0.15, lambda p: Gamma(p, 1.0)), 1.0),
        ("Chi2", (3.0, lambda p: Chi2(p)), 1.0),
        # E[x] = a / (a + b): d/da = b / (a + b)^2 at a = 1.5, b = 2.5
        ("Beta", (1.5, lambda p: Beta(p, gg.tensor([2.5], dtype=gg.float64))), 2.5 / 16),
    ],
)
def test_rsample_gradient_is_unbiased(name, make, derivative):
    _mc(make, derivative)


def test_studentt_gradient_is_unbiased_in_df():
    # E[x^2] = ν / (ν − 2): d/dν = −2 / (ν − 2)^2, at ν = 9 (x^2 has a finite variance past ν = 4)
    gg.manual_seed(7)
    nu = gg.tensor([9.0], dtype=gg.float64, requires_grad=True)
    grads = []
    for _ in range(10):
        nu.grad = None
        StudentT(nu).rsample((6000,)).pow(2).mean().backward()
        grads.append(nu.grad.numpy()[0])
    se = np.std(grads) / np.sqrt(len(grads))
    assert abs(np.mean(grads) - (-2 / 49)) < 4 * se, (np.mean(grads), se)


def test_dirichlet_rsample_gradient_is_unbiased():
    # E[x_0] = α_0 / α₀: d/dα = ((α₀ − α_0), −α_0, −α_0) / α₀²
    gg.manual_seed(13)
    alpha = gg.tensor([0.7, 1.3, 3.0], dtype=gg.float64, requires_grad=True)
    batches = []
    for _ in range(10):
        alpha.grad = None
        Dirichlet(alpha).rsample((5000,))[:, 0].mean().backward()
        batches.append(alpha.grad.numpy().copy())
    batches = np.array(batches)
    total = 5.0
    expected = np.array([total - 0.7, -0.7, -0.7]) / total**2
    se = batches.std(0) / np.sqrt(len(batches))
    assert np.all(np.abs(batches.mean(0) - expected) < 4 * se), (batches.mean(0), expected, se)
    x = Dirichlet(alpha).rsample((4,))
    np.testing.assert_allclose(x.sum(-1).detach().numpy(), 1.0, rtol=1e-12)


def test_large_alpha_switches_to_wilson_hilferty_smoothly():
    import time

    from glassgrad.ops import gamma_reparam

    rng = np.random.default_rng(9)
    a = np.full(50, 1e6)
    x = rng.standard_gamma(a)
    exact = quietly(gamma_reparam._series_grad, np, a, np.minimum(x, a + 0.5))  # the series side
    approx = gamma_reparam._wilson_hilferty_grad(np, a, np.minimum(x, a + 0.5))
    np.testing.assert_allclose(approx, exact, rtol=1e-8)
    start = time.perf_counter()
    big = standard_gamma_grad_array(np.full(100, 1e10), rng.standard_gamma(np.full(100, 1e10)))
    assert time.perf_counter() - start < 0.5 and np.all(np.abs(big - 1) < 1e-3)  # dx/dα -> 1 as α grows
