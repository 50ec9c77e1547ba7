"""Round 35, torchsde (google-research/torchsde): sdeint_adjoint's autograd.Function returns a
1-tuple ``(ys, *extra_state)`` with no extra state; it must come back as a 1-tuple with a graph."""

import numpy as np

import glassgrad


def _adjoint_like(lib):
    """A Function in torchsde's adjoint style: non-tensor leading args, *varargs params, a 1-tuple out."""

    class _Solve(lib.autograd.Function):
        @staticmethod
        def forward(ctx, dt, n_extra, y0, *params):
            (w,) = params
            ctx.save_for_backward(y0, w)
            ctx.dt = dt
            ys = y0 + dt * lib.tanh(y0 @ w)
            return (ys, *[ys] * n_extra)

        @staticmethod
        def backward(ctx, g, *rest):
            y0, w = ctx.saved_tensors
            with lib.enable_grad():
                y = y0.detach().requires_grad_()
                ww = w.detach().requires_grad_()
                out = y + ctx.dt * lib.tanh(y @ ww)
                gy, gw = lib.autograd.grad(out, (y, ww), g)
            return None, None, gy, gw

    return _Solve


def _run(lib, y0, w):
    y = lib.tensor(y0, requires_grad=True)
    p = lib.tensor(w, requires_grad=True)
    res = _adjoint_like(lib).apply(0.1, 0, y, p)
    ys, *extra = res
    (ys**2).sum().backward()
    return (
        type(res),
        len(res),
        extra,
        ys.grad_fn is not None,
        ys.detach().numpy(),
        y.grad.numpy(),
        p.grad.numpy(),
    )


def test_function_returning_one_tuple_matches_torch(torch):
    rs = np.random.RandomState(0)
    y0, w = rs.randn(2, 3), rs.randn(3, 3)
    got, want = _run(glassgrad, y0, w), _run(torch, y0, w)
    assert got[:4] == (tuple, 1, [], True) == want[:4]
    for a, b in zip(got[4:], want[4:]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_function_returning_one_tuple_single_tensor_grad():
    class Twice(glassgrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return (x * 2,)

        @staticmethod
        def backward(ctx, g):
            return g * 3  # not the true derivative: proves the user's backward ran

    x = glassgrad.ones(2, requires_grad=True)
    out = Twice.apply(x)
    assert isinstance(out, tuple) and len(out) == 1
    out[0].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
