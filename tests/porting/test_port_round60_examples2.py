"""Round 60, examples2: the rest of pytorch/examples (77f55b9) re-run against PyTorch.

imagenet (train/validate, checkpoint resume, ``--evaluate``, a world of one), super_resolution,
fast_neural_style (train and stylize), language_translation (train and greedy inference),
legacy/snli's model, the DDP tutorial series and minGPT-ddp (world of one, snapshot resume) and
mnist (``--dry-run --save-model`` then reload) all agreed with PyTorch in float64 with the same
weights and batches; no glassgrad change was needed. These tests pin the patterns those programs
are built from (written fresh here), against PyTorch in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

RTOL = 1e-10


def _dt(lib):
    return lib.float64


def _copy_weights(theirs, ours):
    """Load PyTorch's state dict into the glassgrad twin (through NumPy)."""
    ours.load_state_dict(
        {k: gg.from_numpy(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()}
    )


def _close(a, b, rtol=RTOL):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol * max(np.abs(a).max(initial=0.0), 1e-300))


def _grads(m):
    return [p.grad.numpy().copy() for p in m.parameters()]


# ---- imagenet: SGD + StepLR checkpoint (with the best accuracy as a tensor), resume, accuracy -------


def _imagenet_net(lib):
    nn = lib.nn
    lib.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, 2, 1, bias=False),
        nn.BatchNorm2d(4),
        nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
        nn.Linear(4, 7),
    ).to(_dt(lib))


def _accuracy(lib, output, target, topk=(1, 5)):
    with lib.no_grad():
        _, pred = output.topk(max(topk), 1, True, True)
        pred = pred.t()
        correct = pred.eq(target.view(1, -1).expand_as(pred))
        return [
            correct[:k].reshape(-1).float().sum(0, keepdim=True).mul_(100.0 / target.size(0)) for k in topk
        ]


def _imagenet_run(lib, init, batches, path):
    def build():
        model = _imagenet_net(lib)
        if init is not None:
            _copy_weights(init, model)
        opt = lib.optim.SGD(model.parameters(), 0.05, momentum=0.9, weight_decay=1e-4)
        return model, opt, lib.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.1)

    def epoch(model, opt, sched, xs):
        model.train()
        accs = []
        for x, y in xs:
            x, y = lib.from_numpy(x), lib.from_numpy(y)
            out = model(x)
            loss = lib.nn.CrossEntropyLoss()(out, y)
            accs.append([a.item() for a in _accuracy(lib, out, y)])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        return accs

    model, opt, sched = build()
    accs = epoch(model, opt, sched, batches[:2])
    best = _accuracy(lib, model(lib.from_numpy(batches[0][0])), lib.from_numpy(batches[0][1]))[0]
    state = {"epoch": 1, "arch": "tiny", "state_dict": model.state_dict(), "best_acc1": best}
    lib.save({**state, "optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, path)
    model, opt, sched = build()  # main.py builds everything again, then --resume loads into it
    ckpt = lib.load(path)
    model.load_state_dict(ckpt["state_dict"])
    opt.load_state_dict(ckpt["optimizer"])
    sched.load_state_dict(ckpt["scheduler"])
    accs += epoch(model, opt, sched, batches[2:])
    model.eval()  # --evaluate: running statistics
    with lib.no_grad():
        ev = model(lib.from_numpy(batches[0][0])).numpy()
    params = [p.detach().numpy().copy() for p in model.parameters()]
    return accs, ckpt["epoch"], float(ckpt["best_acc1"]), sched.get_last_lr(), params, ev


def test_imagenet_checkpoint_resume_matches_torch(torch, tmp_path):
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((8, 3, 8, 8)), rng.integers(0, 7, 8)) for _ in range(4)]
    theirs = _imagenet_net(torch)
    t = _imagenet_run(torch, None, batches, tmp_path / "t.pth.tar")
    o = _imagenet_run(gg, theirs, batches, tmp_path / "g.pth.tar")
    assert o[0] == t[0] and o[1] == t[1] and o[2] == t[2]
    _close(t[3], o[3])
    for a, b in zip(t[4], o[4]):
        _close(a, b)
    _close(t[5], o[5])


# ---- fast_neural_style: reflection pad, InstanceNorm, nearest upsample, in-place div_, gram -------


