"""Round 28, normalizing flows and mixtures of experts (karpathy/pytorch-normalizing-flows,
davidmrau/mixture-of-experts): the logistic prior ``TransformedDistribution(Uniform(0, 1),
SigmoidTransform().inv)``, the other transforms, and ``Normal.cdf`` of the noisy top-k gate,
each against PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import distributions as gd


def _both(torch, fn):
    """fn(lib) for glassgrad and torch, float64 in and out."""
    return fn(gg), fn(torch)


def test_logistic_prior_log_prob_and_grad(torch):
    z = np.random.default_rng(0).normal(size=(5, 2)) * 2

    def run(lib):
        prior = lib.distributions.TransformedDistribution(
            lib.distributions.Uniform(lib.zeros(2, dtype=lib.float64), lib.ones(2, dtype=lib.float64)),
            lib.distributions.SigmoidTransform().inv,
        )
        x = lib.tensor(z, requires_grad=True)
        lp = prior.log_prob(x).view(5, -1).sum(1)  # the flow model's prior_logprob
        lp.sum().backward()
        s = prior.sample((7,))
        return (
            lp.detach().numpy(),
            x.grad.numpy(),
            tuple(s.shape),
            tuple(prior.batch_shape),
            tuple(prior.event_shape),
        )

    g, t = _both(torch, run)
    np.testing.assert_allclose(g[0], t[0], rtol=1e-12)
    np.testing.assert_allclose(g[1], t[1], rtol=1e-12)
    assert g[2:] == t[2:] == ((7, 2), (2,), ())


@pytest.mark.parametrize("kind", ["exp", "affine", "tanh", "compose", "sigmoid"])
def test_transforms_match_torch(torch, kind):
    rng = np.random.default_rng(1)
    base_loc, x0 = rng.normal(size=3), rng.normal(size=(4, 3)) * 0.5

    def run(lib):
        T = lib.distributions.transforms
        loc = lib.tensor(base_loc, requires_grad=True)
        make = {
            "exp": lambda: [T.ExpTransform()],
            "affine": lambda: [
                T.AffineTransform(loc=1.5, scale=lib.tensor([2.0, -0.5, 3.0], dtype=lib.float64))
            ],
            "tanh": lambda: [T.TanhTransform()],
            "compose": lambda: [T.ComposeTransform([T.AffineTransform(0.5, 2.0), T.ExpTransform()])],
            "sigmoid": lambda: [T.SigmoidTransform(), T.AffineTransform(-1.0, 3.0)],
        }[kind]
        d = lib.distributions.TransformedDistribution(
            lib.distributions.Normal(loc, lib.ones(3, dtype=lib.float64)), make()
        )
        x = lib.tensor(x0)
        y = x
        for t in d.transforms:
            y = t(y)
        lp = d.log_prob(y)
        lp.sum().backward()
        back = y
        for t in reversed(d.transforms):
            back = t.inv(back)
        return lp.detach().numpy(), loc.grad.numpy(), back.detach().numpy()

    g, t = _both(torch, run)
    for a, b in zip(g, t):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_transform_inverse_identity_and_jacobian_sign(torch):
    t = gd.SigmoidTransform()
    assert t.inv.inv is t
    x = gg.tensor([-30.0, 0.0, 30.0], dtype=gg.float64)
    tx = torch.tensor([-30.0, 0.0, 30.0], dtype=torch.float64)
    y, ty = t(x), torch.distributions.SigmoidTransform()(tx)
    np.testing.assert_array_equal(y.numpy(), ty.numpy())  # clamped into (0, 1) alike
    np.testing.assert_allclose(
        t.inv.log_abs_det_jacobian(y, x).numpy(),
        torch.distributions.SigmoidTransform().inv.log_abs_det_jacobian(ty, tx).numpy(),
        rtol=1e-12,
    )
    with pytest.raises(ValueError, match="TransformedDistribution"):
        gd.TransformedDistribution(gd.Normal(0.0, 1.0), "exp")


def test_normal_cdf_icdf_and_grads(torch):
    rng = np.random.default_rng(2)
    v, loc0, sc0 = rng.normal(size=(4, 3)), rng.normal(size=3), rng.uniform(0.5, 2, size=3)

    def run(lib):
        loc = lib.tensor(loc0, requires_grad=True)
        scale = lib.tensor(sc0, requires_grad=True)
        val = lib.tensor(v, requires_grad=True)
        n = lib.distributions.Normal(loc, scale)
        c = n.cdf(val)
        (c * lib.tensor(v)).sum().backward()
        q = n.icdf(lib.tensor([[0.1, 0.5, 0.975]], dtype=lib.float64))
        return c.detach().numpy(), loc.grad.numpy(), scale.grad.numpy(), val.grad.numpy(), q.detach().numpy()

    g, t = _both(torch, run)
    for a, b in zip(g, t):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_uniform_cdf_icdf(torch):
    for lib in (gg, torch):
        u = lib.distributions.Uniform(lib.tensor(0.0), lib.tensor(2.0), validate_args=True)
        with pytest.raises(ValueError):
            u.cdf(lib.tensor([-1.0, 0.5]))  # outside the support, validated as PyTorch
    gu = gd.Uniform(gg.tensor(0.0), gg.tensor(2.0), validate_args=False)
    tu = torch.distributions.Uniform(torch.tensor(0.0), torch.tensor(2.0), validate_args=False)
    vals = [-1.0, 0.5, 3.0]
    np.testing.assert_allclose(gu.cdf(gg.tensor(vals)).numpy(), tu.cdf(torch.tensor(vals)).numpy())
    np.testing.assert_allclose(gu.icdf(gg.tensor(0.25)).numpy(), tu.icdf(torch.tensor(0.25)).numpy())


def test_noisy_top_k_prob_in_top_k(torch):
    """moe.py's _prob_in_top_k: gathers of the flattened top values, Normal(mean, std).cdf, where."""
    rng = np.random.default_rng(3)
    clean, noise, std0 = rng.normal(size=(4, 6)), rng.normal(size=(4, 6)), rng.uniform(0.1, 1, size=(4, 6))
    k = 2

    def run(lib):
        c = lib.tensor(clean, dtype=lib.float32, requires_grad=True)
        sd = lib.tensor(std0, dtype=lib.float32, requires_grad=True)
        noisy = c + lib.tensor(noise, dtype=lib.float32) * sd
        top, _ = noisy.topk(k + 1, dim=1)
        flat = top.flatten()
        pos_in = lib.arange(4) * (k + 1) + k
        th_in = lib.unsqueeze(lib.gather(flat, 0, pos_in), 1)
        th_out = lib.unsqueeze(lib.gather(flat, 0, pos_in - 1), 1)
        normal = lib.distributions.Normal(lib.tensor([0.0]), lib.tensor([1.0]))
        prob = lib.where(lib.gt(noisy, th_in), normal.cdf((c - th_in) / sd), normal.cdf((c - th_out) / sd))
        load = prob.sum(0)
        (load.var() / (load.mean() ** 2 + 1e-10)).backward()
        return load.detach().numpy(), c.grad.numpy(), sd.grad.numpy(), str(load.dtype).split(".")[-1]

    g, t = _both(torch, run)
    assert g[3] == t[3] == "float32"
    for a, b in zip(g[:3], t[:3]):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)


