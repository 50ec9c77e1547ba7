"""Round 54, zennit (layer-wise relevance propagation built on hooks): three defects.

- ``Tensor.uniform_`` took only glassgrad's ``a``/``b``: zennit's fixtures call
  ``uniform_(**{"from": 0.1, "to": 2.0, "generator": rng})`` (PyTorch's names; ``from`` is a Python
  keyword), a TypeError here. ``from > to`` is PyTorch's RuntimeError, not NumPy's ValueError.
- ``load_state_dict(assign=True)`` wrote into ``_parameters`` directly. PyTorch's loader stores
  through ``setattr``, which drops an instance attribute of that name: zennit's batch-norm merge
  sets ``weight``/``bias`` with ``object.__setattr__`` and its ``ParamMod`` then loads with
  ``assign=True``; glassgrad kept the stale shadow, so the model went on computing with the merged
  weights (relevance maps 10x off after the first canonizer).
- ``grad_fn`` hooks (``register_hook``/``register_prehook`` on a node) under ``create_graph=True``
  raised NotImplementedError; zennit's ``Gradient(create_graph=True)`` with a composite and any
  second-order use of its rules need them. The hooks now get the recorded gradient Tensors, and
  what they compute on them is differentiated again.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad


def test_uniform_takes_pytorchs_from_and_to(torch):
    for lib in (glassgrad, torch):
        x = lib.empty(2000, dtype=lib.float64)
        gen = lib.Generator().manual_seed(3)
        x.uniform_(**{"from": 0.1, "to": 2.0, "generator": gen})
        assert x.min().item() >= 0.1 and x.max().item() < 2.0 and x.mean().item() > 0.9
        x.uniform_(**{"to": -3.0, "from": -4.0})
        assert x.min().item() >= -4.0 and x.max().item() < -3.0
        x.uniform_(5.0, 6.0)  # positionally, as before
        assert x.min().item() >= 5.0 and x.max().item() < 6.0
        with pytest.raises(RuntimeError, match=r"from=2(\.0)? > to=1"):
            x.uniform_(2.0, 1.0)
        with pytest.raises(TypeError, match="unexpected keyword argument 'fro'"):
            x.uniform_(fro=1.0)


def _shadowed(lib):
    """A Linear whose weight is shadowed by an instance attribute (zennit's MergeBatchNorm)."""
    lin = lib.nn.Linear(3, 2, dtype=lib.float64)
    with lib.no_grad():
        lin.weight.copy_(lib.tensor(np.arange(6.0).reshape(2, 3)))
        lin.bias.zero_()
    object.__setattr__(lin, "weight", lin.weight * 10)
    return lin


def test_load_state_dict_assign_goes_through_setattr(torch):
    x = np.array([[1.0, -2.0, 0.5]])
    got = {}
    for lib in (glassgrad, torch):
        lin = _shadowed(lib)
        shadow = lin.weight
        assert "weight" in lin.__dict__
        lin.load_state_dict({"weight": lib.ones(2, 3, dtype=lib.float64)}, strict=False, assign=True)
        assert "weight" not in lin.__dict__  # the shadow is gone, as in PyTorch
        assert lin.weight is lin._parameters["weight"] and lin.weight is not shadow
        assert isinstance(lin.weight, lib.nn.Parameter) and lin.weight.requires_grad
        # and it is what forward computes with
        got[lib.__name__] = lin(lib.tensor(x)).detach().numpy()
        # a loaded Parameter is taken itself
        p = lib.nn.Parameter(lib.full((2,), 3.0, dtype=lib.float64))
        lin.load_state_dict({"bias": p}, strict=False, assign=True)
        assert lin.bias is p
    np.testing.assert_array_equal(got["glassgrad"], got["torch"])
    np.testing.assert_array_equal(got["torch"], [[-0.5, -0.5]])


def test_load_state_dict_assign_runs_the_parameter_registration_hooks(torch):
    seen = {}
    for lib in (glassgrad, torch):
        names = []
        handle = lib.nn.modules.module.register_module_parameter_registration_hook(
            lambda module, name, param, names=names: names.append(name)
        )
        try:
            lin = lib.nn.Linear(2, 2)
            names.clear()
            lin.load_state_dict({"weight": lib.zeros(2, 2)}, strict=False, assign=True)
        finally:
            handle.remove()
        seen[lib.__name__] = list(names)
    assert seen["glassgrad"] == seen["torch"] == ["weight"]


def _hooked_second_order(lib, x0, w0):
    """y = w * x with a pre-hook scaling the output gradient by x and a post-hook adding x**2 to
    the input gradient, all under create_graph; then the gradient of that gradient."""
    x = lib.tensor(x0, requires_grad=True)
    w = lib.tensor(w0, requires_grad=True)
    y = w * x
    seen = []
    y.grad_fn.register_prehook(lambda go: (go[0] * x,))

    def post(gi, go):
        seen.append((gi[0] is None, gi[1].requires_grad, go[0].requires_grad))
        return (gi[0], gi[1] + x**2)

    y.grad_fn.register_hook(post)
    (gx,) = lib.autograd.grad(y, x, lib.ones_like(y), create_graph=True)
    (gxx,) = lib.autograd.grad(gx.sum(), x)
    return gx.detach().numpy(), gxx.numpy(), seen


def test_grad_fn_hooks_under_create_graph(torch):
    rng = np.random.default_rng(0)
    x0, w0 = rng.standard_normal((2, 3)), rng.standard_normal(3)
    ours = _hooked_second_order(glassgrad, x0, w0)
    theirs = _hooked_second_order(torch, x0, w0)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-13, atol=1e-13)
    assert ours[2] == theirs[2] == [(True, True, True)]  # w's gradient: not asked for
    # by hand: gx = w * x + x**2, d(sum gx)/dx = w + 2x
    np.testing.assert_allclose(ours[1], w0 + 2 * x0, rtol=1e-13)


