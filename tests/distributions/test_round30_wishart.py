"""Wishart (round 30) against torch.distributions.Wishart in float64: log_prob, entropy, moments
(values and gradients in ν and Σ), the three ways to give Σ, shapes, expand, the exponential-family
parts and the Bregman KL; rsample by its moments and gradients."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import distributions as D

RNG = np.random.default_rng(3032)
TOL = dict(rtol=1e-9, atol=1e-11)
GRAD_TOL = dict(rtol=1e-7, atol=1e-10)


def _np(t):
    return np.asarray(t._data if isinstance(t, gg.Tensor) else t.detach().numpy())


def _pd(p, batch=()):
    a = RNG.standard_normal(batch + (p, p))
    return a @ np.swapaxes(a, -1, -2) + p * np.eye(p)


CASES = {  # name -> (df, which matrix, matrix)
    "cov-scalar-df": (5.5, "covariance_matrix", _pd(3)),
    "cov-batch": (np.array([4.0, 6.5]), "covariance_matrix", _pd(3)),
    "tril-batch": (np.array([[3.5], [8.0]]), "scale_tril", np.linalg.cholesky(_pd(2, (3,)))),
    "precision": (np.array([7.0, 9.0]), "precision_matrix", _pd(4, (2,))),
}


def _both(torch, name):
    df, which, m = CASES[name]
    t_df = torch.tensor(df, requires_grad=True) if isinstance(df, np.ndarray) else df
    g_df = gg.tensor(df, dtype=gg.float64, requires_grad=True) if isinstance(df, np.ndarray) else df
    tm = torch.tensor(m, requires_grad=True)
    gm = gg.tensor(m, dtype=gg.float64, requires_grad=True)
    td = torch.distributions.Wishart(t_df, **{which: tm})
    gd = D.Wishart(g_df, **{which: gm})
    leaves_t = [x for x in (t_df, tm) if isinstance(x, torch.Tensor)]
    leaves_g = [x for x in (g_df, gm) if isinstance(x, gg.Tensor)]
    return td, gd, leaves_t, leaves_g


def _check(torch, t_out, g_out, lt, lg):
    np.testing.assert_allclose(_np(g_out), _np(t_out), **TOL)
    assert tuple(g_out.shape) == tuple(t_out.shape)
    if not bool(torch.isfinite(t_out).all()):
        return
    t_grads = torch.autograd.grad(t_out.sum(), lt, allow_unused=True, retain_graph=True)
    g_out.sum().backward(retain_graph=True)
    for a, b in zip(lg, t_grads):
        ga, gb = _np(a.grad), _np(b)
        np.testing.assert_allclose(ga, gb, **GRAD_TOL)
        a.grad = None


def _values(td, n=3):
    p = td.event_shape[-1]
    return _pd(p, (n,) + tuple(td.batch_shape))


@pytest.mark.parametrize("name", list(CASES))
def test_log_prob_entropy_and_moments_match_torch(torch, name):
    td, gd, lt, lg = _both(torch, name)
    assert tuple(gd.batch_shape) == tuple(td.batch_shape) and tuple(gd.event_shape) == tuple(td.event_shape)
    v = _values(td)
    # scale_tril's gradient in full: PyTorch's cholesky_solve fills L's unread triangle (round 65)
    _check(torch, td.log_prob(torch.tensor(v)), gd.log_prob(gg.tensor(v)), lt, lg)
    _check(torch, td.entropy(), gd.entropy(), lt, lg)
    for m in ("mean", "mode", "variance"):
        _check(torch, getattr(td, m), getattr(gd, m), lt, lg)
    for m in ("covariance_matrix", "precision_matrix", "scale_tril"):
        np.testing.assert_allclose(_np(getattr(gd, m)), _np(getattr(td, m)), rtol=1e-9, atol=1e-11)
    assert {k: repr(c) for k, c in gd.arg_constraints.items()}.keys() == td.arg_constraints.keys()
    assert gd.arg_constraints["df"].lower_bound == td.arg_constraints["df"].lower_bound


@pytest.mark.parametrize("name", list(CASES))
def test_expand_matches_torch(torch, name):
    td, gd, *_ = _both(torch, name)
    shape = (2,) + tuple(td.batch_shape)
    te, ge = td.expand(shape), gd.expand(shape)
    assert tuple(ge.batch_shape) == tuple(te.batch_shape) and type(ge) is D.Wishart
    v = _values(te, 1)
    np.testing.assert_allclose(_np(ge.log_prob(gg.tensor(v))), _np(te.log_prob(torch.tensor(v))), **TOL)
    assert tuple(ge.sample().shape) == tuple(te.sample().shape)


@pytest.mark.parametrize("name", list(CASES))
def test_exponential_family_parts_and_kl(torch, name):
    from torch.distributions.kl import _kl_expfamily_expfamily

    td, gd, *_ = _both(torch, name)
    for a, b in zip(gd._natural_params, td._natural_params):
        np.testing.assert_allclose(_np(a), _np(b), **TOL)
    np.testing.assert_allclose(
        _np(gd._log_normalizer(*gd._natural_params)), _np(td._log_normalizer(*td._natural_params)), **TOL
    )
    np.testing.assert_allclose(
        _np(D.ExponentialFamily.entropy(gd)),
        _np(torch.distributions.ExponentialFamily.entropy(td)),
        rtol=1e-8,
    )
    np.testing.assert_allclose(_np(D.ExponentialFamily.entropy(gd)), _np(gd.entropy()), rtol=1e-8)
    df, which, m = CASES[name]
    q_t = torch.distributions.Wishart(torch.tensor(np.asarray(df) + 1.0), **{which: torch.tensor(m * 1.3)})
    q_g = D.Wishart(gg.tensor(np.asarray(df) + 1.0, dtype=gg.float64), **{which: gg.tensor(m * 1.3)})
    np.testing.assert_allclose(
        _np(D.kl_divergence(gd, q_g)), _np(_kl_expfamily_expfamily(td, q_t)), rtol=1e-8, atol=1e-10
    )


def test_construction_errors_and_warnings(torch):
    with pytest.raises(ValueError, match="exactly one"):
        D.Wishart(3.0)
    with pytest.raises(ValueError, match="df"):
        D.Wishart(1.5, covariance_matrix=gg.eye(3, dtype=gg.float64))
    with pytest.warns(UserWarning, match="Low df"):
        D.Wishart(2.5, covariance_matrix=gg.eye(3, dtype=gg.float64))
    with pytest.raises(ValueError):
        D.Wishart(4.0, covariance_matrix=-gg.eye(3, dtype=gg.float64), validate_args=True)
    from glassgrad.distributions.wishart import Wishart

    assert Wishart is D.Wishart and issubclass(Wishart, D.ExponentialFamily)


def test_rsample_moments_and_gradients():
    """E[X] = νΣ, Var[X_ij] = ν(Σ_ij² + Σ_ii Σ_jj), and E[dX/dν] = Σ per draw (within 5 standard errors)."""
    n, cov = 20000, _pd(3)
    gg.manual_seed(11)
    df = gg.full((n,), 5.0, dtype=gg.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a healthy Wishart draws without warnings
        x = D.Wishart(df, covariance_matrix=gg.tensor(cov)).rsample()
    xs = _np(x)
    assert xs.shape == (n, 3, 3) and D.constraints.positive_definite.check(x).all()
    var = 5.0 * (cov**2 + np.outer(np.diag(cov), np.diag(cov)))
    assert np.all(np.abs(xs.mean(0) - 5.0 * cov) < 5 * np.sqrt(var / n))
    np.testing.assert_allclose(xs.var(0), var, rtol=0.1)
    x[:, 0, 0].sum().backward()
    g = _np(df.grad)
    assert abs(g.mean() - cov[0, 0]) < 5 * g.std() / math.sqrt(n)


def test_singular_draws_are_redrawn_with_a_warning(torch):
    # df barely above p − 1: Bartlett diagonals underflow to eps often in float32
    with pytest.warns(UserWarning, match="Low df"):
        d = D.Wishart(gg.tensor(2.0 + 1e-6), covariance_matrix=gg.eye(3) * 1e-30)
    gg.manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x = d.rsample((50,), max_try_correction=2)
    assert tuple(x.shape) == (50, 3, 3)
    assert any("Singular sample detected" in str(w.message) for w in caught)
    # some redrawn into positive-definite ones (PyTorch keeps 16-24% on seeds 0-4 with its Cholesky check)
    assert D.constraints.positive_definite.check(x).double().mean() > 0.1
