"""``torch.cuda`` on a machine without a GPU (d2l's computational-performance chapter, logging
code that prints memory use): the memory queries answer as PyTorch's CPU build does, the device
context managers accept "no device", and the GPU-only questions raise."""

from __future__ import annotations

import pytest

import glassgrad


def script_cuda_queries(torch):
    c = torch.cuda
    out = [
        c.memory_allocated(),
        c.max_memory_allocated(0),
        c.memory_reserved("cuda:1"),
        c.max_memory_reserved(),
    ]
    out += [c.memory_stats(), type(c.memory_stats()).__name__, c.get_arch_list()]
    with c.device_of(torch.ones(2)) as entered:
        out.append((entered, c.device_of(torch.ones(2)).idx))
    with c.device(-1) as entered:
        out.append(entered)
    with c.stream(None) as entered:
        out.append(entered)
    return out


def test_cuda_queries_port(torch):
    assert script_cuda_queries(glassgrad) == script_cuda_queries(torch)


def _raises(fn):
    try:
        fn()
    except Exception as e:  # the kind of failure is what is compared
        return type(e).__name__
    return None


def test_cuda_device_context_errors_port(torch):
    # a non-CUDA device is PyTorch's ValueError in both; entering a CUDA device raises RuntimeError
    for lib in (glassgrad, torch):
        assert _raises(lambda lib=lib: lib.cuda.device("cpu")) == "ValueError"
        assert _raises(lambda lib=lib: lib.cuda.device(0).__enter__()) == "RuntimeError"
        assert _raises(lambda lib=lib: lib.cuda.device("cuda:1").__enter__()) == "RuntimeError"


@pytest.mark.parametrize(
    "call",
    ["get_device_name()", "get_device_properties(0)", "get_device_capability()", "current_stream()",
     "default_stream()", "init()", "initial_seed()", "get_rng_state()", "mem_get_info()"],
)  # fmt: skip
def test_gpu_only_questions_raise(call):
    # PyTorch's CPU build raises AssertionError ("Torch not compiled with CUDA enabled"); glassgrad
    # raises RuntimeError naming the function, as its current_device does
    name = call.split("(")[0]
    with pytest.raises(RuntimeError, match=rf"cuda\.{name}: Torch not compiled with CUDA enabled"):
        eval("glassgrad.cuda." + call)
    with pytest.raises(RuntimeError, match="cuda.stream"), glassgrad.cuda.stream(object()):
        pass


def script_rng_state_round_trip(torch):
    # Checkpoint code that saves every generator's state and restores it later.
    states = torch.cuda.get_rng_state_all()
    torch.cuda.set_rng_state_all(states)
    torch.cuda.set_rng_state(torch.get_rng_state())
    return states, torch.cuda.get_gencode_flags()


def test_cuda_rng_state_round_trip_port(torch):
    assert script_rng_state_round_trip(glassgrad) == script_rng_state_round_trip(torch)
