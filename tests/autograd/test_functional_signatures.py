"""autograd.functional with PyTorch's keywords: ``jacobian``/``vjp`` take ``create_graph``,
``strict``, ``vectorize``, ``strategy``; second-order ``hessian``/``hvp``/``vhp`` (double backward,
tests/autograd/test_double_backward.py), found porting GAN scripts whose penalties need it."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import GraphError

F = gg.autograd.functional


def _f(a, b):
    return (a * b).tanh()


def test_jacobian_keywords_match_torch(torch):
    a, b = np.random.default_rng(0).uniform(-1, 1, (2, 3))
    ours = F.jacobian(
        _f, (gg.tensor(a), gg.tensor(b)), create_graph=False, vectorize=True, strategy="forward-mode"
    )
    strict = F.jacobian(_f, (gg.tensor(a), gg.tensor(b)), strict=True)
    for o, st in zip(ours, strict):
        np.testing.assert_array_equal(o.numpy(), st.numpy())
    for strategy in ("reverse-mode", "forward-mode"):
        theirs = torch.autograd.functional.jacobian(
            _f, (torch.tensor(a), torch.tensor(b)), vectorize=True, strategy=strategy
        )
        for o, t in zip(ours, theirs):
            np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-12)
    _, g = F.vjp(
        lambda x: x**2, gg.tensor([1.0, 2.0]), gg.tensor([1.0, 1.0]), create_graph=False, strict=True
    )
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])


def test_strict_refuses_an_unused_input_as_torch(torch):
    def f(a, b):
        return a * 2

    with pytest.raises(RuntimeError):
        torch.autograd.functional.jacobian(f, (torch.ones(2), torch.ones(2)), strict=True)
    with pytest.raises(GraphError, match="independent of input 1"):
        F.jacobian(f, (gg.ones(2), gg.ones(2)), strict=True)
    with pytest.raises(
        GraphError, match="vjp: The output of the user-provided function is independent of input 1"
    ):
        F.vjp(lambda a, b: (a * 2).sum(), (gg.ones(2), gg.ones(2)), strict=True)
    zeros = F.jacobian(f, (gg.ones(2), gg.ones(2)))[1]  # not strict: zeros, as PyTorch
    np.testing.assert_array_equal(zeros.numpy(), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="strategy"):
        F.jacobian(f, gg.ones(2), strategy="sideways")


def test_keyword_combinations_torch_refuses_are_refused(torch):
    x, tx = gg.ones(2), torch.ones(2)
    for kw, err in (
        (dict(strict=True, vectorize=True), RuntimeError),
        (dict(strategy="forward-mode"), NotImplementedError),
    ):
        with pytest.raises(err):
            torch.autograd.functional.jacobian(lambda a: a * 2, tx, **kw)
        with pytest.raises(err, match="jacobian: "):
            F.jacobian(lambda a: a * 2, x, **kw)


@pytest.mark.parametrize("name", ["jacobian", "vjp"])
def test_create_graph_true_gives_a_graph(name):
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    args = () if name == "jacobian" else (gg.ones(2),)
    out = getattr(F, name)(lambda x: x**2, x, *args, create_graph=True)
    res = out if name == "jacobian" else out[1]
    assert res.requires_grad  # differentiable again, back to x


@pytest.mark.parametrize("name", ["hessian", "hvp", "vhp"])
def test_second_order_names_exist(torch, name):
    assert hasattr(torch.autograd.functional, name)
    x = gg.tensor([1.0, 2.0])
    args = (x,) if name == "hessian" else (x, gg.ones(2))
    out = getattr(gg.autograd.functional, name)(lambda x: (x**3).sum(), *args)
    res = out if name == "hessian" else out[1]
    want = np.diag([6.0, 12.0]) if name == "hessian" else np.array([6.0, 12.0])
    np.testing.assert_allclose(res.numpy(), want)
