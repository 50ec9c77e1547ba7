"""The ATen-level recurrent functions (glassgrad/rnn_functions.py): ``lstm``/``gru``/``rnn_tanh``/
``rnn_relu`` over a module's flat weights (both argument lists, packed input, projections) and the
four cells, against PyTorch (outputs and every gradient); float64 gradchecks of the cells; errors."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck
from glassgrad.errors import ShapeError

_rng = np.random.default_rng(11)

NETWORKS = [
    ("LSTM", "lstm", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", "lstm", {"proj_size": 3}),
    ("LSTM", "lstm", {"bias": False, "batch_first": True}),
    ("GRU", "gru", {"num_layers": 2}),
    ("RNN", "rnn_tanh", {"bidirectional": True}),
    ("RNN", "rnn_relu", {"nonlinearity": "relu", "batch_first": True}),
]


def _pair(torch, mod, kw):
    tm = getattr(torch.nn, mod)(4, 6, **kw).double()
    gm = getattr(gg.nn, mod)(4, 6, **kw).double()
    gm.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, gm


@pytest.mark.parametrize("mod, fn, kw", NETWORKS)
def test_network_functions_match_torch(torch, mod, fn, kw):
    tm, gm = _pair(torch, mod, kw)
    layers = tm.num_layers * (2 if tm.bidirectional else 1)
    x = _rng.standard_normal((3, 5, 4) if kw.get("batch_first") else (5, 3, 4))
    h0, c0 = _rng.standard_normal((layers, 3, tm.proj_size or 6)), _rng.standard_normal((layers, 3, 6))
    res = []
    for m, net in ((torch, tm), (gg, gm)):
        xt = m.tensor(x, requires_grad=True)
        hx = (m.tensor(h0), m.tensor(c0)) if fn == "lstm" else m.tensor(h0)
        args = (net.bias, net.num_layers, 0.0, False, net.bidirectional, net.batch_first)
        out = getattr(m, fn)(xt, hx, list(net._flat_weights), *args)
        sum((o * o).sum() for o in out).backward()
        res.append(
            [o.detach().numpy() for o in out]
            + [xt.grad.numpy()]
            + [p.grad.numpy() for p in net._flat_weights]
        )
    assert len(res[0]) == len(res[1]) == (3 if fn == "lstm" else 2) + 1 + len(list(tm._flat_weights))
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


def test_packed_lstm_and_vf_match_torch(torch):
    tm, gm = _pair(torch, "LSTM", {})
    x, lens = _rng.standard_normal((5, 3, 4)), [5, 3, 2]
    res = []
    for m, net in ((torch, tm), (gg, gm)):
        p = m.nn.utils.rnn.pack_padded_sequence(m.tensor(x), lens)
        zeros = m.zeros(1, 3, 6, dtype=m.float64)
        out = m._VF.lstm(
            p.data, p.batch_sizes, (zeros, zeros), list(net._flat_weights), True, 1, 0.0, False, False
        )
        res.append([t.detach().numpy() for t in out])
    assert res[1][0].shape == (10, 6)  # the packed data, not a PackedSequence
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "fn, gates", [("lstm_cell", 4), ("gru_cell", 3), ("rnn_tanh_cell", 1), ("rnn_relu_cell", 1)]
)
def test_cells_match_torch_and_gradcheck(torch, fn, gates):
    arrays = [
        _rng.standard_normal(s)
        for s in ((3, 4), (3, 6), (3, 6), (gates * 6, 4), (gates * 6, 6), (gates * 6,), (gates * 6,))
    ]
    res = []
    for m in (torch, gg):
        args = [m.tensor(a, requires_grad=True) for a in arrays]
        hx = (args[1], args[2]) if fn == "lstm_cell" else args[1]
        out = getattr(m, fn)(args[0], hx, *args[3:])
        out = out if isinstance(out, tuple) else (out,)
        sum((t * t).sum() for t in out).backward()
        grads = [a.grad.numpy() for a in args if a.grad is not None]
        res.append([t.detach().numpy() for t in out] + grads)
    assert len(res[0]) == len(res[1])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
    args = [gg.tensor(a[:2] if i < 3 else a, requires_grad=True) for i, a in enumerate(arrays)]
    if fn == "lstm_cell":
        assert gradcheck(lambda x, h, c, *w: gg.lstm_cell(x, (h, c), *w), tuple(args))
    else:
        assert gradcheck(
            lambda x, h, c, *w: getattr(gg, fn)(x, h, *w), tuple(args[:2]) + (args[2],) + tuple(args[3:])
        )


def test_bias_free_cell_and_errors(torch):
    x, h = gg.randn(2, 4, dtype=gg.float64), gg.randn(2, 6, dtype=gg.float64)
    w1, w2 = gg.randn(6, 4, dtype=gg.float64), gg.randn(6, 6, dtype=gg.float64)
    want = torch.rnn_tanh_cell(*(torch.tensor(t.numpy()) for t in (x, h, w1, w2)))
    np.testing.assert_allclose(gg.rnn_tanh_cell(x, h, w1, w2).numpy(), want.numpy(), rtol=1e-12)
    with pytest.raises(
        ShapeError, match=r"rnn_tanh_cell: expected input of shape \(N, I\), got shape \(4,\)"
    ):
        gg.rnn_tanh_cell(x[0], h, w1, w2)
    with pytest.raises(ShapeError, match=r"gru_cell: expected w_ih \(18, 4\) and w_hh \(18, 6\)"):
        gg.gru_cell(x, h, w1, w2)
    with pytest.raises(TypeError, match=r"lstm_cell\(\): expected hx as a pair"):
        gg.lstm_cell(x, h, w1, w2)
    m = gg.nn.GRU(4, 6, num_layers=2)
    with pytest.raises(
        ShapeError, match=r"gru: expected 8 weights \(4 for each of 2 layers x 1 directions\), got 4"
    ):
        gg.gru(gg.randn(5, 2, 4), gg.zeros(2, 2, 6), m._flat_weights[:4], True, 2, 0.0, False, False, False)
    with pytest.raises(ShapeError, match=r"gru: expected \(T, N, I\) input, got shape \(5, 4\)"):
        gg.gru(gg.randn(5, 4), gg.zeros(2, 2, 6), m._flat_weights, True, 2, 0.0, False, False, False)
    with pytest.raises(TypeError, match=r"gru\(\): expected the 9 arguments"):
        gg.gru(gg.randn(5, 2, 4), gg.zeros(2, 2, 6), m._flat_weights)
    with pytest.raises(AttributeError, match="glassgrad has no nothing_here"):
        gg._VF.nothing_here  # noqa: B018
