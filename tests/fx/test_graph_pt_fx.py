"""Round 67, group pt_fx (PyTorch's test/test_fx.py, test/fx/test_dce_pass.py and
test/fx/test_subgraph_rewriter.py, re-created as parity cases): dead-code elimination keeps the
nodes with effects, a pickled GraphModule keeps its user functions, ``create_arg`` takes PyTorch's
argument types, ``ProxyableClassMeta``, ``is_fx_tracing``, ``record_stack_traces``, ``get_attr``'s
warning, and ``replace_pattern`` over consecutive matches. ``lib`` is PyTorch or glassgrad."""

from __future__ import annotations

import dataclasses
import operator
import pickle
import warnings

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.fx


def _np(t):
    return np.asarray(t.detach().numpy())


def user_leaf(a, b):
    """A module-level function a graph calls (pickling must find it again)."""
    return a * 2 + b


@dataclasses.dataclass
class Scale:
    factor: float


def _setitem_graph(lib):
    g = lib.fx.Graph()
    a = g.placeholder("a")
    b = g.call_function(operator.add, (a, 0))
    g.call_function(operator.setitem, (b, 0, 5.0))  # value unread: an effect only
    g.output(b)
    return g


def test_dead_code_keeps_setitem_and_assert_as_pytorch(torch):
    for lib in (torch, gg):
        g = _setitem_graph(lib)
        assert g.eliminate_dead_code() is False
        gm = lib.fx.GraphModule(lib.nn.Module(), g)
        np.testing.assert_array_equal(_np(gm(lib.tensor([1.0, 2.0]))), [5.0, 2.0])

        def f(x):
            lib._assert(x.sum() > -1.0, "too small")
            return x * 2

        gm = lib.fx.symbolic_trace(f)
        assert gm.graph.eliminate_dead_code() is False
        gm.recompile()
        with pytest.raises(AssertionError, match="too small"):
            gm(lib.tensor([-5.0]))


def counted(x):
    """A function with an effect beyond its value (registered with ``has_side_effect`` below)."""
    counted.calls += 1
    return x


counted.calls = 0


def test_has_side_effect_keeps_a_registered_function(torch):
    for lib in (torch, gg):
        g = lib.fx.Graph()
        a = g.placeholder("a")
        g.call_function(counted, (a,))
        g.output(a)
        assert g.eliminate_dead_code() is True  # not registered: dropped
        g = lib.fx.Graph()
        a = g.placeholder("a")
        g.call_function(lib.fx.node.has_side_effect(counted), (a,))
        g.output(a)
        assert g.eliminate_dead_code() is False
        assert [n.op for n in g.nodes] == ["placeholder", "call_function", "output"]
        lib.fx.node._side_effectful_functions.discard(counted)


def test_dead_code_keeps_random_draws_as_pytorch(torch):
    names = {}
    for lib in (torch, gg):

        def f(x):
            lib.rand_like(x)  # unread, but it advances the generator
            return x + 1

        gm = lib.fx.symbolic_trace(f)
        gm.graph.eliminate_dead_code()
        names[lib] = [n.name for n in gm.graph.nodes]
    assert names[gg] == names[torch] == ["x", "rand_like", "add", "output"]
    g = gg.fx.symbolic_trace(lambda x: (gg.rand_like(x), x + 1)[1]).graph
    assert g.eliminate_dead_code(is_impure_node=lambda n: n.is_impure(impure_random=False))


def test_dead_code_keeps_inplace_function_calls():
    # Beyond PyTorch, which drops these unread nodes and so changes the result (design.md).
    def f(x):
        y = x + 0
        gg.relu_(y)
        gg.nn.functional.relu(y, inplace=True)
        y.add_(1)
        return y

    gm = gg.fx.symbolic_trace(f)
    assert gm.graph.eliminate_dead_code() is False
    gm.recompile()
    x = gg.tensor([-1.0, -2.0, 3.0])
    np.testing.assert_array_equal(_np(gm(x)), [1.0, 1.0, 4.0])


