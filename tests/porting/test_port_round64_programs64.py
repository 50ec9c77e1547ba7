"""Round 64, published programs (NVIDIA/torch-harmonics, DmitryUlyanov/deep-image-prior,
hysts/pytorch_image_classification, szagoruyko/pytorchviz). The first three ran unchanged and
matched PyTorch; pytorchviz's ``make_dot`` raised on glassgrad at the first node. Pinned here,
written fresh after the graph walk torchviz does: every node reached through
``next_functions`` is asked ``hasattr(fn, 'saved_tensors')`` (only a custom Function's node has
them, as Tensors) and, with ``show_attrs``/``show_saved``, every ``_saved_*`` name that ``dir(fn)``
lists is read with ``getattr``; the reductions' ``_saved_self_sym_sizes`` / ``_keepdim`` /
``_numel`` against PyTorch's; and an op's ``_saved_self``/``_other`` never being the op's own
reshaped copy of an input (conv's weight).
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

RNG_SEED = 64


def _walk(root):
    """Every node reachable from ``root`` through ``next_functions``, each once, in visit order."""
    seen, order, stack = set(), [], [root]
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        order.append(fn)
        stack.extend(u for u, _ in getattr(fn, "next_functions", ()))
    return order


def _saved_attrs(fn, lib):
    """torchviz's reading of a node: each ``_saved_*`` that ``dir`` lists, by getattr."""
    out = {}
    for attr in dir(fn):
        if attr.startswith("_saved_"):
            val = getattr(fn, attr)
            out[attr] = "tensor" if lib.is_tensor(val) else val
    return out


def _mlp_graph(lib, rng):
    lin1, lin2 = lib.nn.Linear(4, 5), lib.nn.Linear(5, 3)
    x = lib.tensor(rng.standard_normal((2, 4)))
    return lib.nn.functional.log_softmax(lin2(lib.tanh(lin1(x.float()))), dim=1).sum()


def _cnn_graph(lib, rng):
    conv, bn = lib.nn.Conv2d(2, 3, 3, padding=1), lib.nn.BatchNorm2d(3)
    x = lib.tensor(rng.standard_normal((2, 2, 4, 4)), dtype=lib.float32)
    y = lib.nn.functional.max_pool2d(lib.relu(bn(conv(x))), 2)
    return y.view(2, -1).mean()


def _rnn_graph(lib, rng):
    lstm = lib.nn.LSTM(3, 4, batch_first=True)
    x = lib.tensor(rng.standard_normal((2, 5, 3)), dtype=lib.float32)
    return lstm(x)[0].sum()


def _transformer_graph(lib, rng):
    layer = lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    x = lib.tensor(rng.standard_normal((2, 3, 8)), dtype=lib.float32)
    return layer(x).sum()


GRAPHS = {"mlp": _mlp_graph, "cnn": _cnn_graph, "lstm": _rnn_graph, "transformer": _transformer_graph}


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
@pytest.mark.parametrize("graph", list(GRAPHS))
def test_every_listed_saved_attr_reads_and_op_nodes_have_no_saved_tensors(torch, lib_name, graph):
    """torchviz.make_dot(show_attrs=True, show_saved=True): no read of a listed name raises, and no
    op node claims ``saved_tensors`` (torchviz then adds each of them as a tensor node)."""
    lib = torch if lib_name == "torch" else gg
    y = GRAPHS[graph](lib, np.random.default_rng(RNG_SEED))
    nodes = _walk(y.grad_fn)
    assert len(nodes) > 3
    for fn in nodes:
        _saved_attrs(fn, lib)
        assert not hasattr(fn, "saved_tensors"), type(fn).__name__
        if type(fn).__name__ == "AccumulateGrad":
            assert lib.is_tensor(fn.variable) and fn.variable.requires_grad


def _square_function(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x, None)
            return x * x * scale

        @staticmethod
        def backward(ctx, g):
            x, _ = ctx.saved_tensors
            return 2 * x * g, None

    return Square


