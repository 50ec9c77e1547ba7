"""``glassgrad.distributed.rpc``: a world of one process. ``torch.distributed.rpc.api.RRef`` is
there after ``import`` (rasbt's ``helper_train.py`` checks ``isinstance(logits, ...RRef)``), and
calls before ``init_rpc`` raise PyTorch's ``RuntimeError``."""

from __future__ import annotations

import pytest

import glassgrad
import glassgrad.distributed.rpc as rpc


@pytest.fixture
def one_worker():
    rpc.init_rpc("worker0", rank=0, world_size=1)
    yield
    rpc.shutdown()


def test_rref_is_reachable_from_the_top_module(torch):
    assert glassgrad.distributed.rpc.api.RRef is rpc.RRef
    assert torch.distributed.rpc.is_available() is rpc.is_available() is True
    out = glassgrad.ones(2)
    assert not isinstance(out, glassgrad.distributed.rpc.api.RRef)
    assert not isinstance(torch.ones(2), torch.distributed.rpc.api.RRef)


@pytest.mark.parametrize("call", ["rref", "rpc_sync", "remote", "get_worker_info", "shutdown"])
def test_before_init_rpc_raises_as_pytorch(torch, call):
    def run(lib):
        r = lib.distributed.rpc
        return {
            "rref": lambda: r.RRef(3.0),
            "rpc_sync": lambda: r.rpc_sync("worker0", max, args=(1, 2)),
            "remote": lambda: r.remote("worker0", max, args=(1, 2)),
            "get_worker_info": lambda: r.get_worker_info(),
            "shutdown": lambda: r.shutdown(),
        }[call]()

    with pytest.raises(RuntimeError) as theirs:
        run(torch)
    with pytest.raises(RuntimeError) as ours:
        run(glassgrad)
    if call == "rref":
        assert str(ours.value) == str(theirs.value)


def test_calls_run_on_the_one_worker(one_worker):
    me = rpc.get_worker_info()
    assert (me.name, me.id) == ("worker0", 0)
    assert rpc.rpc_sync("worker0", max, args=(1, 2)) == 2
    assert rpc.rpc_sync(0, pow, args=(2,), kwargs={"exp": 3}) == 8
    t = glassgrad.tensor([1.0, 2.0])
    r = rpc.remote(me, glassgrad.add, args=(t, t))
    assert isinstance(r, rpc.api.RRef) and r.is_owner() and r.owner_name() == "worker0"
    assert r.local_value().tolist() == [2.0, 4.0] and r.to_here() is r.local_value()
    assert rpc.RRef(5).local_value() == 5


def test_other_workers_and_bigger_worlds_are_refused(one_worker):
    with pytest.raises(RuntimeError, match="unknown destination worker 'worker1'"):
        rpc.rpc_sync("worker1", max, args=(1, 2))
    with pytest.raises(RuntimeError, match="already initialized"):
        rpc.init_rpc("worker0")


def test_world_of_two_is_not_implemented():
    with pytest.raises(NotImplementedError, match="world_size 1 and rank 0, got world_size 2"):
        rpc.init_rpc("worker0", rank=0, world_size=2)
