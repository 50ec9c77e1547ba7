"""Every plot function draws a non-empty image (Agg backend), saved as PNG and SVG."""

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import nn


@pytest.fixture
def viz(tmp_path):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    from glassgrad import viz

    def check(fig, name="fig"):
        # drawn pixels are not all one colour, and both file formats come out
        fig.canvas.draw()
        rgba = np.asarray(fig.canvas.buffer_rgba())
        assert rgba.shape[0] > 50 and rgba.shape[1] > 50
        assert len(np.unique(rgba.reshape(-1, 4), axis=0)) > 10
        png = viz.save(fig, tmp_path / f"{name}.png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
        return png

    viz.check = check
    return viz


def test_training_curves(viz):
    viz.check(viz.plot_training_curves({"train": [1.0, 0.5, 0.3], "val": [1.1, 0.7, 0.6]}, logy=True))


def test_decision_boundary(viz):
    X = gg.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = gg.tensor([0, 1, 1, 0])
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    viz.check(viz.plot_decision_boundary(model, X, y, resolution=50))
    viz.check(viz.plot_decision_boundary(nn.Linear(2, 1), X, y, resolution=30))


def test_activations(viz):
    viz.check(viz.plot_activations())


def test_gradient_flow(viz):
    from glassgrad.explain import GradientMonitor, watch_time_steps

    model = nn.Sequential(nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 1))
    mon = GradientMonitor(model)
    model(gg.randn(3, 4)).sum().backward()
    mon.record()
    viz.check(viz.plot_gradient_flow(mon))
    h = [gg.randn(2, requires_grad=True)]
    for _ in range(5):
        h.append(h[-1].tanh() * 0.9)
    norms = watch_time_steps(h)
    h[-1].sum().backward()
    viz.check(viz.plot_gradient_flow_time(norms))


def test_attention_maps(viz):
    w = np.random.default_rng(0).dirichlet(np.ones(4), size=(2, 4))  # (h, L, S), rows sum to 1
    viz.check(viz.plot_attention(w, ["the", "cat", "sat", "."], ["the", "cat", "sat", "."]))
    viz.check(viz.plot_attention(gg.tensor(w[0])))


def test_positional_encoding(viz):
    pe = viz.sinusoidal_table(50, 16)
    assert pe[0, 0] == 0.0 and pe[0, 1] == 1.0
    assert pe[3, 4] == pytest.approx(np.sin(3 / 10000 ** (4 / 16)))
    assert pe[3, 5] == pytest.approx(np.cos(3 / 10000 ** (4 / 16)))
    viz.check(viz.plot_positional_encoding(max_len=50, d_model=16))


def test_conv_filters_and_feature_maps(viz):
    rng = np.random.default_rng(0)
    viz.check(viz.plot_conv_filters(rng.normal(size=(6, 3, 5, 5))))
    viz.check(viz.plot_conv_filters(gg.tensor(rng.normal(size=(4, 1, 3, 3)))))
    viz.check(viz.plot_feature_maps(rng.normal(size=(2, 6, 12, 12))))


def test_beam_tree(viz):
    nodes = [
        {"token": "<s>", "score": 0.0, "parent": None},
        {"token": "a", "score": -0.4, "parent": 0},
        {"token": "the", "score": -1.2, "parent": 0},
        {"token": "cat", "score": -0.9, "parent": 1},
        {"token": "dog", "score": -1.5, "parent": 1},
        {"token": "cat", "score": -1.6, "parent": 2},
    ]
    viz.check(viz.plot_beam_tree(nodes, best=[0, 1, 3]))


def test_save_refuses_other_suffix(viz, tmp_path):
    fig = viz.plot_training_curves({"loss": [1.0, 0.5]})
    assert viz.save(fig, tmp_path / "c.svg").read_text().lstrip().startswith("<?xml")
    with pytest.raises(ValueError, match=r"expected a \.png or \.svg"):
        viz.save(viz.plot_training_curves({"loss": [1.0]}), tmp_path / "c.jpg")
