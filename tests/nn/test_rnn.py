"""Recurrent layers: PyTorch parity (outputs, final states, every gradient), hand examples, cells,
state_dicts, validation. Packing helpers are in test_rnn_packing.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.autograd import gradcheck
from glassgrad.errors import DTypeError, ShapeError

I, H, T, N = 4, 5, 6, 3


def _pair(torch, kind: str, **kw):
    """The same layer in both libraries (float64), glassgrad's weights loaded from PyTorch's."""
    tm = getattr(torch.nn, kind)(I, H, **kw).double()
    gm = getattr(nn, kind)(I, H, **kw, dtype=gg.float64)
    gm.load_state_dict({k: gg.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    return tm, gm


def _leaf(torch, a):
    return torch.tensor(a, requires_grad=True), gg.tensor(a, requires_grad=True)


def _flat(out):
    """Every tensor of a layer's output (output, h_n[, c_n]), packed data included."""
    o, s = out
    o = o[0] if isinstance(o, tuple) else o  # PackedSequence -> its data
    return [o, *(s if isinstance(s, tuple) else (s,))]


def _weighted_sum(lib, tensors):
    """A loss that gives every output element a different weight, so no gradient can hide."""
    total = 0
    for t in tensors:
        w = np.cos(np.arange(int(np.prod(t.shape)))).reshape(tuple(t.shape)) + 0.5
        total = total + (t * lib.tensor(w)).sum()
    return total


def _compare(torch, tm, gm, t_args, g_args, t_leaves, g_leaves):
    t_out, g_out = tm(*t_args), gm(*g_args)
    for a, b in zip(_flat(t_out), _flat(g_out)):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-9, atol=1e-10)
    _weighted_sum(torch, _flat(t_out)).backward()
    _weighted_sum(gg, _flat(g_out)).backward()
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(gm.get_parameter(name).grad.numpy(), p.grad.numpy(), rtol=1e-8, atol=1e-10)
    for a, b in zip(t_leaves, g_leaves):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-8, atol=1e-10)


CONFIGS = [
    {},
    {"num_layers": 2},
    {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True},
    {"batch_first": True},
    {"batch_first": True, "num_layers": 2, "bidirectional": True, "bias": False},
]


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(
    "kw", CONFIGS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()) or "default"
)
@pytest.mark.parametrize("given_state", [False, True])
def test_parity_with_pytorch(torch, kind, kw, given_state):
    rng = np.random.default_rng(0)
    tm, gm = _pair(torch, kind, **kw)
    shape = (N, T, I) if kw.get("batch_first") else (T, N, I)
    xt, xg = _leaf(torch, rng.standard_normal(shape))
    t_args, g_args, t_leaves, g_leaves = [xt], [xg], [xt], [xg]
    if given_state:
        layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
        states = [
            _leaf(torch, rng.standard_normal((layers, N, H))) for _ in range(2 if kind == "LSTM" else 1)
        ]
        t_args.append(tuple(s[0] for s in states) if kind == "LSTM" else states[0][0])
        g_args.append(tuple(s[1] for s in states) if kind == "LSTM" else states[0][1])
        t_leaves += [s[0] for s in states]
        g_leaves += [s[1] for s in states]
    _compare(torch, tm, gm, t_args, g_args, t_leaves, g_leaves)


@pytest.mark.parametrize("kw", [{"proj_size": 3}, {"proj_size": 2, "num_layers": 2, "bidirectional": True}])
def test_lstm_proj_size_parity(torch, kw):
    rng = np.random.default_rng(1)
    tm, gm = _pair(torch, "LSTM", **kw)
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    xt, xg = _leaf(torch, rng.standard_normal((T, N, I)))
    ht, hg = _leaf(torch, rng.standard_normal((layers, N, kw["proj_size"])))
    ct, cg = _leaf(torch, rng.standard_normal((layers, N, H)))
    _compare(torch, tm, gm, [xt, (ht, ct)], [xg, (hg, cg)], [xt, ht, ct], [xg, hg, cg])
    assert gm.weight_hr_l0.shape == (kw["proj_size"], H)


