"""Round 64, torch.func over bodies that write in place, and in-place shape methods on the views
PyTorch refuses to change: glassgrad against PyTorch.

- ``jacfwd`` ran its function once per input element (forward mode carries one tangent per pass)
  and each pass wrote the caller's tensor again: after ``jacfwd(lambda a: a.mul_(2) ...)`` of a
  3-element ``x`` it was ``16 x`` (PyTorch ``2 x``), and every column but the first was taken at
  the doubled values. ``func/reruns.py`` now puts back the values ``f`` wrote into its arguments
  before each rerun (and the versions of one run after the last); the recorded path runs ``f`` once
  for every column (``forward_graph.run_graph(columns=...)``). ``jvp``'s rerun (when the first
  pass finds the result differentiable) starts from the first values too, and its primal is no
  longer a leaf that refuses the write.
- a function given to ``grad``/``vjp``/``jacrev``/``hessian``/``jvp``/``jacfwd`` that changes in
  place a tensor it captured (a closure's, a module's buffer) ran (``jacfwd`` once per column);
  PyTorch raises "... would mutate a captured Tensor" (``func/captured.py``).
- ``t_``/``transpose_``/``squeeze_``/``unsqueeze_``/``as_strided_`` on a custom Function's view
  output (or a view of it), or on a ``torch.func`` transform's primal, ran; PyTorch refuses them as
  it refuses a value write there (``methods_inplace.view_inplace`` asks ``view_rebase.check_view``).
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

LIBS = ["glassgrad", "torch"]


@pytest.fixture(params=LIBS)
def lib(request):
    return gg if request.param == "glassgrad" else request.getfixturevalue("torch")


R = np.random.default_rng(6401)
X = R.uniform(0.5, 1.5, 4)
C = R.uniform(0.5, 1.5, 4)
W = R.standard_normal(4)

# bodies that write their (first) argument, whole or through a view
JAC_BODIES = {
    "mul_": lambda a: a.mul_(2).sin(),
    "exp_times": lambda a: a.exp_() * a,
    "add_pow_sum": lambda a: (a.add_(0.5) ** 3).sum(),
    "setitem": lambda a: (a.__setitem__(0, 0.25), a * a)[1],
    # through a view: forward mode cannot follow it, so jacfwd/jvp take the recorded path
    "slice_mul_": lambda a: (a[1:].mul_(3), a.sin())[1],
}


def _np(t):
    return t.detach().numpy()


def _close(got, want):
    np.testing.assert_allclose(_np(got), _np(want), rtol=1e-12, atol=1e-12)


def _jacfwd(T, body, where):
    """jacfwd of ``body`` at a plain tensor, at one in the caller's graph, or with a captured
    weight that requires grad (both recorded); then a backward through the Jacobian."""
    w = T.tensor(X, requires_grad=True)
    weight = T.tensor(W, requires_grad=where == "weight")
    x = w * 1.5 if where == "graph" else T.tensor(X)
    jac = T.func.jacfwd(lambda a: body(a) * weight.sum())(x)
    assert jac.requires_grad == (where != "plain")
    grads = []
    if jac.requires_grad:
        (jac * T.tensor(R.standard_normal(jac.shape))).sum().backward()
        grads = [g for g in (w.grad, weight.grad) if g is not None]
    return jac, x, x._version, grads


@pytest.mark.parametrize("where", ["plain", "graph", "weight"])
@pytest.mark.parametrize("body", sorted(JAC_BODIES))
def test_jacfwd_of_a_body_writing_its_input_writes_once(torch, body, where):
    state = R.bit_generator.state
    got = _jacfwd(gg, JAC_BODIES[body], where)
    R.bit_generator.state = state
    want = _jacfwd(torch, JAC_BODIES[body], where)
    _close(got[0], want[0])
    _close(got[1], want[1])  # the caller's tensor: written once, as PyTorch's single run
    assert got[2] == want[2]
    assert len(got[3]) == len(want[3])
    for g, t in zip(got[3], want[3]):
        _close(g, t)


@pytest.mark.parametrize("body", ["slice_mul_", "mul_"])
def test_jvp_of_a_body_writing_its_plain_input(torch, body):
    def run(T):
        x = T.tensor(X)
        out, tan = T.func.jvp(JAC_BODIES[body], (x,), (T.tensor(C),))
        return out, tan, x, x._version, tan.requires_grad, out.requires_grad

    got, want = run(gg), run(torch)
    for g, t in zip(got[:3], want[:3]):
        _close(g, t)
    assert got[3:] == want[3:]


@pytest.mark.parametrize("argnums", [0, 1])
def test_jacfwd_writes_an_argument_once_differentiated_or_not(torch, argnums):
    def run(T):
        x, c = T.tensor(X), T.tensor(C)
        jac = T.func.jacfwd(lambda a, b: (b.add_(1), a.mul_(3), a * b)[2], argnums=argnums)(x, c)
        return jac, x, c, x._version, c._version

    got, want = run(gg), run(torch)
    for g, t in zip(got[:3], want[:3]):
        _close(g, t)
    assert got[3:] == want[3:]


@pytest.mark.parametrize("body", ["mul_", "exp_times", "setitem"])
def test_jvp_rerun_for_a_captured_weight_writes_once(torch, body):
    """The first forward pass finds the result differentiable (a weight requires grad) and jvp
    reruns f recorded: from the values it was first given, with a primal it may write."""

    def run(T):
        weight = T.tensor(W, requires_grad=True)
        x = T.tensor(X)
        out, tan = T.func.jvp(lambda a: JAC_BODIES[body](a) * weight, (x,), (T.tensor(C),))
        (out.sum() + (tan * 0.7).sum()).backward()
        return out, tan, x, weight.grad, x._version

    got, want = run(gg), run(torch)
    for g, t in zip(got[:4], want[:4]):
        _close(g, t)
    assert got[4] == want[4]


@pytest.mark.parametrize("tangent", [0, 1])
def test_jvp_primal_with_a_tangent_requiring_grad_is_a_leaf(lib, tangent):
    """PyTorch refuses a write to the primal whose own tangent requires grad, not to another."""
    x, y = lib.tensor(X), lib.tensor(C)
    v = [lib.tensor(W, requires_grad=k == tangent) for k in range(2)]

    def run():
        return lib.func.jvp(lambda a, b: a.mul_(2) * b, (x, y), tuple(v))

    if tangent == 0:
        with pytest.raises(RuntimeError, match="leaf"):
            run()
    else:
        _, tan = run()
        np.testing.assert_allclose(x.numpy(), 2 * X, rtol=1e-15)
        np.testing.assert_allclose(_np(tan), 2 * W * C + 2 * X * W, rtol=1e-12)


CAPTURED_WRITES = {
    "add_": lambda c: c.add_(1),
    "view_add_": lambda c: c[1:].add_(1),
    "copy_": lambda c: c.copy_(c * 2),
    "setitem": lambda c: c.__setitem__(0, 5.0),
    "detach_add_": lambda c: c.detach().add_(1),
}


def _transformed(T, kind, f):
    x = T.tensor(X)
    ones = T.ones(4)
    run = {
        "grad": lambda: T.func.grad(lambda a: f(a).sum())(x),
        "vjp": lambda: T.func.vjp(f, x)[1](ones),
        "jacrev": lambda: T.func.jacrev(f)(x),
        "hessian": lambda: T.func.hessian(lambda a: f(a).pow(3).sum())(x),
        "jvp": lambda: T.func.jvp(f, (x,), (ones,)),
        "jacfwd": lambda: T.func.jacfwd(f)(x),
    }
    return run[kind]()


@pytest.mark.parametrize("kind", ["grad", "vjp", "jacrev", "hessian", "jvp", "jacfwd"])
@pytest.mark.parametrize("write", sorted(CAPTURED_WRITES))
def test_a_write_to_a_captured_tensor_raises(lib, kind, write):
    c = lib.tensor(C)

    def f(a):
        CAPTURED_WRITES[write](c)
        return a * 2

    with pytest.raises(RuntimeError):
        _transformed(lib, kind, f)


def test_a_captured_write_under_no_grad_raises_with_pytorchs_gist(lib):
    c = lib.tensor(C)

    def f(a):
        with lib.no_grad():
            c.add_(1)
        return (a * c).sum()

    with pytest.raises(RuntimeError, match="captured Tensor"):
        lib.func.grad(f)(lib.tensor(X))


def _batch_norm_grad(T, buffers_from):
    bn = T.nn.BatchNorm1d(3).double()
    x = T.tensor(R.standard_normal((5, 3)))
    params = {k: v.detach() for k, v in bn.named_parameters()}
    buffers = {k: v.clone() for k, v in bn.named_buffers()}
    passed = {k: v.clone() for k, v in bn.named_buffers()}

    def loss(p, b):
        given = {"module": p, "closure": (p, buffers), "argument": (p, b)}[buffers_from]
        return T.func.functional_call(bn, given, (x,)).pow(2).sum()

    return T.func.grad(loss)(params, passed), passed


@pytest.mark.parametrize("buffers_from", ["module", "closure"])
def test_batch_norm_running_stats_captured_raise(lib, buffers_from):
    """The classic: training-mode BatchNorm under torch.func.grad updates its running stats in
    place; refused when they are the module's own or a closure's (captured)."""
    with pytest.raises(RuntimeError, match="captured Tensor"):
        _batch_norm_grad(lib, buffers_from)


def test_batch_norm_running_stats_passed_in_are_updated(torch):
    state = R.bit_generator.state
    got = _batch_norm_grad(gg, "argument")
    R.bit_generator.state = state
    want = _batch_norm_grad(torch, "argument")
    for k in ("weight", "bias"):
        _close(got[0][k], want[0][k])
    for k in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(got[1][k].numpy(), want[1][k].numpy(), rtol=1e-12)


def test_writes_to_arguments_and_fresh_tensors_still_run(torch):
    def run(T):
        x, c = T.tensor(X), T.tensor(C)
        g = T.func.grad(lambda a, b: (b.add_(1), (a * b).sum() + (a * 1).mul_(2).sum())[1])(x, c)
        return g, c, c._version

    got, want = run(gg), run(torch)
    _close(got[0], want[0])
    _close(got[1], want[1])
    assert got[2] == want[2]


SHAPE_METHODS = {
    "t_": lambda v: v.t_(),
    "transpose_": lambda v: v.transpose_(0, -1),
    "squeeze_": lambda v: v.squeeze_(),
    "unsqueeze_": lambda v: v.unsqueeze_(0),
    "swapdims_": lambda v: v.swapdims_(0, -1),
    "as_strided_": lambda v: v.as_strided_((2,), (1,)),
}


def _view_function(T):
    class RowsView(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x[0:2]

        @staticmethod
        def backward(ctx, g):
            out = g.new_zeros((3, 3))
            out[0:2] = g
            return out

    return RowsView


def _refused_view(T, source):
    x = T.tensor(R.standard_normal((3, 3)), requires_grad=True) * 1.0
    if source == "function_view":
        return _view_function(T).apply(x)
    if source == "view_of_function_view":
        return _view_function(T).apply(x)[0:1]
    return {"split": lambda: x.split(1)[0], "unbind": lambda: x.unbind(1)[0]}[source]()


@pytest.mark.parametrize("method", sorted(SHAPE_METHODS))
@pytest.mark.parametrize("source", ["function_view", "view_of_function_view", "split", "unbind"])
def test_in_place_shape_method_on_a_view_pytorch_refuses(lib, source, method):
    v = _refused_view(lib, source)
    with pytest.raises(RuntimeError):
        SHAPE_METHODS[method](v)


@pytest.mark.parametrize("method", sorted(SHAPE_METHODS))
def test_in_place_shape_method_on_a_transform_primal_raises(lib, method):
    x = lib.tensor(R.standard_normal((3, 3)), requires_grad=True) * 1.0
    with pytest.raises(RuntimeError, match="leaf Variable"):
        lib.func.grad(lambda a: SHAPE_METHODS[method](a[0:2]).sum())(x)


@pytest.mark.parametrize("method", sorted(SHAPE_METHODS))
def test_in_place_shape_method_on_a_plain_view_still_records(torch, method):
    def run(T):
        w = T.tensor(np.arange(9.0).reshape(3, 3) / 7, requires_grad=True)
        v = (w * 2.0)[0:2]
        SHAPE_METHODS[method](v)
        (v.sin() * T.tensor(np.linspace(-1, 1, v.numel()).reshape(tuple(v.shape)))).sum().backward()
        return v, w.grad, v._version

    got, want = run(gg), run(torch)
    _close(got[0], want[0])
    _close(got[1], want[1])
    assert got[2] == want[2]


def test_function_view_refusal_names_the_custom_function():
    v = _refused_view(gg, "function_view")
    with pytest.raises(RuntimeError, match="custom Function"):
        v.t_()


def test_jacfwd_of_grad_of_plain_tensors_is_a_constant_as_torch(torch):
    # jacfwd over a nested transform took the recorded path, whose Jacobian kept a graph (a
    # ViewBackward0) where PyTorch's is a constant; with a weight or input that requires grad,
    # both keep one
    def run(lib):
        f = lambda x: (x**3).sum()  # noqa: E731
        x = lib.tensor([1.0, 2.0], dtype=lib.float64)
        w = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        plain = lib.func.jacfwd(lib.func.grad(f))(x)
        weighted = lib.func.jacfwd(lib.func.grad(lambda x: (x**3 * w).sum()))(x)
        tracked = lib.func.jacfwd(lib.func.grad(f))(x.clone().requires_grad_(True))
        flags = [(t.requires_grad, t.grad_fn is None) for t in (plain, weighted, tracked)]
        return flags, [t.detach().numpy() for t in (plain, weighted, tracked)]

    (flags, got), (want_flags, want) = run(gg), run(torch)
    assert flags == want_flags == [(False, True), (True, False), (True, False)]
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
