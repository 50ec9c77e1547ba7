"""Porting round 37, group pinn: DeepXDE (physics-informed nets, pytorch backend) and MONAI
(medical-imaging nets and losses) run on glassgrad with only their imports changed.

- DeepXDE's forward-mode ``dde.grad.jacobian`` is ``torch.func.jvp(net, (x,), (e_j,))`` and its
  loss trains the net through that tangent; its Hessian nests one jvp in another. glassgrad's jvp
  returned constants there (training silently diverged from PyTorch's) and refused to nest.
- MONAI imports ``torch.serialization.DEFAULT_PROTOCOL``, ``torch.utils.data._utils.collate``
  (and registers its MetaTensor in ``default_collate_fn_map``), ``torch.jit.interface`` and
  ``torch.jit.isinstance``.
"""

# ruff: noqa: UP006, UP045 - typing.List/Dict/Tuple/Optional: the spellings torch.jit.isinstance takes
from __future__ import annotations

import itertools
import warnings
from typing import Dict, List, Optional, Tuple

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import GraphError


def np_of(t):
    return np.array(t.detach().numpy())


def _mlp(lib, rs, sizes, requires_grad=True):
    ws = []
    for a, b in itertools.pairwise(sizes):
        ws.append(lib.tensor(rs.randn(a, b) / np.sqrt(a), dtype=lib.float64, requires_grad=requires_grad))
        ws.append(lib.tensor(rs.randn(b) * 0.1, dtype=lib.float64, requires_grad=requires_grad))
    return ws


def _net(lib, ws):
    def f(x):
        h = x
        for i in range(0, len(ws) - 2, 2):
            h = lib.tanh(h @ ws[i] + ws[i + 1])
        return h @ ws[-2] + ws[-1]

    return f


def _ode_loss(lib, ws, xa):
    """DeepXDE's forward-mode ODE residual: dy1/dx - y2, dy2/dx + y1 with jvp tangents."""
    x = lib.tensor(xa, dtype=lib.float64, requires_grad=True)  # DeepXDE's inputs require grad
    net = _net(lib, ws)
    y = net(x)
    tangent = lib.zeros_like(x)
    tangent[:, 0] = 1
    _, dy = lib.func.jvp(net, (x,), (tangent,))
    r1 = dy[:, 0:1] - y[:, 1:]
    r2 = dy[:, 1:2] + y[:, 0:1]
    return (r1**2).mean() + (r2**2).mean()


def _poisson_loss(lib, ws, xa):
    """DeepXDE's forward-mode Hessian: a jvp of a jvp, -u'' - pi^2 sin(pi x)."""
    x = lib.tensor(xa, dtype=lib.float64, requires_grad=True)
    net = _net(lib, ws)
    e = lib.ones_like(x)

    def du(z):
        return lib.func.jvp(net, (z,), (e,))[1]

    _, d2u = lib.func.jvp(du, (x,), (e,))
    return ((-d2u - np.pi**2 * lib.sin(np.pi * x)) ** 2).mean()


