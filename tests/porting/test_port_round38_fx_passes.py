"""Round 38, group fx (continued from test_port_round38_fx.py): the FX passes (``Interpreter``,
``Transformer``, decomposition through ``Proxy``, ``ShapeProp``, ``replace_pattern``), pytorch/examples'
fx/profiling_tracer.py (``torch.ops.profiler`` operators) and fx/proxy_based_graph_creation.py (a
``Proxy`` made by hand switches the ``__torch_function__`` protocol on), alias names, and
``torch._assert``/factories asking a non-Tensor ``__torch_function__``. ``lib`` is PyTorch or
glassgrad; results are compared.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _sig(gm):
    """(op, name, target) per node, targets as the generated code names them."""
    out = []
    for n in gm.graph.nodes:
        t = n.target if isinstance(n.target, str) else n.target.__name__
        out.append((n.op, n.name, t, len(n.args), sorted(n.kwargs)))
    return out


class _Answer:
    """A non-Tensor type implementing ``__torch_function__`` (PyTorch's documented pattern)."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return ("handled", func.__name__)


def test_assert_and_factories_ask_non_tensor_torch_function_as_pytorch(torch):
    gg.overrides.has_torch_function((gg.zeros(1),))  # switch glassgrad's protocol on
    for lib in (torch, gg):
        assert lib._assert(_Answer(), "message") == ("handled", "_assert")
        assert lib.arange(_Answer()) == ("handled", "arange")
        assert lib.full((2,), _Answer()) == ("handled", "full")
        with pytest.raises(AssertionError, match="boom"):
            lib._assert(False, "boom")


def test_interpreter_transformer_and_decomposition_as_pytorch(torch):
    def run(lib):

        class Swap(lib.fx.Transformer):
            def call_function(self, target, args, kwargs):
                if target == lib.sigmoid:
                    return lib.neg(*args, **kwargs)
                return super().call_function(target, args, kwargs)

            def call_method(self, target, args, kwargs):
                if target == "neg":
                    return args[0].sigmoid(*args[1:], **kwargs)
                return super().call_method(target, args, kwargs)

        class Count(lib.fx.Interpreter):
            def run_node(self, n):
                self.seen = getattr(self, "seen", []) + [n.name]
                return super().run_node(n)

        def f(x):
            return lib.sigmoid(x).neg() + lib.relu(x)

        gm = lib.fx.symbolic_trace(f)
        x = lib.tensor([-1.0, 0.5, 2.0])
        swapped = Swap(gm).transform()
        interp = Count(gm)
        value = interp.run(x)
        # decomposition through GraphAppendingTracer and Proxy (the FX documentation's)
        new_graph, env = lib.fx.Graph(), {}
        tracer = lib.fx.proxy.GraphAppendingTracer(new_graph)
        for node in gm.graph.nodes:
            if node.op == "call_function" and node.target in {lib.relu: None}:
                px = lib.fx.Proxy(env[node.args[0].name], tracer)
                env[node.name] = ((px > 0) * px).node
            else:
                env[node.name] = new_graph.node_copy(node, lambda a: env[a.name])
        dm = lib.fx.GraphModule(gm, new_graph)
        return swapped.code, swapped(x).tolist(), interp.seen, value.tolist(), dm.code, dm(x).tolist()

    a, b = run(gg), run(torch)
    assert a[0] == b[0] and a[2] == b[2] and a[4] == b[4]
    for i in (1, 3, 5):
        np.testing.assert_allclose(a[i], b[i], atol=1e-7)


def test_shape_prop_and_replace_pattern_as_pytorch(torch):
    def run(lib):
        from importlib import import_module

        shape_prop = import_module(f"{lib.__name__}.fx.passes.shape_prop")

        class M(lib.nn.Module):
            def forward(self, x, w1, w2):
                m1 = lib.cat([w1, w2]).sum()
                m2 = lib.cat([w1, w2]).sum()
                return x + lib.max(m1) + lib.max(m2)

        gm = lib.fx.symbolic_trace(M())
        w = lib.tensor([1.0, 2.0])
        shape_prop.ShapeProp(gm).propagate(lib.ones(2, 2), w, w)
        metas = [
            (
                n.name,
                tuple(n.meta["tensor_meta"].shape),
                str(n.meta["tensor_meta"].dtype).split(".")[-1],
                tuple(n.meta["tensor_meta"].stride),
                n.meta["type"].__name__,
            )
            for n in gm.graph.nodes
            if "tensor_meta" in n.meta
        ]

        def pattern(w1, w2):
            return lib.cat([w1, w2]).sum()

        def replacement(w1, w2):
            return lib.stack([w1, w2])

        matches = lib.fx.subgraph_rewriter.replace_pattern(gm, pattern, replacement)
        return metas, gm.code, [m.anchor.name for m in matches], gm(lib.ones(2, 2), w, w).tolist()

    assert run(gg) == run(torch)


def test_alias_functions_are_named_as_pytorch(torch):
    """fx names a node by its target's ``__name__`` (and ``__torch_function__`` tables key by it):
    an alias made as its own wrapper is named as the alias, as PyTorch's."""
    for name in (
        "arccos",
        "arctan",
        "absolute",
        "clip",
        "concat",
        "moveaxis",
        "negative",
        "swapdims",
        "trapz",
    ):
        assert getattr(gg, name).__name__ == getattr(torch, name).__name__ == name

    def run(lib):
        def f(x):
            return lib.arctan(lib.absolute(x))

        gm = lib.fx.symbolic_trace(f)
        return gm.code, _sig(gm)

    assert run(gg) == run(torch)


def test_profiler_ops_recorded_by_a_tracer_as_pytorch(torch):
    """pytorch/examples fx/profiling_tracer.py: ``record_function`` blocks become
    ``torch.ops.profiler._record_function_enter/_exit`` nodes, and the traced module's profile has
    the block's row."""

    def run(lib):
        class Foo(lib.nn.Module):
            def forward(self, x):
                with lib.profiler.record_function("foo"):
                    return lib.relu(x)

        class ProfilerTracer(lib.fx.Tracer):
            def trace(self, root, concrete_args=None):
                rf = lib.autograd.profiler.record_function
                enter, exit_ = rf.__enter__, rf.__exit__

                def fake_enter(_self):
                    _self._fx_profiler_ctx = self.create_proxy(
                        "call_function", lib.ops.profiler._record_function_enter, (_self.name,), {}
                    )
                    return _self._fx_profiler_ctx

                def fake_exit(_self, *exc):
                    lib.ops.profiler._record_function_exit(_self._fx_profiler_ctx)

                rf.__enter__, rf.__exit__ = fake_enter, fake_exit
                try:
                    return super().trace(root, concrete_args)
                finally:
                    rf.__enter__, rf.__exit__ = enter, exit_

        pt = ProfilerTracer()
        graph = pt.trace(Foo())
        gm = lib.fx.GraphModule(pt.root, graph)
        with lib.autograd.profiler.profile() as prof:
            out = gm(lib.tensor([-1.0, 2.0]))
        rows = {e.key for e in prof.key_averages()}
        return [(n.op, n.name) for n in graph.nodes], "foo" in rows, out.tolist()

    assert run(gg) == run(torch)
    with pytest.raises(
        TypeError, match=r"_record_function_exit: expected the handle from _record_function_enter, got int"
    ):
        gg.ops.profiler._record_function_exit(3)


def test_proxy_made_by_hand_is_asked_before_any_trace():
    """A fresh process: a ``Proxy`` over a hand-made graph (pytorch/examples
    fx/proxy_based_graph_creation.py) switches the protocol on, so ``torch.cat([y, z])`` records a node."""
    import subprocess
    import sys

    code = (
        "import glassgrad as torch\n"
        "from glassgrad.fx import Proxy, Graph, GraphModule\n"
        "graph = Graph()\n"
        "tracer = torch.fx.proxy.GraphAppendingTracer(graph)\n"
        "y, z = Proxy(graph.placeholder('x'), tracer), Proxy(graph.placeholder('y'), tracer)\n"
        "b = torch.tanh(torch.cat([y, z]))\n"
        "graph.output(torch.add(b, torch.neg(b)).node)\n"
        "gm = GraphModule(torch.nn.Module(), graph)\n"
        "print([n.name for n in graph.nodes], gm(torch.ones(1), torch.zeros(1)).tolist())\n"
    )
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])  # this checkout's glassgrad
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=root,
        env={**__import__("os").environ, "PYTHONPATH": root},
    )
    assert out.stdout.strip() == "['x', 'y', 'cat', 'tanh', 'neg', 'add', 'output'] [0.0, 0.0]"


