"""Round 29, group labml2: distilled pieces of labmlai/annotated_deep_learning_paper_implementations
(GANs with gradient and path-length penalties, DDPM's U-Net attention, capsule routing, evidential
losses, sketch-RNN's bivariate mixture loss, PPO's clipped losses, DQN's double-Q loss). Each
script runs on glassgrad and on PyTorch from the same float64 weights and inputs; outputs and
gradients must agree."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad

from .helpers import assert_same

_RNG = np.random.default_rng(29)


def _arr(*shape):
    return _RNG.standard_normal(shape)


def _t(lib, a, grad=False):
    out = lib.tensor(np.array(a))
    return out.requires_grad_() if grad else out


def script_wgan_gradient_penalty(lib, x, w1, w2, w3):
    """A DCGAN-style critic (conv, batch norm, in-place leaky relu); the WGAN-GP penalty is the
    gradient of the critic with respect to its input, differentiated again for the weights."""
    nn = lib.nn
    conv1, conv2 = nn.Conv2d(1, 4, 4, 2, 1, bias=False), nn.Conv2d(4, 6, 3, 2, 0, bias=False)
    head = nn.Conv2d(6, 1, 3, 1, 0, bias=False)
    critic = nn.Sequential(conv1, nn.LeakyReLU(0.2, inplace=True), conv2, nn.BatchNorm2d(6))
    critic.append(nn.LeakyReLU(0.2, inplace=True)).append(head).double()
    with lib.no_grad():
        for conv, w in ((conv1, w1), (conv2, w2), (head, w3)):
            conv.weight.copy_(_t(lib, w))
    xr = _t(lib, x, grad=True)
    f = critic(xr).view(x.shape[0], -1)
    (g,) = lib.autograd.grad(outputs=f, inputs=xr, grad_outputs=f.new_ones(f.shape), create_graph=True)
    penalty = ((g.reshape(x.shape[0], -1).norm(2, dim=-1) - 1) ** 2).mean()
    loss = lib.nn.functional.relu(1 - f).mean() + 10 * penalty
    loss.backward()
    return [f, penalty, xr.grad] + [c.weight.grad for c in (conv1, conv2, head)]


def test_wgan_gradient_penalty_double_backward(torch):
    args = (_arr(3, 1, 16, 16), _arr(4, 1, 4, 4) * 0.3, _arr(6, 4, 3, 3) * 0.3, _arr(1, 6, 3, 3) * 0.3)
    assert_same(
        script_wgan_gradient_penalty(glassgrad, *args),
        script_wgan_gradient_penalty(torch, *args),
        1e-9,
        1e-11,
    )


def script_stylegan_path_length(lib, w_lat, x, style_w, conv_w, y):
    """StyleGAN2's weight-modulated, demodulated grouped convolution, its blur (replication pad +
    fixed kernel) and the path-length penalty: grad of <g(w), y> with respect to w, kept in the graph."""
    F = lib.nn.functional
    w = _t(lib, w_lat, grad=True)
    sw, cw = _t(lib, style_w, grad=True), _t(lib, conv_w, grad=True)
    b, _, h, wd = x.shape
    s = (w @ sw / math.sqrt(w_lat.shape[1]))[:, None, :, None, None] + 1
    weights = cw[None, :, :, :, :] * s
    sigma_inv = lib.rsqrt((weights**2).sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
    weights = (weights * sigma_inv).reshape(-1, conv_w.shape[1], 3, 3)
    out = F.conv2d(_t(lib, x).reshape(1, -1, h, wd), weights, padding=1, groups=b)
    out = out.reshape(b, -1, h, wd)
    kernel = lib.tensor([[[[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]]], dtype=lib.float64) / 16
    blurred = F.conv2d(lib.nn.ReplicationPad2d(1)(out.view(-1, 1, h, wd)), kernel).view(out.shape)
    target = (blurred * _t(lib, y)).sum() / math.sqrt(h * wd)
    (g,) = lib.autograd.grad(outputs=target, inputs=w, grad_outputs=lib.ones(target.shape), create_graph=True)
    norm = (g**2).sum(dim=1).sqrt()
    penalty = ((norm - 0.5) ** 2).mean()
    (penalty + blurred.square().mean()).backward()
    return [blurred, norm, penalty, w.grad, sw.grad, cw.grad]


def test_stylegan_modulated_conv_and_path_length_penalty(torch):
    args = (_arr(2, 5), _arr(2, 3, 6, 6), _arr(5, 3) * 0.5, _arr(4, 3, 3, 3), _arr(2, 4, 6, 6))
    assert_same(
        script_stylegan_path_length(glassgrad, *args), script_stylegan_path_length(torch, *args), 1e-9, 1e-11
    )


def script_ddpm_attention(lib, x, proj_w, alpha_bar, t):
    """DDPM U-Net's attention block: einsum over heads, an in-place residual on a permuted view,
    then ``permute(...).view(...)`` back to (N, C, H, W); and ``gather`` of the schedule."""
    xg = _t(lib, x, grad=True)
    pw = _t(lib, proj_w, grad=True)
    b, c, h, w = x.shape
    seq = xg.view(b, c, -1).permute(0, 2, 1)
    qkv = (seq @ pw).view(b, -1, 1, 3 * c)
    q, k, v = lib.chunk(qkv, 3, dim=-1)
    attn = (lib.einsum("bihd,bjhd->bijh", q, k) * c**-0.5).softmax(dim=2)
    res = lib.einsum("bijh,bjhd->bihd", attn, v).view(b, -1, c)
    res += seq
    res = res.permute(0, 2, 1).view(b, c, h, w)
    coef = _t(lib, alpha_bar).gather(-1, _t(lib, t)).reshape(-1, 1, 1, 1)
    loss = (coef**0.5 * res).square().mean()
    loss.backward()
    return [res, coef, xg.grad, pw.grad]


def test_ddpm_attention_block_and_schedule_gather(torch):
    args = (
        _arr(2, 4, 3, 3),
        _arr(4, 12) * 0.4,
        np.cumprod(1 - np.linspace(1e-4, 0.02, 10)),
        np.array([3, 9]),
    )
    assert_same(script_ddpm_attention(glassgrad, *args), script_ddpm_attention(torch, *args), 1e-9, 1e-12)


def script_capsule_router(lib, u, weight, labels):
    """Dynamic routing between capsules (softmax over output capsules, squash) and the margin loss."""
    ug, wg = _t(lib, u), _t(lib, weight, grad=True)

    def squash(s):
        s2 = (s**2).sum(dim=-1, keepdims=True)
        return (s2 / (1 + s2)) * (s / lib.sqrt(s2 + 1e-8))

    u_hat = lib.einsum("ijnm,bin->bijm", wg, ug)
    b_log = ug.new_zeros(u.shape[0], u.shape[1], weight.shape[1])
    for _ in range(3):
        c = lib.nn.Softmax(dim=1)(b_log)
        v = squash(lib.einsum("bij,bijm->bjm", c, u_hat))
        b_log = b_log + lib.einsum("bjm,bijm->bij", v, u_hat)
    v_norm = lib.sqrt((v**2).sum(dim=-1))
    onehot = lib.eye(weight.shape[1], device=ug.device)[_t(lib, labels)]
    loss = onehot * lib.relu(0.9 - v_norm) + 0.5 * (1.0 - onehot) * lib.relu(v_norm - 0.1)
    loss.sum(dim=-1).mean().backward()
    return [v, wg.grad]


def test_capsule_routing_and_margin_loss(torch):
    args = (_arr(2, 5, 4), _arr(5, 3, 4, 6) * 0.5, np.array([0, 2]))
    assert_same(script_capsule_router(glassgrad, *args), script_capsule_router(torch, *args), 1e-9, 1e-12)


def script_evidential_losses(lib, logits, target):
    """Evidential deep learning: Dirichlet log-likelihood, Bayes risks and the KL term (lgamma/digamma)."""
    lg = _t(lib, logits, grad=True)
    tgt = _t(lib, target)
    alpha = lib.nn.functional.softplus(lg) + 1.0
    strength = alpha.sum(dim=-1)
    mll = (tgt * (strength.log()[:, None] - alpha.log())).sum(dim=-1).mean()
    ce = (tgt * (lib.digamma(strength)[:, None] - lib.digamma(alpha))).sum(dim=-1).mean()
    alpha_t = tgt + (1 - tgt) * alpha
    n = alpha.shape[-1]
    s_t = alpha_t.sum(dim=-1)
    kl = lib.lgamma(s_t) - lib.lgamma(alpha_t.new_tensor(float(n))) - lib.lgamma(alpha_t).sum(dim=-1)
    kl = kl + ((alpha_t - 1) * (lib.digamma(alpha_t) - lib.digamma(s_t)[:, None])).sum(dim=-1)
    total = mll + ce + kl.mean()
    total.backward()
    return [mll, ce, kl, lg.grad]


def test_evidential_losses(torch):
    target = np.eye(3)[[0, 1, 2, 1]]
    args = (_arr(4, 3), target)
    assert_same(
        script_evidential_losses(glassgrad, *args), script_evidential_losses(torch, *args), 1e-9, 1e-12
    )


def script_bivariate_mixture_loss(lib, params, xy, mask):
    """sketch-RNN's reconstruction loss: a mixture of 2-D Gaussians built from a batch of 2x2
    covariances (MultivariateNormal) weighted by Categorical(logits=...).probs."""
    p = _t(lib, params, grad=True)
    pi_logits, mu_x, mu_y, sx, sy, rho = lib.split(p, 3, 2)
    sx, sy, rho = (
        lib.clamp_min(sx.exp(), 1e-5),
        lib.clamp_min(sy.exp(), 1e-5),
        lib.clamp(rho.tanh(), -0.99, 0.99),
    )
    mean = lib.stack([mu_x, mu_y], -1)
    cov = lib.stack([sx * sx, rho * sx * sy, rho * sx * sy, sy * sy], -1).view(*sy.shape, 2, 2)
    mix = lib.distributions.MultivariateNormal(mean, covariance_matrix=cov)
    pi = lib.distributions.Categorical(logits=pi_logits)
    target = _t(lib, xy).unsqueeze(-2).expand(-1, -1, 3, -1)
    probs = lib.sum(pi.probs * lib.exp(mix.log_prob(target)), 2)
    loss = -lib.mean(_t(lib, mask) * lib.log(1e-5 + probs))
    loss.backward()
    return [probs, loss, p.grad]


def test_sketch_rnn_bivariate_mixture_loss(torch):
    mask = np.ones((4, 2))
    mask[2:, 1] = 0
    args = (_arr(4, 2, 18) * 0.5, _arr(4, 2, 2), mask)
    assert_same(
        script_bivariate_mixture_loss(glassgrad, *args),
        script_bivariate_mixture_loss(torch, *args),
        1e-9,
        1e-12,
    )


def script_ppo_losses(lib, log_pi, old_log_pi, adv, value, old_value, ret):
    """PPO's clipped policy and value losses, and its clip fraction via the builtin ``abs``."""
    lp, v = _t(lib, log_pi, grad=True), _t(lib, value, grad=True)
    ratio = lib.exp(lp - _t(lib, old_log_pi))
    clipped = ratio.clamp(min=1.0 - 0.1, max=1.0 + 0.1)
    a = _t(lib, adv)
    policy = -lib.min(ratio * a, clipped * a).mean()
    clip_fraction = (abs(ratio - 1.0) > 0.1).to(lib.float).mean()
    ov, r = _t(lib, old_value), _t(lib, ret)
    clipped_v = ov + (v - ov).clamp(min=-0.1, max=0.1)
    vf = 0.5 * lib.max((v - r) ** 2, (clipped_v - r) ** 2).mean()
    (policy + 0.5 * vf).backward()
    return [policy, clip_fraction, vf, lp.grad, v.grad]


