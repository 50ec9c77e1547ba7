"""Round 31, self-supervised learning (BYOL, DINO): distilled repros, checked against PyTorch in float64.

Both programs ran unchanged; these pin what they lean on. BYOL reads a hidden layer through a forward
hook, deep-copies the online encoder into a frozen target and moves it by an EMA written through
``param.data =``. DINO normalises its head's last layer with ``nn.utils.weight_norm`` (``weight_g``
frozen), keeps a ``center`` buffer that it reassigns under ``no_grad``, clips each gradient by its own
norm, drops the last layer's gradient (``p.grad = None``) in the first epoch, steps AdamW with a
weight-decay-free group, and interpolates position embeddings bicubically by a fractional factor."""

from __future__ import annotations

import copy
import warnings

import numpy as np

import glassgrad as gg


def _copy_weights(src, dst, lib):
    dst.load_state_dict({k: lib.tensor(v.detach().numpy()) for k, v in src.state_dict().items()})


def _byol(lib):
    lib.manual_seed(0)
    nn = lib.nn
    net = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4), nn.Identity(), nn.Linear(4, 3)).double()
    proj = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(inplace=True), nn.Linear(8, 3)).double()
    pred = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(inplace=True), nn.Linear(8, 3)).double()
    return nn.ModuleDict({"net": net, "proj": proj, "pred": pred})


def _byol_run(lib, model):
    F = lib.nn.functional
    hidden = {}

    def hook(_, inputs, output):
        hidden[inputs[0].device] = output.reshape(output.shape[0], -1)

    model["net"][3].register_forward_hook(hook)

    def encode(enc, x):
        enc["net"](x)
        return enc["proj"](hidden.pop(x.device))

    target = copy.deepcopy(nn_sub(model))
    for p in target.parameters():
        p.requires_grad = False
    # SGD, not Adam: biases feeding a BatchNorm have an exact-zero gradient, whose rounding noise
    # Adam would scale up to the learning rate
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.RandomState(1)
    out = []
    for _ in range(2):
        a = lib.tensor(rng.randn(5, 6))
        b = a.flip(-1)
        p1, p2 = model["pred"](encode(model, a)), model["pred"](encode(model, b))
        with lib.no_grad():
            t1, t2 = encode(target, a), encode(target, b)
            t1.detach_()
        loss = sum(
            2 - 2 * (F.normalize(p, dim=-1, p=2) * F.normalize(t, dim=-1, p=2)).sum(dim=-1)
            for p, t in ((p1, t2), (p2, t1))
        ).mean()
        opt.zero_grad()
        loss.backward()
        out.append(loss.item())
        out.append(model["net"][0].weight.grad.numpy().copy())
        opt.step()
        for cur, ma in zip(nn_sub(model).parameters(), target.parameters(), strict=True):
            ma.data = ma.data * 0.9 + (1 - 0.9) * cur.data
    out.append(target["proj"][3].weight.numpy().copy())
    out.append(target["proj"][1].running_mean.numpy().copy())
    return out


def nn_sub(model):
    # the target copies only the encoder (backbone + projector), as BYOL does
    return type(model)({"net": model["net"], "proj": model["proj"]})


def test_byol_hook_target_ema_as_torch(torch):
    theirs_model = _byol(torch)
    ours_model = _byol(gg)
    _copy_weights(theirs_model, ours_model, gg)
    theirs = _byol_run(torch, theirs_model)
    ours = _byol_run(gg, ours_model)
    for o, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(o, t, rtol=1e-10, atol=1e-12)


def _dino(lib):
    lib.manual_seed(0)
    nn = lib.nn
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        last = nn.utils.weight_norm(nn.Linear(4, 6, bias=False))
    last.weight_g.data.fill_(1)
    last.weight_g.requires_grad = False
    return nn.ModuleDict(
        {"mlp": nn.Sequential(nn.Linear(5, 7), nn.GELU(), nn.Linear(7, 4)), "last_layer": last}
    ).double()


def _dino_run(lib, student, teacher):
    F = lib.nn.functional
    teacher.load_state_dict(student.state_dict())
    for p in teacher.parameters():
        p.requires_grad = False

    def head(m, x):
        return m["last_layer"](F.normalize(m["mlp"](x), dim=-1, p=2))

    center = lib.zeros(1, 6, dtype=lib.float64)
    decay, plain = [], []
    for name, p in student.named_parameters():
        if p.requires_grad:
            (plain if name.endswith(".bias") or p.ndim == 1 else decay).append(p)
    opt = lib.optim.AdamW([{"params": decay}, {"params": plain, "weight_decay": 0.0}], lr=1e-2)
    rng = np.random.RandomState(2)
    out = []
    for epoch in range(2):
        views = lib.tensor(rng.randn(8, 5))  # 4 crops of 2
        t_out = head(teacher, views[:4])
        s_out = (head(student, views) / 0.1).chunk(4)
        q = F.softmax((t_out - center) / 0.04, dim=-1).detach().chunk(2)
        total, n = 0, 0
        for iq, qq in enumerate(q):
            for v, s in enumerate(s_out):
                if v != iq:
                    total += lib.sum(-qq * F.log_softmax(s, dim=-1), dim=-1).mean()
                    n += 1
        loss = total / n
        with lib.no_grad():
            center = center * 0.9 + lib.sum(t_out, dim=0, keepdim=True) / len(t_out) * 0.1
        opt.zero_grad()
        loss.backward()
        norms = []
        for _, p in student.named_parameters():
            if p.grad is not None:
                norm = p.grad.data.norm(2)
                norms.append(norm.item())
                coef = 0.05 / (norm + 1e-6)
                if coef < 1:
                    p.grad.data.mul_(coef)
        if epoch < 1:
            for name, p in student.named_parameters():
                if "last_layer" in name:
                    p.grad = None
        opt.step()
        with lib.no_grad():
            for pq, pk in zip(student.parameters(), teacher.parameters(), strict=True):
                pk.data.mul_(0.99).add_((1 - 0.99) * pq.detach().data)
        out += [loss.item(), np.array(norms), center.numpy().copy()]
    out += [v.numpy().copy() for v in teacher.state_dict().values()]
    return out


def test_dino_weight_norm_center_clip_cancel_as_torch(torch):
    ts, tt = _dino(torch), _dino(torch)
    gs, gt = _dino(gg), _dino(gg)
    _copy_weights(ts, gs, gg)
    theirs = _dino_run(torch, ts, tt)
    ours = _dino_run(gg, gs, gt)
    assert list(gs.state_dict()) == list(ts.state_dict())
    for o, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(o, t, rtol=1e-10, atol=1e-13)
    assert gs["last_layer"].weight_g.grad is None


def test_pos_embed_bicubic_fractional_scale_as_torch(torch):
    rng = np.random.RandomState(3)
    pos = rng.randn(1, 5, 2, 2)
    up = rng.randn(1, 5, 3, 3)

    def run(lib):
        p = lib.tensor(pos, requires_grad=True)
        y = lib.nn.functional.interpolate(p, scale_factor=(3.1 / 2, 3.1 / 2), mode="bicubic")
        (y * lib.tensor(up)).sum().backward()
        return y.detach().numpy(), p.grad.numpy()

    for o, t in zip(run(gg), run(torch), strict=True):
        np.testing.assert_allclose(o, t, rtol=1e-12, atol=1e-13)
