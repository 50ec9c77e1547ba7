"""Review of ``next_functions`` / ``AccumulateGrad`` and ``autograd.profiler`` against PyTorch."""

import gc
import weakref

import pytest

import glassgrad as gg
from glassgrad.autograd import function as fmod
from glassgrad.autograd import node_views
from glassgrad.autograd import profiler as P


def _walk(t):
    """A PyTorch user's graph walk: remembers the ids of the nodes it has seen (not the nodes)."""
    seen, names, leaves, stack = set(), [], [], [t.grad_fn]
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        names.append(n.name())
        if n.name() == "torch::autograd::AccumulateGrad":  # PyTorch's name() of a leaf's node
            leaves.append(n.variable)
        for nxt, idx in n.next_functions:
            assert idx == 0
            stack.append(nxt)
    return names, leaves


def test_accumulate_grad_is_one_object_per_leaf():
    a = gg.ones(2, requires_grad=True)
    y = a * gg.ones(2)
    z = a + 1
    acc = y.grad_fn.next_functions[0][0]
    assert acc is y.grad_fn.next_functions[0][0]  # PyTorch: True
    assert acc is z.grad_fn.next_functions[0][0]
    assert acc.variable is a and acc.name() == "torch::autograd::AccumulateGrad" and acc.next_functions == ()
    assert y.grad_fn.next_functions[1] == (None, 0)


def test_walk_reaches_every_parameter_once():
    gg.manual_seed(0)
    m = gg.nn.Sequential(gg.nn.Linear(3, 4), gg.nn.ReLU(), gg.nn.Linear(4, 2))
    loss = m(gg.randn(5, 3)).pow(2).mean()
    names, leaves = _walk(loss)
    assert (
        names.count("torch::autograd::AccumulateGrad") == 4
    )  # PyTorch: 4 (was 3: fresh objects, ids reused)
    assert all(any(leaf is p for leaf in leaves) for p in m.parameters())


def test_accumulate_grad_cache_does_not_keep_leaf_alive():
    a = gg.ones(2, requires_grad=True)
    acc = (a * 2).grad_fn.next_functions[0][0]
    ref = weakref.ref(a)
    key = id(a)
    del a
    gc.collect()
    assert ref() is None and acc.variable is None
    assert key not in node_views._accumulators or node_views._accumulators[key] is not acc


def test_record_function_rows_in_start_order():
    x = gg.ones(3, requires_grad=True)
    with P.profile() as prof, P.record_function("outer"):
        with P.record_function("inner"):
            y = (x * 2).sum()
        y.backward()
    keys = [(e.key, e.count) for e in prof.key_averages()]
    assert keys == [
        ("outer", 1),
        ("inner", 1),
        ("mul", 1),
        ("sum", 1),
        ("SumBackward0", 1),
        ("MulBackward0", 1),
    ]
    outer = prof.key_averages()[0]
    inner = prof.key_averages()[1]
    assert outer.cpu_time_total >= inner.cpu_time_total


@pytest.mark.parametrize(
    "key",
    [
        "cpu_time_total",
        "self_cpu_time_total",
        "count",
        "cpu_time",
        "cuda_time_total",
        "self_cuda_time_total",
        "device_time_total",
        "self_device_time_total",
        "cpu_memory_usage",
        "self_cpu_memory_usage",
    ],
)
def test_table_sort_keys_pytorch_accepts(key):
    with P.profile(use_cuda=True) as prof:
        gg.ones(2) + gg.ones(2)
    assert "add" in prof.key_averages().table(sort_by=key, row_limit=5)


def test_table_sort_key_unknown_is_value_error():
    with P.profile() as prof:
        gg.ones(2) + 1
    with pytest.raises(ValueError, match="sort_by"):
        prof.key_averages().table(sort_by="nope")


def test_empty_table_is_empty_string_as_pytorch():
    with P.profile() as prof:
        pass
    assert prof.key_averages().table() == ""
    assert len(prof.key_averages()) == 0


def test_export_chrome_trace_names_itself(tmp_path):
    with P.profile() as prof:
        gg.ones(2) * 2
    with pytest.raises(NotImplementedError, match="export_chrome_trace"):
        prof.export_chrome_trace(str(tmp_path / "trace.json"))


def test_exception_inside_profile_removes_observers():
    obs = fmod.observers
    before = (list(obs.forward), list(obs.backward))
    with pytest.raises(RuntimeError), P.profile(), P.record_function("blk"):
        gg.ones(2) * 3
        raise RuntimeError("boom")
    assert (obs.forward, obs.backward) == before and P._active == []


def test_nested_profiles_each_record_their_ops():
    x = gg.ones(2)
    with P.profile() as p1:
        x * 2
        with P.profile() as p2:
            x + 1
    assert [(e.key, e.count) for e in p1.key_averages()] == [("mul", 1), ("add", 1)]
    assert [(e.key, e.count) for e in p2.key_averages()] == [("add", 1)]
    assert fmod.observers.forward == []
