"""Recorded (create_graph) rules of the recurrences, embedding_bag, grid_sample and ctc_loss."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.autograd import gradgradcheck
from glassgrad.nn.utils.rnn import pack_padded_sequence
from glassgrad.ops.recurrent import GRUSeq, LSTMSeq, RNNSeq
from glassgrad.ops.recurrent_dense import LSTMDense


def _t(*shape, seed=0, scale=0.5):
    return gg.tensor(np.random.RandomState(seed).randn(*shape) * scale, dtype=gg.float64, requires_grad=True)


# ------------------------------------------------------------------ the fused ops, gradgradcheck
# (sizes, N, reverse): a padded batch, a packed one, and a state with rows no step reads
LAYOUTS = [((2, 2), 2, True), ((3, 2, 1), 3, False), ((3, 2, 1), 3, True), ((2, 1), 3, True)]


@pytest.mark.parametrize("sizes,n,reverse", LAYOUTS)
@pytest.mark.parametrize("variant", ["tanh", "relu", "nobias"])
def test_rnn_seq_gradgradcheck(sizes, n, reverse, variant):
    s, hid = sum(sizes), 2
    xg, h0, w, b = _t(s, hid, seed=1), _t(n, hid, seed=2), _t(hid, hid, seed=3), _t(hid, seed=4)
    act = "relu" if variant == "relu" else "tanh"
    if variant == "relu":  # pre-activations away from the kink, for the finite differences
        xg = gg.tensor(np.abs(xg.detach().numpy()) + 0.3, dtype=gg.float64, requires_grad=True)

    def fn(xg, h0, w, *bias):
        bb = bias[0] if bias else None
        return RNNSeq.apply(xg, h0, w, bb, batch_sizes=sizes, reverse=reverse, nonlinearity=act)

    inputs = (xg, h0, w) if variant == "nobias" else (xg, h0, w, b)
    assert gradgradcheck(fn, inputs)


@pytest.mark.parametrize("sizes,n,reverse", LAYOUTS)
def test_gru_seq_gradgradcheck(sizes, n, reverse):
    s, hid = sum(sizes), 2
    ins = (_t(s, 3 * hid, seed=1), _t(n, hid, seed=2), _t(3 * hid, hid, seed=3), _t(3 * hid, seed=4))
    assert gradgradcheck(lambda *a: GRUSeq.apply(*a, batch_sizes=sizes, reverse=reverse), ins)


@pytest.mark.parametrize("sizes,n,reverse", LAYOUTS)
@pytest.mark.parametrize("proj", [False, True])
def test_lstm_seq_gradgradcheck(sizes, n, reverse, proj):
    s, hid = sum(sizes), 2
    p = 1 if proj else hid
    ins = [_t(s, 4 * hid, seed=1), _t(n, p, seed=2), _t(n, hid, seed=3), _t(4 * hid, p, seed=4)]
    ins += [_t(4 * hid, seed=5)] + ([_t(p, hid, seed=6)] if proj else [])

    def fn(xg, h0, c0, w, b, *wr):
        return LSTMSeq.apply(xg, h0, c0, w, b, wr[0] if wr else None, batch_sizes=sizes, reverse=reverse)

    assert gradgradcheck(fn, tuple(ins))


def test_seq_inputs_with_one_producer():
    # h0 and c0 one tensor: each input's gradient is its own, not their sum twice
    xg, h = _t(4, 8, seed=1), _t(2, 2, seed=2)
    w, b = _t(8, 2, seed=3), _t(8, seed=4)
    assert gradgradcheck(
        lambda xg, h, w, b: LSTMSeq.apply(xg, h, h, w, b, None, batch_sizes=(2, 2)), (xg, h, w, b)
    )


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_lstm_dense_rule(reverse, bias):
    x, h0, c0 = _t(6, 3, seed=1), _t(2, 2, seed=2), _t(2, 2, seed=3)
    wi, wh, bi, bh = _t(8, 3, seed=4), _t(8, 2, seed=5), _t(8, seed=6), _t(8, seed=7)
    if bias:
        ins = (x, h0, c0, wi, wh, bi, bh)
        fn = lambda *a: LSTMDense.apply(*a, steps=3, reverse=reverse)  # noqa: E731
    else:
        ins = (x, h0, c0, wi, wh)
        fn = lambda *a: LSTMDense.apply(*a, None, None, steps=3, reverse=reverse)  # noqa: E731
    assert gradgradcheck(fn, ins)


# ------------------------------------------------------------------ nn modules against PyTorch
def _twins(torch, mode, **kw):
    torch.manual_seed(0)
    tm = getattr(torch.nn, mode)(3, 4, **kw).double()
    gm = getattr(gg.nn, mode)(3, 4, **kw).to(gg.float64)
    for (n1, p1), (n2, p2) in zip(tm.named_parameters(), gm.named_parameters()):
        assert n1 == n2
        p2._data[...] = p1.detach().numpy()
    return tm, gm


def _second_order(lib, m, x, packed, batch_first):
    """Loss through the module; its gradients w.r.t. input and weights (create_graph); a penalty on
    them; the penalty's gradients."""
    if packed:
        pack = lib.nn.utils.rnn.pack_padded_sequence if lib.__name__ == "torch" else pack_padded_sequence
        out, h = m(pack(x, [5, 3, 2], batch_first=batch_first, enforce_sorted=False))
        out = out.data
    else:
        out, h = m(x)
    hh = h[0] if isinstance(h, tuple) else h
    loss = (out**2).sum() + 0.5 * (hh * hh).sum()
    if isinstance(h, tuple):
        loss = loss + h[1].sin().sum()
    ps = [x] + list(m.parameters())
    plain = lib.autograd.grad(loss, ps, retain_graph=True)  # no create_graph: the first-order path
    first = lib.autograd.grad(loss, ps, create_graph=True)
    penalty = sum((g**2).sum() for g in first)
    second = lib.autograd.grad(penalty, ps, allow_unused=True)
    return [g.detach().numpy() for g in first], [g.detach().numpy() for g in second], plain


