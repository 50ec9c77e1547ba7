"""Round 63, Facebook self-supervised programs (facebookresearch/dino, deit, simsiam, moco-v3): all
four ran unchanged and matched PyTorch (no glassgrad defect found). Pinned here, written fresh after
their patterns: DINO's bicubic position-embedding resize by a non-integer ``scale_factor`` pair, its
head with a weight-normed last layer whose ``weight_g`` is frozen and its centred, sharpened
cross-entropy; SimSiam's projector ending in an affine-free ``BatchNorm1d`` and its stop-gradient
negative-cosine loss; MoCo v3's LARS trust ratio through nested ``where`` with 0-d ``ones_like``;
DeiT's soft distillation through ``kl_div(log_target=True, reduction="sum")``. Float64, compared
with PyTorch at 1e-12.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg

RNG_SEED = 63
TOL = dict(rtol=1e-12, atol=1e-12)


def _libs(torch):
    return [("torch", torch), ("glassgrad", gg)]


def _t(lib, a, grad=False):
    t = lib.tensor(np.array(a, dtype=np.float64))
    return t.requires_grad_(True) if grad else t


def _close(ref, got):
    np.testing.assert_allclose(got, ref, **TOL)


@pytest.mark.parametrize("grid", [(2, 5), (4, 4), (6, 3)], ids=["2x5", "4x4", "6x3"])
def test_dino_position_embedding_bicubic_scale_factor(torch, grid):
    """(1, 1 + N, D) embedding on a sqrt(N) square grid resized to ``grid`` patches; values and
    the gradient of the table."""
    rng = np.random.default_rng(RNG_SEED)
    table = rng.standard_normal((1, 10, 4))
    w = rng.standard_normal((1, 1 + grid[0] * grid[1], 4))
    res = {}
    for name, lib in _libs(torch):
        pos = _t(lib, table, grad=True)
        n, dim = pos.shape[1] - 1, pos.shape[-1]
        w0, h0 = grid[0] + 0.1, grid[1] + 0.1
        patch = lib.nn.functional.interpolate(
            pos[:, 1:].reshape(1, int(math.sqrt(n)), int(math.sqrt(n)), dim).permute(0, 3, 1, 2),
            scale_factor=(w0 / math.sqrt(n), h0 / math.sqrt(n)),
            mode="bicubic",
        )
        assert tuple(patch.shape[-2:]) == grid
        out = lib.cat((pos[:, 0].unsqueeze(0), patch.permute(0, 2, 3, 1).view(1, -1, dim)), dim=1)
        (out * _t(lib, w)).sum().backward()
        res[name] = (out.detach().numpy(), pos.grad.numpy())
    for ref, got in zip(res["torch"], res["glassgrad"], strict=True):
        _close(ref, got)


@pytest.mark.filterwarnings("ignore:`torch.nn.utils.weight_norm` is deprecated:FutureWarning")
@pytest.mark.parametrize("norm_last_layer", [True, False], ids=["frozen-g", "trained-g"])
def test_dino_head_weight_norm_and_centred_loss(torch, norm_last_layer):
    """Head: Linear, GELU, Linear to a bottleneck, L2-normalise, weight-normed Linear (no bias)
    with ``weight_g`` filled with 1 and frozen or not; DINO's loss over 2 teacher and 4 student
    chunks with centring, then the centre's EMA."""
    rng = np.random.default_rng(RNG_SEED)
    w1, w2, v = (rng.standard_normal(s) * 0.3 for s in [(6, 5), (3, 6), (7, 3)])
    feats = rng.standard_normal((8, 5))
    res = {}
    for name, lib in _libs(torch):
        nn, F = lib.nn, lib.nn.functional
        mlp = nn.Sequential(nn.Linear(5, 6), nn.GELU(), nn.Linear(6, 3)).double()
        last = nn.utils.weight_norm(nn.Linear(3, 7, bias=False)).double()
        with lib.no_grad():
            mlp[0].weight.copy_(_t(lib, w1))
            mlp[2].weight.copy_(_t(lib, w2))
            mlp[0].bias.zero_()
            mlp[2].bias.zero_()
            last.weight_v.copy_(_t(lib, v))
        last.weight_g.data.fill_(1)
        if norm_last_layer:
            last.weight_g.requires_grad = False
        center = lib.zeros(1, 7, dtype=lib.float64)
        out = last(F.normalize(mlp(_t(lib, feats)), dim=-1, p=2))
        teacher = F.softmax((out[:4].detach() * 1.5 - center) / 0.04, dim=-1).chunk(2)
        student = (out / 0.1).chunk(4)
        total, terms = 0, 0
        for iq, q in enumerate(teacher):
            for s in range(len(student)):
                if s != iq:
                    total += lib.sum(-q * F.log_softmax(student[s], dim=-1), dim=-1).mean()
                    terms += 1
        total /= terms
        total.backward()
        with lib.no_grad():
            batch_center = lib.sum(out[:4], dim=0, keepdim=True) / 4
            center = center * 0.9 + batch_center * 0.1
        g = last.weight_g.grad
        res[name] = (
            total.detach().numpy(),
            last.weight_v.grad.numpy(),
            mlp[0].weight.grad.numpy(),
            np.zeros(0) if g is None else g.numpy(),
            center.numpy(),
        )
        assert (g is None) == norm_last_layer
    for ref, got in zip(res["torch"], res["glassgrad"], strict=True):
        _close(ref, got)


