"""Round 54, PyTorch Lightning's ``Trainer`` and ``Fabric`` on the CPU.

Two classes of defect stopped Lightning 2.6 with ``torch`` mapped to glassgrad:

- ``torch.utils._pytree``: PyTorch's ``SUPPORTED_NODES`` maps a node type to a ``NodeDef``
  (``type``, ``flatten_fn``, ``unflatten_fn``, ``flatten_with_keys_fn``) and holds every
  namedtuple under the one node type ``collections.namedtuple`` (its spec's context is the class).
  glassgrad's held bare ``(flatten, unflatten)`` tuples and no ``namedtuple`` entry, so Lightning's
  ``CombinedLoader`` (its own ``_tree_flatten`` reads ``SUPPORTED_NODES[t].flatten_fn``) raised
  ``AttributeError: 'tuple' object has no attribute 'flatten_fn'`` for any list of validation
  loaders.
- the profiler's private hooks: Lightning's ``PyTorchProfiler`` calls
  ``torch.autograd._profiler_enabled()`` / ``_disable_profiler()``, reads
  ``torch.profiler.profiler._default_schedule_fn`` and, without Kineto, the autograd profile's
  ``function_events`` and their ``key_averages(group_by_input_shapes=...)``.
"""

from __future__ import annotations

import collections

import pytest

import glassgrad
import glassgrad.utils._pytree as gpt

Point = collections.namedtuple("Point", "x y")
Other = collections.namedtuple("Other", "x y")


def _lightning_style_flatten(pt, tree):
    """Lightning's ``_tree_flatten`` (utilities/_pytree.py): a walk over ``SUPPORTED_NODES``."""
    node_type = pt._get_node_type(tree)
    if node_type not in pt.SUPPORTED_NODES:
        return [tree], pt.LeafSpec()
    children, context = pt.SUPPORTED_NODES[node_type].flatten_fn(tree)
    leaves, specs = [], []
    for child in children:
        flat, spec = _lightning_style_flatten(pt, child)
        leaves += flat
        specs.append(spec)
    return leaves, pt.TreeSpec(node_type, context, specs)


def test_supported_nodes_hold_nodedefs_as_pytorch(torch):
    import torch.utils._pytree as tpt

    samples = {
        tuple: (1, 2),
        list: [1, 2],
        dict: {"a": 1, "b": 2},
        collections.OrderedDict: collections.OrderedDict(a=1),
        collections.defaultdict: collections.defaultdict(list, a=1),
        collections.deque: collections.deque([1, 2], maxlen=4),
    }
    for kind, sample in samples.items():
        ours, theirs = gpt.SUPPORTED_NODES[kind], tpt.SUPPORTED_NODES[kind]
        assert (
            ours._fields == theirs._fields == ("type", "flatten_fn", "unflatten_fn", "flatten_with_keys_fn")
        )
        assert ours.type is kind and ours[0] is kind
        assert list(ours.flatten_fn(sample)[0]) == list(theirs.flatten_fn(sample)[0])
        assert ours.unflatten_fn(*ours.flatten_fn(sample)) == sample
    assert collections.namedtuple in gpt.SUPPORTED_NODES and collections.namedtuple in tpt.SUPPORTED_NODES
    assert gpt._get_node_type(Point(1, 2)) is collections.namedtuple


@pytest.mark.parametrize(
    "tree",
    [
        [{"a": 1, "b": (2, 3)}, Point(4, [5, 6])],
        {"val": [Point(1, 2), Point(3, 4)], "z": collections.deque([7, 8], maxlen=3)},
        (Point(Point(1, 2), None),),
    ],
)
@pytest.mark.filterwarnings("ignore:.*LeafSpec.*:FutureWarning")
def test_namedtuple_specs_match_pytorch(torch, tree):
    import torch.utils._pytree as tpt

    leaves, spec = gpt.tree_flatten(tree)
    t_leaves, t_spec = tpt.tree_flatten(tree)
    assert leaves == t_leaves
    assert gpt.tree_unflatten(leaves, spec) == tree
    # the namedtuple nodes: node type ``namedtuple``, the class as context, as PyTorch's
    pairs = [(spec, t_spec)]
    while pairs:
        ours, theirs = pairs.pop()
        assert ours.is_leaf() == theirs.is_leaf()
        if ours.is_leaf():
            continue
        assert ours.type is theirs.type
        assert ours.context == theirs.context
        pairs += [(ours.child(i), theirs.child(i)) for i in range(ours.num_children)]
    # a spec built by Lightning's own walk unflattens with each library's tree_unflatten
    for pt in (gpt, tpt):
        flat, lspec = _lightning_style_flatten(pt, tree)
        assert flat == t_leaves
        assert pt.tree_unflatten([x for x in flat], lspec) == tree


