"""Round 66 (pt_eager_transforms): torch.func transforms against PyTorch on cases re-created from
functorch's eager-transform tests: dead leaves of a returned transform, vjp_fn under no_grad,
empty outputs, jacfwd's complex inputs, autograd.functional inside a transform, a custom
Function's jvp returning a view of the input's tangent."""

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import func


def _pair(torch, *shape, seed=0):
    a = np.random.RandomState(seed).standard_normal(shape)
    return gg.tensor(a, dtype=gg.float64), torch.tensor(a, dtype=torch.float64)


def _check(g, t):
    assert g.requires_grad == t.requires_grad
    np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("inner", ["vjp", "vjp_of_grad"])
def test_grad_of_vjp_fn_is_a_constant(torch, inner):
    # vjp's own leaves are dead once vjp returns: the derivative through vjp_fn is a constant
    (xg, xt), (yg, yt) = _pair(torch, 3), _pair(torch, 3, seed=1)

    def run(lib, mod, x, y):
        if inner == "vjp":
            _, fn = lib.vjp(mod.sin, x)
        else:
            _, fn = lib.vjp(lib.grad(lambda x: -mod.cos(x).sum()), x)
        return lib.grad(lambda y: fn(y)[0].sum())(y)

    g, t = run(func, gg, xg, yg), run(torch.func, torch, xt, yt)
    _check(g, t)
    g.numpy()  # a constant: PyTorch's result converts without detach


def test_escaped_value_is_a_constant_to_a_later_grad(torch):
    (xg, xt), (zg, zt) = _pair(torch, 3), _pair(torch, 3, seed=2)

    def run(lib, x, z):
        esc = []
        lib.grad(lambda x: esc.append(x.sin()) or x.sin().sum())(x)
        return lib.grad(lambda z: (esc[0] * z).sum())(z)

    _check(run(func, xg, zg), run(torch.func, xt, zt))


def test_closure_over_a_live_leaf_still_records(torch):
    # the outer grad's leaf is alive while its function runs: the inner grad must keep it
    (xg, xt), (yg, yt) = _pair(torch, 3), _pair(torch, 3, seed=1)

    def run(lib, x, y):
        return lib.grad(lambda x: lib.grad(lambda y: (x * y).sum() * x.sum())(y).sum())(x)

    _check(run(func, xg, yg), run(torch.func, xt, yt))


def test_vjp_fn_under_no_grad_gives_constants(torch):
    def run(lib, mod, no_grad):
        x = mod.tensor(3.14, dtype=mod.float64, requires_grad=True)
        out, fn = lib.vjp(lambda x: x**2, x)
        with no_grad():
            (y,) = fn(mod.tensor(1.0, dtype=mod.float64))
        return y, out

    (yg, og), (yt, ot) = run(func, gg, gg.no_grad), run(torch.func, torch, torch.no_grad)
    _check(yg, yt)
    assert og.requires_grad and ot.requires_grad


@pytest.mark.parametrize("out", [(), [], {}])
@pytest.mark.parametrize("which", ["vjp", "jvp", "jacrev", "jacfwd"])
def test_empty_output_is_refused(torch, which, out):
    def call(lib, x):
        f = lambda x: out  # noqa: E731
        if which == "vjp":
            return lib.vjp(f, x)
        if which == "jvp":
            return lib.jvp(f, (x,), (x,))
        return getattr(lib, which)(f)(x)

    xg, xt = _pair(torch, 3)
    with pytest.raises(RuntimeError, match="non-empty output"):
        call(torch.func, xt)
    with pytest.raises(RuntimeError, match="non-empty output"):
        call(func, xg)


def test_linearize_still_takes_an_empty_output(torch):
    xg, xt = _pair(torch, 3)
    assert torch.func.linearize(lambda x: (), xt)[0] == ()
    assert func.linearize(lambda x: (), xg)[0] == ()


def test_jvp_without_primal_tensors_is_a_runtime_error(torch):
    with pytest.raises(RuntimeError, match="at least one Tensor"):
        torch.func.jvp(torch.sin, (), ())
    with pytest.raises(RuntimeError, match="at least one Tensor"):
        func.jvp(gg.sin, (), ())


@pytest.mark.parametrize("which", ["jacrev", "jacfwd"])
def test_complex_input_to_jacobian_is_a_runtime_error(torch, which):
    with pytest.raises(RuntimeError, match=f"{which}: Expected all inputs to be real"):
        getattr(torch.func, which)(lambda x: x.conj())(torch.tensor([1 + 2j]))
    # (jacfwd's ValueError from make_dual was not a RuntimeError)
    with pytest.raises(RuntimeError, match=f"{which}: [Ee]xpected .*real"):
        getattr(func, which)(lambda x: x.conj())(gg.tensor([1 + 2j]))


@pytest.mark.parametrize("api", ["jacobian", "vjp", "hessian", "hvp", "vhp"])
def test_autograd_functional_inside_grad_is_refused(torch, api):
    # its result is a constant inside grad: PyTorch refuses rather than return a zero gradient
    def call(mod, x):
        AF = mod.autograd.functional
        f = lambda x: (x.sin() * x).sum()  # noqa: E731
        if api in ("jacobian", "hessian"):
            r = getattr(AF, api)(f, x)
        else:
            r = getattr(AF, api)(f, x, mod.ones_like(x))[1]
        return r.sum()

    xg, xt = _pair(torch, 3)
    with pytest.raises(RuntimeError, match=r"torch\.autograd\.functional"):
        torch.func.grad(lambda x: call(torch, x))(xt)
    with pytest.raises(RuntimeError, match=r"torch\.autograd\.functional"):
        func.grad(lambda x: call(gg, x))(xg)


def test_autograd_functional_with_create_graph_inside_grad(torch):
    def run(lib, mod, x):
        AF = mod.autograd.functional
        return lib.grad(lambda x: AF.jacobian(lambda x: x.sin().sum(), x, create_graph=True).sum())(x)

    xg, xt = _pair(torch, 3)
    np.testing.assert_allclose(run(func, gg, xg).numpy(), run(torch.func, torch, xt).numpy(), rtol=1e-12)


def test_custom_function_jvp_may_return_a_view_of_the_input_tangent(torch):
    def make(mod):
        class A(mod.autograd.Function):
            @staticmethod
            def forward(x):
                return x

            @staticmethod
            def setup_context(ctx, inputs, output):
                pass

            @staticmethod
            def backward(ctx, g):
                return g

            @staticmethod
            def jvp(ctx, x_t):
                return x_t.view_as(x_t)

        return A

    Ag, At = make(gg), make(torch)
    (xg, xt), (tg, tt) = _pair(torch, 3), _pair(torch, 3, seed=1)
    og, jg = func.jvp(lambda x: Ag.apply(x.clone()), (xg,), (tg,))
    ot, jt = torch.func.jvp(lambda x: At.apply(x.clone()), (xt,), (tt,))
    np.testing.assert_allclose(og.numpy(), ot.numpy())
    np.testing.assert_allclose(jg.numpy(), jt.numpy())
