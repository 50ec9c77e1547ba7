"""Round 30, group rl: Kaixhin/Rainbow (NoisyLinear, C51 projection, prioritized replay), cleanrl's
c51 / ppo_continuous_action / sac / td3 / ddpg / rpo / pqn / rainbow_atari / sac_atari /
ppo_atari_lstm, and nikhilbarhate99/min-decision-transformer.

The programs ran unchanged; what differed was the error of ``torch.save`` into a missing folder:
PyTorch raises ``RuntimeError`` (cleanrl's ``--save-model`` writes under ``runs/<name>/``, a folder
that its SummaryWriter makes), glassgrad raised a plain ``FileNotFoundError``. The other tests
distil how the programs use the API, compared with PyTorch in float64.
"""

from __future__ import annotations

import errno
import math
import pickle

import numpy as np
import pytest

import glassgrad as gg


def _both(torch, fn):
    """``fn(lib)`` for glassgrad and PyTorch; each returns a dict of arrays, compared here."""
    got = {k: np.asarray(v) for k, v in fn(gg).items()}
    want = {k: np.asarray(v) for k, v in fn(torch).items()}
    assert got.keys() == want.keys()
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-11, atol=1e-13, err_msg=k)


def _np(t):
    return t.detach().numpy().copy()


# ------------------------------------------------------------------------------- save errors
def test_save_into_a_missing_folder_is_a_runtime_error_as_pytorch(torch, tmp_path):
    path = tmp_path / "runs" / "c51.cleanrl_model"
    with pytest.raises(RuntimeError):
        torch.save({"w": torch.ones(1)}, path)
    with pytest.raises(RuntimeError, match=f"no such folder {tmp_path / 'runs'}$") as info:
        gg.save({"w": gg.ones(1)}, path)
    # still what plain Python raises, for code that catches that
    assert isinstance(info.value, FileNotFoundError)
    again = pickle.loads(pickle.dumps(info.value))
    assert isinstance(again, FileNotFoundError) and isinstance(again, RuntimeError)


def test_save_onto_a_folder_is_a_runtime_error_as_pytorch(torch, tmp_path):
    with pytest.raises(RuntimeError):
        torch.save({"w": torch.ones(1)}, tmp_path)
    with pytest.raises(RuntimeError, match=f"^save: {tmp_path}: ") as info:
        gg.save({"w": gg.ones(1)}, tmp_path)
    assert isinstance(info.value, IsADirectoryError) and info.value.errno == errno.EISDIR


# ------------------------------------------------------------------------------- Rainbow
def _noisy_linear(lib, w_mu, w_sigma, b_mu, b_sigma, eps_in, eps_out, x):
    """Kaixhin/Rainbow's factorised NoisyLinear: f(e) = sign(e) sqrt|e|, W = mu + sigma * (f_out f_in^T)."""
    f_in = lib.tensor(eps_in).sign().mul_(lib.tensor(eps_in).abs().sqrt_())
    f_out = lib.tensor(eps_out)
    f_out = f_out.sign().mul_(f_out.abs().sqrt_())
    weight_epsilon = lib.empty(w_mu.shape)
    weight_epsilon.copy_(f_out.ger(f_in))
    return lib.nn.functional.linear(x, w_mu + w_sigma * weight_epsilon, b_mu + b_sigma * f_out)