MODULES = [
    ("RNN", True, dict(num_layers=2, bidirectional=True)),
    ("RNN", True, dict(nonlinearity="relu", batch_first=True)),
    ("RNN", False, dict(bias=False, bidirectional=True)),
    ("GRU", True, dict(num_layers=2, bidirectional=True, batch_first=True)),
    ("GRU", False, dict(num_layers=2)),
    ("LSTM", True, dict(num_layers=2, bidirectional=True)),
    ("LSTM", True, dict(batch_first=True, bias=False)),
    ("LSTM", False, dict(proj_size=2, bidirectional=True, batch_first=True)),
]


@pytest.mark.parametrize("mode,packed,kw", MODULES)
def test_modules_second_order_match_torch(torch, mode, packed, kw):
    tm, gm = _twins(torch, mode, **kw)
    bf = kw.get("batch_first", False)
    xn = np.random.RandomState(1).randn(*((3, 5, 3) if bf else (5, 3, 3)))
    t_first, t_second, _ = _second_order(torch, tm, torch.tensor(xn, requires_grad=True), packed, bf)
    g_first, g_second, plain = _second_order(gg, gm, gg.tensor(xn, requires_grad=True), packed, bf)
    for a, b, p in zip(t_first, g_first, plain):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b, p.detach().numpy(), rtol=1e-12, atol=1e-13)
    for a, b in zip(t_second, g_second):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-11)


def test_dense_lstm_penalty_matches_torch(torch):
    tm, gm = _twins(torch, "LSTM", num_layers=2, bidirectional=True)
    xn = np.random.RandomState(1).randn(5, 3, 3)
    t_first, t_second, _ = _second_order(torch, tm, torch.tensor(xn, requires_grad=True), False, False)
    g_first, g_second, _ = _second_order(gg, gm, gg.tensor(xn, requires_grad=True), False, False)
    for a, b in zip(t_first + t_second, g_first + g_second):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-11)


# ------------------------------------------------------------------ embedding_bag, grid_sample, ctc
IDS = np.array([1, 4, 1, 0, 3, 4, 4, 2])
OFFSETS = np.array([0, 3, 3, 6])  # an empty bag among them


_BAG_CASES = [  # the combinations embedding_bag takes (per-sample weights: sum only; no
    # scale_grad_by_freq with max)
    (mode, extra)
    for mode in ("sum", "mean", "max")
    for extra in ({}, {"scale_grad_by_freq": True}, {"padding_idx": 4}, {"psw": True})
    if not ((extra.get("psw") and mode != "sum") or (extra.get("scale_grad_by_freq") and mode == "max"))
]