def test_ppo_clipped_losses(torch):
    args = (_arr(8) * 0.2 - 1, _arr(8) * 0.2 - 1, _arr(8), _arr(8), _arr(8), _arr(8))
    assert_same(script_ppo_losses(glassgrad, *args), script_ppo_losses(torch, *args), 1e-9, 1e-12)


def script_double_q_loss(lib, q, double_q, target_q, action, done, reward):
    """DQN's trainer wraps replay-buffer NumPy arrays with ``q.new_tensor`` (ints and bools become
    q's float dtype), gathers the taken action and takes a Huber loss against the double-Q target."""
    qg = _t(lib, q, grad=True).float()
    qg.retain_grad()
    act, dn, rw = qg.new_tensor(action), qg.new_tensor(done), qg.new_tensor(reward)
    sampled = qg.gather(-1, act.to(lib.long).unsqueeze(-1)).squeeze(-1)
    with lib.no_grad():
        best = lib.argmax(_t(lib, double_q).float(), -1)
        best_q = _t(lib, target_q).float().gather(-1, best.unsqueeze(-1)).squeeze(-1)
        update = rw + 0.99 * best_q * (1 - dn)
    loss = lib.mean(
        qg.new_tensor(np.array([0.5, 1.0, 1.5])) * lib.nn.SmoothL1Loss(reduction="none")(sampled, update)
    )
    loss.backward()
    return [act, dn, sampled - update, loss, qg.grad]


