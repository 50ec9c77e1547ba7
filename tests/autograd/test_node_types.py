"""``type(t.grad_fn).__name__`` is the node's PyTorch name, as graph drawers such as torchviz read
it (``str(type(fn).__name__)``): each op's nodes are of a ``Node`` subclass named after it."""

import pytest

import glassgrad as gg
from glassgrad.autograd.function import REGISTRY, Node

# Ops whose nodes PyTorch names as glassgrad does, built the same way in both libraries.
SAME_NAMES = {
    "add": lambda lib, x: x + x,
    "mul": lambda lib, x: x * 3,
    "sum": lambda lib, x: x.sum(),
    "mean": lambda lib, x: x.mean(),
    "exp": lambda lib, x: x.exp(),
    "tanh": lambda lib, x: lib.tanh(x),
    "sigmoid": lambda lib, x: lib.sigmoid(x),
    "relu": lambda lib, x: lib.relu(x),
    "div": lambda lib, x: x / 2,
    "pow": lambda lib, x: x**2,
}


@pytest.mark.parametrize("op", SAME_NAMES)
def test_the_node_class_has_pytorchs_name(torch, op):
    ours = SAME_NAMES[op](gg, gg.ones(2, 3, requires_grad=True)).grad_fn
    theirs = SAME_NAMES[op](torch, torch.ones(2, 3, requires_grad=True)).grad_fn
    assert type(ours).__name__ == type(theirs).__name__ == ours.name()
    assert isinstance(ours, Node)


def test_every_op_has_its_own_node_class_named_as_its_nodes():
    for name, op in REGISTRY.items():
        assert issubclass(op.node_type, Node), name
        assert op.node_type.__name__ == _with_fn(op).name(), name


def _with_fn(op):
    node = op.node_type({})
    node.fn = op
    return node


def test_a_graph_walk_by_class_names_reads_pytorchs_names(torch):
    def walk(fn, seen):
        if fn is None or fn in seen:
            return []
        seen.add(fn)
        return [type(fn).__name__] + [n for nxt, _ in fn.next_functions for n in walk(nxt, seen)]

    for lib in (gg, torch):
        x = lib.ones(3, requires_grad=True)
        names = walk(((x * 2).exp() + x).sum().grad_fn, set())
        assert names == ["SumBackward0", "AddBackward0", "ExpBackward0", "MulBackward0", "AccumulateGrad"]


def test_custom_function_nodes_are_named_after_the_class():
    class Double(gg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    node = Double.apply(gg.ones(1, requires_grad=True)).grad_fn
    assert type(node).__name__ == node.name()
    assert type(node).__name__.startswith("DoubleBackward")