def test_distribution_names_importable():
    from glassgrad.distributions import SigmoidTransform, TransformedDistribution  # noqa: F401
    from glassgrad.distributions.transforms import AffineTransform, ComposeTransform, ExpTransform  # noqa: F401

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gd.TransformedDistribution(gd.Normal(gg.zeros(2), gg.ones(2)), [gd.ExpTransform()]).sample((3,))


def test_reprs_and_equality_match_torch(torch):
    for lib in (gg, torch):
        D, T = lib.distributions, lib.distributions.transforms
        t = T.SigmoidTransform()
        prior = D.TransformedDistribution(D.Uniform(lib.zeros(2), lib.ones(2)), t.inv)
        assert repr(prior) == "TransformedDistribution()"
        assert repr(t.inv) == "_InverseTransform(SigmoidTransform())"
        assert repr(T.AffineTransform(0.0, 2.0)) == "AffineTransform()"
        assert t.inv == T.SigmoidTransform().inv and T.AffineTransform(0.0, 2.0) == T.AffineTransform(
            0.0, 2.0
        )
        assert T.AffineTransform(0.0, 2.0) != T.AffineTransform(0.0, 3.0)


def test_sigmoid_and_tanh_transforms_at_the_extremes_as_pytorch(torch):
    from glassgrad.distributions import transforms as gt

    tt = torch.distributions.transforms
    out = []
    for lib, t in ((gg, gt), (torch, tt)):
        x = lib.tensor([-20.0, 0.0, 30.0], requires_grad=True)
        y = t.SigmoidTransform()(x)  # clamped at [tiny, 1 - eps]: a gradient below sigmoid(-16) too
        y.sum().backward()
        inv = t.SigmoidTransform().inv(lib.tensor([1e-30, 1e-9, 0.5]))
        ath = t.TanhTransform().inv(lib.tensor([1e-8, 1e-4, 0.5]))  # atanh: exact near 0
        out.append([y.detach().numpy(), x.grad.numpy(), inv.numpy(), ath.numpy()])
        assert t.ComposeTransform([t.ExpTransform()]).with_cache(1)._cache_size == 1
    for g, r in zip(*out):
        np.testing.assert_allclose(g, r, rtol=2e-7)
