"""d2l's multiple-gpus section calls ``nn.parallel.scatter``: the functional ``nn.parallel`` API
(``scatter``, ``gather``, ``replicate``, ``parallel_apply``, ``data_parallel``) behaves as in
PyTorch's CPU build: non-tensor structure is walked the same way, tensors raise the same error
types (a CUDA target raises glassgrad's ``RuntimeError``, where PyTorch's CPU build fails inside
its C extension)."""

from __future__ import annotations

from collections import namedtuple

import pytest

import glassgrad

Pair = namedtuple("Pair", "a b")


def _outcome(fn):
    try:
        return ("ok", fn())
    except Exception as e:  # the error type is what is compared
        return ("raises", type(e).__name__)


def script_parallel(torch):
    par = torch.nn.parallel
    x = torch.arange(20.0).reshape(4, 5)
    lin = torch.nn.Linear(5, 2)
    cpu = torch.device("cpu")
    cases = [
        lambda: par.scatter((1, [2, 3], {"a": None}), [0, 1]),
        lambda: par.scatter(Pair(1, "s"), [0, 1, 2]),
        lambda: [
            par.scatter((), [0, 1]),
            par.scatter([], [0]),
            par.scatter({}, [0, 1]),
            par.scatter("ab", []),
        ],
        lambda: par.scatter(x, [cpu, cpu]),
        lambda: par.scatter([1, x], [torch.device("cuda:0"), cpu]),
        lambda: par.gather([None, None], cpu),
        lambda: par.gather([(None, None), (None, None)], cpu),
        lambda: par.gather([Pair(None, None)] * 2, cpu),
        lambda: par.gather([1, 2], cpu),
        lambda: par.gather([{"a": None}, {"a": None, "b": None}], cpu),
        lambda: par.gather([x, x], cpu),
        lambda: par.gather([(None, x), (None, x)], 0),
        lambda: par.replicate(lin, []),
        lambda: par.replicate(lin, [cpu]),
        lambda: par.parallel_apply([lin], [x, x]),
        lambda: par.parallel_apply([lin], [x], None, [cpu]),
        lambda: par.parallel_apply([lin, lin], [x, x]),
        lambda: par.data_parallel(lin, x),
        lambda: par.data_parallel(lin, x, device_ids=[cpu], output_device=cpu),
    ]
    return [_outcome(c) for c in cases]


def test_parallel_functions_match_pytorch_cpu_build_port(torch):
    assert script_parallel(glassgrad) == script_parallel(torch)


def test_parallel_functions_importable_and_cuda_refused():
    from glassgrad.nn.parallel import data_parallel, gather, parallel_apply, replicate, scatter

    x = glassgrad.ones(4, 2)
    with pytest.raises(RuntimeError, match=r"scatter: glassgrad computes on the CPU only.*cuda:0"):
        scatter(x, [glassgrad.device("cuda:0"), glassgrad.device("cuda:1")])  # d2l's cell
    with pytest.raises(ValueError, match="scatter: Expected a non cpu device, but got: cpu"):
        scatter({"x": x}, ["cpu"])
    with pytest.raises(AssertionError, match="Broadcast function not implemented for CPU tensors"):
        replicate(glassgrad.nn.Linear(2, 2), [0])  # parameters to broadcast: refused
    with pytest.raises(RuntimeError, match="parallel_apply: glassgrad computes on the CPU only"):
        parallel_apply([glassgrad.nn.ReLU()], [x], None, ["cuda:0"])
    with pytest.raises(AssertionError, match="No available accelerator found"):
        parallel_apply([], [])  # as PyTorch's CPU build
    with pytest.raises(RuntimeError, match="data_parallel: device type could not be determined"):
        data_parallel(glassgrad.nn.ReLU(), x, device_ids=[])
    assert gather([[None, None], [None, None]], "cpu") == [None, None]
    assert glassgrad.nn.parallel.scatter is scatter


def test_replicate_of_a_module_without_tensors_and_empty_parallel_apply_as_pytorch(torch):
    # PyTorch's CPU build has nothing to broadcast for a module holding no tensors: it returns
    # shallow replicas (submodules replicated, not shared), whatever the device names
    for lib in (torch, glassgrad):
        net = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Sequential(lib.nn.Tanh()))
        for devices in ([0, 1], ["cuda:1"], [None]):
            copies = lib.nn.parallel.replicate(net, devices)
            assert len(copies) == len(devices)
            assert all(c is not net and c[1] is not net[1] and c._is_replica for c in copies)
            assert copies[0](lib.tensor([-1.0, 1.0])).tolist() == net(lib.tensor([-1.0, 1.0])).tolist()
        with pytest.raises(AssertionError, match="No available accelerator found"):
            lib.nn.parallel.parallel_apply([], [])
