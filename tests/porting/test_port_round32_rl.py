"""Round 32, rl (openai/spinningup's PyTorch VPG, PPO, DDPG, TD3, SAC): distilled repros.

The five algorithms ran unchanged; these tests pin what they lean on, against PyTorch: the
Gaussian actor's float32 ``log_std`` next to a float64 mean (the dtypes each of Normal's results
keeps), PPO's clipped surrogate with its ``as_tensor(bool, dtype=float32)`` clip fraction, SAC's
tanh-squashed log-likelihood, and the NumPy views that ``mpi_avg_grads``/``sync_params`` write
through to average gradients and broadcast parameters."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

RS = np.random.RandomState(7)
MU = RS.standard_normal((5, 2))
LOG_STD = -0.5 * np.ones(2, dtype=np.float32)
ACT = RS.standard_normal((5, 2))


def _normal_results(mod):
    mu = mod.tensor(MU, requires_grad=True)
    log_std = mod.tensor(LOG_STD, requires_grad=True)
    pi = mod.distributions.Normal(mu, mod.exp(log_std))
    logp = pi.log_prob(mod.tensor(ACT)).sum(axis=-1)
    ent = pi.entropy()
    (logp.sum() + ent.mean()).backward()
    return pi, logp, ent, mu.grad, log_std.grad


def test_gaussian_actor_mixed_dtypes_as_torch(torch):
    ours, theirs = _normal_results(gg), _normal_results(torch)
    for a, b in zip(ours[1:], theirs[1:]):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-7)
    for name in ("loc", "scale", "stddev", "variance", "mean"):
        got, want = getattr(ours[0], name), getattr(theirs[0], name)
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], name


def _ppo_pi_loss(mod, clip_ratio=0.2):
    logp_old = mod.tensor(RS_PPO[0])
    logp = mod.tensor(RS_PPO[1], requires_grad=True)
    adv = mod.tensor(RS_PPO[2])
    ratio = mod.exp(logp - logp_old)
    clip_adv = mod.clamp(ratio, 1 - clip_ratio, 1 + clip_ratio) * adv
    loss = -(mod.min(ratio * adv, clip_adv)).mean()
    clipped = ratio.gt(1 + clip_ratio) | ratio.lt(1 - clip_ratio)
    clipfrac = mod.as_tensor(clipped, dtype=mod.float32).mean().item()
    approx_kl = (logp_old - logp).mean().item()
    loss.backward()
    return loss.item(), clipfrac, approx_kl, logp.grad.numpy()


RS_PPO = (RS.standard_normal(16), RS.standard_normal(16) * 0.3, RS.standard_normal(16))
RS_PPO = (RS_PPO[0], RS_PPO[0] + RS_PPO[1], RS_PPO[2])


def test_ppo_clipped_surrogate_as_torch(torch):
    ours, theirs = _ppo_pi_loss(gg), _ppo_pi_loss(torch)
    assert 0 < theirs[1] < 1  # some ratios clipped, some not: both branches of min/clamp run
    np.testing.assert_allclose(ours[:3], theirs[:3], rtol=1e-12)
    np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-12, atol=1e-15)


def _sac_logp(mod, eps=None):
    """SAC's squashed Gaussian (spinup sac/core.py); ``eps`` replays a draw instead of rsample."""
    mu = mod.tensor(MU, requires_grad=True)
    pre_log_std = mod.tensor(ACT * 3, requires_grad=True)
    std = mod.exp(mod.clamp(pre_log_std, -20, 2))
    pi = mod.distributions.Normal(mu, std)
    u = pi.rsample() if eps is None else mu + mod.tensor(eps) * std
    logp = pi.log_prob(u).sum(axis=-1)
    logp = logp - (2 * (np.log(2) - u - mod.nn.functional.softplus(-2 * u))).sum(axis=1)
    (logp.sum() + mod.tanh(u).sum()).backward()
    eps_used = ((u - mu) / std).detach().numpy()
    return logp.detach().numpy(), mu.grad.numpy(), pre_log_std.grad.numpy(), eps_used


def test_sac_squashed_logp_grads_as_torch(torch):
    gg.manual_seed(0)
    ours = _sac_logp(gg)
    theirs = _sac_logp(torch, eps=ours[3])
    assert (np.abs(ACT * 3) > 2).any()  # the clamp cuts some log-stds: their gradient is zero
    for a, b in zip(ours[:3], theirs[:3]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_mpi_numpy_views_write_through():
    layer = gg.nn.Linear(3, 2)
    layer(gg.ones(4, 3)).sum().backward()
    # mpi_avg_grads: the averaged gradient is written into p.grad.numpy() in place
    for p in layer.parameters():
        view = p.grad.numpy()
        view[:] = np.asarray(p.grad, dtype=np.float32) * 0.5
    np.testing.assert_array_equal(layer.bias.grad.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(layer.weight.grad.numpy(), np.full((2, 3), 2.0))
    # sync_params: the broadcast parameter is written into p.data.numpy() in place
    layer.weight.data.numpy()[:] = 3.0
    np.testing.assert_array_equal(
        layer(gg.ones(1, 3)).detach().numpy() - layer.bias.detach().numpy(), [[9.0, 9.0]]
    )


def test_bad_thread_counts_raise_runtime_error_as_torch(torch):
    # spinup's setup_pytorch_for_mpi computes a thread count and sets it; PyTorch refuses a bad one
    # with RuntimeError (ours stay TypeError/ValueError too, for plain-Python callers)
    for name in ("set_num_threads", "set_num_interop_threads"):
        for bad, also in (
            (0, ValueError),
            (-2, ValueError),
            (1.5, TypeError),
            (True, TypeError),
            ("2", TypeError),
        ):
            with pytest.raises(RuntimeError):
                getattr(torch, name)(bad)
            with pytest.raises(RuntimeError, match=name) as info:
                getattr(gg, name)(bad)
            assert isinstance(info.value, also), (name, bad)