def _identity_lrp(lib, data, weight, bias):
    """zennit's pattern: a Function identity gives the module output a grad_fn, whose hook replaces
    the gradient by input * (recorded) gradient; a second backward through that."""

    class Identity(lib.autograd.Function):
        @staticmethod
        def forward(ctx, *inputs):
            return inputs

        @staticmethod
        def backward(ctx, *grads):
            return grads

    lin = lib.nn.Linear(2, 2, dtype=lib.float64)
    with lib.no_grad():
        lin.weight.copy_(lib.tensor(weight))
        lin.bias.copy_(lib.tensor(bias))
    x = lib.tensor(data, requires_grad=True)
    (inp,) = Identity.apply(x)
    out = lin(inp)

    def hook(grad_input, grad_output):
        hin = inp.detach().requires_grad_()
        with lib.enable_grad():
            hout = lin(hin)
        (g,) = lib.autograd.grad(hout, hin, grad_outputs=grad_output[0], create_graph=True)
        return (x * g,)

    inp.grad_fn.register_hook(hook)
    (grad,) = lib.autograd.grad(out, x, lib.ones_like(out), create_graph=True)
    (gradgrad,) = lib.autograd.grad(grad, x, lib.ones_like(grad))
    return grad.detach().numpy(), gradgrad.numpy()


def test_zennit_identity_hook_second_order(torch):
    rng = np.random.default_rng(1)
    data, weight, bias = rng.standard_normal((1, 2)), rng.standard_normal((2, 2)), rng.standard_normal(2)
    ours, theirs = _identity_lrp(glassgrad, data, weight, bias), _identity_lrp(torch, data, weight, bias)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    # by hand: the hook gets the output gradient 1 @ W as grad_output and takes it through the
    # layer again: grad = x * (1 @ W @ W), d(sum grad)/dx = 1 @ W @ W
    g = weight.sum(0) @ weight
    np.testing.assert_allclose(ours[0], data * g, rtol=1e-13)
    np.testing.assert_allclose(ours[1], g[None], rtol=1e-13)


def test_grad_fn_hooks_under_create_graph_gradcheck():
    """The hooked node's second-order gradient, by finite differences, on broadcasting shapes."""
    rng = np.random.default_rng(2)
    for xs, ws in (((3, 4), (4,)), ((2, 1, 3), (5, 1)), ((4,), ())):
        x = glassgrad.tensor(rng.standard_normal(xs), requires_grad=True)
        w = glassgrad.tensor(rng.standard_normal(ws), requires_grad=True)

        def f(x, w):
            with glassgrad.enable_grad():
                return _hooked(x, w)

        def _hooked(x, w):
            y = w * x.tanh()
            y.grad_fn.register_prehook(lambda go: (go[0] * w,))
            y.grad_fn.register_hook(lambda gi, go: (gi[0], gi[1] * x))
            (gx,) = glassgrad.autograd.grad(y, x, glassgrad.ones_like(y), create_graph=True)
            return gx

        assert glassgrad.autograd.gradcheck(f, (x, w))


def test_split_hub_hooks_under_create_graph_are_refused_by_name():
    x = glassgrad.randn(4, dtype=glassgrad.float64, requires_grad=True)
    a, b = x.split(2)
    a.grad_fn.register_hook(lambda gi, go: None)
    with pytest.raises(
        NotImplementedError, match="create_graph=True with grad_fn hooks on the outputs of split"
    ):
        glassgrad.autograd.grad((a * b).sum(), x, create_graph=True)