@pytest.mark.parametrize(("mode", "extra"), _BAG_CASES)
def test_embedding_bag_gradgradcheck(mode, extra):
    kw = {k: v for k, v in extra.items() if k != "psw"}
    ids, off = gg.tensor(IDS), gg.tensor(OFFSETS)
    w = _t(5, 3, seed=1)
    if extra.get("psw"):
        psw = _t(len(IDS), seed=2)
        fn = lambda w, p: F.embedding_bag(ids, w, off, mode=mode, per_sample_weights=p, **kw)  # noqa: E731
        assert gradgradcheck(fn, (w, psw))
    else:
        assert gradgradcheck(lambda w: F.embedding_bag(ids, w, off, mode=mode, **kw), (w,))


def test_embedding_bag_sparse_refused():
    w = _t(5, 3, seed=1)
    out = F.embedding_bag(gg.tensor(IDS), w, gg.tensor(OFFSETS), mode="sum", sparse=True)
    with pytest.raises(NotImplementedError, match="embedding_bag.*sparse"):
        gg.autograd.grad((out**2).sum(), [w], create_graph=True)


def _grid(seed, n=2, ho=3, wo=2, spread=1.3):
    # points inside and outside the image, away from the pixel lines where bilinear has kinks
    g = np.random.RandomState(seed).uniform(-spread, spread, (n, ho, wo, 2))
    return gg.tensor(g, dtype=gg.float64, requires_grad=True)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_gradgradcheck(mode, padding_mode, align_corners):
    # nearest: the grid gets no gradient (PyTorch's rule), a grid requiring grad included
    x, grid = _t(2, 2, 3, 4, seed=1), _grid(2)

    def fn(x, grid):
        return F.grid_sample(x, grid, mode=mode, padding_mode=padding_mode, align_corners=align_corners)

    assert gradgradcheck(fn, (x, grid))


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_volumetric_grid_sample_gradgradcheck(padding_mode):
    """5-D input (trilinear: bicubic takes 4-D input only), the 2-D rule reused per axis."""
    x = _t(1, 2, 2, 3, 2, seed=1)
    g = gg.tensor(
        np.random.RandomState(7).uniform(-1.2, 1.2, (1, 2, 1, 2, 3)), dtype=gg.float64, requires_grad=True
    )
    assert gradgradcheck(lambda x, g: F.grid_sample(x, g, "bilinear", padding_mode, False), (x, g))


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_second_order_matches_torch(torch, padding_mode, mode):
    xn, gn = _t(2, 2, 3, 4, seed=1).detach().numpy(), _grid(3).detach().numpy()
    res = []
    for lib, mk in (
        (torch, lambda a: torch.tensor(a, requires_grad=True)),
        (gg, lambda a: gg.tensor(a, requires_grad=True)),
    ):
        x, grid = mk(xn), mk(gn)
        out = lib.nn.functional.grid_sample(
            x, grid, mode=mode, padding_mode=padding_mode, align_corners=False
        )
        v = mk(np.random.RandomState(4).randn(*out.shape))
        gx, gg_ = lib.autograd.grad(out, [x, grid], v, create_graph=True)
        w = np.random.RandomState(5).randn(*gx.shape)
        wg = np.random.RandomState(6).randn(*gg_.shape)
        total = (gx * mk(w).detach()).sum() + (gg_ * mk(wg).detach() * gg_).sum()
        res.append([t.detach().numpy() for t in (gx, gg_, *lib.autograd.grad(total, [x, grid, v]))])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


def test_ctc_loss_gives_its_gradient_and_refuses_the_second_as_pytorch(torch):
    rng = np.random.default_rng(0)
    raw = rng.standard_normal((5, 2, 4))
    out = []
    for lib in (gg, torch):
        lp = lib.tensor(raw).log_softmax(2).detach().requires_grad_(True)
        loss = lib.nn.functional.ctc_loss(
            lp, lib.tensor([[1, 2], [3, 1]]), lib.tensor([5, 4]), lib.tensor([2, 1])
        )
        (g,) = lib.autograd.grad(loss, lp, create_graph=True)
        plain = lib.autograd.grad(
            lib.nn.functional.ctc_loss(
                lp, lib.tensor([[1, 2], [3, 1]]), lib.tensor([5, 4]), lib.tensor([2, 1])
            ),
            lp,
        )[0]
        np.testing.assert_allclose(g.detach().numpy(), plain.numpy(), rtol=1e-14)
        assert g.requires_grad
        with pytest.raises(RuntimeError, match="ctc_loss"):  # (GraphError is a RuntimeError)
            g.sum().backward()
        out.append(g.detach().numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-10, atol=1e-12)