def test_rainbow_learn_projection_and_weighted_kl_as_pytorch(torch):
    rng = np.random.RandomState(0)
    batch, actions_n, atoms, vmin, vmax, hidden = 5, 3, 11, -2.0, 2.0, 4
    x_np, w = (
        rng.randn(batch, hidden),
        [rng.randn(actions_n * atoms, hidden) * 0.3, rng.randn(actions_n * atoms)],
    )
    eps_in, eps_out = rng.randn(hidden), rng.randn(actions_n * atoms)
    pns_np = rng.dirichlet(np.ones(atoms), size=batch)
    # returns that land exactly on support points (l == u) and beyond the clamp
    returns = np.array([0.0, 0.4, -5.0, 3.0, 0.13])
    nonterminals = np.array([[1.0], [0.0], [1.0], [1.0], [0.0]])
    acts = np.array([0, 2, 1, 1, 0])
    weights_np = np.array([1.0, 0.5, 0.8, 0.3, 0.9])

    def run(lib):
        params = [
            lib.tensor(a, requires_grad=True)
            for a in (w[0], np.full_like(w[0], 0.05), w[1], np.full_like(w[1], 0.1))
        ]
        x = lib.tensor(x_np)
        q = _noisy_linear(lib, *params, eps_in, eps_out, x).view(-1, actions_n, atoms)
        log_ps_a = lib.nn.functional.log_softmax(q, dim=2)[range(batch), lib.tensor(acts)]
        support = lib.linspace(vmin, vmax, atoms, dtype=lib.float64)
        delta_z = (vmax - vmin) / (atoms - 1)
        with lib.no_grad():
            pns_a = lib.tensor(pns_np)
            tz = lib.tensor(returns).unsqueeze(1) + lib.tensor(nonterminals) * 0.9 * support.unsqueeze(0)
            b = (tz.clamp(min=vmin, max=vmax) - vmin) / delta_z
            lo, up = b.floor().to(lib.int64), b.ceil().to(lib.int64)
            lo[(up > 0) * (lo == up)] -= 1
            up[(lo < (atoms - 1)) * (lo == up)] += 1
            m = x.new_zeros(batch, atoms)
            offset = (
                lib.linspace(0, (batch - 1) * atoms, batch)
                .unsqueeze(1)
                .expand(batch, atoms)
                .to(lib.tensor(acts))
            )
            m.view(-1).index_add_(0, (lo + offset).view(-1), (pns_a * (up.float() - b)).view(-1))
            m.view(-1).index_add_(0, (up + offset).view(-1), (pns_a * (b - lo.float())).view(-1))
        loss = -lib.sum(m * log_ps_a, 1)
        (lib.tensor(weights_np) * loss).mean().backward()
        norm = lib.nn.utils.clip_grad_norm_(params, 0.05)
        return {
            "m": _np(m),
            "loss": _np(loss),
            "norm": _np(norm),
            **{f"g{i}": _np(p.grad) for i, p in enumerate(params)},
        }

    _both(torch, run)


# ------------------------------------------------------------------------------- cleanrl
def test_cleanrl_c51_projection_loop_as_pytorch(torch):
    rng = np.random.RandomState(1)
    n_atoms, v_min, v_max = 9, -4.0, 4.0
    logits_np, next_pmfs_np = rng.randn(6, 2 * n_atoms), rng.dirichlet(np.ones(n_atoms), size=6)
    rewards, dones = (
        np.array([[1.0], [0.0], [2.0], [-1.0], [0.5], [7.0]]),
        np.array([[0.0], [1.0], [0.0], [0.0], [0.0], [0.0]]),
    )

    def run(lib):
        atoms = lib.linspace(v_min, v_max, steps=n_atoms, dtype=lib.float64)
        next_pmfs = lib.tensor(next_pmfs_np)
        next_atoms = lib.tensor(rewards) + 0.99 * atoms * (1 - lib.tensor(dones))
        b = (next_atoms.clamp(v_min, v_max) - v_min) / (atoms[1] - atoms[0])
        lo, up = b.floor().clamp(0, n_atoms - 1), b.ceil().clamp(0, n_atoms - 1)
        d_m_l, d_m_u = (up + (lo == up).float() - b) * next_pmfs, (b - lo) * next_pmfs
        target = lib.zeros_like(next_pmfs)
        for i in range(target.size(0)):
            target[i].index_add_(0, lo[i].long(), d_m_l[i])
            target[i].index_add_(0, up[i].long(), d_m_u[i])
        logits = lib.tensor(logits_np, requires_grad=True)
        pmfs = lib.softmax(logits.view(6, 2, n_atoms), dim=2)
        old = pmfs[lib.arange(6), lib.tensor([0, 1, 1, 0, 1, 0])]
        loss = (-(target * old.clamp(min=1e-5, max=1 - 1e-5).log()).sum(-1)).mean()
        loss.backward()
        return {"target": _np(target), "loss": _np(loss), "grad": _np(logits.grad)}

    _both(torch, run)


