"""Round 57 (distfuzz): what a differential fuzz of ``torch.distributions`` found, each against
PyTorch in float64 — Gamma-family draws from 0-d parameters, KL between OneHotCategoricals,
MixtureSameFamily with weights broadcast over the component batch, Uniform's closed support, and
Cholesky of non-finite matrices (positive-definite checks, MultivariateNormal validation)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg

RNG = np.random.default_rng(57)
TOL = dict(rtol=1e-10, atol=1e-12)
GRAD_TOL = dict(rtol=1e-8, atol=1e-12)


def _pair(torch, *arrays):
    """The same float64 leaves in both libraries."""
    tt = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    gt = [gg.tensor(a, dtype=gg.float64, requires_grad=True) for a in arrays]
    return tt, gt


def _check(torch, t_out, g_out, tt, gt):
    """Values, then the gradients of a weighted sum, for every leaf."""
    assert tuple(g_out.shape) == tuple(t_out.shape) and g_out.dtype == gg.float64
    np.testing.assert_allclose(g_out.detach().numpy(), t_out.detach().numpy(), **TOL)
    w = RNG.standard_normal(tuple(t_out.shape))
    t_grads = torch.autograd.grad((t_out * torch.tensor(w)).sum(), tt, allow_unused=True)
    (g_out * gg.tensor(w)).sum().backward()
    for i, (tg, leaf) in enumerate(zip(t_grads, gt)):
        if tg is None:  # unused (a mixture's mean does not read the scales)
            assert leaf.grad is None or not np.any(leaf.grad.numpy()), f"leaf {i}"
        else:
            np.testing.assert_allclose(leaf.grad.numpy(), tg.numpy(), err_msg=f"leaf {i}", **GRAD_TOL)


# ---------------------------------------------------------------- Gamma-family draws, 0-d parameters
_SCALAR_FAMILIES = {
    "Gamma": lambda d, a: d.Gamma(a, 0.5),
    "Chi2": lambda d, a: d.Chi2(a),
    "InverseGamma": lambda d, a: d.InverseGamma(a, 2.0),
    "Beta": lambda d, a: d.Beta(a, a + 1),
    "StudentT": lambda d, a: d.StudentT(a),
    "FisherSnedecor": lambda d, a: d.FisherSnedecor(a, a + 2),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(_SCALAR_FAMILIES))
@pytest.mark.parametrize("shape", [(), (3,), (2, 2)], ids=["s0", "s3", "s22"])
def test_gamma_family_samples_from_0d_parameters(torch, name, shape, dtype):
    # NumPy's standard_gamma of a 0-d array is a Python float: sample() of Chi2(tensor(3.)) raised
    build = _SCALAR_FAMILIES[name]
    td = build(torch.distributions, torch.tensor(3.0, dtype=getattr(torch, dtype)))
    gd = build(gg.distributions, gg.tensor(3.0, dtype=getattr(gg, dtype)))
    t, g = td.sample(shape), gd.sample(shape)
    assert tuple(g.shape) == tuple(t.shape) and g.dtype == getattr(gg, dtype)
    assert bool(gd.support.check(g).all())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_standard_gamma_of_0d_tensor(torch, dtype):
    a = gg.tensor(2.5, dtype=getattr(gg, dtype), requires_grad=True)
    x = gg._standard_gamma(a)
    t = torch._standard_gamma(torch.tensor(2.5, dtype=getattr(torch, dtype)))
    assert tuple(x.shape) == tuple(t.shape) == () and x.dtype == getattr(gg, dtype)
    x.backward()  # the reparameterized path still carries a gradient to α
    assert a.grad is not None and np.isfinite(a.grad.item())


# ---------------------------------------------------------------- KL(OneHotCategorical ‖ OneHotCategorical)
@pytest.mark.parametrize("kinds", ["probs-probs", "logits-probs", "logits-logits"])
def test_kl_one_hot_categorical(torch, kinds):
    kp, kq = kinds.split("-")
    p = RNG.uniform(0.1, 1.0, (2, 3, 4)) if kp == "probs" else RNG.standard_normal((2, 3, 4))
    q = RNG.uniform(0.1, 1.0, (3, 4)) if kq == "probs" else RNG.standard_normal((3, 4))
    tt, gt = _pair(torch, p, q)
    out = []
    for lib, (a, b) in ((torch, tt), (gg, gt)):
        d = lib.distributions
        out.append(d.kl_divergence(d.OneHotCategorical(**{kp: a}), d.OneHotCategorical(**{kq: b})))
    _check(torch, out[0], out[1], tt, gt)


def test_kl_one_hot_categorical_straight_through_and_zero_mass(torch):
    p, q = np.array([[0.0, 0.5, 0.5], [0.2, 0.3, 0.5]]), np.array([[0.3, 0.3, 0.4], [0.0, 0.5, 0.5]])
    res = []
    for lib in (torch, gg):
        d = lib.distributions
        pt, qt = lib.tensor(p, dtype=lib.float64), lib.tensor(q, dtype=lib.float64)
        res.append(d.kl_divergence(d.OneHotCategoricalStraightThrough(pt), d.OneHotCategorical(qt)).numpy())
    np.testing.assert_allclose(res[1], res[0], **TOL)  # a 0 in q where p has mass: +inf in both
    assert math.isinf(res[1][1])


# ---------------------------------------------------------------- MixtureSameFamily, broadcast weights
_MIX = {
    "normal-weights()": ((3,), (2, 3), lambda d, m, s: d.Normal(m, s), (2, 3)),
    "normal-weights(1,)": ((1, 3), (4, 2, 3), lambda d, m, s: d.Normal(m, s), (4, 2, 3)),
    "independent-weights()": ((2,), (3, 2, 4), lambda d, m, s: d.Independent(d.Normal(m, s), 1), (3, 2, 4)),
}


@pytest.mark.parametrize("case", list(_MIX))
def test_mixture_weights_broadcast_over_component_batch(torch, case):
    wshape, mshape, comp, sshape = _MIX[case]
    w, m, s = RNG.standard_normal(wshape), RNG.standard_normal(mshape), RNG.uniform(0.5, 2.0, sshape)
    tt, gt = _pair(torch, w, m, s)
    built = []
    for lib, (a, b, c) in ((torch, tt), (gg, gt)):
        d = lib.distributions
        built.append(d.MixtureSameFamily(d.Categorical(logits=a), comp(d, b, c)))
    td, gd = built
    assert tuple(gd.batch_shape) == tuple(td.batch_shape)
    assert tuple(gd.event_shape) == tuple(td.event_shape)
    x = RNG.standard_normal((5,) + tuple(td.batch_shape) + tuple(td.event_shape))
    _check(torch, td.log_prob(torch.tensor(x)), gd.log_prob(gg.tensor(x)), tt, gt)
    for what in ("mean", "variance"):
        tt2, gt2 = _pair(torch, w, m, s)
        t2 = getattr(torch.distributions.MixtureSameFamily(torch.distributions.Categorical(logits=tt2[0]),
                                                           comp(torch.distributions, *tt2[1:])), what)  # fmt: skip
        g2 = getattr(gg.distributions.MixtureSameFamily(gg.distributions.Categorical(logits=gt2[0]),
                                                        comp(gg.distributions, *gt2[1:])), what)  # fmt: skip
        _check(torch, t2, g2, tt2, gt2)


def test_mixture_broadcast_weights_sample_shape():
    # PyTorch's sample() fails on this case (its gather index lacks the batch dims): the draws are
    # (S, *batch, *event), one component per batch element
    d = gg.distributions
    mix = d.MixtureSameFamily(d.Categorical(logits=gg.zeros(3)), d.Normal(gg.zeros(4, 3), gg.ones(3)))
    assert tuple(mix.sample((5,)).shape) == (5, 4) and tuple(mix.sample().shape) == (4,)


def test_mixture_incompatible_batch_shapes_refused(torch):
    for lib in (torch, gg):
        d = lib.distributions
        with pytest.raises(ValueError):
            d.MixtureSameFamily(d.Categorical(logits=lib.zeros(2, 3)), d.Normal(lib.zeros(4, 3), lib.ones(3)))


# ---------------------------------------------------------------- Uniform: support [low, high]
def test_uniform_support_is_closed(torch):
    low, high = np.array([0.0, -1.0]), np.array([1.0, 2.0])
    res = []
    for lib in (torch, gg):
        u = lib.distributions.Uniform(lib.tensor(low), lib.tensor(high), validate_args=True)
        assert type(u.support).__name__.lstrip("_") == "Interval"
        assert bool(u.support.check(lib.tensor(high)).all())
        res.append(u.log_prob(lib.tensor(np.array([1.0, 0.5]))).numpy())  # high itself: −inf, no error
        with pytest.raises(ValueError):
            u.log_prob(lib.tensor(np.array([1.5, 0.5])))
    np.testing.assert_array_equal(res[1], res[0])
    assert res[1][0] == -math.inf


# ---------------------------------------------------------------- Cholesky of non-finite matrices
_NONFINITE = {
    "all-nan": np.full((3, 3), np.nan),
    "all-inf": np.full((3, 3), np.inf),
    "nan-offdiag": np.array([[4.0, np.nan], [np.nan, 1.0]]),
    "batch-one-bad": np.stack([np.eye(2) * 2, np.full((2, 2), np.nan)]),
}


@pytest.mark.parametrize("case", list(_NONFINITE))
def test_cholesky_ex_info_of_non_finite(torch, case):
    a = _NONFINITE[case]
    t, g = torch.linalg.cholesky_ex(torch.tensor(a)), gg.linalg.cholesky_ex(gg.tensor(a))
    np.testing.assert_array_equal(g.info.numpy(), t.info.numpy())
    ok = t.info.numpy() == 0  # the factor of a refused matrix is unspecified in PyTorch
    np.testing.assert_allclose(g.L.numpy()[ok], t.L.numpy()[ok], **TOL)
    with pytest.raises(torch.linalg.LinAlgError):
        torch.linalg.cholesky(torch.tensor(a))
    with pytest.raises(RuntimeError):  # glassgrad's LinAlgError is a RuntimeError, as PyTorch's
        gg.linalg.cholesky(gg.tensor(a))
    tc = torch.distributions.constraints.positive_definite.check(torch.tensor(a))
    gc = gg.distributions.constraints.positive_definite.check(gg.tensor(a))
    np.testing.assert_array_equal(gc.numpy(), tc.numpy())


@pytest.mark.parametrize("family", ["MultivariateNormal", "Wishart"])
def test_validated_covariance_with_inf_refused(torch, family):
    cov = np.full((3, 3), np.inf)
    for lib in (torch, gg):
        d, c = lib.distributions, lib.tensor(cov)
        with pytest.raises(ValueError):
            if family == "Wishart":
                d.Wishart(lib.tensor(4.0), covariance_matrix=c, validate_args=True)
            else:
                d.MultivariateNormal(lib.zeros(3, dtype=lib.float64), covariance_matrix=c, validate_args=True)


# ---------------------------------------------------------------- Gumbel cdf/icdf through PyTorch's uniform base
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gumbel_icdf_cdf_at_the_ends(torch, dtype):
    # icdf(0) and icdf(1) are finite in PyTorch (its base is Uniform(tiny, 1 − eps)); glassgrad gave ±inf
    q = np.array([0.0, 1e-300, 1e-30, 0.3, 0.5, 1 - 1e-12, 1.0])
    x = np.array([-40.0, -3.0, 0.0, 0.7, 5.0, 30.0, 80.0])
    loc, scale = RNG.standard_normal(7), RNG.uniform(0.5, 2.0, 7)
    tol = TOL if dtype == "float64" else dict(rtol=1e-6, atol=1e-6)
    res = {}
    for lib in (torch, gg):
        dt = getattr(lib, dtype)
        d = lib.distributions.Gumbel(
            lib.tensor(loc, dtype=dt), lib.tensor(scale, dtype=dt), validate_args=False
        )
        res[lib] = (d.icdf(lib.tensor(q, dtype=dt)).numpy(), d.cdf(lib.tensor(x, dtype=dt)).numpy())
    for t, g in zip(res[torch], res[gg]):
        assert np.isfinite(t).all() == np.isfinite(g).all()
        np.testing.assert_allclose(g, t, **tol)


def test_gumbel_icdf_cdf_gradients(torch):
    q, x = RNG.uniform(0.05, 0.95, (2, 3)), RNG.standard_normal((2, 3))
    for what, v in (("icdf", q), ("cdf", x)):
        tt, gt = _pair(torch, RNG.standard_normal(3), RNG.uniform(0.5, 2.0, 3))
        t_out = getattr(torch.distributions.Gumbel(*tt), what)(torch.tensor(v))
        g_out = getattr(gg.distributions.Gumbel(*gt), what)(gg.tensor(v))
        _check(torch, t_out, g_out, tt, gt)
