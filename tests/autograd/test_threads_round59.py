"""Backward passes in several threads at once (round 59's thread hunt), against PyTorch.

- Leaf accumulation holds a lock, as PyTorch's AccumulateGrad holds its mutex: threads running
  backward through one shared model (Hogwild-style, an ensemble on a thread pool) lost one thread's
  gradient when both found ``.grad`` None, or part of one when their in-place sums overlapped.
- The pass id (split/chunk/unbind pieces write into one buffer per pass) and the list of running
  passes (``register_multi_grad_hook``) are per thread, the outer pass's id restored after a nested
  one: a pass started in another thread, or inside a hook, dropped a piece's gradient, and a pass
  ending in one thread took another's record with it.

Every thread is joined with a timeout, so a deadlock fails the test instead of hanging it.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import glassgrad as gg
from tests.autograd.test_grad_mode_threads import _in_threads as _run_threads

LIBS = ["glassgrad", "torch"]


@pytest.fixture(params=LIBS)
def lib(request):
    return gg if request.param == "glassgrad" else request.getfixturevalue("torch")


# ---- leaf accumulation under a lock --------------------------------------------------------------


@pytest.mark.parametrize("start", ["none", "existing"])
def test_concurrent_backward_into_one_leaf_loses_no_update(lib, start):
    # big enough that NumPy's in-place sum lets go of the GIL for a while; 4 threads at once
    w = lib.zeros(1000, 1000, dtype=lib.float64, requires_grad=True)
    scale = np.arange(4, dtype=np.float64) + 1.0

    def step(i):
        bar.wait(timeout=30)
        (w * float(scale[i])).sum().backward()

    for _ in range(6):
        w.grad = None
        if start == "existing":
            w.sum().backward()
        bar = threading.Barrier(4)
        _run_threads(*(lambda i=i: step(i) for i in range(4)))
        want = scale.sum() + (start == "existing")
        got = w.grad.detach().numpy()
        assert np.all(got == want), (got.min(), got.max(), want)


def test_shared_model_two_threads_sum_their_gradients(lib):
    rng = np.random.default_rng(0)
    net = lib.nn.Sequential(lib.nn.Linear(300, 400), lib.nn.Tanh(), lib.nn.Linear(400, 3)).double()
    with lib.no_grad():
        for p in net.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)) / 10))
    xs = [lib.tensor(rng.standard_normal((8, 300))) for _ in range(2)]
    each = []
    for x in xs:
        net.zero_grad(set_to_none=True)
        net(x).pow(2).sum().backward()
        each.append([p.grad.numpy().copy() for p in net.parameters()])
    for _ in range(4):
        net.zero_grad(set_to_none=True)
        bar = threading.Barrier(2)

        def run(x):
            bar.wait(timeout=30)
            net(x).pow(2).sum().backward()

        _run_threads(*(lambda x=x: run(x) for x in xs))
        for p, a, b in zip(net.parameters(), *each):
            np.testing.assert_allclose(p.grad.numpy(), a + b, rtol=1e-12, atol=1e-14)


def test_post_accumulate_hook_may_run_a_backward_under_the_lock():
    # the lock is reentrant: a hook that runs a backward of its own (into another leaf) goes on
    w = gg.ones(3, dtype=gg.float64, requires_grad=True)
    v = gg.ones(2, dtype=gg.float64, requires_grad=True)

    def hook(p):
        with gg.enable_grad():  # (hooks run with grad mode off)
            (v * 5).sum().backward()

    w.register_post_accumulate_grad_hook(hook)
    done = []
    _run_threads(lambda: done.append((w * 2).sum().backward()))
    assert w.grad.tolist() == [2.0, 2.0, 2.0] and v.grad.tolist() == [5.0, 5.0]


# ---- per-thread pass ids: split/chunk/unbind pieces ---------------------------------------------


def _pieces_grad(lib, other_pass):
    """x's gradient through x.unbind(0), with ``other_pass()`` run from a hook on piece 1 (after
    pieces 3 and 2 wrote their gradients, before piece 0 writes its own)."""
    x = lib.ones(4, 2, dtype=lib.float64, requires_grad=True)
    pieces = x.unbind(0)
    pieces[1].register_hook(lambda g: other_pass())
    sum((p * (i + 1)).sum() for i, p in enumerate(pieces)).backward()
    return x.grad.tolist()


def _other_backward(lib):
    y = lib.ones(3, requires_grad=True)
    with lib.enable_grad():  # (hooks run with grad mode off)
        (y * 2).sum().backward()


def test_pieces_keep_their_gradients_when_another_thread_runs_a_pass(lib):
    def in_a_thread():
        _run_threads(lambda: _other_backward(lib))

    assert _pieces_grad(lib, in_a_thread) == [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]]


def test_pieces_keep_their_gradients_when_a_hook_runs_a_pass(lib):
    got = _pieces_grad(lib, lambda: _other_backward(lib))
    assert got == [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]]


def test_chunked_gates_on_two_threads_match_one_thread(lib):
    # a hand-written LSTM cell (x.unbind over time, gates by chunk) trained in two threads at once
    rng = np.random.default_rng(1)
    ih = rng.standard_normal((5, 16)) * 0.3
    xs = [rng.standard_normal((3, 10, 5)) for _ in range(2)]

    def grad_of(x, hold=None):
        w = lib.tensor(ih, requires_grad=True)
        h = c = lib.zeros(3, 4, dtype=lib.float64)
        for t, xt in enumerate(lib.tensor(x).unbind(1)):
            a, b, g, o = (xt @ w + lib.cat([h] * 4, 1)).chunk(4, 1)
            if hold is not None and t == 5:
                g.register_hook(lambda grad: hold())  # the other thread's pass runs meanwhile
            c = a.sigmoid() * c + b.sigmoid() * g.tanh()
            h = o.sigmoid() * c.tanh()
        h.pow(2).sum().backward()
        return w.grad.numpy()

    alone = [grad_of(x) for x in xs]
    got = {}
    inside, finished = threading.Event(), threading.Event()

    def first():
        def hold():
            inside.set()
            finished.wait(timeout=30)

        got[0] = grad_of(xs[0], hold)

    def second():
        inside.wait(timeout=30)
        got[1] = grad_of(xs[1])
        finished.set()

    _run_threads(first, second)
    for i in range(2):
        np.testing.assert_allclose(got[i], alone[i], rtol=1e-13, atol=1e-15)


# ---- per-thread running passes: register_multi_grad_hook ----------------------------------------


def test_multi_grad_hooks_of_overlapping_passes_in_two_threads(lib):
    # A's pass starts, B's starts, A's ends, then B's hooked tensors get their gradients
    a_in, b_in, a_done = threading.Event(), threading.Event(), threading.Event()
    calls: dict = {"a": [], "b": []}

    def run(name, root_hook):
        u = lib.ones(2, dtype=lib.float64, requires_grad=True)
        v = lib.ones(3, dtype=lib.float64, requires_grad=True)
        lib.autograd.graph.register_multi_grad_hook(
            (u, v), lambda grads: calls[name].append([None if g is None else g.tolist() for g in grads])
        )
        loss = (u * 2).sum() + (v * 3).sum()
        loss.register_hook(root_hook)
        loss.backward()

    def signal_and_wait(mine, theirs):
        def hook(g):
            mine.set()
            theirs.wait(timeout=30)

        return hook

    def a():
        run("a", signal_and_wait(a_in, b_in))
        a_done.set()

    def b():
        a_in.wait(timeout=30)
        run("b", signal_and_wait(b_in, a_done))

    _run_threads(a, b)
    want = [[[2.0, 2.0], [3.0, 3.0, 3.0]]]
    assert calls == {"a": want, "b": want}
