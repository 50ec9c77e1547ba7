"""Round 60, examples2 (continued): the DDP tutorial series and minGPT-ddp in a world of one
(snapshot save and resume), and super_resolution's initialisation and PixelShuffle, against
PyTorch in float64. See ``test_port_round60_examples2.py`` for the programs run.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

import glassgrad as gg

from ..distributed.worlds import gg_world, torch_world
from .test_port_round60_examples2 import _close, _copy_weights, _dt

# ---- DDP tutorial series and minGPT-ddp: a world of one, snapshot save and resume ------------------


def test_ddp_series_cross_entropy_of_one_class_probabilities_is_zero(torch):
    # multigpu*.py train Linear(20, 1) with F.cross_entropy(output (N, 1), float targets (N, 1)):
    # class probabilities over one class, so the loss and every gradient are exactly 0
    rng = np.random.default_rng(4)
    x, y = rng.random((8, 20)), rng.random((8, 1))
    res = []
    for lib in (torch, gg):
        lin = lib.nn.Linear(20, 1).to(lib.float64)
        loss = lib.nn.functional.cross_entropy(lin(lib.from_numpy(x)), lib.from_numpy(y))
        loss.backward()
        res.append((loss.item(), lin.weight.grad.numpy().copy(), lin.bias.grad.numpy().copy()))
    assert res[1][0] == res[0][0] == 0.0
    for a, b in zip(res[0][1:], res[1][1:]):
        np.testing.assert_array_equal(b, a)


@dataclasses.dataclass
class _Snapshot:
    model_state: dict
    optimizer_state: dict
    finished_epoch: int


def _gpt_block(lib):
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(6, 8)
            self.ln = nn.LayerNorm(8)
            self.attn = nn.MultiheadAttention(8, 2, dropout=0.0, batch_first=True)
            self.head = nn.Linear(8, 6, bias=False)

        def forward(self, idx, mask):
            x = self.emb(idx)
            h = self.ln(x)
            return self.head(x + self.attn(h, h, h, attn_mask=mask)[0])

    lib.manual_seed(0)
    return Block().to(_dt(lib))


def _gpt_run(lib, world, init, data, path):
    with world:
        raw = _gpt_block(lib)
        if init is not None:
            _copy_weights(init, raw)
        decay = [
            p for n, p in raw.named_parameters() if n.endswith("weight") and not n.startswith(("ln", "emb"))
        ]
        rest = [p for n, p in raw.named_parameters() if not any(p is q for q in decay)]
        groups = [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}]
        opt = lib.optim.AdamW(groups, lr=3e-3, betas=(0.9, 0.95))
        model = lib.nn.parallel.DistributedDataParallel(raw)
        mask = lib.tril(lib.ones(4, 4, dtype=lib.float64)).view(1, 1, 4, 4)[0, 0]
        norms = []

        def step(x, y):
            logits = model(x, mask)
            loss = lib.nn.functional.cross_entropy(logits.view(-1, 6), y.view(-1), ignore_index=-1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            norms.append(lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0).item())
            opt.step()

        for x, y in data[:2]:
            step(lib.from_numpy(x), lib.from_numpy(y))
        snap = dataclasses.asdict(_Snapshot(model.module.state_dict(), opt.state_dict(), 1))
        lib.save(snap, path)
        with open(path, "rb") as f:  # trainer.py reads it through a file object, map_location="cpu"
            back = _Snapshot(**lib.load(f, map_location="cpu"))
        raw.load_state_dict(back.model_state)
        opt.load_state_dict(back.optimizer_state)
        for x, y in data[2:]:
            step(lib.from_numpy(x), lib.from_numpy(y))
        return norms, back.finished_epoch, {n: p.detach().numpy().copy() for n, p in raw.named_parameters()}


def test_mingpt_ddp_world_of_one_snapshot_resume_matches_torch(torch, tmp_path):
    rng = np.random.default_rng(5)
    data = [(rng.integers(0, 6, (3, 4)), rng.integers(0, 6, (3, 4))) for _ in range(4)]
    data[1][1][0, 0] = -1  # ignore_index
    init = _gpt_block(torch)
    t = _gpt_run(torch, torch_world(torch, tmp_path), None, data, tmp_path / "t.pt")
    o = _gpt_run(gg, gg_world(), init, data, tmp_path / "g.pt")
    _close(t[0], o[0])
    assert o[1] == t[1] == 1
    assert list(t[2]) == list(o[2])
    # The key bias gets no gradient in exact arithmetic (softmax is shift-invariant along the keys):
    # its AdamW updates are rounding noise over eps, which follows each host's summation order
    # (1e-12 apart on an AVX-512 host). Both stay at noise level; the rest is compared as usual.
    key = slice(8, 16)
    for lib_params in (t[2], o[2]):
        assert np.abs(lib_params["attn.in_proj_bias"][key]).max() < 1e-10
    for name in t[2]:
        a, b = t[2][name], o[2][name]
        if name == "attn.in_proj_bias":
            a, b = np.delete(a, np.r_[key]), np.delete(b, np.r_[key])
        _close(a, b)


# ---- super_resolution: orthogonal_ with a gain on conv weights, PixelShuffle ----------------------


def test_super_resolution_orthogonal_init_and_pixel_shuffle(torch):
    gain = gg.nn.init.calculate_gain("relu")
    assert gain == torch.nn.init.calculate_gain("relu") == math.sqrt(2.0)
    conv = gg.nn.Conv2d(8, 4, (3, 3), (1, 1), (1, 1)).to(gg.float64)
    gg.nn.init.orthogonal_(conv.weight, gain)
    w = conv.weight.detach().numpy().reshape(4, -1)  # rows: orthogonal, each of norm `gain`
    np.testing.assert_allclose(w @ w.T, gain**2 * np.eye(4), atol=1e-12)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 1, 5, 4))
    theirs = torch.nn.Conv2d(1, 9, (3, 3), (1, 1), (1, 1)).to(torch.float64)
    ours = gg.nn.Conv2d(1, 9, (3, 3), (1, 1), (1, 1)).to(gg.float64)
    _copy_weights(theirs, ours)
    res = []
    for lib, c1 in ((torch, theirs), (gg, ours)):
        y = lib.nn.PixelShuffle(3)(c1(lib.from_numpy(x)))
        (y * y).sum().backward()
        res.append((y.detach().numpy(), c1.weight.grad.numpy(), c1.bias.grad.numpy()))
    assert res[1][0].shape == (2, 1, 15, 12)
    for a, b in zip(*res):
        _close(a, b)