def test_lint_and_graph_copy_as_pytorch(torch):
    def run(lib):
        g = lib.fx.Graph()
        x = g.placeholder("x")
        r = g.call_function(lib.relu, (x,))
        s = g.call_method("sum", (r,), {"dim": 0})
        g.output(s)
        g2 = lib.fx.Graph()
        val_map = {}
        out = g2.graph_copy(g, val_map)
        g2.output(out)
        gm = lib.fx.GraphModule(lib.nn.Module(), g2)
        y = g.create_node("call_function", lib.neg, (x,), name="late")
        r.args = (y,)  # y is defined after r: lint refuses
        with pytest.raises(RuntimeError, match="used before it has been defined") as err:
            g.lint()
        return (
            gm.code,
            [n.name for n in g2.nodes],
            len(val_map),
            str(err.value),
            gm(lib.tensor([[1.0, -1.0]])).tolist(),
        )

    assert run(gg) == run(torch)


def test_proxy_control_flow_iteration_and_len_errors_as_pytorch(torch):
    def run(lib):
        out = []

        def cf(x):
            return x if x.sum() > 0 else -x

        def ln(x):
            return x * len(x)

        def it(x):
            return [y for y in x]

        for f in (cf, ln, it):
            try:
                lib.fx.symbolic_trace(f)
            except Exception as e:
                out.append((type(e).__name__, str(e)))

        def unpack(x):
            a, b = x
            return a + b

        out.append(lib.fx.symbolic_trace(unpack).code)
        return out

    assert run(gg) == run(torch)