def test_custom_function_node_shows_its_saved_tensors(torch):
    """A custom Function's grad_fn is PyTorch's BackwardCFunction: ``saved_tensors`` are what
    forward saved (the input itself, None kept), there are no ``_saved_*`` attributes, and once a
    backward freed them reading raises RuntimeError."""
    a = np.random.default_rng(RNG_SEED).standard_normal(3)
    seen = []
    for lib in (torch, gg):
        x = lib.tensor(a, requires_grad=True)
        y = _square_function(lib).apply(x, 3.0)
        fn = y.grad_fn
        saved = fn.saved_tensors
        assert len(saved) == 2 and saved[0] is x and saved[1] is None
        assert [n for n in dir(fn) if n.startswith("_saved_")] == []
        assert not hasattr(fn, "_saved_self") and not hasattr(fn, "_saved_result")
        seen.append((type(fn).__name__, [type(u).__name__ for u, _ in fn.next_functions]))
        y.sum().backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            fn.saved_tensors  # noqa: B018
    assert seen[0] == seen[1]


def test_custom_function_nodes_walked_as_torchviz_does(torch):
    """The custom node among op nodes: names, saved-attribute readings and saved tensors' shapes,
    node for node as PyTorch's."""
    a = np.random.default_rng(RNG_SEED).standard_normal((3, 4))
    walks = []
    for lib in (torch, gg):
        x = lib.tensor(a, requires_grad=True)
        y = _square_function(lib).apply(x.exp(), 2.0).sum()
        walk = []
        for fn in _walk(y.grad_fn):
            saved = (
                [tuple(t.shape) for t in fn.saved_tensors if t is not None]
                if hasattr(fn, "saved_tensors")
                else None
            )
            attrs = {k: v for k, v in _saved_attrs(fn, lib).items()}
            walk.append((type(fn).__name__, saved, attrs))
        walks.append(walk)
    assert walks[0] == walks[1]


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.sum(),
        lambda t: t.sum(1),
        lambda t: t.sum((0, 2), keepdim=True),
        lambda t: t.mean(),
        lambda t: t.mean(-1),
        lambda t: t.mean(1, keepdim=True),
    ],
    ids=["sum", "sum_dim", "sum_dims_keepdim", "mean", "mean_neg_dim", "mean_keepdim"],
)
def test_reduction_saved_sizes_as_pytorch(torch, call):
    """SumBackward0/1 and MeanBackward0/1 show the reduced tensor's sizes (and numel, keepdim) as
    PyTorch's nodes do; their dims, which PyTorch shows as given, glassgrad does not list."""
    a = np.random.default_rng(RNG_SEED).standard_normal((2, 3, 4))
    got = []
    for lib in (torch, gg):
        fn = call(lib.tensor(a, requires_grad=True)).grad_fn
        attrs = _saved_attrs(fn, lib)
        attrs.pop("_saved_dim", None)
        got.append((type(fn).__name__, attrs))
    assert got[1] == got[0]
    assert got[1][1]["_saved_self_sym_sizes"] == (2, 3, 4)


def test_saved_input_roles_are_the_inputs_not_the_ops_copies():
    """``_saved_self``/``_saved_other`` are the op's inputs as given: conv keeps its weight
    reshaped for its matmul and batch norm its weight broadcastable; neither is shown as the
    input (absent instead, as PyTorch has no ``_saved_other`` on these nodes)."""
    rng = np.random.default_rng(RNG_SEED)
    conv, bn = gg.nn.Conv2d(2, 3, 3, padding=1), gg.nn.BatchNorm2d(3)
    x = gg.tensor(rng.standard_normal((2, 2, 4, 4)), dtype=gg.float32, requires_grad=True)
    y = bn(conv(x)) * gg.tensor(rng.standard_normal((1, 3, 1, 1)), dtype=gg.float32)
    for fn in _walk(y.grad_fn):
        inputs = getattr(fn, "shapes", None)  # per input its shape, where recorded
        for role, attr in enumerate(("_saved_self", "_saved_other")):
            if inputs is not None and inputs[role] is not None and attr in dir(fn):
                assert tuple(getattr(fn, attr).shape) == tuple(inputs[role]), (type(fn).__name__, attr)
    conv_fn = bn(conv(x)).grad_fn.next_functions[0][0]
    assert type(conv_fn).__name__ == "ConvolutionBackward0"
    assert conv_fn._saved_self is x
    assert "_saved_other" not in dir(conv_fn)