def test_relu_rnn_parity(torch):
    rng = np.random.default_rng(2)
    tm, gm = _pair(torch, "RNN", nonlinearity="relu", num_layers=2)
    xt, xg = _leaf(torch, rng.standard_normal((T, N, I)))
    _compare(torch, tm, gm, [xt], [xg], [xt], [xg])


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_unbatched_input_parity(torch, kind):
    rng = np.random.default_rng(3)
    tm, gm = _pair(torch, kind, num_layers=2)
    xt, xg = _leaf(torch, rng.standard_normal((T, I)))
    _compare(torch, tm, gm, [xt], [xg], [xt], [xg])


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_parity(torch, kind, enforce_sorted):
    rng = np.random.default_rng(4)
    lengths = [6, 4, 4, 1] if enforce_sorted else [3, 6, 1, 4]
    tm, gm = _pair(torch, kind, num_layers=2, bidirectional=True)
    xt, xg = _leaf(torch, rng.standard_normal((T, len(lengths), I)))
    layers = 4
    states = [
        _leaf(torch, rng.standard_normal((layers, len(lengths), H)))
        for _ in range(2 if kind == "LSTM" else 1)
    ]
    pt = torch.nn.utils.rnn.pack_padded_sequence(xt, lengths, enforce_sorted=enforce_sorted)
    pg = nn.utils.rnn.pack_padded_sequence(xg, lengths, enforce_sorted=enforce_sorted)
    ht = tuple(s[0] for s in states) if kind == "LSTM" else states[0][0]
    hg = tuple(s[1] for s in states) if kind == "LSTM" else states[0][1]
    _compare(torch, tm, gm, [pt, ht], [pg, hg], [xt, *(s[0] for s in states)], [xg, *(s[1] for s in states)])


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_padding_never_changes_the_final_state(kind):
    """A sequence's final state is the same alone and packed beside longer ones padded with noise."""
    gg.manual_seed(0)
    layer = getattr(nn, kind)(I, H, bidirectional=True)
    rng = np.random.default_rng(5)
    long, short = (
        rng.standard_normal((T, I)).astype(np.float32),
        rng.standard_normal((2, I)).astype(np.float32),
    )
    noise = np.concatenate([short, 100 * rng.standard_normal((T - 2, I)).astype(np.float32)])
    batch = gg.tensor(np.stack([long, noise], axis=1))  # (T, 2, I)
    packed = nn.utils.rnn.pack_padded_sequence(batch, [T, 2])
    _, state = layer(packed)
    _, alone = layer(gg.tensor(short[:, None, :]))
    h = state[0] if kind == "LSTM" else state
    h_alone = alone[0] if kind == "LSTM" else alone
    np.testing.assert_allclose(h.detach().numpy()[:, 1], h_alone.detach().numpy()[:, 0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_state_dict_loads_from_pytorch_unchanged(torch, kind):
    tm = getattr(torch.nn, kind)(I, H, num_layers=2, bidirectional=True)
    gm = getattr(nn, kind)(I, H, num_layers=2, bidirectional=True)
    assert list(gm.state_dict()) == list(tm.state_dict())
    gm.load_state_dict({k: gg.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    for k, v in gm.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), tm.state_dict()[k].numpy())
    assert repr(gm) == repr(tm)
    gm.flatten_parameters()  # a no-op, so code that calls it ports unchanged


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"])
def test_init_is_uniform_within_one_over_sqrt_hidden(kind):
    gg.manual_seed(0)
    m = getattr(nn, kind)(8, 64)
    bound = 1 / np.sqrt(64)
    values = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.95 * bound and abs(values.mean()) < 0.05 * bound


def test_lstm_step_by_hand():
    """One LSTM step, no biases: c_t = f * c + i * g, h_t = o * tanh(c_t)."""
    cell = nn.LSTMCell(2, 1, bias=False, dtype=gg.float64)
    w_ih = np.array([[0.5, -0.3], [0.2, 0.1], [-0.4, 0.6], [0.3, 0.3]])  # rows i, f, g, o
    w_hh = np.array([[0.1], [-0.2], [0.5], [0.4]])
    cell.load_state_dict({"weight_ih": gg.tensor(w_ih), "weight_hh": gg.tensor(w_hh)})
    x, h, c = np.array([1.0, 2.0]), 0.5, -1.0
    pre = w_ih @ x + w_hh[:, 0] * h

    def sig(v):
        return 1 / (1 + np.exp(-v))

    i, f, g, o = sig(pre[0]), sig(pre[1]), np.tanh(pre[2]), sig(pre[3])
    c_t = f * c + i * g
    h_t = o * np.tanh(c_t)
    h1, c1 = cell(gg.tensor(x[None]), (gg.tensor(np.full((1, 1), h)), gg.tensor(np.full((1, 1), c))))
    assert h1.item() == pytest.approx(h_t) and c1.item() == pytest.approx(c_t)
    # the sequence layer (fused op) gives the same step
    layer = nn.LSTM(2, 1, bias=False, dtype=gg.float64)
    layer.load_state_dict({"weight_ih_l0": gg.tensor(w_ih), "weight_hh_l0": gg.tensor(w_hh)})
    _, (h2, c2) = layer(
        gg.tensor(x[None, None]), (gg.tensor(np.full((1, 1, 1), h)), gg.tensor(np.full((1, 1, 1), c)))
    )
    assert h2.item() == pytest.approx(h_t) and c2.item() == pytest.approx(c_t)


def test_tanh_rnn_two_steps_by_hand():
    w_xh = np.array([[0.5, -0.2], [0.1, 0.4], [-0.3, 0.2]])
    w_hh = np.array([[0.2, -0.1, 0.0], [0.3, 0.1, -0.2], [0.0, 0.5, 0.1]])
    layer = nn.RNN(2, 3, bias=False, dtype=gg.float64)
    layer.load_state_dict({"weight_ih_l0": gg.tensor(w_xh), "weight_hh_l0": gg.tensor(w_hh)})
    xs = np.array([[1.0, -1.0], [0.5, 2.0]])
    h1 = np.tanh(w_xh @ xs[0])  # h_0 = 0
    h2 = np.tanh(w_xh @ xs[1] + w_hh @ h1)
    out, h_n = layer(gg.tensor(xs))  # unbatched (T, I)
    np.testing.assert_allclose(out.detach().numpy(), np.stack([h1, h2]), rtol=1e-12)
    np.testing.assert_allclose(h_n.detach().numpy()[0], h2, rtol=1e-12)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_gradcheck(kind):
    gg.manual_seed(0)
    cell = getattr(nn, kind)(3, 2, dtype=gg.float64)
    rng = np.random.default_rng(6)
    x = gg.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    h = gg.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    c = gg.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    params = list(cell.parameters())

    def fn(x, h, c, *ps):
        out = cell(x, (h, c)) if kind == "LSTMCell" else cell(x, h)
        return gg.cat(list(out), dim=1) if isinstance(out, tuple) else out

    assert gradcheck(fn, (x, h, c, *params))


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_parity_with_pytorch(torch, kind):
    tm = getattr(torch.nn, kind)(I, H).double()
    gm = getattr(nn, kind)(I, H, dtype=gg.float64)
    gm.load_state_dict({k: gg.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    rng = np.random.default_rng(7)
    xt, xg = _leaf(torch, rng.standard_normal((N, I)))
    ht, hg = _leaf(torch, rng.standard_normal((N, H)))
    ct, cg = _leaf(torch, rng.standard_normal((N, H)))
    t_out = tm(xt, (ht, ct)) if kind == "LSTMCell" else tm(xt, ht)
    g_out = gm(xg, (hg, cg)) if kind == "LSTMCell" else gm(xg, hg)
    t_out = t_out if isinstance(t_out, tuple) else (t_out,)
    g_out = g_out if isinstance(g_out, tuple) else (g_out,)
    for a, b in zip(t_out, g_out):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-10)
    _weighted_sum(torch, t_out).backward()
    _weighted_sum(gg, g_out).backward()
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(gm.get_parameter(name).grad.numpy(), p.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-9)
    one_t, one_g = tm(xt[0]), gm(xg[0])  # unbatched (I,) input
    for a, b in zip(
        one_t if isinstance(one_t, tuple) else (one_t,), one_g if isinstance(one_g, tuple) else (one_g,)
    ):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_fused_layer_matches_its_cell_composite(kind):
    """The fused whole-sequence op against a loop of the composite cell with the same weights."""
    gg.manual_seed(0)
    layer = getattr(nn, kind)(I, H, dtype=gg.float64)
    cell = getattr(nn, kind + "Cell")(I, H, dtype=gg.float64)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})  # weight_ih_l0 -> weight_ih
    x = gg.tensor(np.random.default_rng(8).standard_normal((T, N, I)), requires_grad=True)
    out, _ = layer(x)
    (out * out).sum().backward()
    fused = [x.grad.numpy().copy(), *(p.grad.numpy().copy() for p in layer.parameters())]
    x.grad = None
    state = None
    outs = []
    for t in range(T):
        state = cell(x[t], state)
        outs.append(state[0] if kind == "LSTM" else state)
    ref = gg.stack(outs)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12)
    (ref * ref).sum().backward()
    composite = [x.grad.numpy(), *(p.grad.numpy() for p in cell.parameters())]
    for a, b in zip(fused, composite):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_validation_errors():
    with pytest.raises(ValueError, match="proj_size"):
        nn.RNNBase("GRU", 3, 4, proj_size=2)
    with pytest.raises(ValueError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ShapeError, match=r"input.size\(-1\) must be equal to input_size. Expected 3, got 2"):
        nn.GRU(3, 4)(gg.zeros(5, 2, 2))  # PyTorch's words (check_input)
    with pytest.raises(ShapeError, match=r"Expected hidden size \(1, 2, 4\), got \[1, 3, 4\]"):
        nn.GRU(3, 4)(gg.zeros(5, 2, 3), gg.zeros(1, 3, 4))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("packed", [False, True], ids=["padded", "packed"])