def test_pickled_graph_module_finds_its_user_function(torch):
    for lib in (torch, gg):
        g = lib.fx.Graph()
        a, b = g.placeholder("x"), g.placeholder("y")
        c = g.call_function(user_leaf, (a, b))
        g.output(g.call_function(lib.sin, (c,)))
        gm = lib.fx.GraphModule(lib.nn.Module(), g)
        loaded = pickle.loads(pickle.dumps(gm))
        loaded.graph.lint()
        x, y = lib.tensor([0.5, 1.0]), lib.tensor([0.25, -1.0])
        np.testing.assert_allclose(_np(loaded(x, y)), np.sin(np.array([1.25, 1.0], dtype=np.float32)))


def test_create_arg_takes_layout_memory_format_dataclass_and_fx_create_arg(torch):
    class Pair:
        def __init__(self, x, y):
            self.x, self.y = x, y

        def __fx_create_arg__(self, tracer):
            return tracer.create_node(
                "call_function", operator.add, (tracer.create_arg(self.x), tracer.create_arg(self.y)), {}
            )

    for lib in (torch, gg):

        class Leaf(lib.nn.Module):
            def forward(self, pair, s):
                return pair * s.factor

        class Root(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.leaf = Leaf()

            def forward(self, x):
                z = lib.empty_like(x, layout=lib.strided, memory_format=lib.contiguous_format).fill_(1)
                return self.leaf(Pair(x, z), Scale(3.0))

        class LeafTracer(lib.fx.Tracer):
            def is_leaf_module(self, m, qualname):
                return isinstance(m, Leaf)

        root = Root()
        gm = lib.fx.GraphModule(root, LeafTracer().trace(root))
        targets = [n.target for n in gm.graph.nodes if n.op == "call_function"]
        assert Scale in targets and operator.add in targets
        np.testing.assert_array_equal(_np(gm(lib.tensor([1.0, 2.0]))), [6.0, 9.0])


def test_proxyable_class_meta_records_its_construction(torch):
    for lib in (torch, gg):

        class TensorPair(metaclass=lib.fx.ProxyableClassMeta):
            def __init__(self, left, right):
                self.left, self.right = left, right

            def add(self, other):
                return TensorPair(self.left + other.left, self.right + other.right)

        def f(x, y):
            return x.add(TensorPair(y, y))

        gm = lib.fx.symbolic_trace(f)
        assert [n.target for n in gm.graph.nodes if n.op == "call_function"] == [TensorPair]
        x = TensorPair(lib.tensor([1.0]), lib.tensor([2.0]))
        out = gm(x, lib.tensor([10.0]))
        assert (float(out.left), float(out.right)) == (11.0, 12.0)

        def g(x):  # an instance built outside the trace is kept on the root
            return x.add(TensorPair(lib.zeros(1), lib.ones(1)))

        gm = lib.fx.symbolic_trace(g)
        assert [n.op for n in gm.graph.nodes] == ["placeholder", "get_attr", "call_method", "output"]
        out = gm(x)
        assert (float(out.left), float(out.right)) == (1.0, 3.0)


def test_is_fx_tracing_while_tracing_only(torch):
    for lib in (torch, gg):
        seen = []

        def f(x):
            seen.append(lib.fx._symbolic_trace.is_fx_tracing())
            return x + 1

        f(lib.ones(1))
        lib.fx.symbolic_trace(f)
        f(lib.ones(1))
        assert seen == [False, True, False]


def test_record_stack_traces_points_at_the_user_code(torch):
    for lib in (torch, gg):

        class M(lib.nn.Module):
            def forward(self, a, b):
                return lib.relu(a + b)

        tracer = lib.fx.Tracer()
        tracer.record_stack_traces = True
        graph = tracer.trace(M())
        for node in graph.nodes:
            if node.op == "call_function":
                assert "test_graph_pt_fx.py" in node.stack_trace
                assert "return lib.relu(a + b)" in node.stack_trace
        # a traced plain function has no ``forward`` frame: PyTorch records nothing
        tracer = lib.fx.Tracer()
        tracer.record_stack_traces = True
        graph = tracer.trace(lambda a: lib.relu(a))
        assert all(n.stack_trace is None for n in graph.nodes)
    graph = gg.fx.Tracer().trace(M())
    assert all(n.stack_trace is None for n in graph.nodes)
    tracer = gg.fx.Tracer()
    tracer.record_stack_traces = True
    for node in tracer.trace(M()).nodes:
        assert "glassgrad/fx" not in (node.stack_trace or "")


def test_get_attr_warns_and_call_module_raises_without_a_target(torch):
    for lib in (torch, gg):

        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = lib.nn.Linear(2, 2)

            def forward(self, x):
                return self.lin(x)

        gm = lib.fx.symbolic_trace(M())
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            gm.graph.get_attr("lin.weight")
        with pytest.warns(UserWarning, match="no underlying reference in the owning GraphModule"):
            gm.graph.get_attr("lin.nothing")
        with pytest.raises(AttributeError, match="has no attribute `nothing`"):
            gm.graph.call_module("nothing", ())


def test_replace_pattern_chains_consecutive_and_overlapping_matches(torch):
    for lib in (torch, gg):

        def f(x):
            return lib.sigmoid(lib.sigmoid(lib.sigmoid(lib.sigmoid(x))))

        gm = lib.fx.symbolic_trace(f)
        lib.fx.subgraph_rewriter.replace_pattern(gm, lambda x: lib.sigmoid(x), lambda x: lib.exp(x))
        gm.graph.lint()
        x = np.array([0.1, -0.2])  # float64: exp(exp(exp(exp(x)))) is ~1e9
        np.testing.assert_allclose(_np(gm(lib.tensor(x))), np.exp(np.exp(np.exp(np.exp(x)))), rtol=1e-12)

        gm = lib.fx.symbolic_trace(f)
        matches = lib.fx.subgraph_rewriter.replace_pattern(
            gm, lambda x: lib.sigmoid(lib.sigmoid(x)), lambda x: lib.neg(x)
        )
        assert len(matches) == 2
        np.testing.assert_array_equal(_np(gm(lib.tensor(x))), x)


def test_replace_pattern_drops_submodules_only_the_pattern_used(torch):
    for lib in (torch, gg):

        def two(first, second):
            class P(lib.nn.Module):
                def __init__(self):
                    super().__init__()
                    setattr(self, first[0], first[1])
                    self.submod = lib.nn.ReLU()

                def forward(self, x):
                    return self.submod(getattr(self, first[0])(x))

            return P()

        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.sigmoid = lib.nn.Sigmoid()
                self.submod = lib.nn.ReLU()

            def forward(self, x):
                return self.submod(self.sigmoid(x + 1))

        gm = lib.fx.symbolic_trace(M())
        lib.fx.subgraph_rewriter.replace_pattern(
            gm, two(("sigmoid", lib.nn.Sigmoid()), None), two(("tanh", lib.nn.Tanh()), None)
        )
        names = {n for n, _ in gm.named_modules()}
        assert "tanh" in names and "submod" in names and "sigmoid" not in names
        x = np.array([0.5, -3.0], dtype=np.float32)
        np.testing.assert_allclose(_np(gm(lib.tensor(x))), np.maximum(np.tanh(x + 1), 0), rtol=1e-6)


def test_output_node_as_pytorch(torch):
    for lib in (torch, gg):
        g = lib.fx.Graph()
        x = g.placeholder("x")
        with pytest.raises(AssertionError, match="Expected output node, got op=placeholder"):
            g.output_node()
        out = g.output(x)
        assert g.output_node() is out