def _style_net(lib):
    nn = lib.nn

    class UpConv(nn.Module):
        def __init__(self):
            super().__init__()
            self.pad = nn.ReflectionPad2d(1)
            self.conv = nn.Conv2d(6, 3, 3, 1)

        def forward(self, x):
            x = lib.nn.functional.interpolate(x, mode="nearest", scale_factor=2)
            return self.conv(self.pad(x))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.pad = nn.ReflectionPad2d(2)
            self.conv1 = nn.Conv2d(3, 6, 5, 2)
            self.in1 = nn.InstanceNorm2d(6, affine=True)
            self.conv2 = nn.Conv2d(6, 6, 3, 1, padding=1)
            self.in2 = nn.InstanceNorm2d(6, affine=True)
            self.up = UpConv()
            self.relu = nn.ReLU()

        def forward(self, x):
            y = self.relu(self.in1(self.conv1(self.pad(x))))
            y = y + self.in2(self.conv2(y))  # the residual block
            return self.up(y)

    lib.manual_seed(0)
    return Net().to(_dt(lib))


def _gram(y):
    b, ch, h, w = y.size()
    f = y.view(b, ch, w * h)
    return f.bmm(f.transpose(1, 2)) / (ch * h * w)


def _normalize_batch(batch):
    mean = batch.new_tensor([0.485, 0.456, 0.406]).view(-1, 1, 1)
    std = batch.new_tensor([0.229, 0.224, 0.225]).view(-1, 1, 1)
    batch = batch.div_(255.0)  # in place on the network's output, as the example does
    return (batch - mean) / std


def _style_run(lib, init, xs, style):
    net = _style_net(lib)
    if init is not None:
        _copy_weights(init, net)
    opt = lib.optim.Adam(net.parameters(), 1e-3)
    mse = lib.nn.MSELoss()
    gs = _gram(_normalize_batch(lib.from_numpy(style.copy())))
    out = []
    for x in xs:
        opt.zero_grad()
        x = lib.from_numpy(x.copy())
        y = _normalize_batch(net(x))
        x = _normalize_batch(x)
        loss = 1e5 * mse(y, x) + 1e10 * mse(_gram(y), gs)
        loss.backward()
        opt.step()
        out.append((loss.item(), _grads(net), [p.detach().numpy().copy() for p in net.parameters()]))
    with lib.no_grad():  # stylize
        out.append(net.eval()(lib.from_numpy(xs[0][:1].copy())).clamp(0, 255).numpy())
    return out


def test_fast_neural_style_training_and_stylize_match_torch(torch):
    rng = np.random.default_rng(1)
    xs = [rng.uniform(0, 255, (2, 3, 8, 8)) for _ in range(2)]
    style = rng.uniform(0, 255, (2, 3, 8, 8))
    init = _style_net(torch)
    t, o = _style_run(torch, None, xs, style), _style_run(gg, init, xs, style)
    for (tl, tg, tp), (ol, og, op) in zip(t[:-1], o[:-1]):
        assert ol == pytest.approx(tl, rel=RTOL)
        # the conv biases before an InstanceNorm get a true gradient of 0: compare at the scale of
        # all gradients, where both libraries hold rounding noise
        scale = max(np.abs(g).max() for g in tg)
        for a, b in zip(tg, og):
            np.testing.assert_allclose(b, a, rtol=RTOL, atol=RTOL * scale)
        for i, (a, b) in enumerate(zip(tp, op)):
            if i in (1, 5):  # those biases: Adam turns the noise into steps of size lr, in both
                continue
            _close(a, b, 1e-9)
    _close(t[-1], o[-1])


# ---- language_translation: seq-first nn.Transformer with the example's masks, greedy decode -------


def _square_mask(lib, n):
    mask = (lib.triu(lib.ones((n, n))) == 1).transpose(0, 1)
    return mask.float().masked_fill(mask == 0, float("-inf")).masked_fill(mask == 1, 0.0)


def _translator(lib):
    lib.manual_seed(0)
    nn = lib.nn
    m = nn.ModuleDict(
        {
            "src": nn.Embedding(9, 8),
            "tgt": nn.Embedding(7, 8),
            "tr": nn.Transformer(8, 2, 1, 1, 16, dropout=0.0),
            "ff": nn.Linear(8, 7),
        }
    )
    return m.to(_dt(lib))


