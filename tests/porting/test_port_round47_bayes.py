"""Round 47 (Bayesian layers, GFlowNets): the patterns IntelLabs/bayesian-torch and GFNOrg/torchgfn
lean on, against PyTorch 2.13 in float64, the random draws handed to both libraries from NumPy.

No glassgrad defect was found in the round; these keep the paths the programs took covered."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as ggF


def _t(lib, a, grad=False):
    t = lib.tensor(np.array(a, dtype=np.float64))
    return t.requires_grad_(True) if grad else t


def _close(a, b, tol=1e-12):
    np.testing.assert_allclose(np.asarray(a.detach()), b.detach().numpy(), rtol=tol, atol=tol)


def _kl_mean(lib, mu_q, sigma_q, mu_p, sigma_p):
    # the closed-form KL(N(mu_q, sigma_q) || N(mu_p, sigma_p)) the variational layers average
    kl = lib.log(sigma_p) - lib.log(sigma_q) + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2 * sigma_p**2) - 0.5
    return kl.mean()


@pytest.mark.parametrize("form", ["reparameterization", "flipout"])
@pytest.mark.parametrize("conv", ["linear", "conv2d", "conv_transpose1d"])
def test_variational_layer_forward_kl_and_gradients(torch, form, conv):
    rng = np.random.default_rng(47)
    shapes = {
        "linear": ((3, 5), (4, 5), (4,)),
        "conv2d": ((2, 4, 6, 6), (6, 2, 3, 3), (6,)),
        "conv_transpose1d": ((2, 4, 5), (4, 2, 3), (4,)),
    }[conv]
    x_np, w_np, b_np = (rng.standard_normal(s) for s in shapes)
    rho_np, eps_np = rng.standard_normal(w_np.shape) - 3.0, rng.standard_normal(w_np.shape)

    def run(lib, F, signs):
        x, mu, rho = _t(lib, x_np, True), _t(lib, w_np, True), _t(lib, rho_np, True)
        bias = _t(lib, b_np, True)
        sigma = lib.log1p(lib.exp(rho))
        delta = sigma * _t(lib, eps_np)

        def op(inp, w, b):
            if conv == "linear":
                return F.linear(inp, w, b)
            if conv == "conv2d":
                return F.conv2d(inp, w, b, stride=2, padding=1, dilation=1, groups=2)
            return F.conv_transpose1d(inp, w, b, stride=2, padding=1, output_padding=1, groups=2)

        if form == "reparameterization":
            out = op(x, mu + delta, bias)
        else:
            base = op(x, mu, bias)
            # flipout's random signs (the program draws them with uniform_(-1, 1).sign())
            s_in = _t(lib, np.sign(signs.standard_normal(tuple(x.shape))))
            s_out = _t(lib, np.sign(signs.standard_normal(tuple(base.shape))))
            out = base + op(x * s_in, delta, None) * s_out
        kl = _kl_mean(lib, mu, sigma, lib.zeros_like(mu), lib.ones_like(mu))
        loss = (out * out).sum() + kl
        loss.backward()
        return [out, kl, x.grad, mu.grad, rho.grad, bias.grad]

    got = run(gg, ggF, np.random.default_rng(3))
    want = run(torch, torch.nn.functional, np.random.default_rng(3))
    for a, b in zip(got, want):
        _close(a, b)


def test_tensor_constructor_buffers_and_data_normal_write_through(torch):
    def run(lib):
        lib.set_default_dtype(lib.float64)
        try:
            m = lib.nn.Module()
            m.register_buffer("eps", lib.Tensor(3, 4), persistent=False)
            m.register_buffer("prior", lib.Tensor(4), persistent=True)
            m.prior.fill_(1.0)
            m.eps.data.copy_(lib.ones(3, 4) * 2)
            return m.eps.dtype == lib.float64, float(m.eps.sum()), sorted(m.state_dict())
        finally:
            lib.set_default_dtype(lib.float32)

    assert run(gg) == run(torch) == (True, 24.0, ["prior"])


def test_masked_categorical_trajectory_balance_gradients(torch):
    rng = np.random.default_rng(5)
    logits_np = rng.standard_normal((4, 3, 5))
    mask_np = rng.random((4, 3, 5)) > 0.3
    mask_np[..., 0] = True
    actions_np = np.argmax(np.where(mask_np, rng.random((4, 3, 5)), -1.0), -1)

    def run(lib):
        logits = _t(lib, logits_np, True)
        log_z = _t(lib, 0.25, True)
        masked = logits.masked_fill(~lib.tensor(mask_np), -float("inf"))
        dist = lib.distributions.Categorical(logits=masked)
        lp = dist.log_prob(lib.tensor(actions_np)).sum(-1)
        log_r = lib.log(lib.tensor(np.array([0.5, 1.0, 2.0, 0.1])))
        loss = ((log_z + lp - log_r) ** 2).mean()
        loss.backward()
        return [loss, logits.grad, log_z.grad]

    for a, b in zip(run(gg), run(torch)):
        _close(a, b)


def test_diverse_buffer_distances(torch):
    rng = np.random.default_rng(9)
    batch = rng.integers(0, 5, (6, 2)).astype(np.float64)

    def run(lib):
        b = lib.tensor(batch)
        d = lib.cdist(b.unsqueeze(0), b.unsqueeze(0), p=1.0).squeeze(0)
        r, w = lib.triu_indices(*d.shape)
        d[r, w] = lib.finfo(d.dtype).max
        return d.min(-1)[0]

    _close(run(gg), run(torch))
