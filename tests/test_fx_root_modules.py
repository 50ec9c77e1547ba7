"""fx: a built-in layer traced as the root (not as a leaf) records what PyTorch's does: the layer's
own Python input checks step aside for a Proxy (nn/input_checks.py)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import fx

# (make the layer from a library's nn, an input shape, the input is integer ids)
LAYERS = {
    "Linear": (lambda nn: nn.Linear(2, 3), (4, 2), False),
    "Conv1d": (lambda nn: nn.Conv1d(2, 3, 3), (1, 2, 5), False),
    "Conv2d": (lambda nn: nn.Conv2d(2, 3, 3, padding=1), (1, 2, 4, 4), False),
    "LayerNorm": (lambda nn: nn.LayerNorm(3), (2, 3), False),
    "GroupNorm": (lambda nn: nn.GroupNorm(1, 3), (2, 3, 4), False),
    "Embedding": (lambda nn: nn.Embedding(5, 3), (2, 2), True),
    "Bilinear": (lambda nn: nn.Bilinear(2, 2, 3), (4, 2), False),
}


def _graph(lib, name):
    make = LAYERS[name][0]
    lib.manual_seed(0)
    layer = make(lib.nn).double()
    gm = lib.fx.symbolic_trace(layer)
    nodes = [(n.op, n.name, getattr(n.target, "__name__", n.target)) for n in gm.graph.nodes]
    return layer, gm, nodes


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_a_layer_traced_as_the_root_records_pytorchs_graph(torch, name):
    ours_layer, ours, ours_nodes = _graph(gg, name)
    _, _, theirs_nodes = _graph(torch, name)
    assert ours_nodes == theirs_nodes
    _, shape, ids = LAYERS[name]
    rng = np.random.default_rng(0)
    x = gg.tensor(rng.integers(0, 5, shape)) if ids else gg.tensor(rng.standard_normal(shape))
    args = (x, x) if name == "Bilinear" else (x,)
    np.testing.assert_array_equal(ours(*args).detach().numpy(), ours_layer(*args).detach().numpy())


def test_the_layers_checks_still_name_a_wrong_tensor():
    with pytest.raises(
        gg.errors.ShapeError, match=r"Linear\(in_features=2, out_features=3\): expected input"
    ):
        gg.nn.Linear(2, 3)(gg.zeros(4, 5))
    with pytest.raises(gg.errors.ShapeError, match="Conv2d: expected input"):
        gg.nn.Conv2d(2, 3, 3)(gg.zeros(1, 4, 5, 5))
    traced = fx.symbolic_trace(gg.nn.Linear(2, 3))
    with pytest.raises(gg.errors.ShapeError):  # the functional's own check, when the graph runs
        traced(gg.zeros(4, 5))