@pytest.mark.parametrize("loss", [_ode_loss, _poisson_loss])
def test_deepxde_forward_mode_loss_trains_as_pytorch(torch, loss):
    rs = np.random.RandomState(0)
    sizes = [1, 6, 5, 2] if loss is _ode_loss else [1, 6, 5, 1]
    xa = np.linspace(-1, 1, 7)[:, None]
    state = rs.get_state()
    theirs_w = _mlp(torch, rs, sizes)
    rs.set_state(state)
    ours_w = _mlp(gg, rs, sizes)
    topt = torch.optim.Adam(theirs_w, lr=1e-2)
    opt = gg.optim.Adam(ours_w, lr=1e-2)
    for _ in range(3):
        topt.zero_grad()
        opt.zero_grad()
        tl = loss(torch, theirs_w, xa)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "comes back as a constant": it is recorded
            ol = loss(gg, ours_w, xa)
        tl.backward()
        ol.backward()
        np.testing.assert_allclose(float(ol), float(tl), rtol=1e-12)
        for a, b in zip(ours_w, theirs_w):
            if b.grad is None:  # u'' does not depend on the last bias: no gradient in either
                assert a.grad is None
                continue
            np.testing.assert_allclose(np_of(a.grad), b.grad.numpy(), rtol=1e-10, atol=1e-13)
        topt.step()
        opt.step()
    for a, b in zip(ours_w, theirs_w):
        np.testing.assert_allclose(np_of(a), b.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_jvp_tangent_gradcheck_broadcasting(seed):
    """d(J v)/dW by finite differences: W (k, n) and a bias broadcast over x's leading dims."""
    rs = np.random.RandomState(seed)
    lead = tuple(rs.randint(1, 4, size=rs.randint(1, 3)))
    k, n = rs.randint(1, 4), rs.randint(1, 4)
    x = gg.tensor(rs.randn(*lead, k), dtype=gg.float64)
    v = gg.tensor(rs.randn(*lead, k), dtype=gg.float64)
    w = gg.tensor(rs.randn(k, n), dtype=gg.float64, requires_grad=True)
    b = gg.tensor(rs.randn(n), dtype=gg.float64, requires_grad=True)

    def tangent(w, b):
        out, tan = gg.func.jvp(lambda z: gg.tanh(z @ w + b) * (z @ w), (x,), (v,))
        return out.sum() + tan

    assert gg.autograd.gradcheck(tangent, (w, b))
    assert gg.autograd.gradgradcheck(tangent, (w, b))


def test_jvp_primal_tangent_and_closure_gradients_as_pytorch(torch):
    rs = np.random.RandomState(3)
    xa, va, wa = rs.randn(4, 3), rs.randn(4, 3), rs.randn(3, 2)
    grads = {}
    for lib in (torch, gg):
        x = lib.tensor(xa, requires_grad=True)
        v = lib.tensor(va, requires_grad=True)
        w = lib.tensor(wa, requires_grad=True)
        out, tan = lib.func.jvp(lambda z: lib.sin(z @ w) * z.sum(-1, keepdim=True), (x,), (v,))
        assert out.requires_grad and tan.requires_grad
        ((tan**2).sum() + (out**3).sum()).backward()
        grads[lib.__name__] = [np_of(t.grad) for t in (x, v, w)] + [np_of(out), np_of(tan)]
    for a, b in zip(grads["glassgrad"], grads["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_jvp_under_no_grad_and_hvp_are_constants(torch):
    f = lambda L: lambda x: (x.sin() * x).sum()  # noqa: E731
    xa, va = np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, -1.0])
    with torch.no_grad():
        theirs = torch.func.jvp(torch.func.grad(f(torch)), (torch.tensor(xa),), (torch.tensor(va),))[1]
    with gg.no_grad():
        ours = gg.func.jvp(gg.func.grad(f(gg)), (gg.tensor(xa),), (gg.tensor(va),))[1]
    assert not theirs.requires_grad and not ours.requires_grad
    np.testing.assert_allclose(np_of(ours), theirs.numpy(), rtol=1e-12)
    np.testing.assert_allclose(np_of(ours), (2 * np.cos(xa) - xa * np.sin(xa)) * va, rtol=1e-12)


def test_jvp_rerun_replays_the_random_draws():
    """A weight requiring grad is found while f runs: jvp reruns f recorded, with the same
    dropout mask, and the generator ends where one call of f leaves it."""
    w = gg.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], dtype=gg.float64, requires_grad=True)
    drop = gg.nn.Dropout(0.5)
    x = gg.ones(6, dtype=gg.float64)
    gg.manual_seed(5)
    expect = np_of(drop(x * w))
    after = gg.random.get_rng_state()
    gg.manual_seed(5)
    out, tan = gg.func.jvp(lambda z: drop(z * w), (x,), (gg.ones(6, dtype=gg.float64),))
    np.testing.assert_array_equal(np_of(out), expect)
    np.testing.assert_array_equal(np_of(tan), expect)  # x and v are ones: mask * 2 * w
    assert gg.equal(gg.random.get_rng_state(), after)
    tan.sum().backward()
    np.testing.assert_array_equal(np_of(w.grad), (expect != 0) * 2.0)


