"""Round 34, stable-baselines3 (PPO, A2C, DQN, SAC, TD3, DDPG): distilled repros.

The algorithms train as in PyTorch. One refusal stopped ``model.save``/``load``: with a learning-rate
schedule, sb3 writes ``progress_remaining``'s lr into the optimizer's groups, and the last update
can leave it negative (the step count overshoots the total by part of a rollout). PyTorch checks
options in the constructor only, so the saved state dict loads there; glassgrad re-checked every
option in ``load_state_dict`` and refused it. sb3 also loads pre-1.7 checkpoints (no
``pi_features_extractor``) by retrying when a strict load's error says "Missing key(s) in
state_dict" and names that prefix; ours said "missing keys", so the retry never ran. Its logger
imports ``hparams`` from ``torch.utils.tensorboard.summary``, which we kept in another module, so
the import failed and sb3 took TensorBoard for missing. The other tests pin sb3's own idioms: Polyak
averaging through ``th.add(..., alpha=tau, out=target.data)``, DQN's max/gather/Huber step with
gradient clipping, and SAC's tanh-squashed Gaussian log-probability."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _linear_pair(torch, seed=0):
    rng = np.random.default_rng(seed)
    w, b = rng.standard_normal((2, 3)), rng.standard_normal(2)
    t = torch.nn.Linear(3, 2).double()
    g = gg.nn.Linear(3, 2).double()
    with torch.no_grad():
        t.weight.copy_(torch.tensor(w))
        t.bias.copy_(torch.tensor(b))
    g.load_state_dict({"weight": gg.tensor(w), "bias": gg.tensor(b)})
    return t, g


@pytest.mark.parametrize("opt_name", ["RMSprop", "Adam"])
def test_load_state_dict_takes_a_scheduled_negative_lr(torch, opt_name):
    x = np.random.default_rng(1).standard_normal((4, 3))
    t, g = _linear_pair(torch)
    results = []
    for mod, net in ((torch, t), (gg, g)):
        cls = getattr(mod.optim, opt_name)
        opt = cls(net.parameters(), lr=1e-3)
        for group in opt.param_groups:  # sb3's update_learning_rate after progress passed 1
            group["lr"] = -4.2e-5
        net(mod.tensor(x)).pow(2).sum().backward()
        opt.step()
        saved = opt.state_dict()
        fresh = cls(net.parameters(), lr=1e-3)
        fresh.load_state_dict(saved)
        net.zero_grad()
        net(mod.tensor(x)).pow(2).sum().backward()
        fresh.step()
        results.append((fresh.param_groups[0]["lr"], net.weight.detach().numpy().copy()))
    (lr_t, w_t), (lr_g, w_g) = results
    assert lr_g == lr_t == -4.2e-5
    np.testing.assert_allclose(w_g, w_t, rtol=1e-12, atol=1e-14)


def test_polyak_update_through_add_out(torch):
    tau = 0.005
    outs = []
    for mod in (torch, gg):
        src = mod.nn.Linear(3, 2).double()
        tgt = mod.nn.Linear(3, 2).double()
        rng = np.random.default_rng(2)
        with mod.no_grad():
            for p, q in zip(src.parameters(), tgt.parameters()):
                p.copy_(mod.tensor(rng.standard_normal(tuple(p.shape))))
                q.copy_(mod.tensor(rng.standard_normal(tuple(q.shape))))
            before = tgt.weight.data
            for p, q in zip(src.parameters(), tgt.parameters()):
                q.data.mul_(1 - tau)
                mod.add(q.data, p.data, alpha=tau, out=q.data)
        assert tgt.weight.data.data_ptr() == before.data_ptr()  # written in place
        outs.append(tgt.weight.detach().numpy().copy())
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-14)


def test_dqn_step_matches_torch(torch):
    rng = np.random.default_rng(3)
    obs, nxt = rng.standard_normal((8, 3)), rng.standard_normal((8, 3))
    acts, rew, done = rng.integers(0, 2, (8, 1)), rng.standard_normal((8, 1)), rng.integers(0, 2, (8, 1))
    t, g = _linear_pair(torch, 4)
    res = []
    for mod, net in ((torch, t), (gg, g)):
        opt = mod.optim.Adam(net.parameters(), lr=1e-2)
        with mod.no_grad():
            nq, _ = net(mod.tensor(nxt)).max(dim=1)
            target = mod.tensor(rew) + (1 - mod.tensor(done).double()) * 0.99 * nq.reshape(-1, 1)
        q = mod.gather(net(mod.tensor(obs)), dim=1, index=mod.tensor(acts).long())
        loss = mod.nn.functional.smooth_l1_loss(q, target)
        opt.zero_grad()
        loss.backward()
        norm = mod.nn.utils.clip_grad_norm_(net.parameters(), 0.1)
        opt.step()
        res.append((loss.item(), float(norm), net.weight.detach().numpy().copy()))
    np.testing.assert_allclose(res[1][:2], res[0][:2], rtol=1e-12)
    np.testing.assert_allclose(res[1][2], res[0][2], rtol=1e-12)


def test_squashed_gaussian_log_prob(torch):
    rng = np.random.default_rng(5)
    mean, log_std, eps = (
        rng.standard_normal((5, 2)),
        rng.standard_normal((5, 2)) * 0.3,
        rng.standard_normal((5, 2)),
    )
    res = []
    for mod in (torch, gg):
        m = mod.tensor(mean, requires_grad=True)
        ls = mod.tensor(log_std, requires_grad=True)
        dist = mod.distributions.Normal(m, ls.exp())
        u = m + ls.exp() * mod.tensor(eps)
        a = mod.tanh(u)
        lp = dist.log_prob(u).sum(dim=1) - mod.sum(mod.log(1 - a**2 + 1e-6), dim=1)
        ent = -lp.mean()
        ent.backward()
        res.append((lp.detach().numpy(), m.grad.numpy(), ls.grad.numpy()))
    for got, want in zip(res[1], res[0]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_strict_load_error_keeps_torch_key_phrases(torch):
    """sb3's base_class.load: ``if "pi_features_extractor" in str(e) and "Missing key(s) in
    state_dict" in str(e)`` then load non-strictly and warn."""
    for mod in (torch, gg):
        net = mod.nn.Sequential()
        net.add_module("pi_features_extractor", mod.nn.Linear(2, 2))
        net.add_module("head", mod.nn.Linear(2, 1))
        saved = {k: v for k, v in net.state_dict().items() if not k.startswith("pi_features_extractor")}
        saved["old.weight"] = mod.zeros(1)
        with pytest.raises(RuntimeError) as err:
            net.load_state_dict(saved)
        msg = str(err.value)
        assert "Missing key(s) in state_dict" in msg and "pi_features_extractor.weight" in msg
        assert "Unexpected key(s) in state_dict" in msg and "old.weight" in msg
        result = net.load_state_dict(saved, strict=False)
        assert sorted(result.missing_keys) == ["pi_features_extractor.bias", "pi_features_extractor.weight"]
        assert result.unexpected_keys == ["old.weight"]


def test_tensorboard_summary_hparams_at_torch_path(torch):
    pytest.importorskip("tensorboard")
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData
    from torch.utils.tensorboard.summary import hparams as torch_hparams

    from glassgrad.utils.tensorboard.summary import hparams

    hp, metrics = (
        {"lr": 0.1, "n": 3, "opt": "adam", "flag": True},
        {"rollout/ep_rew_mean": 0.0, "train/loss": 0},
    )
    for ours, theirs in zip(hparams(hp, metrics), torch_hparams(hp, metrics)):
        (a,), (b,) = ours.value, theirs.value
        assert a.tag == b.tag and a.metadata.plugin_data.plugin_name == b.metadata.plugin_data.plugin_name
        # compared parsed: the session's map of values serialises in no fixed order
        assert HParamsPluginData.FromString(a.metadata.plugin_data.content) == HParamsPluginData.FromString(
            b.metadata.plugin_data.content
        )