def test_namedtuple_paths_and_tree_map_of_another_class(torch):
    import torch.utils._pytree as tpt

    tree = {"p": Point(1, [2, 3])}
    ours = [(gpt.keystr(p), v) for p, v in gpt.tree_leaves_with_path(tree)]
    theirs = [(tpt.keystr(p), v) for p, v in tpt.tree_leaves_with_path(tree)]
    assert ours == theirs == [("['p'].x", 1), ("['p'].y[0]", 2), ("['p'].y[1]", 3)]
    assert gpt.tree_map(lambda a, b: a + b, Point(1, 2), Point(10, 20)) == Point(11, 22)
    with pytest.raises(ValueError):
        tpt.tree_map(lambda a, b: a + b, Point(1, 2), Other(3, 4))
    with pytest.raises(ValueError, match="Point"):
        gpt.tree_map(lambda a, b: a + b, Point(1, 2), Other(3, 4))


def test_registered_node_and_dataclass_are_nodedefs():
    import dataclasses

    class Box:
        def __init__(self, v):
            self.v = v

    @dataclasses.dataclass
    class Pair:
        a: int
        b: int

    gpt.register_pytree_node(Box, lambda b: ([b.v], None), lambda c, _: Box(c[0]))
    gpt.register_dataclass(Pair)
    try:
        assert gpt.SUPPORTED_NODES[Box].type is Box
        assert gpt.SUPPORTED_NODES[Pair].flatten_fn(Pair(1, 2))[0] == [1, 2]
        out = gpt.tree_map(lambda x: x * 10, [Box(1), Pair(2, 3)])
        assert out[0].v == 10 and out[1] == Pair(20, 30)
        # glassgrad.func's transforms flatten with the same registry
        g = glassgrad.func.grad(lambda b: (b.v**2).sum())(Box(glassgrad.tensor([1.0, 2.0])))
        assert type(g) is Box and g.v.tolist() == [2.0, 4.0]
    finally:
        del gpt.SUPPORTED_NODES[Box], gpt.SUPPORTED_NODES[Pair]


def test_profiler_private_hooks_match_pytorch(torch):
    for lib in (torch, glassgrad):
        assert lib.autograd._profiler_enabled() is False
        with lib.autograd.profiler.profile():
            assert lib.autograd._profiler_enabled() is True
        assert lib.autograd._profiler_enabled() is False
        with lib.autograd.profiler.profile(enabled=False):
            assert lib.autograd._profiler_enabled() is False
        prof = lib.profiler.profile(activities=[lib.profiler.ProfilerActivity.CPU])
        prof.__enter__()
        assert lib.autograd._profiler_enabled() is True
        lib.autograd._disable_profiler()  # Lightning closes a profiler left open so
        assert lib.autograd._profiler_enabled() is False
        prof.__exit__(None, None, None)  # closing it afterwards is harmless
        assert lib.profiler.profiler._default_schedule_fn(3) == lib.profiler.ProfilerAction.RECORD


def test_function_events_key_averages_as_lightning_reads_them():
    x = glassgrad.ones(3, requires_grad=True)
    with (
        glassgrad.autograd.profiler.profile(record_shapes=True) as prof,
        glassgrad.autograd.profiler.record_function("[LightningModule]step"),
    ):
        (x * 2).sum().backward()
    events = prof.function_events
    assert events  # Lightning's ``if not self.function_events`` must not stop here
    rows = events.key_averages(group_by_input_shapes=False)
    assert [e.key for e in rows] == [e.key for e in prof.key_averages()]
    assert "[LightningModule]step" in [e.key for e in rows] and "mul" in [e.key for e in rows]
    table = rows.table(sort_by="cpu_time_total", row_limit=20)
    assert "Self CPU time total" in table
    shaped = events.key_averages(group_by_input_shapes=True)
    assert any(e.input_shapes == [[3], []] for e in shaped if e.key == "mul")
    with pytest.raises(NotImplementedError, match="export_chrome_trace"):
        events.export_chrome_trace("trace.json")