def _translate_run(lib, init, src, tgt, pad=1):
    m = _translator(lib)
    if init is not None:
        _copy_weights(init, m)
    src, tgt = lib.from_numpy(src), lib.from_numpy(tgt)
    tgt_in = tgt[:-1, :]
    s, t = src.shape[0], tgt_in.shape[0]
    src_mask = lib.zeros((s, s)).type(lib.bool)
    spm, tpm = (src == pad).transpose(0, 1), (tgt_in == pad).transpose(0, 1)
    outs = m["tr"](m["src"](src), m["tgt"](tgt_in), src_mask, _square_mask(lib, t), None, spm, tpm, spm)
    logits = m["ff"](outs)
    loss = lib.nn.CrossEntropyLoss(ignore_index=pad)(
        logits.reshape(-1, logits.shape[-1]), tgt[1:, :].reshape(-1)
    )
    loss.backward()
    m.eval()
    with lib.no_grad():  # main.py's greedy_decode: a bool mask made from the float one
        one = src[:, :1]
        memory = m["tr"].encoder(m["src"](one), lib.zeros((s, s)).type(lib.bool))
        ys = lib.ones(1, 1).fill_(2).type(lib.long)
        for _ in range(5):
            tmask = _square_mask(lib, ys.size(0)).type(lib.bool)
            out = m["tr"].decoder(m["tgt"](ys), memory, tmask).transpose(0, 1)
            _, nxt = lib.max(m["ff"](out[:, -1]), dim=1)
            ys = lib.cat([ys, lib.ones(1, 1).type_as(src.data).fill_(nxt.item())], dim=0)
    return logits.detach().numpy(), loss.item(), _grads(m), ys.flatten().tolist()


def test_language_translation_masks_loss_and_greedy_decode_match_torch(torch):
    rng = np.random.default_rng(2)
    src = rng.integers(2, 9, (6, 3))
    src[4:, 1] = 1  # padding
    tgt = rng.integers(2, 7, (5, 3))
    tgt[3:, 2] = 1
    init = _translator(torch)
    t, o = _translate_run(torch, None, src, tgt), _translate_run(gg, init, src, tgt)
    _close(t[0], o[0])
    assert o[1] == pytest.approx(t[1], rel=RTOL)
    for a, b in zip(t[2], o[2]):
        _close(a, b)
    assert o[3] == t[3]


# ---- legacy/snli: Linear through a Bottle mixin (MRO super().forward), bidirectional LSTM states --


def _snli(lib):
    nn = lib.nn

    class Bottle(nn.Module):
        def forward(self, input):
            if len(input.size()) <= 2:
                return super().forward(input)
            size = input.size()[:2]
            out = super().forward(input.view(size[0] * size[1], -1))
            return out.view(size[0], size[1], -1)

    class Linear(Bottle, nn.Linear):
        pass

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(12, 5)
            self.proj = Linear(5, 6)
            self.rnn = nn.LSTM(6, 4, num_layers=2, bidirectional=True)
            self.out = nn.Sequential(Linear(16, 16), nn.ReLU(), Linear(16, 3))

        def encode(self, x):
            h0 = c0 = x.new_zeros((4, x.size(1), 4))
            _, (ht, _) = self.rnn(x, (h0, c0))
            return ht[-2:].transpose(0, 1).contiguous().view(x.size(1), -1)

        def forward(self, prem, hypo):
            p = self.proj(self.embed(prem).detach()).relu()
            h = self.proj(self.embed(hypo).detach()).relu()
            return self.out(lib.cat([self.encode(p), self.encode(h)], 1))

    lib.manual_seed(0)
    return Net().to(_dt(lib))


def test_snli_bottle_linear_and_bidirectional_lstm_match_torch(torch):
    rng = np.random.default_rng(3)
    prem, hypo, label = rng.integers(0, 12, (7, 4)), rng.integers(0, 12, (5, 4)), rng.integers(0, 3, 4)
    theirs = _snli(torch)
    res = []
    for lib, m in ((torch, theirs), (gg, _snli(gg))):
        if lib is gg:
            _copy_weights(theirs, m)
        out = m(lib.from_numpy(prem), lib.from_numpy(hypo))
        lib.nn.CrossEntropyLoss()(out, lib.from_numpy(label)).backward()
        res.append(
            (out.detach().numpy(), [None if p.grad is None else p.grad.numpy() for p in m.parameters()])
        )
    _close(res[0][0], res[1][0])
    for a, b in zip(res[0][1], res[1][1]):
        assert (a is None) == (b is None)  # the detached embedding gets no gradient
        if a is not None:
            _close(a, b)