def test_functionals_hand_over_spelled_out_arguments_as_pytorch(torch):
    """PyTorch's Python functionals hand ``__torch_function__`` their parameters spelled out
    (``relu(x, inplace=False)``, ``softmax(x, dim=-1, _stacklevel=3, dtype=None)``): fx records
    those keywords, and a mode sees them, however the caller wrote the call."""

    def run(lib):
        F = lib.nn.functional

        def f(x):
            y = F.relu(x) + F.softmax(x, -1) + F.dropout(x, 0.0, training=False) + F.layer_norm(x, (3,))
            return F.leaky_relu(y, 0.2) + F.pad(y, (1, 1))[..., 1:-1] + F.normalize(y, dim=0)

        gm = lib.fx.symbolic_trace(f)
        log = []

        class Seen(lib.overrides.TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                if func.__name__ in (
                    "relu",
                    "softmax",
                    "dropout",
                    "layer_norm",
                    "leaky_relu",
                    "pad",
                    "normalize",
                ):
                    log.append((func.__name__, len(args), sorted((kwargs or {}).items())))
                return func(*args, **(kwargs or {}))

        x = lib.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
        with Seen():
            f(x)
        return gm.code, _sig(gm), log, gm(x).tolist()

    a, b = run(gg), run(torch)
    assert a[:3] == b[:3]
    np.testing.assert_allclose(a[3], b[3], atol=1e-6)
