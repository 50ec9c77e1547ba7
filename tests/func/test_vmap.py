"""vmap (func/vmap.py), a loop over the batch, against PyTorch's torch.func.vmap: values, shapes,
gradients through the result, pytrees, nesting, composition with grad/jacrev/vjp, randomness,
what it refuses, and the errors PyTorch gives for bad in_dims/out_dims."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

RNG = np.random.default_rng(30)
X = RNG.standard_normal((3, 4))
Y = RNG.standard_normal(4)
Z = RNG.standard_normal((4, 3, 2))


def _both(torch, fn):
    """fn(lib, tensor maker) in both libraries, as numpy arrays (pytrees flattened in order)."""
    out = []
    for lib, t in ((torch, lambda a: torch.tensor(a)), (gg, lambda a: gg.tensor(a))):
        r = fn(lib, t)
        leaves = list(r.values()) if isinstance(r, dict) else list(r) if isinstance(r, tuple | list) else [r]
        out.append([np.asarray(v.detach().numpy()) for v in leaves])
    for a, b in zip(*out, strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


CASES = {
    "dot-none": lambda L, t: L.vmap(L.dot, in_dims=(0, None))(t(X), t(Y)),
    "in-dim-1": lambda L, t: L.vmap(lambda a, b: a * b, in_dims=(1, 0))(t(X), t(Z[:, 0, 0])),
    "negative-in-dim": lambda L, t: L.vmap(lambda a: a.sum(), in_dims=-1)(t(Z)),
    "out-dim-1": lambda L, t: L.vmap(lambda a: a * 2, out_dims=1)(t(Z)),
    "out-dim-negative": lambda L, t: L.vmap(lambda a: a.exp(), out_dims=-1)(t(Z)),
    "scalar-per-item": lambda L, t: L.vmap(lambda a: (a * a).sum())(t(X)),
    "tuple-out-dims": lambda L, t: L.vmap(lambda a: (a, a.sum()), out_dims=(1, 0))(t(X)),
    "dict-in": lambda L, t: L.vmap(lambda d: d["a"] + d["b"], in_dims=({"a": 0, "b": None},))(
        {"a": t(X), "b": t(Y)}
    ),
    "dict-out": lambda L, t: L.vmap(lambda a: {"s": a.sum(), "m": a.max()})(t(X)),
    "kwargs-unmapped": lambda L, t: L.vmap(lambda a, s=None: a * s)(t(X), s=t(Y)),
    "nested": lambda L, t: L.vmap(L.vmap(lambda a, b: a * b, in_dims=(0, None)), in_dims=(None, 0))(
        t(Y), t(X)
    ),
    "out-none-unbatched": lambda L, t: L.vmap(lambda a: L.ones(3, dtype=L.float64), out_dims=None)(t(X)),
    "empty-batch": lambda L, t: L.vmap(lambda a: a * 2 + 1)(t(np.zeros((0, 4)))),
    "chunked": lambda L, t: L.vmap(lambda a: a.sin(), chunk_size=2)(t(X)),
    "vjp-rows": lambda L, t: L.vmap(L.func.vjp(lambda x: x.tanh() * x, t(Y))[1])(t(np.eye(4))),
    "jacrev-batch": lambda L, t: L.vmap(L.func.jacrev(lambda x: x.sin() * x.sum()))(t(X)),
    "hessian-batch": lambda L, t: L.vmap(L.func.hessian(lambda x: (x**3).sum()))(t(X)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(torch, name):
    _both(torch, CASES[name])


def test_per_sample_grads_and_gradient_through_the_result(torch):
    def run(L, t):
        w = t(W).requires_grad_()
        grads = L.vmap(L.func.grad(lambda w, x: (x @ w).tanh().sum()), in_dims=(None, 0))(w, t(X))
        (grads * grads).sum().backward()  # through the stacked per-sample gradients
        return grads, w.grad

    _both(torch, run)


W = RNG.standard_normal((4, 2))


def test_randomness_modes(torch):
    with pytest.raises(RuntimeError, match="vmap: .*random"):
        gg.vmap(lambda a: a + gg.rand(4))(gg.tensor(X))
    gg.manual_seed(0)
    same = gg.vmap(lambda a: gg.rand(2), randomness="same")(gg.tensor(X))
    assert same.shape == (3, 2) and bool((same == same[0]).all())
    after_same = gg.rand(1)
    gg.manual_seed(0)
    gg.rand(2)
    assert after_same.item() == gg.rand(1).item()  # the generator moved as if func ran once
    diff = gg.vmap(lambda a: gg.rand(2), randomness="different")(gg.tensor(X))
    assert not bool((diff == diff[0]).all())


def test_side_effects_on_captured_tensors_are_refused():
    y = gg.zeros(4)
    with pytest.raises(RuntimeError, match="vmap: .*captured.*once per batch item"):
        gg.vmap(lambda a: y.add_(a))(gg.tensor(X))
    bn = gg.nn.BatchNorm1d(4)  # (PyTorch's message since round 66: batch norm checks it first)
    with pytest.raises(RuntimeError, match="Batch norm got a batched tensor as input"):
        gg.vmap(lambda a: bn(a.unsqueeze(0).repeat(2, 1)))(gg.tensor(X, dtype=gg.float32))
    lin = gg.nn.Linear(4, 1)
    with pytest.raises(RuntimeError, match="vmap: .*captured"):
        gg.vmap(lambda a: lin(a).sum().backward())(gg.tensor(X, dtype=gg.float32))
    x = gg.tensor(X.copy())
    gg.vmap(lambda a: a.mul_(2))(x)  # the mapped input's own slices may change, as PyTorch
    np.testing.assert_allclose(x.numpy(), 2 * X)


ERRORS = {  # name -> call(lib, t): each raises the same exception type in both libraries
    "no-mapped": lambda L, t: L.vmap(L.dot, in_dims=(None, None))(t(Y), t(Y)),
    "size-mismatch": lambda L, t: L.vmap(L.add)(t(X), t(Z)),
    "non-tensor": lambda L, t: L.vmap(lambda a, b: a * b, in_dims=(0, 0))(t(X), 2.0),
    "in-dims-length": lambda L, t: L.vmap(L.add, in_dims=(0,))(t(X), t(X)),
    "in-dims-list": lambda L, t: L.vmap(lambda a: a, in_dims=[0])(t(X)),
    "in-dim-range": lambda L, t: L.vmap(lambda a: a, in_dims=2)(t(X)),
    "zero-dim-input": lambda L, t: L.vmap(lambda a: a)(t(np.array(1.0))),
    "no-inputs": lambda L, t: L.vmap(lambda: t(Y))(),
    "out-none-batched": lambda L, t: L.vmap(lambda a: a * 2, out_dims=None)(t(X)),
    "returns-float": lambda L, t: L.vmap(lambda a: 1.0)(t(X)),
    "returns-none": lambda L, t: L.vmap(lambda a: None)(t(X)),
    "out-dim-range": lambda L, t: L.vmap(lambda a: a, out_dims=5)(t(X)),
    "chunk-size": lambda L, t: L.vmap(lambda a: a, chunk_size=0)(t(X)),
    "bad-randomness": lambda L, t: L.vmap(lambda a: a, randomness="foo")(t(X)),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_as_torch(torch, name):
    with pytest.raises(Exception) as theirs:
        ERRORS[name](torch, lambda a: torch.tensor(a))
    with pytest.raises(type(theirs.value), match="vmap"):
        ERRORS[name](gg, lambda a: gg.tensor(a))


def test_autograd_grad_is_grads_batched(torch):
    def run(L, t):
        x = t(Y).requires_grad_()
        y = x.pow(2) * x.sum()
        (jac,) = L.autograd.grad(y, x, t(np.eye(4)), is_grads_batched=True, create_graph=True)
        (second,) = L.autograd.grad(jac.sum(), x)  # the batch of rows is itself differentiable
        return jac, second

    _both(torch, run)
    x = gg.tensor(Y, requires_grad=True)
    with pytest.raises(ValueError, match="is_grads_batched"):
        gg.autograd.grad((x * 2).sum(), x, is_grads_batched=True)
