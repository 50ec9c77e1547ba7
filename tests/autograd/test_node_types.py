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


@pytest.mark.parametrize("cut", ["split", "chunk", "unbind"])
def test_the_outputs_of_a_multi_output_op_share_one_node_as_in_pytorch(torch, cut):
    def walk(lib):
        x = lib.ones(4, 2, requires_grad=True)
        pieces = {
            "split": lambda y: y.split(2),
            "chunk": lambda y: y.chunk(2),
            "unbind": lambda y: y.unbind(),
        }[cut](x * 1)
        a, b = pieces[0], pieces[1]
        loss = (a * b).sum()
        mul = loss.grad_fn.next_functions[0][0]
        edges = [(type(n).__name__, nr) for n, nr in mul.next_functions]
        return a.grad_fn is b.grad_fn, type(a.grad_fn).__name__, a.grad_fn.name(), edges

    assert walk(gg) == walk(torch)


def test_a_multi_output_custom_function_has_one_node_as_in_pytorch(torch):
    def run(lib):
        class Two(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, ga, gb):
                return ga * 2 + gb * 3

        x = lib.ones(3, requires_grad=True)
        a, b = Two.apply(x)
        loss = (a * b).sum()
        mul = loss.grad_fn.next_functions[0][0]
        edges = [(type(n).__name__, nr) for n, nr in mul.next_functions]
        loss.backward()
        return a.grad_fn is b.grad_fn, type(a.grad_fn).__name__, edges, x.grad.tolist()

    assert run(gg) == run(torch)
