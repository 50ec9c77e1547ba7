"""Double backward (``create_graph=True``): the engine's recorded pass (autograd/recorded.py), its
seeds, leaves, hooks, retain rules and refusals, user Functions, and the second-order functional
API (hessian, hvp, vhp, jacobian/vjp/jvp with create_graph), against PyTorch and by hand.
The per-op rules are checked in tests/autograd/test_recorded_*.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd.function import REGISTRY, Primitive
from glassgrad.autograd.gradcheck import GradcheckError
from glassgrad.autograd.recorded import rules
from glassgrad.errors import GraphError

F = gg.autograd.functional
RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal(4)


def _f(lib, x, w):
    return lib.tanh(x * w).sum() * (x * x).mean()


def _pair(torch):
    x, w = gg.tensor(A, requires_grad=True), gg.tensor(B, requires_grad=True)
    tx, tw = torch.tensor(A, requires_grad=True), torch.tensor(B, requires_grad=True)
    return (x, w), (tx, tw)


def test_grad_create_graph_matches_torch_to_second_order(torch):
    (x, w), (tx, tw) = _pair(torch)
    gx, gw = gg.autograd.grad(_f(gg, x, w), (x, w), create_graph=True)
    tgx, tgw = torch.autograd.grad(_f(torch, tx, tw), (tx, tw), create_graph=True)
    np.testing.assert_allclose(gx.detach().numpy(), tgx.detach().numpy(), rtol=1e-12)
    assert gx.requires_grad and gx.grad_fn is not None
    # a gradient penalty of both gradients, differentiated w.r.t. both inputs
    pen = (gx * gx).sum() + (gw * gw * gw).sum()
    tpen = (tgx * tgx).sum() + (tgw * tgw * tgw).sum()
    hx, hw = gg.autograd.grad(pen, (x, w))
    thx, thw = torch.autograd.grad(tpen, (tx, tw))
    np.testing.assert_allclose(hx.detach().numpy(), thx.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(hw.detach().numpy(), thw.detach().numpy(), rtol=1e-10)


def test_create_graph_values_equal_the_first_order_pass():
    x, w = gg.tensor(A, requires_grad=True), gg.tensor(B, requires_grad=True)
    plain = gg.autograd.grad(_f(gg, x, w), (x, w))
    recorded = gg.autograd.grad(_f(gg, x, w), (x, w), create_graph=True)
    for p, r in zip(plain, recorded):
        np.testing.assert_allclose(r.detach().numpy(), p.detach().numpy(), rtol=1e-14)
        assert not p.requires_grad and r.requires_grad


def test_backward_create_graph_fills_grad_with_a_graph_and_warns(torch):
    (x, w), (tx, tw) = _pair(torch)
    with pytest.warns(UserWarning, match="reference cycle"):
        _f(gg, x, w).backward(create_graph=True)
    # PyTorch warns once per process (TORCH_WARN_ONCE): an earlier test may have used it up
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _f(torch, tx, tw).backward(create_graph=True)
    assert x.grad.requires_grad
    gx = x.grad
    x.grad = w.grad = None
    tgx = tx.grad
    tx.grad = tw.grad = None
    (gx * gx).sum().backward()
    (tgx * tgx).sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), tx.grad.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(w.grad.detach().numpy(), tw.grad.detach().numpy(), rtol=1e-10)


def test_a_second_create_graph_backward_accumulates_out_of_place():
    x = gg.tensor(B, requires_grad=True)
    with pytest.warns(UserWarning):
        (x * x * x).sum().backward(create_graph=True)
        first = x.grad
        (x * x).sum().backward(create_graph=True)
    assert x.grad is not first  # the sum is a new node in the graph, the first gradient unchanged
    np.testing.assert_allclose(first.detach().numpy(), 3 * B**2)
    np.testing.assert_allclose(x.grad.detach().numpy(), 3 * B**2 + 2 * B)
    (h,) = gg.autograd.grad(x.grad.sum(), x)
    np.testing.assert_allclose(h.detach().numpy(), 6 * B + 2)


def test_a_given_seed_that_requires_grad_stays_in_the_graph(torch):
    x = gg.tensor(A, requires_grad=True)
    v = gg.tensor(A[::-1].copy(), requires_grad=True)
    (g,) = gg.autograd.grad(gg.tanh(x), x, v, create_graph=True)
    (dv,) = gg.autograd.grad(g.sum(), v)
    tx = torch.tensor(A, requires_grad=True)
    tv = torch.tensor(A[::-1].copy(), requires_grad=True)
    (tg,) = torch.autograd.grad(torch.tanh(tx), tx, tv, create_graph=True)
    (tdv,) = torch.autograd.grad(tg.sum(), tv)
    np.testing.assert_allclose(dv.detach().numpy(), tdv.detach().numpy(), rtol=1e-12)


def test_grad_create_graph_retains_the_graph_by_default():
    x = gg.tensor(B, requires_grad=True)
    y = gg.tanh(x).sum()
    (g1,) = gg.autograd.grad(y, x, create_graph=True)
    (g2,) = gg.autograd.grad(y, x, create_graph=True)  # the graph is still there
    np.testing.assert_allclose(g1.detach().numpy(), g2.detach().numpy())
    y2 = gg.tanh(x).sum()
    gg.autograd.grad(y2, x, create_graph=True, retain_graph=False)
    with pytest.raises(GraphError, match="second time"):
        gg.autograd.grad(y2, x)


def test_an_op_without_a_rule_is_refused_by_name(monkeypatch):
    monkeypatch.delitem(rules(), "kthvalue")  # (every registered op has a rule)
    x = gg.tensor(A, requires_grad=True)
    with pytest.raises(NotImplementedError, match="kthvalue: create_graph=True .*KthValueBackward0"):
        gg.autograd.grad(x.kthvalue(2, dim=1).values.sum(), x, create_graph=True)
    (g,) = gg.autograd.grad(x.kthvalue(2, dim=1).values.sum(), x)  # first order still works
    assert g.shape == x.shape


def _op_names() -> set:
    """Every primitive's name: the registry's, and the unregistered internal ones (copy_slices)."""
    names, todo = set(REGISTRY), [Primitive]
    while todo:
        cls = todo.pop()
        names.add(cls.name)
        todo += cls.__subclasses__()
    return names


def test_every_rule_names_a_primitive():
    unknown = set(rules()) - _op_names()
    assert not unknown, f"recorded rules for ops that do not exist: {sorted(unknown)}"


def test_in_place_change_after_forward_is_caught():
    x = gg.tensor(B, requires_grad=True)
    h = x * 2
    y = gg.tanh(h)
    y.mul_(1.0)  # y is saved by tanh
    with pytest.raises(GraphError, match="modified in place"):
        gg.autograd.grad(y.sum(), x, create_graph=True)


def test_tensor_hooks_see_and_may_replace_the_recorded_gradient():
    x = gg.tensor(B, requires_grad=True)
    h = x * x
    seen = []
    h.register_hook(lambda g: seen.append(g.requires_grad) or g * 2)
    (g,) = gg.autograd.grad(gg.tanh(h).sum(), x, create_graph=True)
    assert seen == [True]
    th = np.tanh(B * B)
    np.testing.assert_allclose(g.detach().numpy(), 2 * (1 - th**2) * 2 * B, rtol=1e-12)


class _Cube(gg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x * x * g


class _CubeOnce(_Cube):
    @staticmethod
    @gg.autograd.function.once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x * x * g


def test_user_function_backward_is_recorded():
    x = gg.tensor(B, requires_grad=True)
    (g,) = gg.autograd.grad(_Cube.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * B**2)
    (h,) = gg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.detach().numpy(), 6 * B)


def test_once_differentiable_refuses_the_second_backward(torch):
    x = gg.tensor(B, requires_grad=True)
    w = gg.ones_like(x, requires_grad=True)  # an incoming gradient that requires grad (else, as
    # PyTorch's, the result is a constant: tests/autograd/test_trust_round58.py)
    (g,) = gg.autograd.grad((_CubeOnce.apply(x) * w).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * B**2)
    with pytest.raises(GraphError, match="once_differentiable"):
        g.sum().backward()


def test_hessian_hvp_vhp_match_torch(torch):
    def f(lib, x, y):
        return (lib.tanh(x) * y).sum() * (x * x).sum()

    xs = (gg.tensor(B), gg.tensor(B[::-1].copy()))
    txs = (torch.tensor(B), torch.tensor(B[::-1].copy()))
    H = F.hessian(lambda a, b: f(gg, a, b), xs)
    tH = torch.autograd.functional.hessian(lambda a, b: f(torch, a, b), txs)
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(
                H[i][j].detach().numpy(), tH[i][j].detach().numpy(), rtol=1e-10, atol=1e-14
            )
    v = (gg.tensor(A[0]), gg.tensor(A[1]))
    tv = (torch.tensor(A[0]), torch.tensor(A[1]))
    for name in ("hvp", "vhp"):
        out, hv = getattr(F, name)(lambda a, b: f(gg, a, b), xs, v)
        tout, thv = getattr(torch.autograd.functional, name)(lambda a, b: f(torch, a, b), txs, tv)
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12)
        for a, b in zip(hv, thv):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10)
            assert not a.requires_grad


def test_hessian_of_one_input_by_hand():
    H = F.hessian(lambda x: (x * x * x).sum(), gg.tensor([1.0, 2.0]))
    np.testing.assert_allclose(H.detach().numpy(), [[6.0, 0.0], [0.0, 12.0]])
    with pytest.raises(
        Exception,
        match="hessian: The Tensor returned by the function given to hessian should contain a single element",
    ):
        F.hessian(lambda x: x * x, gg.tensor([1.0, 2.0]))


def test_jvp_and_jacobian_with_create_graph_match_torch(torch):
    x, v = gg.tensor(B, requires_grad=True), gg.tensor(B[::-1].copy())
    tx, tv = torch.tensor(B, requires_grad=True), torch.tensor(B[::-1].copy())
    _, jv = F.jvp(lambda a: gg.tanh(a) * a, x, v, create_graph=True)
    _, tjv = torch.autograd.functional.jvp(lambda a: torch.tanh(a) * a, tx, tv, create_graph=True)
    np.testing.assert_allclose(jv.detach().numpy(), tjv.detach().numpy(), rtol=1e-12)
    (d,) = gg.autograd.grad(jv.sum(), x)
    (td,) = torch.autograd.grad(tjv.sum(), tx)
    np.testing.assert_allclose(d.detach().numpy(), td.detach().numpy(), rtol=1e-10)
    J = F.jacobian(lambda a: gg.tanh(a) * a, x, create_graph=True)
    tJ = torch.autograd.functional.jacobian(lambda a: torch.tanh(a) * a, tx, create_graph=True)
    np.testing.assert_allclose(J.detach().numpy(), tJ.detach().numpy(), rtol=1e-12)
    assert J.requires_grad and tJ.requires_grad


def test_gradgradcheck_passes_and_catches_a_wrong_rule(monkeypatch):
    x = gg.tensor(A, requires_grad=True)
    w = gg.tensor(B, requires_grad=True)
    assert gg.autograd.gradgradcheck(lambda a, b: gg.tanh(a * b), (x, w))
    table = rules()
    right = table["tanh"]
    monkeypatch.setitem(table, "tanh", lambda ctx, g: right(ctx, g).detach() * 1.0)  # no 2nd order
    with pytest.raises(GradcheckError):
        gg.autograd.gradgradcheck(lambda a, b: gg.tanh(a * b), (x, w))


def test_gradgradcheck_catches_a_rule_with_wrong_values(monkeypatch):
    x = gg.tensor(A, requires_grad=True)
    table = rules()
    right = table["sin"]
    monkeypatch.setitem(table, "sin", lambda ctx, g: right(ctx, g) * 2)  # consistent, but 2x off
    with pytest.raises(GradcheckError, match="differs from the first-order backward"):
        gg.autograd.gradgradcheck(lambda t: t.sin(), (x,))
    assert not gg.autograd.gradgradcheck(lambda t: t.sin(), (x,), raise_exception=False)


def test_retained_grads_do_not_share_memory():
    x = gg.tensor(B, requires_grad=True)
    y = x.sin()
    y.retain_grad()
    z = y.clone()
    z.retain_grad()
    with pytest.warns(UserWarning):
        (z * z).sum().backward(create_graph=True)
    with gg.no_grad():
        z.grad.zero_()
    np.testing.assert_allclose(y.grad.detach().numpy(), 2 * np.sin(B))


def test_grad_outputs_count_must_match(torch):
    x = gg.ones(2, requires_grad=True)
    for create_graph in (False, True):
        with pytest.raises(RuntimeError, match="got 2 tensors and 1 gradients"):
            gg.autograd.grad([x * 2, x * 3], x, [gg.ones(2)], create_graph=create_graph)
    with pytest.raises(RuntimeError, match="got 2 tensors and 1 gradients"):
        gg.autograd.backward([x * 2, x * 3], [gg.ones(2)])
