"""Draw the pictures shown in docs/glassbox.md (small PNGs under docs/images/).

Run from the repository root: ``python examples/glassbox_pictures.py``. Every number in the
pictures is computed here by glassgrad; the attention maps come from a trained-free
``nn.MultiheadAttention`` when the library has it, else from a softmax of random scores.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np

import glassgrad as gg
from glassgrad import nn, optim, viz
from glassgrad.explain import AttentionInspector, GradientMonitor, set_name, trace

OUT = Path(__file__).resolve().parent.parent / "docs" / "images"
DPI = 60


def _save(fig, name: str) -> None:
    viz.save(fig, OUT / name, dpi=DPI)
    print("wrote", OUT / name)


def graph_picture() -> None:
    x, y, z = (
        set_name(gg.tensor(v, requires_grad=True), n) for v, n in ((-2.0, "x"), (5.0, "y"), (-4.0, "z"))
    )
    with trace() as tr:
        q = set_name(x + y, "q")
        set_name(q * z, "f").backward()
    fig = tr.graph().figure()
    _save(fig, "trace_graph.png")


def xor_pictures() -> None:
    gg.manual_seed(0)
    X, y = gg.datasets.toy.xor()
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    opt = optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(300):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(X), y.long().reshape(-1))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    _save(viz.plot_training_curves({"train loss": losses}, logy=True), "training_curves.png")
    _save(viz.plot_decision_boundary(model, X, y.reshape(-1), resolution=120), "decision_boundary.png")


def gradient_flow_picture() -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
    for ax, act in zip(axes, (nn.Sigmoid, nn.ReLU)):
        gg.manual_seed(0)
        layers = []
        for _ in range(10):
            lin = nn.Linear(32, 32)
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
            layers += [lin, act()]
        model = nn.Sequential(*layers[:-1], nn.Linear(32, 1))
        mon = GradientMonitor(model)
        model(gg.randn(64, 32)).pow(2).mean().backward()
        mon.record()
        viz.plot_gradient_flow(mon, ax=ax)
        ax.set_title(f"10 x {act.__name__}: first/last = {mon.first_last_ratio():.1e}", fontsize=9)
    fig.tight_layout()
    _save(fig, "gradient_flow.png")


def attention_picture() -> None:
    tokens = ["the", "cat", "sat", "on", "the", "mat"]
    gg.manual_seed(0)
    if hasattr(nn, "MultiheadAttention"):
        mha = nn.MultiheadAttention(16, 4, batch_first=True)
        x = gg.randn(1, len(tokens), 16) * 2
        with AttentionInspector(mha) as insp:
            mha(x, x, x)
            fig = insp.plot(0, tokens_q=tokens)
    else:
        s = np.random.default_rng(0).normal(size=(4, 6, 6)) * 2
        w = np.exp(s) / np.exp(s).sum(-1, keepdims=True)
        fig = viz.plot_attention(w, tokens, tokens)
    _save(fig, "attention.png")


def other_pictures() -> None:
    _save(viz.plot_activations(("sigmoid", "tanh", "relu", "gelu")), "activations.png")
    _save(viz.plot_positional_encoding(max_len=48, d_model=32), "positional_encoding.png")
    rng = np.random.default_rng(0)
    gg.manual_seed(0)
    if hasattr(nn, "Conv2d"):
        conv = nn.Conv2d(1, 8, 5)
        img = np.zeros((1, 1, 28, 28), dtype=np.float32)
        img[0, 0, 6:22, 12:16] = 1.0  # a vertical bar
        img[0, 0, 6:10, 8:20] = 1.0  # and a top bar: a "T"
        weight, maps = conv.weight, conv(gg.tensor(img)).relu()
    else:
        weight, maps = rng.normal(size=(8, 1, 5, 5)), np.maximum(rng.normal(size=(1, 8, 24, 24)), 0)
    _save(viz.plot_conv_filters(weight), "conv_filters.png")
    _save(viz.plot_feature_maps(maps), "feature_maps.png")
    nodes = [
        {"token": "<s>", "score": 0.0, "parent": None},
        {"token": "the", "score": -0.3, "parent": 0},
        {"token": "a", "score": -1.1, "parent": 0},
        {"token": "cat", "score": -0.9, "parent": 1},
        {"token": "dog", "score": -1.4, "parent": 1},
        {"token": "cat", "score": -1.8, "parent": 2},
        {"token": "sat", "score": -1.2, "parent": 3},
        {"token": "ran", "score": -2.0, "parent": 4},
    ]
    _save(viz.plot_beam_tree(nodes, best=[0, 1, 3, 6]), "beam_tree.png")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    graph_picture()
    xor_pictures()
    gradient_flow_picture()
    attention_picture()
    other_pictures()


if __name__ == "__main__":
    main()
