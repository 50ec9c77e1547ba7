"""What the third round of ported tutorials needed (docs/porting.md, "Real scripts ported"):
walking the graph with ``grad_fn.next_functions`` (PyTorch's ``((node, 0), ...)`` pairs, ``None``
for an input without a gradient, ``AccumulateGrad`` with ``.variable`` for a leaf), ``2 * t``
and ``1 + t`` recorded with the tensor first as PyTorch does, ``torch.autograd.profiler.profile``
with ``key_averages().table(sort_by=...)``, and ``import torch.functional``. Each script runs on
glassgrad and on PyTorch, written the way the tutorials write it."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import glassgrad

from .helpers import assert_same

A = np.linspace(0.0, 3.0, 5, dtype=np.float32)


def _name(node):
    """``<AddBackward0>`` and ``<AddBackward0 object at 0x...>`` alike -> ``AddBackward0``."""
    return None if node is None else repr(node).split()[0].strip("<>")


def _walk(node):
    """Every (name, input index) pair below ``node``, depth first."""
    if node is None:
        return None
    return [(_name(n), i, _walk(n)) for n, i in node.next_functions]


def script_next_functions(torch):
    a = torch.tensor(A, requires_grad=True)
    b = torch.sin(a)
    c = 2 * b
    d = c + 1
    out = d.sum()
    leaf = d.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0]
    return [
        _name(out.grad_fn),
        _walk(out.grad_fn),
        [_name(n) for n, _ in d.grad_fn.next_functions],
        leaf.variable is a,
        leaf.next_functions,
        a.grad_fn,
    ]


def test_next_functions_port(torch):
    assert_same(script_next_functions(glassgrad), script_next_functions(torch))


def script_next_functions_of_a_model(torch):
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.ones(3, 2))
    x = torch.tensor(A[:3].reshape(1, 3))
    h = torch.relu(x @ w)
    loss = (h - torch.zeros(1, 2)).pow(2).mean()
    first = loss.grad_fn.next_functions[0][0]
    while first.next_functions and _name(first) != "AccumulateGrad":
        first = next(n for n, _ in first.next_functions if n is not None)
    return [_name(first), first.variable is w, len(loss.grad_fn.next_functions)]


def test_next_functions_reach_the_parameter_port(torch):
    assert_same(script_next_functions_of_a_model(glassgrad), script_next_functions_of_a_model(torch))


def script_reflected_operands_recorded_tensor_first(torch):
    b = torch.tensor(A, requires_grad=True)
    out = []
    for y in (2 * b, 1 + b, 2.5 * b, b * 2, b + 1):
        out.append([_name(y.grad_fn), [_name(n) for n, _ in y.grad_fn.next_functions], y])
    (3 * b + 1).sum().backward()
    return out + [b.grad]


def test_reflected_operands_recorded_tensor_first_port(torch):
    assert_same(
        script_reflected_operands_recorded_tensor_first(glassgrad),
        script_reflected_operands_recorded_tensor_first(torch),
    )


def script_profiler(torch):
    x = torch.tensor(A + 1, requires_grad=True)
    y = torch.tensor(A * 2, requires_grad=True)
    z = torch.ones(5, requires_grad=True)
    with torch.autograd.profiler.profile(use_cuda=False) as prf:
        for _ in range(20):
            z = (z / x) * y
    rows = prf.key_averages()
    counts = sorted((e.key.replace("aten::", ""), e.count) for e in rows)
    table = prf.key_averages().table(sort_by="self_cpu_time_total")
    lines = table.splitlines()
    header = lines[1].split()
    first = lines[3].split()
    return [
        counts,
        header,
        first[0].replace("aten::", "") in ("mul", "div"),
        first[-1],
        lines[-1 if lines[-1] else -2][:20],
        z,
    ]


def test_profiler_port(torch):
    assert_same(script_profiler(glassgrad), script_profiler(torch))


def test_profiler_times_add_up_and_record_function_labels_a_block():
    x = glassgrad.ones(4, requires_grad=True)
    with glassgrad.autograd.profiler.profile() as prof:
        with glassgrad.autograd.profiler.record_function("my_block"):
            y = (x * 3).sum()
        y.backward()
    rows = {e.key: e for e in prof.key_averages()}
    assert {"my_block", "mul", "sum", "MulBackward0", "SumBackward0"} <= set(rows)
    assert rows["my_block"].cpu_time_total >= rows["mul"].cpu_time_total + rows["sum"].cpu_time_total
    assert prof.self_cpu_time_total == pytest.approx(sum(e.self_cpu_time_total for e in rows.values()))
    assert "Self CPU time total:" in str(prof)
    with pytest.raises(ValueError, match="EventList.table: expected sort_by in"):
        prof.key_averages().table(sort_by="cuda_time")


def test_profiler_stops_recording_after_the_block():
    x = glassgrad.ones(2, requires_grad=True)
    with glassgrad.autograd.profiler.profile() as prof:
        x * 2
    x * 2  # outside: not counted
    with glassgrad.autograd.profiler.profile(enabled=False) as off:
        x * 2
    assert [(e.key, e.count) for e in prof.key_averages()] == [("mul", 1)]
    assert list(off.key_averages()) == []


def script_torch_functional(torch):
    F = importlib.import_module(torch.__name__ + ".functional")
    a, b = torch.tensor(A), torch.tensor(A[::-1].copy())
    return [
        F.einsum("i,i->", a, b),
        F.split(a, 2),
        F.tensordot(a.view(5, 1), b.view(1, 5), dims=1),
        F.norm(a),
        F.broadcast_tensors(a.view(5, 1), b)[1],
        F.unique(torch.tensor([3, 1, 3, 2])),
        F.atleast_2d(a).shape,
        not hasattr(F, "relu"),  # torch.functional is not torch.nn.functional
    ]


def test_torch_functional_module_port(torch):
    assert_same(script_torch_functional(glassgrad), script_torch_functional(torch))
