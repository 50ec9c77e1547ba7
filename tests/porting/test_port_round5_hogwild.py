"""pytorch/examples mnist_hogwild needs ``model.share_memory()`` and ``torch.multiprocessing``:
worker processes update one set of weights in place and the parent sees the result. These tests
start real processes (spawn, the example's start method, and fork) and compare with PyTorch."""

from __future__ import annotations

import importlib
import pickle

import numpy as np
import pytest

import glassgrad
import glassgrad.multiprocessing as gmp


def _lib(name):
    return importlib.import_module(name)


# Children run these (module level, so that spawn can import them by name).
def _child_add(t, value):
    t += value  # in place, through the shared memory


def _child_sgd_step(libname, model, x, y):
    lib = _lib(libname)
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    for _ in range(3):
        opt.zero_grad()
        lib.nn.functional.mse_loss(model(x), y).backward()
        opt.step()


def _child_from_queue(q, done):
    t = q.get()
    with glassgrad.no_grad():  # a parameter that requires grad: change it as an optimizer does
        t.mul_(10)
    done.put([type(t).__name__, bool(t.requires_grad), t.is_shared()])


def script_hogwild(libname, method):
    """The example's pattern: share the model, train it in a child process, read it back."""
    lib = _lib(libname)
    mp = _lib(f"{libname}.multiprocessing")
    ctx = mp.get_context(method)
    lib.manual_seed(0)
    model = lib.nn.Linear(3, 2)
    model.load_state_dict({"weight": lib.tensor(W), "bias": lib.tensor(B)})
    model.share_memory()
    x, y = lib.tensor(X), lib.tensor(Y)
    p = ctx.Process(target=_child_sgd_step, args=(libname, model, x, y))
    p.start()
    p.join()
    return [
        p.exitcode,
        model.weight.is_shared(),
        model.weight.detach().numpy().copy(),
        model.bias.detach().numpy().copy(),
    ]


W = np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]], dtype=np.float32)
B = np.array([0.05, -0.05], dtype=np.float32)
X = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
Y = np.linspace(0, 1, 8, dtype=np.float32).reshape(4, 2)


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_hogwild_child_updates_reach_the_parent_port(torch, method):
    ours, theirs = script_hogwild("glassgrad", method), script_hogwild("torch", method)
    assert ours[:2] == theirs[:2] == [0, True]
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-5, atol=1e-6)
    assert not np.allclose(ours[2], W)  # the child's steps, not the initial weights


def test_shared_views_queues_and_copies():
    ctx = gmp.get_context("spawn")
    base = glassgrad.zeros(2, 3).share_memory_()
    row = base[1]  # a view of shared memory goes by reference too
    plain = glassgrad.zeros(3)  # not shared: the child gets a copy
    for t, v in ((row, 2.0), (plain, 5.0)):
        p = ctx.Process(target=_child_add, args=(t, v))
        p.start()
        p.join()
        assert p.exitcode == 0
    assert base.tolist() == [[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]]
    assert plain.tolist() == [0.0, 0.0, 0.0] and not plain.is_shared()

    q, done = ctx.Queue(), ctx.Queue()
    w = glassgrad.nn.Parameter(glassgrad.ones(2))
    w.share_memory_()
    p = ctx.Process(target=_child_from_queue, args=(q, done))
    p.start()
    with glassgrad.no_grad():
        q.put(w)
        result = done.get(timeout=60)
    p.join()
    assert result == ["Parameter", True, True]
    assert w.tolist() == [10.0, 10.0]


def test_share_memory_keeps_values_and_refuses_what_torch_refuses():
    t = glassgrad.arange(6.0).reshape(2, 3).t()  # a non-contiguous view: shared as a C copy
    assert not t.is_shared()
    assert t.share_memory_() is t and t.is_shared() and t.share_memory_() is t
    assert t.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    m = glassgrad.nn.BatchNorm1d(2)
    assert m.share_memory() is m and all(b.is_shared() for b in (*m.parameters(), *m.buffers()))
    leaf = glassgrad.ones(2, requires_grad=True)
    y = (leaf * 2).share_memory_()
    with pytest.raises(glassgrad.errors.GraphError, match="send .detach"):
        gmp.ForkingPickler.dumps(y)
    assert pickle.loads(pickle.dumps(t)).tolist() == t.tolist()  # ordinary pickling copies
    assert gmp.get_sharing_strategy() == "file_descriptor"
    with pytest.raises(ValueError, match="got 'shm'"):
        gmp.set_sharing_strategy("shm")
    assert gmp.Process is __import__("multiprocessing").Process