def test_jvp_strict_on_the_recorded_path(torch):
    w = gg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="independent of the inputs"):
        tw = torch.tensor([1.0, 2.0], requires_grad=True)
        torch.func.jvp(lambda a: (a * tw, tw * 2), (torch.ones(2),), (torch.ones(2),), strict=True)
    with pytest.raises(GraphError, match="jvp: expected every output of f to depend on the primals"):
        gg.func.jvp(lambda a: (a * w, w * 2), (gg.ones(2),), (gg.ones(2),), strict=True)
    (_, c), (t, z) = gg.func.jvp(lambda a: (a * w, w * 2), (gg.ones(2),), (gg.ones(2),))
    assert t.tolist() == [1.0, 2.0] and z.tolist() == [0.0, 0.0] and c.requires_grad


def test_serialization_default_protocol(torch):
    import glassgrad.serialization as gs

    assert gs.DEFAULT_PROTOCOL == torch.serialization.DEFAULT_PROTOCOL


class _Tagged(list):
    """A sample type a library registers in default_collate_fn_map (MONAI: MetaTensor)."""


def _collate_tagged(batch, *, collate_fn_map=None):
    return ("tagged", len(batch), sum(sum(b) for b in batch))


def test_utils_data_utils_collate_as_pytorch(torch):
    from glassgrad.utils.data._utils import collate as oc
    from glassgrad.utils.data._utils.collate import (
        collate_tensor_fn,
        default_collate,
        default_collate_fn_map,
        np_str_obj_array_pattern,
    )
    from torch.utils.data._utils import collate as tc

    assert default_collate is gg.utils.data.default_collate
    assert np_str_obj_array_pattern.search(np.array(["a"]).dtype.str)
    assert np_str_obj_array_pattern.pattern == tc.np_str_obj_array_pattern.pattern
    assert gg.utils.data._utils.worker._worker_info is None
    batch = [np.arange(3.0), np.arange(3.0) + 1]
    np.testing.assert_array_equal(np_of(collate_tensor_fn([gg.tensor(b) for b in batch])), np.stack(batch))
    samples = [{"a": 1.5, "b": [1, 2]}, {"a": 2.5, "b": [3, 4]}]
    theirs = tc.collate(samples, collate_fn_map=tc.default_collate_fn_map)
    ours = oc.collate(samples, collate_fn_map=default_collate_fn_map)
    assert ours["a"].dtype == gg.float64 and theirs["a"].dtype == torch.float64
    np.testing.assert_array_equal(np_of(ours["a"]), theirs["a"].numpy())
    assert [t.tolist() for t in ours["b"]] == [t.tolist() for t in theirs["b"]]
    with pytest.raises(TypeError):
        tc.collate([object()], collate_fn_map=tc.default_collate_fn_map)
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        oc.collate([object()], collate_fn_map=default_collate_fn_map)
    tagged = [_Tagged([1, 2]), _Tagged([3])]
    for m in (tc.default_collate_fn_map, default_collate_fn_map):
        m[_Tagged] = _collate_tagged
    try:  # registered in the map, used by default_collate itself (MONAI's list_data_collate)
        assert tc.default_collate(tagged) == ("tagged", 2, 6)
        assert gg.utils.data.default_collate(tagged) == ("tagged", 2, 6)
        assert gg.utils.data.default_collate([{"k": tagged[0]}, {"k": tagged[1]}]) == {"k": ("tagged", 2, 6)}
    finally:
        del tc.default_collate_fn_map[_Tagged], default_collate_fn_map[_Tagged]
    assert gg.utils.data.default_collate([[1, 2], [3, 4]])[0].tolist() == [1, 3]  # a plain list again


