"""Exercise generators: seeded, printable, and their answer keys agree with PyTorch / formulas."""

import math

import numpy as np
import pytest

from glassgrad.explain.exercises import EXERCISES, generate, worksheet


@pytest.mark.parametrize("kind", list(EXERCISES))
def test_seeded_and_printable(kind):
    a, b = generate(kind, seed=5), generate(kind, seed=5)
    assert a == b
    md = a.to_markdown()
    assert md.startswith(f"### {a.title}") and "**Answer.**" in md
    assert "**Answer.**" not in a.to_markdown(with_answers=False)
    tex = a.to_latex()
    assert tex.startswith(r"\subsection*{") and r"\paragraph{Answer.}" in tex and "$$" not in tex
    assert a.answers


def test_different_seeds_differ():
    assert len({generate("attention_head", s).question for s in range(5)}) > 1


def test_worksheet_and_unknown_kind():
    text = worksheet(seed=1)
    assert text.count("### ") == len(EXERCISES) and "**Answer.**" not in text
    assert worksheet(["conv_output"], fmt="latex", with_answers=True).count(r"\subsection*") == 1
    with pytest.raises(KeyError, match="expected one of"):
        generate("nope")


def test_softmax_jacobian_formula():
    ex = generate("softmax", 2)
    p, J = np.array(ex.answers["p"]), np.array(ex.answers["J"])
    z = np.array([float(v) for v in ex.question.split(r"\begin{bmatrix}")[1].split(r"\end")[0].split("&")])
    np.testing.assert_allclose(p, np.exp(z) / np.exp(z).sum())
    np.testing.assert_allclose(J, np.diag(p) - np.outer(p, p), atol=1e-12)


def test_perceptron_follows_rule():
    for seed in range(6):
        ex = generate("perceptron", seed)
        assert ex.answer.count("- $x = (") == 4
        w, b = ex.answers["w"], ex.answers["b"]
        assert all(v * 2 == int(v * 2) for v in [*w, b])  # lr 0.5 on a half grid stays on it


def test_graph_backprop_matches_finite_differences():
    from glassgrad.explain import check
    from glassgrad.explain.exercises import _GRAPHS

    for seed in range(5):
        ex = generate("graph", seed)
        src = next(g for g in _GRAPHS if f"`{g}`" in ex.question)
        inputs = {k: v for k, v in ex.answers["values"].items() if k in ex.question.split("at", 1)[1]}
        leaf_grads = {k: v for k, v in ex.answers["grads"].items() if k.split("/d")[1] in inputs}
        report = check(src, inputs, leaf_grads)
        assert report.ok
        for item in report.items:
            assert float(item.given) == pytest.approx(float(item.numeric), abs=1e-5)


def test_conv_and_pool_against_torch(torch):
    for seed in range(4):
        ex = generate("conv_output", seed)
        args = ex.question.split("`Conv2d(")[1].split(")`")[0]
        c_in, c_out, k, s, p = (int(t.split("=")[-1]) for t in args.split(", "))
        shape = tuple(int(v) for v in ex.question.split("$(N, ")[1].split(")$")[0].split(", "))
        conv = torch.nn.Conv2d(c_in, c_out, k, stride=s, padding=p)
        out = conv(torch.zeros(1, *shape))
        assert out.shape[2:] == (ex.answers["H_out"], ex.answers["W_out"])
        assert sum(t.numel() for t in conv.parameters()) == ex.answers["params"]
    ex = generate("maxpool_backward", 3)
    x_rows = ex.question.split(r"\begin{bmatrix}")[1].split(r"\end")[0]
    x = torch.tensor([[float(v) for v in r.split("&")] for r in x_rows.split(r"\\")], requires_grad=True)
    g = torch.tensor(
        [
            [float(v) for v in r.split("&")]
            for r in ex.question.split(r"\begin{bmatrix}")[2].split(r"\end")[0].split(r"\\")
        ]
    )
    y = torch.nn.functional.max_pool2d(x[None, None], 2)[0, 0]
    y.backward(g)
    np.testing.assert_array_equal(y.detach().numpy(), ex.answers["y"])
    np.testing.assert_array_equal(x.grad.numpy(), ex.answers["dx"])


def _mats(text):
    out = []
    for chunk in text.split(r"\begin{bmatrix}")[1:]:
        body = chunk.split(r"\end{bmatrix}")[0]
        out.append(np.array([[float(v) for v in r.split("&")] for r in body.split(r"\\")]))
    return out


def test_rnn_lstm_attention_against_torch(torch):
    ex = generate("rnn_step", 4)
    W_ih, W_hh, b, x, h = _mats(ex.question)
    cell = torch.nn.RNNCell(2, 2).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(W_ih))
        cell.weight_hh.copy_(torch.tensor(W_hh))
        cell.bias_ih.copy_(torch.tensor(b[0]))
        cell.bias_hh.zero_()
    out = cell(torch.tensor(x), torch.tensor(h))
    np.testing.assert_allclose(out.detach().numpy()[0], ex.answers["h"], rtol=1e-12)

    ex = generate("lstm_step", 4)
    W_ih, W_hh, b, x = _mats(ex.question)
    h0 = float(ex.question.split("$h = ")[1].split("$")[0])
    c0 = float(ex.question.split("$c = ")[1].split("$")[0])
    cell = torch.nn.LSTMCell(2, 1).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(W_ih))
        cell.weight_hh.copy_(torch.tensor(W_hh))
        cell.bias_ih.copy_(torch.tensor(b[0]))
        cell.bias_hh.zero_()
    h1, c1 = cell(
        torch.tensor(x),
        (torch.tensor([[h0]], dtype=torch.float64), torch.tensor([[c0]], dtype=torch.float64)),
    )
    assert h1.item() == pytest.approx(ex.answers["h"], rel=1e-12)
    assert c1.item() == pytest.approx(ex.answers["c"], rel=1e-12)

    ex = generate("attention_head", 4)
    X, Wq, Wk, Wv = _mats(ex.question)
    t = lambda a: torch.tensor(a)  # noqa: E731
    Q, K, V = t(X) @ t(Wq), t(X) @ t(Wk), t(X) @ t(Wv)
    ref = torch.nn.functional.scaled_dot_product_attention(Q[None], K[None], V[None])[0]
    np.testing.assert_allclose(ref.numpy(), ex.answers["output"], rtol=1e-12)
    np.testing.assert_allclose(np.array(ex.answers["weights"]).sum(-1), 1.0)


def test_positional_encoding_entries():
    ex = generate("positional_encoding", 1)
    d = int(ex.question.split("d_{model} = ")[1].split("$")[0])
    for key, v in ex.answers.items():
        pos, j = (int(s) for s in key[3:-1].split(","))
        angle = pos / 10000 ** ((j - j % 2) / d)
        assert v == pytest.approx(math.sin(angle) if j % 2 == 0 else math.cos(angle))