def test_mixed_dtypes_are_refused(kind, packed):
    """As in PyTorch, neither the input nor a given state is cast to the weights' dtype silently."""
    layer = getattr(nn, kind)(3, 4)  # float32 weights
    x = gg.zeros(5, 2, 3, dtype=gg.float64)
    if packed:  # lengths 5 and 3: the LSTM takes its packed (not its dense) path
        x = nn.utils.rnn.pack_padded_sequence(x, [5, 3])
    with pytest.raises(DTypeError, match="dtype"):
        layer(x)
    state = gg.zeros(1, 2, 4, dtype=gg.float64)
    hx = (state, gg.zeros(1, 2, 4)) if kind == "LSTM" else state
    x32 = gg.zeros(5, 2, 3)
    with pytest.raises(DTypeError, match=rf"{kind}: expected a hidden state of the input's dtype"):
        layer(nn.utils.rnn.pack_padded_sequence(x32, [5, 3]) if packed else x32, hx)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("dtype", ["float64", "int64"])
def test_input_of_another_dtype_is_a_value_error_as_pytorch(torch, kind, dtype):
    """PyTorch raises ValueError ("RNN input dtype ... does not match weight dtype") for a padded input."""
    with pytest.raises(ValueError, match="dtype"):
        getattr(torch.nn, kind)(3, 4)(torch.zeros(5, 2, 3, dtype=getattr(torch, dtype)))
    with pytest.raises(
        ValueError, match=rf"RNN input dtype \(glassgrad.{dtype}\) does not match weight dtype"
    ):
        getattr(nn, kind)(3, 4)(gg.zeros(5, 2, 3, dtype=getattr(gg, dtype)))


def test_dropout_between_layers_only_in_training():
    gg.manual_seed(0)
    layer = nn.LSTM(I, H, num_layers=2, dropout=0.5)
    x = gg.randn(T, N, I)
    layer.eval()
    a, _ = layer(x)
    b, _ = layer(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    layer.train()
    c, _ = layer(x)
    assert not np.allclose(a.detach().numpy(), c.detach().numpy())


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_dropout_with_one_layer_warns_as_pytorch(torch, kind):
    """dropout acts only between layers: one layer with dropout > 0 gets PyTorch's UserWarning."""
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1") as theirs:
        getattr(torch.nn, kind)(3, 4, dropout=0.5)
    with pytest.warns(UserWarning, match="has no effect with num_layers=1") as ours:
        getattr(nn, kind)(3, 4, dropout=0.5)
    assert len(ours) == len(theirs) == 1  # the same warning, in our words
    assert ours[0].filename == __file__  # points at the caller, not at glassgrad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(nn, kind)(3, 4, num_layers=2, dropout=0.5)
        getattr(nn, kind)(3, 4, dropout=0.0)
