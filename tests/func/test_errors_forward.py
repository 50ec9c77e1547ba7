"""What glassgrad.func cannot do says so (vmap, hessian, bad arguments); nesting and the
forward-mode transforms (jvp, jacfwd, linearize) against PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.func import grad, hessian, jacfwd, jacrev, jvp, linearize, vjp, vmap


def np_of(t):
    return np.array(t.detach().numpy())


def _f(x):
    return (x.sin() * x).sum()


@pytest.mark.parametrize(
    "nested",
    [
        lambda F, f: F.grad(lambda x: F.grad(f)(x).sum()),
        lambda F, f: F.grad(lambda x: F.jacrev(lambda y: f(y).reshape(1))(x).sum()),
        lambda F, f: F.jacrev(F.grad(f)),
        lambda F, f: F.jacrev(F.jacrev(lambda y: y.sin() * y)),
        lambda F, f: F.grad(lambda x: F.vjp(f, x)[0]),
        lambda F, f: F.grad(lambda x: F.vjp(lambda y: y.sin() * y, x)[1](x)[0].sum()),
    ],
)
def test_reverse_transforms_nest_as_pytorch(torch, nested):
    a = np.array([0.5, 1.0, -2.0])
    ours = nested(gg.func, _f)(gg.tensor(a))
    theirs = nested(torch.func, _f)(torch.tensor(a))
    np.testing.assert_allclose(np_of(ours), theirs.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "nested",
    [
        lambda L, f: L.func.jvp(
            L.func.grad(f), (L.tensor([0.5, 1.0], dtype=L.float64),), (L.ones(2).double(),)
        )[1],
        lambda L, f: L.func.grad(lambda x: L.func.jvp(f, (x,), (x,))[1])(
            L.tensor([0.5, 1.0], dtype=L.float64)
        ),
        lambda L, f: L.func.jvp(
            lambda x: L.func.jvp(lambda y: y.sin() * y, (x,), (x.cos(),))[1],
            (L.tensor([0.5, 1.0], dtype=L.float64),),
            (L.ones(2).double(),),
        )[1],
        lambda L, f: L.func.jacfwd(L.func.jacrev(f))(L.tensor([0.5, 1.0], dtype=L.float64)),
        lambda L, f: L.func.jacfwd(L.func.jacfwd(lambda y: y.sin() * y))(
            L.tensor([0.5, 1.0], dtype=L.float64)
        ),
        lambda L, f: L.func.jacrev(L.func.jacfwd(lambda y: y.sin() * y))(
            L.tensor([0.5, 1.0], dtype=L.float64)
        ),
    ],
)
def test_forward_transforms_nest_as_pytorch(torch, nested):
    """jvp and jacfwd are recorded by double backward where they nest (forward-over-reverse HVP,
    grad of a jvp, jvp of a jvp: DeepXDE's forward-mode Hessian, jacfwd(jacrev(f)))."""
    theirs = nested(torch, _f)
    ours = nested(gg, _f)
    np.testing.assert_allclose(np_of(ours), theirs.detach().numpy(), rtol=1e-12, atol=1e-15)


def test_vjp_fn_inside_a_transform_and_with_create_graph(torch):
    _, fn = vjp(lambda x: x * x, gg.tensor([1.0, 3.0]))
    np.testing.assert_allclose(np_of(grad(lambda c: fn(c)[0].sum())(gg.ones(2))), [2.0, 6.0])
    x = gg.tensor([1.0, 3.0], requires_grad=True)
    _, fn = vjp(lambda a: a * a * a, x)
    (g,) = fn(gg.ones(2), create_graph=True)
    assert g.requires_grad
    g.sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [6.0, 18.0])


def test_functionalize_returns_func():
    assert gg.func.functionalize(abs) is abs
    assert callable(vmap(lambda x: x))  # made lazily, as PyTorch's (tests/func/test_vmap.py)


