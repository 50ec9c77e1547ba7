"""``autograd.grad`` with inputs that all have nodes looks no further back than the oldest of them
(``engine_hooked.input_floor``): ``jacobian``/``hessian`` take gradients with respect to a view of
their input, and torchdyn's Lagrangian network does so per sample at every solver step, so each
call walked the whole history of earlier steps (quadratic time: 8 samples and 6 time points took
10 s, PyTorch 0.2 s). Values against PyTorch; the history is shown untouched by a node behind the
inputs whose edges raise when read."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


class _Exploding(list):
    def __iter__(self):
        raise AssertionError("the pass walked past the inputs into the history")


def _history(lib, x0, depth):
    h = x0
    for _ in range(depth):
        h = lib.tanh(h * 1.1 + 0.05)
    return h


def _poison_history(h):
    """Make the edges of the node behind ``h``'s (its producer's producer) raise when read."""
    behind = h._node.next[0]
    behind.next = _Exploding(behind.next)


def test_grad_of_a_view_does_not_walk_the_history():
    x0 = gg.randn(5, dtype=gg.float64, requires_grad=True)
    mid = _history(gg, x0, 30)
    _poison_history(mid)
    v = mid.view_as(mid)
    (g,) = gg.autograd.grad((v * v).sum(), v, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 2 * mid.detach().numpy(), rtol=0, atol=0)


def test_leaf_input_still_walks_to_the_leaf(torch):
    """With a leaf among the inputs there is no floor: the gradient reaches it through the history."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(4)
    out = []
    for lib in (torch, gg):
        x0 = lib.tensor(x, requires_grad=True)
        mid = _history(lib, x0, 5)
        v = mid.view_as(mid)
        y = (v**3).sum()
        gv, gx = lib.autograd.grad(y, [v, x0])
        out.append((gv.numpy(), gx.numpy()))
    np.testing.assert_allclose(out[1][0], out[0][0], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(out[1][1], out[0][1], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("seed", range(4))
def test_inputs_at_several_depths_match_pytorch(torch, seed):
    """Several non-leaf inputs, older and newer, some reached only through others; broadcasting."""
    rng = np.random.default_rng(seed)
    n, m = rng.integers(1, 4, size=2)
    a0 = rng.standard_normal((n, 1, m))
    b0 = rng.standard_normal((1, m))
    res = []
    for lib in (torch, gg):
        a = lib.tensor(a0, requires_grad=True)
        b = lib.tensor(b0, requires_grad=True)
        early = _history(lib, a, 3) * b  # (n, 1, m)
        late = _history(lib, early, 4) + lib.sin(b)
        unused = lib.cos(a) * 2.0  # a branch that leads to no input
        y = (late * early).sum() + unused.sum()
        grads = lib.autograd.grad(y, [late, early], create_graph=True)
        second = lib.autograd.grad(grads[1].sum(), [early])
        res.append([g.detach().numpy() for g in (*grads, *second)])
    for got, want in zip(res[1], res[0]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_piece_of_a_split_as_input_matches_pytorch(torch):
    """An input that is one output of a multi-output op (its hub is older than the piece)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3))
    res = []
    for lib in (torch, gg):
        t = lib.tensor(x, requires_grad=True)
        h = _history(lib, t, 3)
        p, q = h.split(2)
        y = (p * 3).sum() + (q**2).sum() + (p * q).sum()
        res.append([g.numpy() for g in lib.autograd.grad(y, [p, q])])
    for got, want in zip(res[1], res[0]):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_hessian_per_sample_over_a_history_matches_pytorch(torch):
    """torchdyn's LNN pattern: a Hessian and a Jacobian per sample of a state with a history."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2))
    w = rng.standard_normal((2, 5))
    res = []
    for lib in (torch, gg):
        state = _history(lib, lib.tensor(x, requires_grad=True), 4)
        W = lib.tensor(w, requires_grad=True)

        def lag(q, W=W, lib=lib):
            return lib.tanh(q @ W).sum()

        hs = [lib.autograd.functional.hessian(lag, state[i], create_graph=True) for i in range(3)]
        js = [lib.autograd.functional.jacobian(lag, state[i], create_graph=True) for i in range(3)]
        total = sum((h**2).sum() for h in hs) + sum(j.sum() for j in js)
        (gw,) = lib.autograd.grad(total, [W])
        res.append([total.detach().numpy(), gw.numpy(), *(h.detach().numpy() for h in hs)])
    for got, want in zip(res[1], res[0]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