# --- FlopCounterMode counts the backward too (Lightning's measure_flops(model, fwd, loss_fn) and
# ThroughputMonitor read forward plus backward; glassgrad counted the forward only: 448 of 1344)


def _counter(lib):
    import importlib

    return importlib.import_module(lib.__name__ + ".utils.flop_counter").FlopCounterMode


def _flop_case(lib, name, x_grad):
    nn = lib.nn
    lib.manual_seed(0)
    makers = {
        "linear_3d": (lambda: nn.Linear(5, 8), (2, 4, 5)),
        "linear_nobias": (lambda: nn.Linear(5, 8, bias=False), (3, 5)),
        "matmul_3d_2d": (None, (2, 4, 5)),
        "conv1d_groups": (lambda: nn.Conv1d(4, 6, 3, groups=2, padding=1), (2, 4, 7)),
        "conv2d": (lambda: nn.Conv2d(3, 4, 3, stride=2), (2, 3, 7, 7)),
        "conv_transpose2d": (lambda: nn.ConvTranspose2d(3, 4, 3, stride=2), (2, 3, 5, 5)),
        "conv_transpose1d_groups": (lambda: nn.ConvTranspose1d(4, 6, 3, groups=2), (2, 4, 5)),
        "mlp": (
            lambda: nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.SiLU(), nn.Linear(8, 2)),
            (4, 5),
        ),
    }
    make, shape = makers[name]
    x = lib.randn(*shape, requires_grad=x_grad)
    with _counter(lib)(display=False) as fc:
        if make is None:
            w = lib.randn(5, 3, requires_grad=True)
            y = x @ w
        else:
            y = make()(x)
        forward = fc.get_total_flops()
        y.sum().backward()
    counts = {scope: {str(op): n for op, n in ops.items()} for scope, ops in fc.get_flop_counts().items()}
    return forward, fc.get_total_flops(), counts


@pytest.mark.parametrize(
    "name",
    [
        "linear_3d",
        "linear_nobias",
        "matmul_3d_2d",
        "conv1d_groups",
        "conv2d",
        "conv_transpose2d",
        "conv_transpose1d_groups",
        "mlp",
    ],
)
@pytest.mark.parametrize("x_grad", [True, False])
def test_flop_counter_counts_backward_as_pytorch(torch, name, x_grad):
    assert _flop_case(glassgrad, name, x_grad) == _flop_case(torch, name, x_grad)


def test_flop_counter_backward_outside_the_mode_and_retained_graph(torch):
    for lib in (torch, glassgrad):
        lin = lib.nn.Linear(4, 3)
        x = lib.randn(2, 4, requires_grad=True)
        with _counter(lib)(display=False) as fc:
            y = lin(x).sum()
            y.backward(retain_graph=True)
            y.backward()  # each backward run is counted
        assert fc.get_total_flops() == 48 + 2 * 96
        with _counter(lib)(display=False) as fc:
            y = lin(x).sum()
        y.backward()  # after the mode: not counted
        assert fc.get_total_flops() == 48


# --- torch.compile(module).dynamo_ctx is callable (Lightning's from_compiled wraps the steps:
# Trainer.fit(torch.compile(model)) raised TypeError: 'NoneType' object is not callable)


def test_compiled_module_dynamo_ctx_wraps_functions(torch):
    for lib in (torch, glassgrad):
        lin = lib.nn.Linear(2, 3)
        compiled = lib.compile(lin)
        assert isinstance(compiled.dynamo_ctx, lib._dynamo.eval_frame.OptimizeContext)

        def step(a, b=1):
            return a + b

        wrapped = compiled.dynamo_ctx(step)
        assert wrapped(2, b=3) == 5
        assert wrapped._torchdynamo_orig_callable is step
        x = lib.ones(1, 2)
        lin.forward = compiled.dynamo_ctx(lin.forward)  # what from_compiled does
        assert lib.equal(lin(x), lib.nn.functional.linear(x, lin.weight, lin.bias))
    import copy

    again = copy.deepcopy(glassgrad.compile(glassgrad.nn.Linear(2, 2), mode="reduce-overhead"))
    assert again.dynamo_ctx.compile_kwargs == {"mode": "reduce-overhead"}
    assert isinstance(again.dynamo_ctx(glassgrad.nn.Linear(1, 1)), glassgrad._dynamo.OptimizedModule)
