"""Seeded worked exercises with answer keys, for instructors; printable as Markdown or LaTeX.

>>> ex = generate("conv_output", seed=3)
>>> sorted(ex.answers)
['H_out', 'W_out', 'params']
>>> ex.to_markdown(with_answers=False).startswith("### Conv output size and parameter count")
True

Each generator takes a seed and returns an :class:`Exercise`: the question, the worked answer,
and the answers as numbers (``answers``) so a checker or an autograder can use them. Numbers are
small integers or halves so the exercise can be done by hand. Answers come from NumPy (conv,
pooling, RNN/LSTM, attention) or glassgrad's own ops and autograd (softmax Jacobian, graph
backprop).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Exercise", "EXERCISES", "generate", "worksheet"]


@dataclass
class Exercise:
    """A question, its worked answer (text with ``$...$`` math) and the answers as numbers."""

    title: str
    question: str
    answer: str
    answers: dict[str, Any] = field(default_factory=dict)

    def to_markdown(self, with_answers: bool = True) -> str:
        out = f"### {self.title}\n\n{self.question}\n"
        if with_answers:
            out += f"\n**Answer.**\n\n{self.answer}\n"
        return out

    def to_latex(self, with_answers: bool = True) -> str:
        def tex(s: str) -> str:
            parts = s.split("$$")
            s = "".join(p if k % 2 == 0 else f"\\[{p}\\]" for k, p in enumerate(parts))
            return s.replace("**", "").replace("_{", "_{").replace("%", r"\%")

        out = f"\\subsection*{{{self.title}}}\n{tex(self.question)}\n"
        if with_answers:
            out += f"\n\\paragraph{{Answer.}}\n{tex(self.answer)}\n"
        return out


def _f(x: float) -> str:
    x = float(x)
    return str(int(x)) if x == int(x) and abs(x) < 1e9 else f"{x:.4g}"


def _mat(a: Any) -> str:
    a = np.atleast_2d(np.asarray(a, dtype=float))
    rows = " \\\\ ".join(" & ".join(_f(v) for v in row) for row in a)
    return f"\\begin{{bmatrix}} {rows} \\end{{bmatrix}}"


def _small(rng: np.random.Generator, shape: Any, values: tuple = (-1, -0.5, 0, 0.5, 1)) -> np.ndarray:
    return rng.choice(np.asarray(values, dtype=float), size=shape)


# ------------------------------------------------------------------ generators
def perceptron(seed: int) -> Exercise:
    """One epoch of the perceptron rule on a logic gate."""
    rng = np.random.default_rng(seed)
    gate = rng.choice(["AND", "OR", "NAND", "NOR"])
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    a, b = X[:, 0].astype(bool), X[:, 1].astype(bool)
    y = {"AND": a & b, "OR": a | b, "NAND": ~(a & b), "NOR": ~(a | b)}[gate].astype(float)
    w, bias, lr = _small(rng, 2), float(rng.choice([-0.5, 0.0, 0.5])), 0.5
    q = (
        f"A perceptron $\\hat y = [w \\cdot x + b > 0]$ learns **{gate}**. Start from $w = ({_f(w[0])}, {_f(w[1])})$, "
        f"$b = {_f(bias)}$, learning rate $\\eta = {lr}$, and apply $w \\leftarrow w + \\eta (y - \\hat y) x$, "
        f"$b \\leftarrow b + \\eta (y - \\hat y)$ to the inputs (0,0), (0,1), (1,0), (1,1) in that order, once. "
        "Give $w$ and $b$ after each input."
    )
    lines = []
    for x_i, y_i in zip(X, y):
        pred = float(w @ x_i + bias > 0)
        w = w + lr * (y_i - pred) * x_i
        bias = bias + lr * (y_i - pred)
        lines.append(
            f"- $x = ({_f(x_i[0])}, {_f(x_i[1])})$, $y = {_f(y_i)}$, $\\hat y = {_f(pred)}$: "
            f"$w = ({_f(w[0])}, {_f(w[1])})$, $b = {_f(bias)}$"
        )
    return Exercise(f"Perceptron on {gate}", q, "\n".join(lines), {"w": w.tolist(), "b": bias})


def softmax_jacobian(seed: int) -> Exercise:
    """Softmax of three logits and its Jacobian diag(p) - p p^T (by glassgrad's autograd)."""
    import glassgrad as gg
    from glassgrad.autograd.functional import jacobian

    rng = np.random.default_rng(seed)
    z = rng.integers(-2, 3, size=3).astype(float)
    zt = gg.tensor(z, dtype=gg.float64)
    p = gg.softmax(zt, dim=0).numpy()
    J = jacobian(lambda t: gg.softmax(t, dim=0), zt).numpy()
    q = f"Compute $p = \\mathrm{{softmax}}(z)$ for $z = {_mat(z)}$ and its Jacobian $J_{{ij}} = \\partial p_i / \\partial z_j$."
    a = (
        f"$p_i = e^{{z_i}} / \\sum_j e^{{z_j}}$: $$p = {_mat(p)}$$ "
        f"$J = \\mathrm{{diag}}(p) - p p^T$: $$J = {_mat(J)}$$ (each column sums to 0)."
    )
    return Exercise("Softmax and its Jacobian", q, a, {"p": p.tolist(), "J": J.tolist()})


_GRAPHS = [
    "q = x + y; f = q * z",
    "q = x * y; r = q + z; f = max(r, 0)",
    "s = w0 * x0 + w1 * x1 + b; f = sigmoid(s)",
    "q = a * b; r = c - q; f = r * r",
    "q = x * y; f = tanh(q + z)",
]


def graph_backprop(seed: int) -> Exercise:
    """Forward and backward through a small computational graph, node by node."""
    from glassgrad.explain.check import run_expression
    from glassgrad.explain.parse import parse

    rng = np.random.default_rng(seed)
    prog = parse(_GRAPHS[int(rng.integers(len(_GRAPHS)))])
    inputs = {v: float(rng.integers(-2, 3)) for v in prog.variables}
    tr, *_ = run_expression(prog, inputs)
    given = ", ".join(f"${k} = {_f(v)}$" for k, v in inputs.items())
    q = (
        f"For `{prog.source}` at {given}, compute every node's value in a forward pass, then "
        f"$\\partial f / \\partial$ every node and input in a backward pass."
    )
    grads = {k: float(np.asarray(v)) for k, v in tr.grads().items()}
    values = {r.name: float(np.asarray(r.value)) for r in tr.rows()}
    return Exercise(
        "Backprop through a computational graph",
        q,
        tr.table().to_markdown(),
        {"values": values, "grads": grads},
    )


def conv_output(seed: int) -> Exercise:
    """Output size and parameter count of a Conv2d layer."""
    rng = np.random.default_rng(seed)
    H = int(rng.choice([28, 32, 64, 96, 224]))
    W = H if rng.random() < 0.7 else int(rng.choice([28, 32, 64]))
    c_in, c_out = int(rng.choice([1, 3, 16])), int(rng.choice([8, 16, 32, 64]))
    k, s = int(rng.choice([3, 5, 7])), int(rng.choice([1, 2]))
    p = int(rng.integers(0, k // 2 + 1))
    Ho, Wo = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    params = c_out * (c_in * k * k + 1)
    q = (
        f"A `Conv2d({c_in}, {c_out}, kernel_size={k}, stride={s}, padding={p})` gets an input of shape "
        f"$(N, {c_in}, {H}, {W})$. What is the output shape, and how many parameters does the layer have?"
    )
    a = (
        f"$H_{{out}} = \\lfloor (H + 2p - k)/s \\rfloor + 1 = \\lfloor ({H} + {2 * p} - {k})/{s} \\rfloor + 1 = {Ho}$, "
        f"likewise $W_{{out}} = {Wo}$: the output is $(N, {c_out}, {Ho}, {Wo})$. Parameters: "
        f"$C_{{out}} (C_{{in}} k^2 + 1) = {c_out} \\cdot ({c_in} \\cdot {k * k} + 1) = {params}$ (weights plus one bias per filter)."
    )
    return Exercise(
        "Conv output size and parameter count", q, a, {"H_out": Ho, "W_out": Wo, "params": params}
    )


def maxpool_backward(seed: int) -> Exercise:
    """Forward and backward of a 2x2, stride-2 max-pool on a 4x4 input."""
    rng = np.random.default_rng(seed)
    x = rng.permutation(16).reshape(4, 4).astype(float)  # distinct values: no ties
    g = rng.integers(1, 5, size=(2, 2)).astype(float)
    win = x.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(2, 2, 4)  # (4, 4) -> (2, 2, window of 4)
    y = win.max(-1)
    onehot = (win == y[..., None]) * g[..., None]  # the gradient goes to the max of each window
    dx = onehot.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(4, 4)  # (2, 2, 4) -> (4, 4)
    q = (
        f"Max-pool $x = {_mat(x)}$ with a $2 \\times 2$ window and stride 2. Given the upstream gradient "
        f"$\\partial L / \\partial y = {_mat(g)}$, compute $y$ and $\\partial L / \\partial x$."
    )
    a = f"$$y = {_mat(y)}, \\quad \\frac{{\\partial L}}{{\\partial x}} = {_mat(dx)}$$ Each window routes its gradient to its maximum; the other entries get 0."
    return Exercise("Max-pool backward", q, a, {"y": y.tolist(), "dx": dx.tolist()})


def rnn_step(seed: int) -> Exercise:
    """One step of a vanilla RNN cell, h' = tanh(W_ih x + b_ih + W_hh h + b_hh)."""
    rng = np.random.default_rng(seed)
    x, h = _small(rng, 2), _small(rng, 2)
    W_ih, W_hh, b = _small(rng, (2, 2)), _small(rng, (2, 2)), _small(rng, 2)
    pre = W_ih @ x + W_hh @ h + b
    h_new = np.tanh(pre)
    q = (
        f"An RNN cell has $W_{{ih}} = {_mat(W_ih)}$, $W_{{hh}} = {_mat(W_hh)}$, $b = {_mat(b)}^T$. "
        f"Compute $h' = \\tanh(W_{{ih}} x + W_{{hh}} h + b)$ for $x = {_mat(x)}^T$, $h = {_mat(h)}^T$."
    )
    a = f"Pre-activation $W_{{ih}} x + W_{{hh}} h + b = {_mat(pre)}^T$, so $h' = {_mat(h_new)}^T$."
    return Exercise("One RNN step", q, a, {"pre": pre.tolist(), "h": h_new.tolist()})


def lstm_step(seed: int) -> Exercise:
    """One LSTM step with hidden size 1 (gates in PyTorch's order i, f, g, o)."""
    rng = np.random.default_rng(seed)
    x, h, c = _small(rng, 2), _small(rng, 1), _small(rng, 1)
    W_ih, W_hh, b = _small(rng, (4, 2)), _small(rng, (4, 1)), _small(rng, 4)
    pre = W_ih @ x + W_hh @ h + b  # (4,): i, f, g, o
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    i, f, g, o = sig(pre[0]), sig(pre[1]), np.tanh(pre[2]), sig(pre[3])
    c_new = f * c[0] + i * g
    h_new = o * np.tanh(c_new)
    q = (
        f"An LSTM cell (hidden size 1) has $W_{{ih}} = {_mat(W_ih)}$ (rows: $i, f, g, o$), "
        f"$W_{{hh}} = {_mat(W_hh)}$, $b = {_mat(b)}^T$. For $x = {_mat(x)}^T$, $h = {_f(h[0])}$, $c = {_f(c[0])}$ "
        "compute the gates, $c' = f c + i g$ and $h' = o \\tanh(c')$."
    )
    a = (
        f"Pre-activations $({', '.join(_f(v) for v in pre)})$; $i = \\sigma = {_f(i)}$, $f = {_f(f)}$, "
        f"$g = \\tanh = {_f(g)}$, $o = {_f(o)}$; $c' = {_f(c_new)}$, $h' = {_f(h_new)}$."
    )
    answers = {"i": i, "f": f, "g": g, "o": o, "c": c_new, "h": h_new}
    return Exercise("One LSTM step", q, a, {k: float(v) for k, v in answers.items()})


def attention_head(seed: int) -> Exercise:
    """One scaled dot-product attention head over three tokens."""
    rng = np.random.default_rng(seed)
    X = rng.integers(-1, 2, size=(3, 2)).astype(float)
    Wq, Wk, Wv = (rng.integers(-1, 2, size=(2, 2)).astype(float) for _ in range(3))
    Q, K, V = X @ Wq, X @ Wk, X @ Wv  # (3, 2) each
    S = Q @ K.T / math.sqrt(2)  # (3, 3)
    A = np.exp(S - S.max(-1, keepdims=True))
    A /= A.sum(-1, keepdims=True)
    out = A @ V
    q = (
        f"Three tokens have embeddings (rows) $X = {_mat(X)}$. With $W_Q = {_mat(Wq)}$, $W_K = {_mat(Wk)}$, "
        f"$W_V = {_mat(Wv)}$, compute $Q = X W_Q$, $K$, $V$, the scores $Q K^T / \\sqrt{{d_k}}$ ($d_k = 2$), "
        "the attention weights (softmax of each row) and the output $A V$."
    )
    a = (
        f"$$Q = {_mat(Q)}, K = {_mat(K)}, V = {_mat(V)}$$ $$QK^T/\\sqrt 2 = {_mat(S)}$$ "
        f"$$A = {_mat(A)}$$ $$AV = {_mat(out)}$$"
    )
    return Exercise(
        "One attention head", q, a, {"scores": S.tolist(), "weights": A.tolist(), "output": out.tolist()}
    )


def positional_encoding(seed: int) -> Exercise:
    """Entries of the sinusoidal positional-encoding table."""
    rng = np.random.default_rng(seed)
    d = int(rng.choice([4, 8, 16]))
    cells = [(int(rng.integers(0, 20)), int(rng.integers(0, d))) for _ in range(3)]
    vals = {}
    lines = []
    for pos, j in cells:
        i2 = j - j % 2
        angle = pos / 10000 ** (i2 / d)
        v = math.sin(angle) if j % 2 == 0 else math.cos(angle)
        vals[f"PE[{pos},{j}]"] = v
        fn = "sin" if j % 2 == 0 else "cos"
        lines.append(
            f"- $PE_{{{pos},{j}}} = \\{fn}({pos} / 10000^{{{i2}/{d}}}) = \\{fn}({_f(angle)}) = {_f(v)}$"
        )
    where = ", ".join(f"$PE_{{{p},{j}}}$" for p, j in cells)
    q = (
        f"With $d_{{model}} = {d}$ and $PE_{{pos, 2i}} = \\sin(pos / 10000^{{2i/d}})$, "
        f"$PE_{{pos, 2i+1}} = \\cos(pos / 10000^{{2i/d}})$, compute {where}."
    )
    return Exercise("Positional-encoding entries", q, "\n".join(lines), vals)


EXERCISES: dict[str, Callable[[int], Exercise]] = {
    "perceptron": perceptron,
    "softmax": softmax_jacobian,
    "graph": graph_backprop,
    "conv_output": conv_output,
    "maxpool_backward": maxpool_backward,
    "rnn_step": rnn_step,
    "lstm_step": lstm_step,
    "attention_head": attention_head,
    "positional_encoding": positional_encoding,
}


def generate(kind: str, seed: int = 0) -> Exercise:
    """One exercise of ``kind`` (a key of :data:`EXERCISES`); the same seed gives the same one."""
    if kind not in EXERCISES:
        raise KeyError(f"generate: expected one of {', '.join(EXERCISES)}, got {kind!r}")
    return EXERCISES[kind](seed)


def worksheet(
    kinds: list[str] | None = None, seed: int = 0, with_answers: bool = False, fmt: str = "markdown"
) -> str:
    """Several exercises (all kinds by default) as one Markdown or LaTeX document."""
    items = [generate(k, seed + n) for n, k in enumerate(kinds or list(EXERCISES))]
    if fmt == "latex":
        return "\n".join(e.to_latex(with_answers) for e in items)
    return "\n".join(e.to_markdown(with_answers) for e in items)