@pytest.mark.parametrize("fix_pred_lr", [True, False], ids=["fix-pred-lr", "one-group"])
def test_simsiam_affine_free_bn_projector_and_param_groups(torch, fix_pred_lr):
    """Projector Linear -> BatchNorm1d(affine=False) whose preceding bias is frozen, a predictor
    with BN, the symmetric negative cosine with stop-gradient, SGD with the ``fix_lr`` groups and
    SimSiam's cosine learning-rate adjustment over two epochs."""
    rng = np.random.default_rng(RNG_SEED)
    x1, x2 = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    wp, wq1, wq2 = rng.standard_normal((5, 4)), rng.standard_normal((3, 5)), rng.standard_normal((5, 3))
    res = {}
    for name, lib in _libs(torch):
        nn = lib.nn
        proj = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5, affine=False)).double()
        proj[0].bias.requires_grad = False
        pred = nn.Sequential(
            nn.Linear(5, 3, bias=False), nn.BatchNorm1d(3), nn.ReLU(inplace=True), nn.Linear(3, 5)
        ).double()
        with lib.no_grad():
            proj[0].weight.copy_(_t(lib, wp))
            pred[0].weight.copy_(_t(lib, wq1))
            pred[3].weight.copy_(_t(lib, wq2))
            proj[0].bias.fill_(0.2)
            pred[3].bias.zero_()
        groups = (
            [{"params": proj.parameters(), "fix_lr": False}, {"params": pred.parameters(), "fix_lr": True}]
            if fix_pred_lr
            else list(proj.parameters()) + list(pred.parameters())
        )
        opt = lib.optim.SGD(groups, 0.05, momentum=0.9, weight_decay=1e-4)
        crit = nn.CosineSimilarity(dim=1)
        losses = []
        for epoch in range(2):
            cur = 0.05 * 0.5 * (1.0 + math.cos(math.pi * epoch / 2))
            for g in opt.param_groups:
                g["lr"] = 0.05 if g.get("fix_lr") else cur
            z1, z2 = proj(_t(lib, x1)), proj(_t(lib, x2))
            p1, p2 = pred(z1), pred(z2)
            loss = -(crit(p1, z2.detach()).mean() + crit(p2, z1.detach()).mean()) * 0.5
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        res[name] = [np.array(losses), proj[1].running_var.numpy()] + [
            p.detach().numpy() for p in list(proj.parameters()) + list(pred.parameters())
        ]
    for ref, got in zip(res["torch"], res["glassgrad"], strict=True):
        _close(ref, got)


def test_moco_lars_trust_ratio_with_zero_parameter(torch):
    """MoCo v3's LARS step: a matrix gets its trust ratio through nested ``where`` with 0-d
    ``ones_like``, a zero matrix keeps ratio 1, a vector skips both."""
    rng = np.random.default_rng(RNG_SEED)
    vals = [rng.standard_normal((3, 4)), np.zeros((2, 3)), rng.standard_normal(3)]
    grads = [rng.standard_normal(v.shape) for v in vals]
    res = {}
    for name, lib in _libs(torch):
        ps = [lib.nn.Parameter(_t(lib, v)) for v in vals]
        mus = [lib.zeros_like(p) for p in ps]
        for _ in range(2):
            with lib.no_grad():
                for p, mu, g in zip(ps, mus, grads, strict=True):
                    dp = _t(lib, g)
                    if p.ndim > 1:
                        dp = dp.add(p, alpha=1e-4)
                        pn, un = lib.norm(p), lib.norm(dp)
                        one = lib.ones_like(pn)
                        q = lib.where(pn > 0.0, lib.where(un > 0, (0.001 * pn / un), one), one)
                        dp = dp.mul(q)
                    mu.mul_(0.9).add_(dp)
                    p.add_(mu, alpha=-0.5)
        res[name] = [p.detach().numpy() for p in ps]
    for ref, got in zip(res["torch"], res["glassgrad"], strict=True):
        _close(ref, got)


@pytest.mark.parametrize("kind", ["soft", "hard"])
def test_deit_distillation_loss(torch, kind):
    """Class-token cross-entropy plus the dist-token term: soft is ``kl_div`` of log-softmaxes with
    ``log_target=True``, ``reduction="sum"``, times T^2 over ``numel``; hard is cross-entropy on the
    teacher's argmax."""
    rng = np.random.default_rng(RNG_SEED)
    cls_logits, dist_logits, teacher = (rng.standard_normal((4, 5)) for _ in range(3))
    labels = rng.integers(0, 5, size=4)
    res = {}
    for name, lib in _libs(torch):
        F = lib.nn.functional
        out, out_kd = _t(lib, cls_logits, grad=True), _t(lib, dist_logits, grad=True)
        t_out = _t(lib, teacher)
        base = F.cross_entropy(out, lib.tensor(labels), label_smoothing=0.1)
        if kind == "soft":
            T = 3.0
            dist = (
                F.kl_div(
                    F.log_softmax(out_kd / T, dim=1),
                    F.log_softmax(t_out / T, dim=1),
                    reduction="sum",
                    log_target=True,
                )
                * (T * T)
                / out_kd.numel()
            )
        else:
            dist = F.cross_entropy(out_kd, t_out.argmax(dim=1))
        loss = base * 0.5 + dist * 0.5
        loss.backward()
        res[name] = (loss.detach().numpy(), out.grad.numpy(), out_kd.grad.numpy())
    for ref, got in zip(res["torch"], res["glassgrad"], strict=True):
        _close(ref, got)