def test_dqn_double_q_loss_with_new_tensor_from_numpy(torch):
    args = (_arr(3, 4), _arr(3, 4), _arr(3, 4), np.array([1, 3, 0], np.int32), np.array([False, True, False]))
    args += (np.array([1.0, -0.5, 0.25], np.float32),)
    ours, theirs = script_double_q_loss(glassgrad, *args), script_double_q_loss(torch, *args)
    assert_same(ours, theirs, 1e-6, 1e-7)
    assert str(ours[0].dtype) == "glassgrad.float32" and str(ours[1].dtype) == "glassgrad.float32"


def script_gatv2(lib, h, adj, wl, wr, attn_w):
    """GATv2's scoring: ``g_l[j] + g_r[i]``, leaky relu, masked_fill(-inf) off the graph, softmax over j."""
    n = h.shape[0]
    hg = _t(lib, h, grad=True)
    wl_, wr_, aw = _t(lib, wl, grad=True), _t(lib, wr, grad=True), _t(lib, attn_w, grad=True)
    g_l, g_r = (hg @ wl_).view(n, 2, 3), (hg @ wr_).view(n, 2, 3)
    g_sum = g_l.repeat(n, 1, 1) + g_r.repeat_interleave(n, dim=0)
    e = (lib.nn.LeakyReLU(0.2)(g_sum.view(n, n, 2, 3)) @ aw).squeeze(-1)
    e = e.masked_fill(_t(lib, adj).unsqueeze(-1) == 0, float("-inf"))
    a = lib.nn.Softmax(dim=1)(e)
    out = lib.einsum("ijh,jhf->ihf", a, g_r).reshape(n, 6)
    lib.nn.functional.elu(out).sum().backward()
    return [a, out, hg.grad, wl_.grad, wr_.grad, aw.grad]


def test_gatv2_masked_attention(torch):
    adj = (_RNG.random((5, 5)) > 0.5) | np.eye(5, dtype=bool)
    args = (_arr(5, 4), adj, _arr(4, 6), _arr(4, 6), _arr(3, 1))
    assert_same(script_gatv2(glassgrad, *args), script_gatv2(torch, *args), 1e-9, 1e-12)


@pytest.mark.parametrize("lib_name", ["glassgrad", "torch"])
def test_instance_norm_single_spatial_element_refused_in_training(torch, lib_name):
    """CycleGAN's discriminator on too small an image reaches a 1x1 map: both refuse with ValueError."""
    lib = glassgrad if lib_name == "glassgrad" else torch
    with pytest.raises(ValueError, match="spatial element"):
        lib.nn.InstanceNorm2d(4)(lib.zeros(2, 4, 1, 1))
