"""Round 57, reinforcement-learning programs.

Curt-Park/rainbow-is-all-you-need (notebooks 01-09), ShangtongZhang/DeepRL (its network bodies and
heads, the DQN, Double DQN, QR-DQN, C51, Rainbow, n-step DQN, A2C, PPO, Option-Critic, DDPG and
TD3 updates, ``utils/torch_utils.py``) and p-christ/Deep-Reinforcement-Learning-Algorithms-with-
PyTorch with p-christ/nn_builder (DQN variants, PER, DQN-HER, SAC, SAC-Discrete, DDPG, TD3) ran
with ``torch`` mapped to glassgrad against PyTorch from the same weights, replay samples and
NumPy-drawn noise: losses, gradients and parameters after a few updates agreed to float64
rounding, so no fix was needed. These tests pin the patterns those updates are built from
(written fresh here), each against PyTorch in float64 with gradients.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

LIBS = ["torch", "glassgrad"]


def _lib(name, torch):
    return torch if name == "torch" else gg


def _np(t):
    return t.detach().numpy()


def _c51_loss(lib, logits_np, next_dist_np, actions, rewards, dones):
    """Categorical DQN: project the target distribution with ``index_add_`` on a flat view of a
    zeros buffer, then the cross-entropy with the log-distribution picked by ``[range(B), a]``."""
    b, _, atoms = logits_np.shape
    v_min, v_max, gamma = -4.0, 4.0, 0.9
    support = lib.linspace(v_min, v_max, atoms, dtype=lib.float64)
    delta_z = (v_max - v_min) / (atoms - 1)
    logits = lib.tensor(logits_np, requires_grad=True)
    with lib.no_grad():
        next_dist = lib.tensor(next_dist_np)
        t_z = lib.tensor(rewards).reshape(-1, 1) + (1 - lib.tensor(dones).reshape(-1, 1)) * gamma * support
        bz = (t_z.clamp(min=v_min, max=v_max) - v_min) / delta_z
        lo = bz.floor().long()
        hi = lo + 1
        offset = lib.linspace(0, (b - 1) * atoms, b).long().unsqueeze(1).expand(b, atoms)
        proj = lib.zeros(next_dist.size(), dtype=lib.float64)
        proj.view(-1).index_add_(0, (lo + offset).view(-1), (next_dist * (hi.double() - bz)).view(-1))
        proj.view(-1).index_add_(
            0, (hi.clamp(max=atoms - 1) + offset).view(-1), (next_dist * (bz - lo.double())).view(-1)
        )
    log_p = lib.nn.functional.log_softmax(logits, dim=-1)[range(b), lib.tensor(actions)]
    loss = -(proj * log_p).sum(1)
    loss.mean().backward()
    return _np(proj), _np(loss), _np(logits.grad)


@pytest.mark.parametrize("atoms", [5, 11])
def test_categorical_projection_with_index_add_matches_torch(torch, atoms):
    rng = np.random.default_rng(atoms)
    b = 6
    logits = rng.standard_normal((b, 3, atoms))
    nd = rng.random((b, atoms))
    nd /= nd.sum(1, keepdims=True)
    actions = rng.integers(0, 3, b)
    rewards = np.array([0.0, 1.0, -1.0, 0.5, 3.9, -4.2])  # the last two clamp at the support's ends
    dones = np.array([0.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    ours = _c51_loss(gg, logits, nd, actions, rewards, dones)
    theirs = _c51_loss(torch, logits, nd, actions, rewards, dones)
    for a, e in zip(ours, theirs):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours[0].sum(1), 1.0, rtol=1e-12)  # the projection keeps the mass


def _noisy_linear(lib, x_np, eps_in_np, eps_out_np, training):
    """NoisyNet's factorised Gaussian noise: the outer product (``ger``) of f(eps) = sign*sqrt|eps|
    copied into buffers, and ``F.linear`` with mu + sigma * epsilon."""
    rng = np.random.default_rng(1)
    out_f, in_f = len(eps_out_np), len(eps_in_np)
    w_mu = lib.tensor(rng.uniform(-0.5, 0.5, (out_f, in_f)), requires_grad=True)
    w_sigma = lib.tensor(np.full((out_f, in_f), 0.5 / np.sqrt(in_f)), requires_grad=True)
    b_mu = lib.tensor(rng.uniform(-0.5, 0.5, out_f), requires_grad=True)
    b_sigma = lib.tensor(np.full(out_f, 0.5 / np.sqrt(in_f)), requires_grad=True)
    w_eps, b_eps = lib.zeros(out_f, in_f, dtype=lib.float64), lib.zeros(out_f, dtype=lib.float64)
    e_in, e_out = lib.tensor(eps_in_np), lib.tensor(eps_out_np)
    e_in, e_out = e_in.sign().mul(e_in.abs().sqrt()), e_out.sign().mul(e_out.abs().sqrt())
    w_eps.copy_(e_out.ger(e_in))
    b_eps.copy_(e_out)
    x = lib.tensor(x_np, requires_grad=True)
    if training:
        y = lib.nn.functional.linear(x, w_mu + w_sigma * w_eps, b_mu + b_sigma * b_eps)
    else:
        y = lib.nn.functional.linear(x, w_mu, b_mu)
    (y.relu() * lib.arange(y.numel(), dtype=lib.float64).reshape(y.shape)).sum().backward()
    grads = [
        p.grad if p.grad is not None else lib.zeros(p.shape, dtype=lib.float64)
        for p in (w_mu, w_sigma, b_mu, b_sigma, x)
    ]
    return [_np(y)] + [_np(g) for g in grads]


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_factorised_noisy_linear_matches_torch(torch, training):
    rng = np.random.default_rng(7)
    x, e_in, e_out = rng.standard_normal((4, 5)), rng.standard_normal(5), rng.standard_normal(3)
    ours = _noisy_linear(gg, x, e_in, e_out, training)
    theirs = _noisy_linear(torch, x, e_in, e_out, training)
    for a, e in zip(ours, theirs):
        np.testing.assert_allclose(a, e, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("lib_name", LIBS)
def test_batch_diagonal_through_as_strided_copy_backward(torch, lib_name):
    """DeepRL's ``batch_diagonal``: write a batch of vectors onto the diagonals of a zeros buffer
    through ``as_strided(...).copy_``; the buffer then carries the vectors' gradient."""
    lib = _lib(lib_name, torch)
    x_np = np.random.default_rng(3).standard_normal((3, 4))
    x = lib.tensor(x_np, requires_grad=True)
    out = lib.zeros(3, 4, 4, dtype=lib.float64)
    out.as_strided(x.size(), [out.stride(0), out.size(-1) + 1]).copy_(x)
    assert out.requires_grad
    w = np.arange(48.0).reshape(3, 4, 4)
    (out * lib.tensor(w)).sum().backward()
    np.testing.assert_array_equal(_np(out), np.stack([np.diag(r) for r in x_np]))
    np.testing.assert_array_equal(_np(x.grad), np.stack([np.diag(m) for m in w]))


def _quantile_huber(lib, q_np, target_np):
    """QR-DQN's loss: pairwise differences of target and predicted quantiles, Huber, weighted by
    |tau - 1{diff < 0}| with the indicator taken from the detached difference."""
    n = q_np.shape[1]
    q = lib.tensor(q_np, requires_grad=True)
    target = lib.tensor(target_np)
    tau = (lib.arange(n, dtype=lib.float64) + 0.5) / n
    diff = target.t().unsqueeze(-1) - q  # (n, B, n)
    huber = lib.where(diff.abs() < 1.0, 0.5 * diff.pow(2), diff.abs() - 0.5)
    loss = huber * (tau.view(1, -1) - (diff.detach() < 0).double()).abs()
    loss = loss.mean(0).sum(-1).mean()
    loss.backward()
    return _np(loss), _np(q.grad)


def test_quantile_huber_loss_matches_torch(torch):
    rng = np.random.default_rng(11)
    q, target = rng.standard_normal((4, 5)) * 2, rng.standard_normal((4, 5)) * 2
    for a, e in zip(_quantile_huber(gg, q, target), _quantile_huber(torch, q, target)):
        np.testing.assert_allclose(a, e, rtol=1e-13, atol=1e-15)