def test_hessian_matches_torch(torch):
    a, b = np.array([0.3, -1.2, 2.0]), np.array([0.5, 0.7])

    def f(lib):
        return lambda x, y: (lib.tanh(x).sum() * (y * y).sum()) * x.prod() + (x[:2] * y).sum()

    H = hessian(f(gg), argnums=(0, 1))(gg.tensor(a), gg.tensor(b))
    tH = torch.func.hessian(f(torch), argnums=(0, 1))(torch.tensor(a), torch.tensor(b))
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(H[i][j].numpy(), tH[i][j].numpy(), rtol=1e-10, atol=1e-14)
    one = hessian(lambda x: x.sin())(gg.tensor(a))  # a vector output: out.shape + x.shape + x.shape
    tone = torch.func.hessian(lambda x: x.sin())(torch.tensor(a))
    assert tuple(one.shape) == tuple(tone.shape) == (3, 3, 3)
    np.testing.assert_allclose(one.numpy(), tone.numpy(), rtol=1e-12, atol=1e-15)
    d = hessian(lambda d: (d["x"] ** 3).sum())({"x": gg.tensor(a)})  # pytrees, as jacrev's
    td = torch.func.hessian(lambda d: (d["x"] ** 3).sum())({"x": torch.tensor(a)})
    np.testing.assert_allclose(np_of(d["x"]["x"]), td["x"]["x"].numpy())
    x, tx = gg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (h,) = gg.autograd.grad(hessian(lambda v: (v.sin() * v).sum())(x).sum(), x)  # recorded, as PyTorch's
    (th,) = torch.autograd.grad(torch.func.hessian(lambda v: (v.sin() * v).sum())(tx).sum(), tx)
    np.testing.assert_allclose(np_of(h), th.numpy(), rtol=1e-12)


@pytest.mark.parametrize("which", ["grad", "grad_and_value", "jacrev", "vjp"])
def test_aux_is_differentiable_where_the_result_is(torch, which):
    a = np.array([0.3, -1.2, 2.0])

    def run(lib):
        F = lib.func
        x = lib.tensor(a, requires_grad=True)
        f = lambda z: ((z**3).sum(), z.sin() * x.sum())  # noqa: E731
        if which == "grad":
            g, aux = F.grad(f, has_aux=True)(x)
        elif which == "grad_and_value":
            g, (_, aux) = F.grad_and_value(f, has_aux=True)(x)
        elif which == "jacrev":
            g, aux = F.jacrev(lambda z: (z**3, f(z)[1]), has_aux=True)(x)
        else:
            _, fn, aux = F.vjp(f, x, has_aux=True)
            (g,) = fn(lib.tensor(1.0, dtype=lib.float64))
        (d,) = lib.autograd.grad(g.sum() + aux.sum(), x)
        return d.detach().numpy()

    np.testing.assert_allclose(run(gg), run(torch), rtol=1e-12)


def test_grad_argument_errors():
    x = gg.ones(3)
    with pytest.raises(
        ShapeError, match=r"grad: expected f\(\*args\) to return a scalar \(0-dim\) Tensor, got shape \(3,\)"
    ):
        grad(lambda x: x)(x)
    with pytest.raises(ShapeError, match="0-dim"):
        grad(lambda x: x.sum().reshape(1))(x)  # one element but 1-d: PyTorch refuses it too
    with pytest.raises(ValueError, match="argnums within the 1 positional inputs"):
        grad(lambda x: x.sum(), argnums=1)(x)
    with pytest.raises(ValueError, match="non-empty tuple"):
        grad(lambda x: x.sum(), argnums=())(x)
    with pytest.raises(TypeError, match="argnums to be an int or a tuple of ints"):
        grad(lambda x: x.sum(), argnums=[0])(x)
    with pytest.raises(DTypeError, match="grad: expected floating-point or complex inputs"):
        grad(lambda x: x.sum())(gg.tensor([1, 2]))
    with pytest.raises(TypeError, match="Tensor or a pytree of Tensors, got float"):
        grad(lambda x: x)(1.0)
    with pytest.raises(TypeError, match=r"\(output, aux\)"):
        grad(lambda x: x.sum(), has_aux=True)(x)
    with pytest.raises(ValueError, match="chunk_size"):
        jacrev(lambda x: x, chunk_size=0)


def test_pytorch_refuses_the_same_things(torch):
    """The errors above mirror PyTorch's: a non-0-dim output and nested-free misuse."""
    x = torch.ones(3)
    with pytest.raises(RuntimeError):
        torch.func.grad(lambda x: x)(x)
    with pytest.raises(RuntimeError):
        torch.func.grad(lambda x: x.sum().reshape(1))(x)


