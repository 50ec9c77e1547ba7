"""Round 67 (PyTorch's test/autograd/test_functional.py run against glassgrad): ``autograd.functional``
with several outputs, under ``no_grad``, in mixed dtypes, and its argument and ``strict`` checks, each
compared with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

F = gg.autograd.functional
X = np.array([[0.5, 1.0], [2.0, 3.0]])
A, B = np.array([1.0, 2.0]), np.array([3.0, 4.0])


def _pair(a, b):  # two outputs
    return 2 * a + 3 * b, a * b


def _np(t):
    return t.detach().numpy()


def _same(ours, theirs, rtol=1e-12):
    if isinstance(ours, tuple):
        assert isinstance(theirs, tuple) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _same(o, t, rtol)
        return
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=rtol)


@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp_of_a_function_with_several_outputs_matches_torch(torch, create_graph):
    """It raised AttributeError ('tuple' object has no attribute '_data'); PyTorch takes a tuple of v."""
    v = (np.array([1.0, 0.0]), np.array([0.5, 1.0]))
    ours = F.vjp(
        _pair, (gg.tensor(A), gg.tensor(B)), tuple(gg.tensor(t) for t in v), create_graph=create_graph
    )
    theirs = torch.autograd.functional.vjp(
        _pair,
        (torch.tensor(A), torch.tensor(B)),
        tuple(torch.tensor(t) for t in v),
        create_graph=create_graph,
    )
    _same(ours[0], theirs[0])
    _same(ours[1], theirs[1])


def test_jacobian_with_create_graph_of_several_outputs_matches_torch(torch):
    ours = F.jacobian(_pair, (gg.tensor(A, requires_grad=True), gg.tensor(B)), create_graph=True)
    theirs = torch.autograd.functional.jacobian(
        _pair, (torch.tensor(A, requires_grad=True), torch.tensor(B)), create_graph=True
    )
    for o_row, t_row in zip(ours, theirs):
        _same(o_row, t_row)
        for o, t in zip(o_row, t_row):
            assert o.requires_grad == t.requires_grad


def test_vjp_refuses_v_none_for_an_output_of_many_elements(torch):
    """It weighted every element by 1 (a silent sum); PyTorch refuses."""
    with pytest.raises(RuntimeError, match="v can only be None"):
        torch.autograd.functional.vjp(lambda a: a * 2, torch.tensor(A))
    with pytest.raises(RuntimeError, match="vjp: The vector v can only be None"):
        F.vjp(lambda a: a * 2, gg.tensor(A))
    _, g = F.vjp(lambda a: (a * 2).sum(), gg.tensor(A))  # one element: v = 1, as PyTorch
    np.testing.assert_array_equal(_np(g), [2.0, 2.0])


@pytest.mark.parametrize("out_dtype", ["float32", "float64"])
@pytest.mark.parametrize("in_dtype", ["float32", "float64"])
def test_jacobian_dtype_follows_the_strategy_as_torch(torch, in_dtype, out_dtype):
    """Reverse mode gives the input's dtype (its rows are input gradients), forward mode the
    output's; glassgrad gave the output's for both (a float64 Jacobian rounded to float32)."""

    def f(mod, dtype):
        return lambda a: (a * a).to(getattr(mod, dtype))

    for kw in ({}, {"vectorize": True}, {"vectorize": True, "strategy": "forward-mode"}):
        ours = F.jacobian(f(gg, out_dtype), gg.tensor(A, dtype=getattr(gg, in_dtype)), **kw)
        theirs = torch.autograd.functional.jacobian(
            f(torch, out_dtype), torch.tensor(A, dtype=getattr(torch, in_dtype)), **kw
        )
        _same(ours, theirs, rtol=1e-6)


def _second_order_calls(mod):
    AF = mod.autograd.functional
    x = mod.tensor(X)
    v = mod.ones(2, 2, dtype=mod.float64)
    f = lambda a: (a**3).sum(dim=1)  # noqa: E731
    g = lambda a: (a**3).sum()  # noqa: E731
    return {
        "jacobian": lambda: AF.jacobian(f, x, create_graph=True),
        "vjp": lambda: AF.vjp(f, x, mod.ones(2, dtype=mod.float64), create_graph=True)[1],
        "jvp": lambda: AF.jvp(f, x, v, create_graph=True)[1],
        "hessian": lambda: AF.hessian(g, x, create_graph=True),
        "hvp": lambda: AF.hvp(g, x, v, create_graph=True)[1],
        "vhp": lambda: AF.vhp(g, x, v, create_graph=True)[1],
    }


@pytest.mark.parametrize("name", ["jacobian", "vjp", "jvp", "hessian", "hvp", "vhp"])
def test_create_graph_under_no_grad_keeps_the_graph_as_torch(torch, name):
    """Under no_grad, create_graph=True gave results without a graph (and gradcheck's finite
    differences, taken under no_grad, saw a constant); PyTorch records them regardless."""
    with gg.no_grad():
        ours = _second_order_calls(gg)[name]()
    with torch.no_grad():
        theirs = _second_order_calls(torch)[name]()
    _same(ours, theirs)
    assert ours.requires_grad and theirs.requires_grad
    assert ours.grad_fn is not None


@pytest.mark.parametrize("linear", [False, True])
@pytest.mark.parametrize("create_graph", [False, True])
def test_jvp_under_no_grad_matches_torch(torch, create_graph, linear):
    """jvp(create_graph=True) of a linear function under no_grad gave J v = 0, silently (its
    double-backward trick lost the seed's graph); PyTorch records it and gets J v."""
    v = np.array([[1.0, -1.0], [0.5, 2.0]])
    f = (lambda a: a.sum(dim=1)) if linear else (lambda a: (a**3).sum(dim=1))
    with gg.no_grad():
        ours = F.jvp(
            f, gg.tensor(X, requires_grad=True), gg.tensor(v, requires_grad=True), create_graph=create_graph
        )
    with torch.no_grad():
        theirs = torch.autograd.functional.jvp(
            f,
            torch.tensor(X, requires_grad=True),
            torch.tensor(v, requires_grad=True),
            create_graph=create_graph,
        )
    _same(ours, theirs)
    want = v.sum(1) if linear else (3 * X**2 * v).sum(1)  # J v by hand
    np.testing.assert_allclose(_np(ours[1]), want, rtol=1e-12)
    assert ours[1].requires_grad == theirs[1].requires_grad == create_graph


def _calls(mod):
    AF = mod.autograd.functional
    x = mod.tensor(A)
    lin = lambda a: 3 * a  # noqa: E731
    scal = lambda a: (a**3).sum()  # noqa: E731
    return {
        "jacobian non-tensor input": lambda: AF.jacobian(lin, (x, 2)),
        "vjp non-tensor input": lambda: AF.vjp(lin, (x, 2), x),
        "jvp non-tensor input": lambda: AF.jvp(lin, (x, 2), x),
        "hvp non-tensor input": lambda: AF.hvp(scal, (x, 2), x),
        "vjp non-tensor output": lambda: AF.vjp(lambda a: (a, "bar"), x, x),
        "jvp non-tensor output": lambda: AF.jvp(lambda a: (a, "bar"), x, x),
        "hvp non-tensor v": lambda: AF.hvp(scal, x, (x, 2)),
        "vjp two v for one output": lambda: AF.vjp(lin, x, (x, x)),
        "jvp two v for one input": lambda: AF.jvp(lin, x, (x, x)),
        "vjp v of another size": lambda: AF.vjp(lin, x, x[:1]),
        "jvp v of another size": lambda: AF.jvp(lin, x, x[:1]),
        "vhp v of another size": lambda: AF.vhp(scal, x, x[:1]),
        "jvp v none": lambda: AF.jvp(lin, x),
        "hessian of two outputs": lambda: AF.hessian(lambda a: (a.sum(), a.sum()), x),
        "hessian of a vector": lambda: AF.hessian(lin, x),
        "hessian strict vectorize": lambda: AF.hessian(scal, x, strict=True, vectorize=True),
    }


@pytest.mark.parametrize("name", list(_calls(gg)))
def test_argument_errors_have_torch_classes(torch, name):
    """Non-Tensor inputs raised AttributeError, a wrong count of v ValueError, strict with
    vectorize ran for hessian: each now raises PyTorch's class."""
    with pytest.raises(Exception) as theirs:
        _calls(torch)[name]()
    with pytest.raises(Exception) as ours:
        _calls(gg)[name]()
    assert isinstance(ours.value, type(theirs.value)), (ours.value, theirs.value)


def _strict_cases(mod):
    AF = mod.autograd.functional
    x, v = mod.tensor(A), mod.tensor([1.0, -1.0], dtype=mod.float64)
    detached = lambda a: a.detach()  # noqa: E731
    unconnected = lambda a: a.long().double().requires_grad_().clone()  # noqa: E731
    return {
        "vjp constant output": (lambda: AF.vjp(detached, x, v, strict=True), "does not require gradients"),
        "jvp unconnected": (lambda: AF.jvp(unconnected, x, v, strict=True), "is independent of input 0"),
        "jacobian unconnected": (
            lambda: AF.jacobian(unconnected, x, strict=True),
            "Output 0 .* independent of input 0",
        ),
        "hessian linear": (
            lambda: AF.hessian(lambda a: (3 * a).sum(), x, strict=True),
            "jacobian of the user-provided function with respect to input 0",
        ),
        "hvp constant output": (
            lambda: AF.hvp(lambda a: a.detach().sum(), x, v, strict=True),
            "does not require gradients",
        ),
        "vjp create_graph linear": (
            lambda: AF.vjp(
                lambda a: a.clone(), x.clone().requires_grad_(), v, create_graph=True, strict=True
            ),
            "jacobian of the user-provided function is independent of input 0",
        ),
        "hessian block independent": (
            lambda: AF.hessian(lambda a, b: (a**2 * b).sum(), (x, mod.tensor(B)), strict=True),
            "Output 1 .* independent of input 1",
        ),
    }


@pytest.mark.parametrize("name", list(_strict_cases(gg)))
def test_strict_refusals_match_torch(torch, name):
    fn, words = _strict_cases(torch)[name]
    with pytest.raises(RuntimeError, match=words):
        fn()
    fn, words = _strict_cases(gg)[name]
    with pytest.raises(RuntimeError, match=words):
        fn()


def test_strict_false_gives_zeros_where_strict_refuses(torch):
    for mod in (gg, torch):
        x = mod.tensor(A)
        _, g = mod.autograd.functional.vjp(lambda a: a.detach(), x, mod.ones(2, dtype=mod.float64))
        np.testing.assert_array_equal(_np(g), [0.0, 0.0])
        H = mod.autograd.functional.hessian(lambda a, b: (a**2 * b).sum(), (x, mod.tensor(B)))
        np.testing.assert_array_equal(_np(H[1][1]), np.zeros((2, 2)))
