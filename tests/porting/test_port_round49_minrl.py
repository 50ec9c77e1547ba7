"""Round 49 (small reinforcement-learning programs: minimalRL, RL-Adventure, RL-Adventure-2):
the binary cross-entropy target gradient, soft_margin_loss's target, and the patterns the
programs lean on (clipped surrogate at ratio 1, Categorical/Normal log-probabilities and
entropies, clip_grad_norm_, Adam, Polyak target updates), against PyTorch 2.13.

The programs ran unchanged (on a NumPy CartPole/Pendulum, one random stream for both libraries);
the fixes came from a sweep of the loss gradients they use. PyTorch's gradient of
``binary_cross_entropy`` with respect to the target is ``-logit(p)``, unclamped (+-inf at a
saturated p of 0 or 1); glassgrad clamped both logs at -100 (giving +-100). PyTorch refuses a
``soft_margin_loss`` target that requires grad; glassgrad differentiated it."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as ggF
from glassgrad.autograd import gradcheck, gradgradcheck

_TINY = {"float64": 1e-300, "float32": 1e-44}  # log p below -100: no longer clamped


def _bce_grads(lib, p, y, w, reduction, dtype):
    dt = getattr(lib, dtype)
    pt = lib.tensor(p, dtype=dt, requires_grad=True)
    yt = lib.tensor(y, dtype=dt, requires_grad=True)
    wt = None if w is None else lib.tensor(w, dtype=dt)
    out = lib.nn.functional.binary_cross_entropy(pt, yt, weight=wt, reduction=reduction)
    (out.sum() if reduction == "none" else out).backward()
    return out.detach().numpy(), pt.grad.numpy(), yt.grad.numpy()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_target_gradient_is_minus_logit(torch, dtype, reduction, weighted):
    rng = np.random.default_rng(49)
    p = np.concatenate([[0.0, 1.0, _TINY[dtype], 0.5], rng.uniform(0.01, 0.99, 8)]).reshape(3, 4)
    y = rng.uniform(0, 1, (3, 4))
    w = rng.uniform(0.5, 2.0, (4,)) if weighted else None
    theirs = _bce_grads(torch, p, y, w, reduction, dtype)
    ours = _bce_grads(gg, p, y, w, reduction, dtype)
    rtol = 1e-15 if dtype == "float64" else 1e-6  # float32: PyTorch's log is an ulp off NumPy's
    for a, b in zip(theirs, ours):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=0)
    assert np.isposinf(ours[2].reshape(-1)[0]) and np.isneginf(ours[2].reshape(-1)[1])


def test_bce_saturated_second_derivatives_are_pytorchs(torch):
    got = []
    for lib in (torch, gg):
        p = lib.tensor([0.0, 1.0, 0.5], requires_grad=True)
        y = lib.tensor([0.3, 0.6, 0.2], requires_grad=True)
        loss = lib.nn.functional.binary_cross_entropy(p, y)
        gp, gy = lib.autograd.grad(loss, (p, y), create_graph=True)
        hp, hy = lib.autograd.grad(gp.sum() + gy.sum(), (p, y))
        got.append([t.detach().numpy() for t in (gp, gy, hp, hy)])
    for a, b in zip(*got):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=0)  # infinities included; no nan
    assert not any(np.isnan(t).any() for t in got[1])


@pytest.mark.parametrize(
    ("shape", "wshape"), [((5,), (5,)), ((3, 4), (4,)), ((2, 3, 4), (3, 1)), ((2, 1, 3), (1, 3))]
)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_gradcheck_broadcast_weight(shape, wshape, reduction):
    rng = np.random.default_rng(sum(shape) + len(wshape))
    p = gg.tensor(rng.uniform(0.05, 0.95, shape), requires_grad=True)
    y = gg.tensor(rng.uniform(0, 1, shape), requires_grad=True)
    w = gg.tensor(rng.uniform(0.5, 2, wshape))
    fn = lambda p, y: ggF.binary_cross_entropy(p, y, weight=w, reduction=reduction)  # noqa: E731
    assert gradcheck(fn, (p, y))
    assert gradgradcheck(fn, (p, y))


def test_soft_margin_target_takes_no_gradient(torch):
    x = np.array([[0.3, -1.2, 2.0], [0.1, 0.0, -0.7]])
    y = np.array([[1.0, -1.0, 1.0], [-1.0, 1.0, 1.0]])
    for lib in (torch, gg):
        with pytest.raises(RuntimeError, match="soft_margin_loss"):
            lib.nn.functional.soft_margin_loss(lib.tensor(x), lib.tensor(y, requires_grad=True))
        with pytest.raises(RuntimeError, match="soft_margin_loss"):
            lib.nn.SoftMarginLoss(reduction="none")(lib.tensor(x), lib.tensor(y, requires_grad=True))
    got = []
    for lib in (torch, gg):
        xt, yt = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
        with lib.no_grad():  # no graph: PyTorch computes it
            quiet = lib.nn.functional.soft_margin_loss(xt, yt).item()
        loss = lib.nn.functional.soft_margin_loss(xt, yt.detach())
        loss.backward()
        got.append((quiet, loss.item(), xt.grad.numpy()))
    np.testing.assert_allclose(got[1][0], got[0][0], rtol=1e-15)
    np.testing.assert_allclose(got[1][1], got[0][1], rtol=1e-15)
    np.testing.assert_allclose(got[1][2], got[0][2], rtol=1e-14, atol=1e-17)


def _actor_critic_steps(lib, weights, batch, steps=3):
    """A PPO/DQN-style update written for this test: clipped surrogate (ratio 1 on the first step,
    where min and clamp tie), Categorical and Normal terms, smooth_l1 critic, clip_grad_norm_, Adam,
    then a Polyak update of a target copy. Returns what each step saw."""
    nn, F = lib.nn, lib.nn.functional
    net = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 4)).double()
    target = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 4)).double()
    net.load_state_dict({k: lib.tensor(v) for k, v in weights.items()})
    target.load_state_dict(net.state_dict())
    opt = lib.optim.Adam(net.parameters(), lr=1e-2)
    s, a, r, s2, done, act = (lib.tensor(v) for v in batch)
    with lib.no_grad():
        old_logp = lib.distributions.Categorical(logits=net(s)[:, :2]).log_prob(a)
    seen = []
    for _ in range(steps):
        out = net(s)
        dist = lib.distributions.Categorical(logits=out[:, :2])
        logp = dist.log_prob(a)
        ratio = lib.exp(logp - old_logp)
        adv = r - out[:, 2].detach()
        surr = -lib.min(ratio * adv, lib.clamp(ratio, 0.8, 1.2) * adv).mean()
        with lib.no_grad():
            q_next = target(s2)[:, :2].max(1)[0]
        td = r + 0.99 * q_next * (1 - done)
        critic = F.smooth_l1_loss(out[:, :2].gather(1, a.unsqueeze(1)).squeeze(1), td)
        normal = lib.distributions.Normal(out[:, 3], F.softplus(out[:, 2]) + 1e-3)
        cont = -(normal.log_prob(act) * adv).mean() - 0.01 * normal.entropy().mean()
        loss = surr + critic + cont - 0.01 * dist.entropy().mean()
        opt.zero_grad()
        loss.backward()
        norm = nn.utils.clip_grad_norm_(net.parameters(), 0.5)
        grads = [p.grad.numpy().copy() for p in net.parameters()]
        opt.step()
        for pt, p in zip(target.parameters(), net.parameters()):
            pt.data.copy_(pt.data * 0.9 + p.data * 0.1)
        seen.append(
            (loss.item(), norm.item(), grads, [p.detach().numpy().copy() for p in target.parameters()])
        )
    return seen


@pytest.mark.parametrize("seed", range(6))
def test_actor_critic_update_matches_torch_float64(torch, seed):
    rng = np.random.default_rng(seed)
    shapes = {"0.weight": (16, 4), "0.bias": (16,), "2.weight": (4, 16), "2.bias": (4,)}
    weights = {k: rng.uniform(-0.5, 0.5, s) for k, s in shapes.items()}
    n = 12
    batch = (
        rng.standard_normal((n, 4)), rng.integers(0, 2, n), rng.standard_normal(n),
        rng.standard_normal((n, 4)), (rng.random(n) < 0.2).astype(np.float64), rng.standard_normal(n),
    )  # fmt: skip
    theirs = _actor_critic_steps(torch, weights, batch)
    ours = _actor_critic_steps(gg, weights, batch)
    for (tl, tn, tg, tp), (ol, on, og, op) in zip(theirs, ours):
        np.testing.assert_allclose(ol, tl, rtol=1e-12)
        np.testing.assert_allclose(on, tn, rtol=1e-12)
        for a, b in zip(tg + tp, og + op):
            np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-13)
