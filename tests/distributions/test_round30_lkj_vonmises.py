"""LKJCholesky and VonMises (round 30) against torch.distributions in float64: log_prob (and its
gradients), the moments, shapes, expand, support, module paths; samples (NumPy's generator)
checked by distribution: LKJ's correlations against their Beta marginal law, von Mises draws by a
Kolmogorov–Smirnov distance to the density's numerical CDF."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import distributions as D

RNG = np.random.default_rng(3031)
TOL = dict(rtol=1e-9, atol=1e-12)
N = 20000
KS_BOUND = 1.95 / math.sqrt(N)


def _np(t):
    return np.asarray(t._data if isinstance(t, gg.Tensor) else t.detach().numpy())


@pytest.mark.parametrize(
    "dim,conc", [(2, 0.7), (3, np.array([0.5, 1.0, 2.5])), (4, np.array([[1.5], [3.0]]))]
)
def test_lkj_log_prob_shapes_and_gradients_match_torch(torch, dim, conc):
    tc = torch.tensor(conc, dtype=torch.float64, requires_grad=True)
    gc = gg.tensor(conc, dtype=gg.float64, requires_grad=True)
    td, gd = torch.distributions.LKJCholesky(dim, tc), D.LKJCholesky(dim, gc)
    assert tuple(gd.batch_shape) == tuple(td.batch_shape) and tuple(gd.event_shape) == tuple(td.event_shape)
    assert gd.has_rsample == td.has_rsample is False
    # values: Cholesky factors of random correlation matrices, one batch of them
    x = torch.distributions.transforms.CorrCholeskyTransform()(
        torch.tensor(RNG.standard_normal((5,) + tuple(td.batch_shape) + (dim * (dim - 1) // 2,)))
    )
    t_out, g_out = td.log_prob(x), gd.log_prob(gg.tensor(_np(x)))
    np.testing.assert_allclose(_np(g_out), _np(t_out), **TOL)
    (t_grad,) = torch.autograd.grad(t_out.sum(), [tc])
    g_out.sum().backward()
    np.testing.assert_allclose(_np(gc.grad), _np(t_grad), rtol=1e-8, atol=1e-11)
    s = gd.sample((3,))
    assert tuple(s.shape) == tuple(td.sample((3,)).shape) and D.constraints.corr_cholesky.check(s).all()
    assert gd.support is D.constraints.corr_cholesky
    e, te = gd.expand((2,) + tuple(gd.batch_shape)), td.expand((2,) + tuple(td.batch_shape))
    assert tuple(e.batch_shape) == tuple(te.batch_shape)
    np.testing.assert_allclose(_np(e.log_prob(gg.tensor(_np(x[:1])))), _np(te.log_prob(x[:1])), **TOL)
    assert tuple(e.sample().shape) == tuple(te.sample().shape)


def test_lkj_validation_and_paths(torch):
    with pytest.raises(ValueError, match="dim"):
        D.LKJCholesky(1, 1.0)
    with pytest.raises(ValueError):
        D.LKJCholesky(3, gg.tensor(-1.0), validate_args=True)
    d = D.LKJCholesky(3, gg.tensor(1.0), validate_args=True)
    with pytest.raises(ValueError):
        d.log_prob(gg.eye(3) * 2)
    from glassgrad.distributions.lkj_cholesky import LKJCholesky

    assert LKJCholesky is D.LKJCholesky


@pytest.mark.parametrize("dim,eta", [(3, 1.0), (4, 2.5)])
def test_lkj_samples_follow_torchs_law(torch, dim, eta):
    """Two-sample KS distance between our draws and PyTorch's for three correlations, and the
    first one against its exact law: (M₁₀ + 1)/2 ~ Beta(b, b), b = η − 1 + D/2 (rows >= 2 follow
    PyTorch's onion shape parameters, see the class docstring)."""
    from scipy import stats

    gg.manual_seed(5)
    torch.manual_seed(5)
    L = D.LKJCholesky(dim, gg.tensor(eta, dtype=gg.float64)).sample((N,)).numpy()
    Lt = torch.distributions.LKJCholesky(dim, torch.tensor(eta, dtype=torch.float64)).sample((N,)).numpy()
    M, Mt = L @ np.swapaxes(L, -1, -2), Lt @ np.swapaxes(Lt, -1, -2)
    np.testing.assert_allclose(np.diagonal(M, axis1=-2, axis2=-1), 1.0, atol=1e-12)
    for i, j in [(1, 0), (dim - 1, 0), (dim - 1, dim - 2)]:
        ks = stats.ks_2samp(M[:, i, j], Mt[:, i, j]).statistic
        assert ks < 1.95 * math.sqrt(2.0 / N), (i, j, ks)
    b = eta - 1 + dim / 2
    r = np.sort((M[:, 1, 0] + 1) / 2)
    assert np.max(np.abs(stats.beta(b, b).cdf(r) - np.arange(1, N + 1) / N)) < KS_BOUND + 1.0 / N


VM = {"loc": np.array([0.3, -2.0, 3.0, 0.0]), "conc": np.array([0.5, 2.0, 5.0, 1e-6])}


def test_von_mises_matches_torch(torch):
    tl, tc = (torch.tensor(VM[k], requires_grad=True) for k in ("loc", "conc"))
    gl, gc = (gg.tensor(VM[k], dtype=gg.float64, requires_grad=True) for k in ("loc", "conc"))
    td, gd = torch.distributions.VonMises(tl, tc), D.VonMises(gl, gc)
    v = RNG.uniform(-7, 7, (3, 4))
    t_out, g_out = td.log_prob(torch.tensor(v)), gd.log_prob(gg.tensor(v))
    np.testing.assert_allclose(_np(g_out), _np(t_out), **TOL)
    t_grads = torch.autograd.grad(t_out.sum(), [tl, tc])
    g_out.sum().backward()
    for a, b in zip((gl, gc), t_grads):
        np.testing.assert_allclose(_np(a.grad), _np(b), rtol=1e-9, atol=1e-10)
    for m in ("mean", "mode", "variance", "stddev"):
        np.testing.assert_allclose(_np(getattr(gd, m)), _np(getattr(td, m)), **TOL)
    assert tuple(gd.expand((2, 4)).batch_shape) == tuple(td.expand((2, 4)).batch_shape)
    assert gd.has_rsample == td.has_rsample and set(gd.arg_constraints) == set(td.arg_constraints)
    from glassgrad.distributions.von_mises import VonMises

    assert VonMises is D.VonMises


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_von_mises_samples_follow_the_density(torch, dtype):
    gg.manual_seed(7)
    loc, conc = np.array([0.5, -3.0, 0.0]), np.array([2.0, 0.3, 8.0])
    gd = D.VonMises(gg.tensor(loc, dtype=getattr(gg, dtype)), gg.tensor(conc, dtype=getattr(gg, dtype)))
    x = gd.sample((N,))
    assert x.dtype == getattr(gg, dtype) and tuple(x.shape) == (N, 3)
    xs = x.numpy().astype(np.float64)
    assert np.all(xs >= -math.pi) and np.all(xs < math.pi + 1e-6)
    grid = np.linspace(-math.pi, math.pi, 20001)
    td = torch.distributions.VonMises(torch.tensor(loc), torch.tensor(conc))
    dens = np.exp(td.log_prob(torch.tensor(grid[:, None])).numpy())
    cdf = np.concatenate(
        [np.zeros((1, 3)), np.cumsum((dens[1:] + dens[:-1]) / 2 * np.diff(grid)[:, None], 0)]
    )
    cdf /= cdf[-1]
    for k in range(3):
        s = np.sort(xs[:, k])
        ks = np.max(np.abs(np.interp(s, grid, cdf[:, k]) - np.arange(1, N + 1) / N))
        assert ks < KS_BOUND + 2.0 / N, (k, ks)