def test_inputs_requiring_grad_give_differentiable_results():
    p = gg.ones(2, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = grad(lambda x: (x**3).sum())(p)
        assert g.requires_grad  # 3 x^2, differentiable again (PyTorch's is too)
        (h,) = gg.autograd.grad(g.sum(), p)
        np.testing.assert_allclose(np_of(h), [6.0, 6.0])
        assert not grad(lambda x: (x**2).sum())(p.detach()).requires_grad
        with gg.no_grad():
            assert not grad(lambda x: (x**2).sum())(p).requires_grad


def test_results_are_constants_and_inputs_untouched():
    x = gg.tensor([1.0, 2.0])
    g = grad(lambda x: (x**2).sum())(x)
    assert not g.requires_grad and g.grad_fn is None and x.grad is None and not x.requires_grad


def test_jvp_parity(torch):
    rng = np.random.default_rng(0)
    xa, ya, ta, ua = (rng.standard_normal(4) for _ in range(4))

    def f(lib):
        return lambda x, y: (x.sin() * y, (x * y).sum())

    out, tan = jvp(f(gg), (gg.tensor(xa), gg.tensor(ya)), (gg.tensor(ta), gg.tensor(ua)))
    tout, ttan = torch.func.jvp(
        f(torch), (torch.from_numpy(xa), torch.from_numpy(ya)), (torch.from_numpy(ta), torch.from_numpy(ua))
    )
    for a, b in zip((*out, *tan), (*tout, *ttan)):
        np.testing.assert_allclose(np_of(a), b.numpy(), rtol=1e-10, atol=1e-12)
    with pytest.raises(TypeError, match="primals to be a tuple"):
        jvp(f(gg), gg.ones(1), gg.ones(1))


def test_jvp_has_aux_and_linearize(torch):
    x, t = gg.tensor([0.3, -1.2], dtype=gg.float64), gg.tensor([1.0, 2.0], dtype=gg.float64)
    out, tan, aux = jvp(lambda x: (x.exp(), x.sum()), (x,), (t,), has_aux=True)
    np.testing.assert_allclose(np_of(tan), np.exp([0.3, -1.2]) * [1.0, 2.0])
    assert aux.item() == pytest.approx(-0.9)
    np.testing.assert_allclose(np_of(out), np.exp([0.3, -1.2]))
    out2, fn = linearize(lambda x: x.exp(), x)
    np.testing.assert_allclose(np_of(out2), np_of(out))
    np.testing.assert_allclose(np_of(fn(t)), np_of(tan))


def test_jacfwd_matches_jacrev_and_pytorch(torch):
    rng = np.random.default_rng(2)
    xa, ya = rng.standard_normal(3), rng.standard_normal((2, 3))

    def f(lib):
        return lambda x, y: {"p": (y * x).sum(1).tanh(), "q": x.exp()}

    for argnums in (0, (0, 1)):
        ours = jacfwd(f(gg), argnums=argnums)(gg.tensor(xa), gg.tensor(ya))
        rev = jacrev(f(gg), argnums=argnums)(gg.tensor(xa), gg.tensor(ya))
        theirs = torch.func.jacfwd(f(torch), argnums=argnums)(torch.from_numpy(xa), torch.from_numpy(ya))
        for k in ("p", "q"):
            a, r, b = (ours[k],), (rev[k],), (theirs[k],)
            if isinstance(argnums, tuple):
                a, r, b = ours[k], rev[k], theirs[k]
            for u, v, w in zip(a, r, b):
                np.testing.assert_allclose(np_of(u), w.numpy(), rtol=1e-10, atol=1e-12)
                np.testing.assert_allclose(np_of(u), np_of(v), rtol=1e-10, atol=1e-12)


def test_names_are_pytorchs(torch):
    absent = [n for n in gg.func.__all__ if not hasattr(torch.func, n)]
    assert not absent
    assert gg.vmap is gg.func.vmap and hasattr(torch, "vmap")
    assert gg.nn.utils.stateless.__all__ == ["functional_call"]
