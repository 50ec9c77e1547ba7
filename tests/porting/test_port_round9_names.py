"""Names that the ninth round's scripts reach for before they compute (docs/porting.md): nanoGPT
and the FSDP/DDP examples import ``torch.distributed`` and ``DistributedDataParallel`` and build a
dtype table with ``torch.bfloat16``; the tuning guide calls ``jit.freeze``,
``jit.enable_onednn_fusion`` and ``autograd.profiler.emit_nvtx``. Each is held to PyTorch where
both compute, and to glassgrad's documented difference where NumPy lacks the thing."""

from __future__ import annotations

import copy
import pickle

import pytest

import glassgrad
import glassgrad.distributed as gdist
from glassgrad.errors import DTypeError
from glassgrad.nn.parallel import DistributedDataParallel


def _before_init(torch):
    dist = torch.distributed
    out = [dist.is_available(), dist.is_initialized()]
    for call in (dist.get_rank, dist.get_world_size, dist.barrier):
        with pytest.raises(ValueError) as e:
            call()
        out.append(str(e.value))
    with pytest.raises(ValueError) as e:
        torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(2, 2))
    out.append(str(e.value))
    return out


def test_distributed_before_init_process_group_answers_as_pytorch(torch):
    assert _before_init(glassgrad) == _before_init(torch)


def test_a_world_of_one_process(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    gdist.init_process_group("gloo")
    try:
        assert (gdist.get_rank(), gdist.get_world_size(), gdist.get_backend()) == (0, 1, "gloo")
        net = DistributedDataParallel(glassgrad.nn.Linear(2, 3))
        assert list(net.state_dict()) == ["module.weight", "module.bias"]
        t = glassgrad.tensor([1.0, -2.0])
        for op in (gdist.ReduceOp.SUM, gdist.ReduceOp.MAX, gdist.ReduceOp.AVG):
            gdist.all_reduce(t, op=op)  # over one process: the value itself
        gathered = [glassgrad.zeros(2)]
        gdist.all_gather(gathered, t)
        assert t.tolist() == gathered[0].tolist() == [1.0, -2.0]
        with net.no_sync():
            net(glassgrad.ones(4, 2)).sum().backward()
        assert net.module.weight.grad is not None
        assert gdist.all_reduce(t, async_op=True).wait() and gdist.barrier(async_op=True).is_completed()
        with pytest.raises(RuntimeError, match="invalid root rank: 1"):
            gdist.broadcast(t, src=1)
        out = glassgrad.zeros(2)
        gdist.all_gather_into_tensor(out, t)
        assert out.tolist() == [1.0, -2.0]
        assert not isinstance(net, glassgrad.nn.DataParallel)
        with pytest.raises(ValueError, match="twice"):
            gdist.init_process_group("gloo")
    finally:
        gdist.destroy_process_group()
    assert not gdist.is_initialized()


def test_a_world_of_more_processes_is_refused(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    with pytest.raises(NotImplementedError, match="world_size 1 and rank 0"):
        gdist.init_process_group("gloo")
    assert not gdist.is_initialized()


def _dtype_table(lib):
    table = {"float32": lib.float32, "bfloat16": lib.bfloat16, "float16": lib.float16}  # nanoGPT
    return [repr(table[k]).split(".")[-1] for k in table] + [
        lib.bfloat16 == lib.bfloat16,
        lib.bfloat16 == lib.float16,
        lib.float32 == lib.bfloat16,
        lib.bfloat16.is_floating_point,
        lib.bfloat16.itemsize,
        repr(lib.cfloat).split(".")[-1],
        repr(lib.cdouble).split(".")[-1],
    ]


def test_bfloat16_is_a_name_as_pytorch(torch):
    assert _dtype_table(glassgrad) == _dtype_table(torch)


def test_bfloat16_copies_to_itself_and_has_pytorchs_limits(torch):
    assert copy.deepcopy(glassgrad.bfloat16) is glassgrad.bfloat16
    assert pickle.loads(pickle.dumps(glassgrad.bfloat16)) is glassgrad.bfloat16
    ours, theirs = glassgrad.finfo(glassgrad.bfloat16), torch.finfo(torch.bfloat16)
    for name in ("bits", "eps", "max", "min", "tiny", "resolution"):
        assert getattr(ours, name) == getattr(theirs, name), name


def test_bfloat16_tensors_are_refused_saying_why():
    with pytest.raises(DTypeError, match="NumPy has no bfloat16"):
        glassgrad.set_default_dtype(glassgrad.bfloat16)
    assert glassgrad.get_default_dtype() == glassgrad.float32
    with pytest.raises(DTypeError, match="NumPy has no bfloat16"):
        glassgrad.zeros(2, dtype=glassgrad.bfloat16)
    with pytest.raises(DTypeError, match="NumPy has no bfloat16"):
        glassgrad.ones(2).to(glassgrad.bfloat16)


def test_the_tuning_guides_stand_ins(torch):
    for lib in (glassgrad, torch):
        net = lib.nn.Linear(2, 2).eval()
        lib.jit.enable_onednn_fusion(True)
        assert lib.jit.onednn_fusion_enabled()
        lib.jit.enable_onednn_fusion(False)
        with lib.autograd.profiler.emit_nvtx(enabled=False):
            y = net(lib.ones(1, 2))
        assert tuple(y.shape) == (1, 2)
        with pytest.raises((RuntimeError, AssertionError)), lib.autograd.profiler.emit_nvtx():
            pass  # needs CUDA in both
    m = glassgrad.nn.Linear(2, 2).eval()
    with pytest.warns(DeprecationWarning):
        assert glassgrad.jit.freeze(m) is m
