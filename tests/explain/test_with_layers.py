"""The glass box on the real conv, pooling and recurrent layers (merged from their branches)."""

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad import nn
from glassgrad.errors import ShapeError
from glassgrad.explain import conv_output_shape, generate


def _mats(text):
    out = []
    for chunk in text.split(r"\begin{bmatrix}")[1:]:
        body = chunk.split(r"\end{bmatrix}")[0]
        out.append(np.array([[float(v) for v in r.split("&")] for r in body.split(r"\\")]))
    return out


def test_channels_last_hint_from_real_conv():
    net = nn.Sequential(nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU()))
    with pytest.raises(ShapeError) as info:
        net(gg.randn(2, 32, 32, 3))
    msg = str(info.value)
    assert msg.startswith("in 0.0 (Conv2d): ")
    assert "looks channels-last: use x.permute(0, 3, 1, 2)" in msg


def test_input_size_hint_from_real_lstm():
    with pytest.raises(ShapeError, match=r"hint: LSTM\(input_size=4\) needs inputs whose last dim is 4"):
        nn.LSTM(4, 8, batch_first=True)(gg.randn(2, 5, 3))


def test_conv_exercise_matches_conv2d_and_conv_output_shape():
    for seed in range(5):
        ex = generate("conv_output", seed)
        args = ex.question.split("`Conv2d(")[1].split(")`")[0]
        c_in, c_out, k, s, p = (int(t.split("=")[-1]) for t in args.split(", "))
        H, W = (int(v) for v in ex.question.split("$(N, ")[1].split(")$")[0].split(", ")[1:])
        assert conv_output_shape((H, W), k, s, p) == (ex.answers["H_out"], ex.answers["W_out"])
        conv = nn.Conv2d(c_in, c_out, k, stride=s, padding=p)
        assert sum(t.numel() for t in conv.parameters()) == ex.answers["params"]


def test_maxpool_exercise_matches_max_pool2d_backward():
    ex = generate("maxpool_backward", 7)
    x, g = _mats(ex.question)
    xt = gg.tensor(x[None, None], requires_grad=True)
    y = F.max_pool2d(xt, 2)
    y.backward(gg.tensor(g[None, None]))
    np.testing.assert_array_equal(y.detach().numpy()[0, 0], ex.answers["y"])
    np.testing.assert_array_equal(xt.grad.numpy()[0, 0], ex.answers["dx"])


def test_rnn_and_lstm_exercises_match_cells():
    ex = generate("rnn_step", 2)
    W_ih, W_hh, b, x, h = _mats(ex.question)
    cell = nn.RNNCell(2, 2).double()
    with gg.no_grad():
        cell.weight_ih.copy_(gg.tensor(W_ih))
        cell.weight_hh.copy_(gg.tensor(W_hh))
        cell.bias_ih.copy_(gg.tensor(b[0]))
        cell.bias_hh.zero_()
    out = cell(gg.tensor(x), gg.tensor(h))
    np.testing.assert_allclose(out.detach().numpy()[0], ex.answers["h"], rtol=1e-12)

    ex = generate("lstm_step", 2)
    W_ih, W_hh, b, x = _mats(ex.question)
    h0 = float(ex.question.split("$h = ")[1].split("$")[0])
    c0 = float(ex.question.split("$c = ")[1].split("$")[0])
    cell = nn.LSTMCell(2, 1).double()
    with gg.no_grad():
        cell.weight_ih.copy_(gg.tensor(W_ih))
        cell.weight_hh.copy_(gg.tensor(W_hh))
        cell.bias_ih.copy_(gg.tensor(b[0]))
        cell.bias_hh.zero_()
    h1, c1 = cell(gg.tensor(x), (gg.tensor([[h0]], dtype=gg.float64), gg.tensor([[c0]], dtype=gg.float64)))
    assert h1.item() == pytest.approx(ex.answers["h"], rel=1e-12)
    assert c1.item() == pytest.approx(ex.answers["c"], rel=1e-12)


def test_trace_through_conv_and_pool_summarises():
    conv = nn.Conv2d(1, 2, 3)
    from glassgrad.explain import trace

    with trace(conv) as tr:
        F.max_pool2d(conv(gg.randn(1, 1, 6, 6)), 2).sum().backward()
    rows = tr.rows()
    assert {"weight", "bias"} <= {r.name for r in rows if r.is_leaf}
    text = str(tr.table())
    assert "shape (2, 1, 3, 3)" in text and "VJP" in text


def test_viz_on_real_conv(tmp_path):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    from glassgrad import viz

    conv = nn.Conv2d(3, 6, 5)
    maps = conv(gg.randn(1, 3, 16, 16))
    for name, fig in (("f", viz.plot_conv_filters(conv.weight)), ("m", viz.plot_feature_maps(maps))):
        assert viz.save(fig, tmp_path / f"{name}.png").stat().st_size > 1000
