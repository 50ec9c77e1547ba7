"""Round 41, group trl: TRL's DPO/KTO/ORPO/CPO/GRPO losses, reward model and PPO pieces.

TRL's ``trl.models.utils`` imports FSDP1's class by its defining module
(``from torch.distributed.fsdp.fully_sharded_data_parallel import FullyShardedDataParallel``), which
stopped every trainer's import; its vLLM client imports ``torch.distributed.distributed_c10d``.
Both module paths now exist. The loss tests compare, with PyTorch, the pieces the trainers are
made of: label-masked sequence log-probabilities (``gather`` of the log-softmax at the labels,
``-100`` masked), the pairwise preference losses (``logsigmoid``, ``relu``, the squared IPO
margin, the sorted AOT margin) and PPO's masked whitening with generalized advantage estimation.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F


def test_fsdp1_defining_module_path(torch):
    import torch.distributed.fsdp.fully_sharded_data_parallel as tmod

    import glassgrad.distributed.fsdp as fsdp
    from glassgrad.distributed.fsdp.fully_sharded_data_parallel import FullyShardedDataParallel

    assert FullyShardedDataParallel is fsdp.FullyShardedDataParallel
    assert tmod.FullyShardedDataParallel is torch.distributed.fsdp.FullyShardedDataParallel
    assert not isinstance(gg.nn.Linear(2, 2), FullyShardedDataParallel)
    assert not isinstance(torch.nn.Linear(2, 2), tmod.FullyShardedDataParallel)
    with pytest.raises(NotImplementedError, match="fully_shard"):
        FullyShardedDataParallel(gg.nn.Linear(2, 2))


def test_distributed_c10d_module_path(torch):
    import torch.distributed.distributed_c10d as tc10d

    import glassgrad.distributed as dist
    import glassgrad.distributed.distributed_c10d as c10d

    assert gg.distributed.distributed_c10d is c10d
    assert torch.distributed.distributed_c10d is tc10d
    for name in c10d.__all__ + ["_rank_not_in_group"]:
        assert hasattr(tc10d, name), name  # only PyTorch's names
        assert getattr(c10d, name) is getattr(dist, name), name
    assert c10d.is_initialized() == tc10d.is_initialized() is False
    with pytest.raises(ValueError, match="not been initialized"):
        c10d.get_rank()
    with pytest.raises(ValueError, match="not been initialized"):
        tc10d.get_rank()


def _batch_logps(lib, logits, labels, average):
    """Sequence log-probabilities of ``labels`` under ``logits`` (next-token), ``-100`` masked."""
    labels = labels[:, 1:].clone()
    logits = logits[:, :-1, :]
    mask = labels != -100
    labels[labels == -100] = 0
    picked = lib.gather(logits, -1, labels.unsqueeze(-1)).squeeze(-1)
    per_token = picked - lib.logsumexp(logits, dim=-1)
    total = (per_token * mask).sum(-1)
    return total / mask.sum(-1) if average else total


def _pref_losses(lib, fn, pol, ref, beta=0.1, smoothing=0.1):
    pc, pr = pol.chunk(2, dim=0)
    rc, rr = ref.chunk(2, dim=0)
    delta = (pc - rc) - (pr - rr)
    lr_sorted, _ = lib.sort(pc - pr, dim=0)
    ref_sorted, _ = lib.sort(rc - rr, dim=0)
    aot = lr_sorted - ref_sorted
    return {
        "sigmoid": -fn.logsigmoid(beta * delta),
        "hinge": lib.relu(1 - beta * delta),
        "ipo": (delta - 1 / (2 * beta)) ** 2,
        "robust": (-(1 - smoothing) * fn.logsigmoid(beta * delta) + smoothing * fn.logsigmoid(-beta * delta))
        / (1 - 2 * smoothing),
        "nca_pair": -fn.logsigmoid(beta * (pc - rc))
        - 0.5 * fn.logsigmoid(-beta * (pc - rc))
        - 0.5 * fn.logsigmoid(-beta * (pr - rr)),
        "aot": -fn.logsigmoid(beta * aot) * (1 - smoothing) - fn.logsigmoid(-beta * aot) * smoothing,
        "apo_zero": 1 - lib.sigmoid(beta * (pc - rc)) + lib.sigmoid(beta * (pr - rr)),
    }


@pytest.mark.parametrize("average", [False, True])
def test_preference_losses_on_masked_logps_match_pytorch(torch, average):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 7, 11))
    ref_logits = rng.standard_normal((6, 7, 11))
    labels = rng.integers(0, 11, size=(6, 7))
    labels[:, :3] = -100  # prompt
    labels[1, 5:] = -100  # padding
    labels[4, 6:] = -100
    tl = torch.tensor(logits, requires_grad=True)
    gl = gg.tensor(logits, requires_grad=True)
    t_pol = _batch_logps(torch, tl, torch.tensor(labels), average)
    g_pol = _batch_logps(gg, gl, gg.tensor(labels), average)
    t_ref = _batch_logps(torch, torch.tensor(ref_logits), torch.tensor(labels), average)
    g_ref = _batch_logps(gg, gg.tensor(ref_logits), gg.tensor(labels), average)
    np.testing.assert_allclose(g_pol.detach().numpy(), t_pol.detach().numpy(), rtol=0, atol=1e-12)
    t_all = _pref_losses(torch, torch.nn.functional, t_pol, t_ref)
    g_all = _pref_losses(gg, F, g_pol, g_ref)
    for name in t_all:
        np.testing.assert_allclose(g_all[name].detach().numpy(), t_all[name].detach().numpy(), atol=1e-12)
        (tg,) = torch.autograd.grad(t_all[name].mean(), tl, retain_graph=True)
        (ggrad,) = gg.autograd.grad(g_all[name].mean(), gl, retain_graph=True)
        np.testing.assert_allclose(ggrad.numpy(), tg.numpy(), rtol=0, atol=1e-12, err_msg=name)


def _whiten(lib, values, mask, shift_mean=True):
    mean = (values * mask).sum() / mask.sum()
    var = ((values - mean) ** 2 * mask).sum() / mask.sum()
    var = var * mask.sum() / (mask.sum() - 1)
    out = (values - mean) * lib.rsqrt(var + 1e-8)
    return out if shift_mean else out + mean


def _gae(lib, rewards, values, gamma=0.99, lam=0.95):
    last, rev = 0, []
    n = rewards.shape[1]
    for t in reversed(range(n)):
        nxt = values[:, t + 1] if t < n - 1 else 0.0
        last = rewards[:, t] + gamma * nxt - values[:, t] + gamma * lam * last
        rev.append(last)
    return lib.stack(rev[::-1], dim=1)


def test_ppo_gae_whitening_and_clipped_loss_match_pytorch(torch):
    rng = np.random.default_rng(1)
    rewards, values, adv_logp = rng.standard_normal((3, 3, 6))
    lengths = np.array([5, 3, 6])
    pad = np.arange(6)[None, :] >= lengths[:, None]
    out = {}
    for lib in (torch, gg):
        pm = lib.tensor(pad)
        r = lib.masked_fill(lib.tensor(rewards), pm, 0)
        r = lib.masked_fill(_whiten(lib, r, ~pm, shift_mean=False), pm, 0)
        v = lib.masked_fill(lib.tensor(values), pm, 0)
        adv = _gae(lib, r, v)
        ret = adv + v
        adv = lib.masked_fill(_whiten(lib, adv, ~pm), pm, 0)
        new_lp = lib.tensor(adv_logp, requires_grad=True)
        ratio = lib.exp(new_lp - 0.1)
        pg = lib.max(-adv * ratio, -adv * lib.clamp(ratio, 0.8, 1.2))
        vpred = new_lp * 0.5
        vf = lib.max(lib.square(vpred - ret), lib.square(lib.clamp(vpred, v - 0.2, v + 0.2) - ret))
        loss = (pg * ~pm).sum() / (~pm).sum() + 0.05 * (vf * ~pm).sum() / (~pm).sum()
        loss.backward()
        out[lib.__name__] = [
            adv.detach().numpy(),
            ret.detach().numpy(),
            loss.detach().numpy(),
            new_lp.grad.numpy(),
        ]
    for a, b in zip(out["glassgrad"], out["torch"]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