def test_jit_interface_returns_the_class(torch):
    class Iface(gg.nn.Module):
        def forward(self, x):
            return x

    assert gg.jit.interface(Iface) is Iface


JIT_ISINSTANCE_CASES = [
    ([1, 2], List[int]),
    ([1, "a"], List[int]),
    ([[1], [2]], List[List[int]]),
    ({"a": 1}, Dict[str, int]),
    ({"a": 1}, Dict[int, int]),
    ({"a": [1.0]}, Dict[str, List[float]]),
    ((1, "a"), Tuple[int, str]),
    ((1, "a"), Tuple[int, int]),
    ((1,), Tuple[int, str]),
    (None, Optional[int]),
    (3, Optional[int]),
    ("s", Optional[int]),
    (3, int | None),
    (3, (str, int)),
    (3, (str, float)),
    ([1], list[int]),
    ({"a": 2}, dict[str, int]),
    (2.0, float),
]


@pytest.mark.parametrize("obj,target", JIT_ISINSTANCE_CASES)
def test_jit_isinstance_as_pytorch(torch, obj, target):
    assert gg.jit.isinstance(obj, target) == torch.jit.isinstance(obj, target)


def test_jit_isinstance_tensors_and_errors(torch):
    assert gg.jit.isinstance({"x": gg.ones(1)}, Dict[str, gg.Tensor])
    assert not gg.jit.isinstance({"x": 1}, Dict[str, gg.Tensor])
    assert gg.jit.isinstance(gg.ones(1), gg.Tensor)
    for bad in (List, list, Dict, Tuple, Optional):
        with pytest.raises(RuntimeError):
            torch.jit.isinstance([1], bad)
        with pytest.raises(RuntimeError, match="torch.jit.isinstance: expected .* with its contained types"):
            gg.jit.isinstance([1], bad)
    with pytest.raises(RuntimeError, match="must be a type or a tuple"):
        torch.jit.isinstance(1, [int])
    with pytest.raises(RuntimeError, match="torch.jit.isinstance: expected the second argument to be a type"):
        gg.jit.isinstance(1, [int])
    with pytest.warns(UserWarning, match="inner type of an empty container"):
        assert gg.jit.isinstance([], List[str])


def test_jacfwd_of_a_net_trains_as_pytorch(torch):
    """A PINN loss on ``vmap(jacfwd(net))`` (the per-point input Jacobian): recorded, so the
    weights get PyTorch's gradients (jacfwd returned constants with a warning before)."""
    rs = np.random.RandomState(4)
    state = rs.get_state()
    theirs_w = _mlp(torch, rs, [2, 5, 3])
    rs.set_state(state)
    ours_w = _mlp(gg, rs, [2, 5, 3])
    xa = rs.randn(4, 2)
    for lib, ws in ((torch, theirs_w), (gg, ours_w)):
        net = _net(lib, ws)
        jac = lib.func.vmap(lib.func.jacfwd(net))(lib.tensor(xa, dtype=lib.float64))  # (4, 3, 2)
        ((jac[:, 0, 0] + jac[:, 1, 1]) ** 2).mean().backward()
    assert theirs_w[-1].grad is None and ours_w[-1].grad is None  # the last bias: not in the Jacobian
    for a, b in zip(ours_w[:-1], theirs_w[:-1]):
        np.testing.assert_allclose(np_of(a.grad), b.grad.numpy(), rtol=1e-11, atol=1e-14)


def test_jacfwd_gradcheck_broadcasting():
    rs = np.random.RandomState(6)
    x = gg.tensor(rs.randn(3), dtype=gg.float64)
    w = gg.tensor(rs.randn(3, 2), dtype=gg.float64, requires_grad=True)
    b = gg.tensor(rs.randn(2), dtype=gg.float64, requires_grad=True)

    def jac(w, b):
        return gg.func.jacfwd(lambda z: gg.sin(z @ w + b) * z.sum())(x)

    assert gg.autograd.gradcheck(jac, (w, b))