def test_cleanrl_ppo_continuous_update_as_pytorch(torch):
    rng = np.random.RandomState(2)
    obs, acts = rng.randn(8, 3), rng.randn(8, 2)
    old_logp, adv, ret, val = rng.randn(8) - 2, rng.randn(8), rng.randn(8), rng.randn(8)
    w_mean, w_v = rng.randn(2, 3), rng.randn(1, 3)

    def run(lib):
        mean_w, v_w = lib.tensor(w_mean, requires_grad=True), lib.tensor(w_v, requires_grad=True)
        logstd = lib.nn.Parameter(lib.zeros(1, 2, dtype=lib.float64) - 0.3)
        x = lib.tensor(obs)
        action_mean = x @ mean_w.T
        probs = lib.distributions.normal.Normal(action_mean, lib.exp(logstd.expand_as(action_mean)))
        newlogprob, entropy = probs.log_prob(lib.tensor(acts)).sum(1), probs.entropy().sum(1)
        newvalue = (x @ v_w.T).view(-1)
        ratio = (newlogprob - lib.tensor(old_logp)).exp()
        mb_adv = lib.tensor(adv)
        mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
        pg = lib.max(-mb_adv * ratio, -mb_adv * lib.clamp(ratio, 0.8, 1.2)).mean()
        v_clipped = lib.tensor(val) + lib.clamp(newvalue - lib.tensor(val), -0.2, 0.2)
        v_loss = 0.5 * lib.max((newvalue - lib.tensor(ret)) ** 2, (v_clipped - lib.tensor(ret)) ** 2).mean()
        loss = pg - 0.01 * entropy.mean() + 0.5 * v_loss
        loss.backward()
        norm = lib.nn.utils.clip_grad_norm_([mean_w, v_w, logstd], 0.5)
        return {
            "loss": _np(loss),
            "norm": _np(norm),
            "gm": _np(mean_w.grad),
            "gv": _np(v_w.grad),
            "gs": _np(logstd.grad),
        }

    _both(torch, run)


def test_cleanrl_sac_tanh_squashed_log_prob_as_pytorch(torch):
    rng = np.random.RandomState(3)
    mean_np, raw_std, eps = rng.randn(5, 2), rng.randn(5, 2), rng.randn(5, 2)

    def run(lib):
        mean, log_std = lib.tensor(mean_np, requires_grad=True), lib.tensor(raw_std, requires_grad=True)
        ls = -5 + 0.5 * (2 - (-5)) * (lib.tanh(log_std) + 1)
        normal = lib.distributions.Normal(mean, ls.exp())
        x_t = mean + ls.exp() * lib.tensor(eps)  # rsample with a shared draw
        scale = lib.tensor([2.0, 0.5], dtype=lib.float32)  # cleanrl's float32 action_scale buffer
        y_t = lib.tanh(x_t)
        log_prob = normal.log_prob(x_t)
        log_prob -= lib.log(scale * (1 - y_t.pow(2)) + 1e-6)
        log_prob = log_prob.sum(1, keepdim=True)
        log_prob.mean().backward()
        return {"lp": _np(log_prob), "gm": _np(mean.grad), "gs": _np(log_std.grad)}

    _both(torch, run)


def test_orthogonal_init_with_gain_is_orthogonal_as_pytorch(torch):
    for lib in (gg, torch):
        for shape, gain in (((64, 3), math.sqrt(2)), ((2, 64), 0.01), ((8, 1, 4, 4), 1.0), ((512, 128), 1.0)):
            w = lib.empty(*shape, dtype=lib.float64)
            out = lib.nn.init.orthogonal_(w, gain)
            assert out is w
            m = w.reshape(shape[0], -1).numpy()
            gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
            np.testing.assert_allclose(gram, gain**2 * np.eye(gram.shape[0]), atol=1e-12)


# ------------------------------------------------------------------------------- decision transformer
def test_decision_transformer_token_stacking_and_masked_attention_as_pytorch(torch):
    rng = np.random.RandomState(4)
    batch, steps, h, heads = 2, 3, 4, 2
    emb = [rng.randn(batch, steps, h) for _ in range(3)]
    w_qkv = rng.randn(3, h, h) * 0.5

    def run(lib):
        r, s, a = (lib.tensor(e, requires_grad=True) for e in emb)
        x = lib.stack((r, s, a), dim=1).permute(0, 2, 1, 3).reshape(batch, 3 * steps, h)
        big_t = 3 * steps
        mask = lib.tril(lib.ones((big_t, big_t), dtype=lib.float64)).view(1, 1, big_t, big_t)
        q, k, v = ((x @ lib.tensor(w).T).view(batch, big_t, heads, h // heads).transpose(1, 2) for w in w_qkv)
        weights = q @ k.transpose(2, 3) / math.sqrt(h // heads)
        weights = weights.masked_fill(mask[..., :big_t, :big_t] == 0, float("-inf"))
        att = (
            (lib.nn.functional.softmax(weights, dim=-1) @ v)
            .transpose(1, 2)
            .contiguous()
            .view(batch, big_t, h)
        )
        out = att.reshape(batch, steps, 3, h).permute(0, 2, 1, 3)
        (out[:, 1] ** 2).sum().backward()  # the action head reads the state tokens
        return {"out": _np(out), "gr": _np(r.grad), "gs": _np(s.grad), "ga": _np(a.grad)}

    _both(torch, run)
