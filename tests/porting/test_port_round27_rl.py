"""Round 27, reinforcement learning (TD3/DDPG, SAC, A2C/PPO/ACKTR): distilled repros of what the
programs ask of the API, each against PyTorch. ACKTR's K-FAC optimizer calls
``torch.symeig(A, eigenvectors=True)``, which PyTorch 2 keeps as a stub raising ``RuntimeError``
that names ``torch.linalg.eigh``; glassgrad had no such name (``AttributeError``)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad
import glassgrad.nn as gnn

REMOVED = [
    ("symeig", 1, "linalg.eigh"),
    ("eig", 1, "linalg.eig"),
    ("lstsq", 2, "linalg.lstsq"),
    ("solve", 2, "linalg.solve"),
    ("matrix_rank", 1, "linalg.matrix_rank"),
]


@pytest.mark.parametrize(("name", "nargs", "replacement"), REMOVED)
def test_removed_linalg_functions_raise_runtime_error_as_torch(torch, name, nargs, replacement):
    with pytest.raises(RuntimeError):
        getattr(torch, name)(*[torch.eye(2)] * nargs)
    with pytest.raises(RuntimeError, match=rf"^{name}: removed .*{replacement}"):
        getattr(glassgrad, name)(*[glassgrad.eye(2)] * nargs)
    if hasattr(torch.Tensor, name):  # PyTorch keeps the method stubs of all but matrix_rank
        with pytest.raises(RuntimeError, match=rf"^{name}: removed"):
            getattr(glassgrad.eye(2), name)(*[glassgrad.eye(2)] * (nargs - 1))
    else:
        assert not hasattr(glassgrad.Tensor, name)


def test_kfac_symeig_call_with_keywords_raises_runtime_error(torch):
    # a2c_ppo_acktr/algo/kfac.py: torch.symeig(self.m_aa[m], eigenvectors=True)
    m_aa = glassgrad.eye(3, dtype=glassgrad.float64)
    with pytest.raises(RuntimeError, match="torch.linalg.eigh"):
        glassgrad.symeig(m_aa, eigenvectors=True)
    d, q = glassgrad.linalg.eigh(m_aa, UPLO="U")  # the replacement the message names
    dt, qt = torch.linalg.eigh(torch.eye(3, dtype=torch.float64), UPLO="U")
    np.testing.assert_allclose(d.numpy(), dt.numpy())
    np.testing.assert_allclose(np.abs(q.numpy()), np.abs(qt.numpy()))


def _pair(torch, layer_t, layer_g):
    layer_g.load_state_dict(
        {k: glassgrad.tensor(v.detach().numpy()) for k, v in layer_t.state_dict().items()}
    )


def test_sac_gaussian_policy_sample_tanh_log_prob_matches_torch(torch, monkeypatch):
    # pytorch-soft-actor-critic model.py GaussianPolicy.sample, float64, the same rsample noise
    rng = np.random.RandomState(0)
    state, eps = rng.randn(5, 3), rng.randn(5, 2)
    import torch.distributions.normal as tnormal

    import glassgrad.distributions.utils as gdu

    monkeypatch.setattr(
        tnormal, "_standard_normal", lambda shape, dtype, device: torch.tensor(eps, dtype=dtype)
    )
    monkeypatch.setattr(gdu, "standard_normal", lambda shape, dtype: glassgrad.tensor(eps, dtype=dtype))
    out = []
    for lib, nn in ((torch, torch.nn), (glassgrad, gnn)):
        torch.manual_seed(0)
        mean_l, std_l = torch.nn.Linear(3, 2).double(), torch.nn.Linear(3, 2).double()
        if lib is glassgrad:
            m_g, s_g = nn.Linear(3, 2).double(), nn.Linear(3, 2).double()
            _pair(torch, mean_l, m_g)
            _pair(torch, std_l, s_g)
            mean_l, std_l = m_g, s_g
        x = lib.tensor(state)
        mean, log_std = mean_l(x), lib.clamp(std_l(x), min=-20, max=2)
        normal = lib.distributions.Normal(mean, log_std.exp())
        x_t = normal.rsample()
        y_t = lib.tanh(x_t)
        scale = lib.tensor([2.0], dtype=lib.float64)
        log_prob = normal.log_prob(x_t)
        log_prob -= lib.log(scale * (1 - y_t.pow(2)) + 1e-6)
        log_prob = log_prob.sum(1, keepdim=True)
        loss = (0.2 * log_prob - (y_t * scale).sum(1, keepdim=True)).mean()
        loss.backward()
        out.append(
            [log_prob.detach().numpy(), loss.item()] + [p.grad.numpy() for p in (mean_l.weight, std_l.weight)]
        )
    for a, b in zip(*out):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-13)


def test_td3_checkpoint_of_adam_state_resumes_as_torch(torch, tmp_path):
    # TD3.save/load: torch.save(state_dict()) of an actor and its Adam, loaded into fresh ones
    rng = np.random.RandomState(1)
    xs = [rng.randn(4, 3) for _ in range(3)]
    torch.manual_seed(0)
    net_t = torch.nn.Linear(3, 2).double()
    opt_t = torch.optim.Adam(net_t.parameters(), lr=3e-4)
    net_g = gnn.Linear(3, 2).double()
    _pair(torch, net_t, net_g)
    opt_g = glassgrad.optim.Adam(net_g.parameters(), lr=3e-4)
    for i, x in enumerate(xs):
        if i == 2:  # resume the glassgrad run from its checkpoint
            glassgrad.save(net_g.state_dict(), tmp_path / "actor")
            glassgrad.save(opt_g.state_dict(), tmp_path / "actor_optimizer")
            net_g = gnn.Linear(3, 2).double()
            net_g.load_state_dict(glassgrad.load(tmp_path / "actor"))
            opt_g = glassgrad.optim.Adam(net_g.parameters(), lr=3e-4)
            opt_g.load_state_dict(glassgrad.load(tmp_path / "actor_optimizer"))
        for net, opt, lib in ((net_t, opt_t, torch), (net_g, opt_g, glassgrad)):
            loss = (
                -torch.tanh(net(torch.tensor(x))).mean()
                if lib is torch
                else -glassgrad.tanh(net(glassgrad.tensor(x))).mean()
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
    np.testing.assert_allclose(net_g.weight.detach().numpy(), net_t.weight.detach().numpy(), rtol=1e-13)
    assert opt_g.state_dict()["state"][0]["step"].item() == 3


def test_ppo_categorical_actions_and_gae_match_torch(torch):
    # distributions.py FixedCategorical, envs.py VecPyTorch's isinstance(actions, torch.LongTensor),
    # storage.py compute_returns with GAE and bad_masks
    rng = np.random.RandomState(2)
    logits, acts = rng.randn(6, 3), rng.randint(0, 3, size=(6, 1))
    rew, val, masks = rng.randn(4, 2, 1), rng.randn(5, 2, 1), (rng.rand(5, 2, 1) > 0.3).astype(np.float64)
    res = []
    for lib in (torch, glassgrad):
        lg = lib.tensor(logits, requires_grad=True)
        d = lib.distributions.Categorical(logits=lg)
        a = lib.tensor(acts).long()
        assert isinstance(a, lib.LongTensor) and not isinstance(a, lib.FloatTensor)
        lp = d.log_prob(a.squeeze(-1)).view(a.size(0), -1).sum(-1).unsqueeze(-1)
        ent = d.entropy().mean()
        (lp.sum() + ent).backward()
        returns, value_preds = lib.zeros(5, 2, 1, dtype=lib.float64), lib.tensor(val)
        gae = 0
        for step in reversed(range(4)):
            delta = (
                lib.tensor(rew)[step]
                + 0.99 * value_preds[step + 1] * lib.tensor(masks)[step + 1]
                - value_preds[step]
            )
            gae = delta + 0.99 * 0.95 * lib.tensor(masks)[step + 1] * gae
            gae = gae * lib.tensor(masks)[step + 1]
            returns[step] = gae + value_preds[step]
        res.append(
            [
                lp.detach().numpy(),
                ent.item(),
                lg.grad.numpy(),
                returns.numpy(),
                d.probs.argmax(dim=-1, keepdim=True).numpy(),
            ]
        )
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-12)


def test_kfac_backward_hook_sees_the_output_gradient_as_torch(torch):
    # kfac.py: register_forward_pre_hook(_save_input), register_backward_hook(_save_grad_output) on a
    # bias-free Linear (SplitBias); the program reads input[0] and grad_output[0]
    rng = np.random.RandomState(3)
    x, w = rng.randn(5, 4), rng.randn(3, 4)
    seen = {}
    for name, lib, nn in (("torch", torch, torch.nn), ("gg", glassgrad, gnn)):
        lin = nn.Linear(4, 3, bias=False).double()
        with (torch if lib is torch else glassgrad).no_grad():
            lin.weight.copy_(lib.tensor(w))
        lin.register_forward_pre_hook(
            lambda m, inp, _n=name: seen.__setitem__(_n + "_a", inp[0].data.numpy().copy())
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch and glassgrad both deprecate the old hook
            lin.register_backward_hook(
                lambda m, gi, go, _n=name: seen.__setitem__(_n + "_g", go[0].data.numpy().copy())
            )
            out = lin(lib.tensor(x))
            (out.pow(2).sum() * 0.5).backward()
        seen[name + "_w"] = lin.weight.grad.numpy()
    for k in ("_a", "_g", "_w"):
        np.testing.assert_allclose(seen["gg" + k], seen["torch" + k], rtol=1e-13)
    g = seen["gg_g"] * 5
    np.testing.assert_allclose(g.T @ (g / 5), (x @ w.T).T @ (x @ w.T) * 5, rtol=1e-12)  # compute_cov_g
