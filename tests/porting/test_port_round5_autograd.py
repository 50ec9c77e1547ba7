"""What the fifth round's autograd tutorials needed (docs/porting.md, "Real scripts ported"):
PyTorch's keyword arguments of ``gradcheck`` (``fast_mode=``), a custom Function whose backward
returns extra trailing ``None``s, ``autograd.grad(allow_unused=, materialize_grads=)``,
``nn.DataParallel`` on a machine without GPUs, double backward (``gradgradcheck``,
``create_graph=True``), and a clear refusal where a tutorial needs vmap (gradcheck's ``check_batched_grad``;
``check_forward_ad`` runs since forward-mode AD landed). Each script runs on glassgrad and on PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad
from glassgrad.autograd.gradcheck import GradcheckError
from glassgrad.errors import GraphError

from .helpers import assert_same

A = np.linspace(-1.0, 2.0, 6, dtype=np.float32).reshape(2, 3)


def _scale_function(torch):
    class Scale(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, eps=1e-3):
            ctx.save_for_backward(x, w)
            ctx.eps = eps
            return x * w + eps

        @staticmethod
        def backward(ctx, grad_out):
            x, w = ctx.saved_tensors
            # as the conv-bn tutorial: more gradients than inputs, the extras None
            return grad_out * w, (grad_out * x).sum(0), None, None, None, None

    return Scale


def script_trailing_nones(torch):
    Scale = _scale_function(torch)
    x = torch.tensor(A, dtype=torch.float64, requires_grad=True)
    w = torch.tensor(A[0], dtype=torch.float64, requires_grad=True)
    ok = torch.autograd.gradcheck(Scale.apply, (x, w), fast_mode=False)
    ok_fast = torch.autograd.gradcheck(Scale.apply, (x, w), fast_mode=True, nondet_tol=0.0)
    Scale.apply(x, w, 0.5).sum().backward()
    return [ok, ok_fast, x.grad, w.grad]


def test_custom_function_backward_may_return_trailing_nones(torch):
    assert_same(script_trailing_nones(glassgrad), script_trailing_nones(torch))


def test_extra_gradients_that_are_not_none_raise():
    class Bad(glassgrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2, g

    x = glassgrad.tensor(A, requires_grad=True)
    with pytest.raises(GraphError, match="expected 1 gradients"):
        Bad.apply(x).sum().backward()


def test_gradcheck_refuses_checks_it_cannot_make(torch):
    x = glassgrad.tensor(A, dtype=glassgrad.float64, requires_grad=True)
    with pytest.raises(NotImplementedError, match="vmap"):
        glassgrad.autograd.gradcheck(lambda t: t.exp(), (x,), check_batched_grad=True)
    assert glassgrad.autograd.gradcheck(lambda t: t.exp(), (x,), check_forward_ad=True)
    # PyTorch refuses this too (with an AssertionError; glassgrad never asserts)
    with pytest.raises(ValueError, match="check_backward_ad"):
        glassgrad.autograd.gradcheck(lambda t: t.exp(), (x,), check_backward_ad=False)
    with pytest.raises(AssertionError, match="check_backward_ad"):
        t = torch.tensor(A, dtype=torch.float64, requires_grad=True)
        torch.autograd.gradcheck(lambda t: t.exp(), (t,), check_backward_ad=False)
    with pytest.raises(GradcheckError):  # fast_mode still checks (the full check, here)
        glassgrad.autograd.gradcheck(lambda t: t.detach() * t, (x,), fast_mode=True)


def test_double_backward_runs():
    x = glassgrad.tensor(A, dtype=glassgrad.float64, requires_grad=True)
    assert glassgrad.autograd.gradgradcheck(lambda t: t**2, (x,))
    (g,) = glassgrad.autograd.grad((x**3).sum(), x, create_graph=True)
    (h,) = glassgrad.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * A.astype(np.float64))
    (x**2).sum().backward(create_graph=False, retain_graph=None)
    np.testing.assert_allclose(x.grad.numpy(), 2 * A.astype(np.float64))


def script_grad_unused(torch):
    x = torch.tensor(A, requires_grad=True)
    unused = torch.tensor(A[0], requires_grad=True)
    y = (x * x).sum()
    none = torch.autograd.grad(y, [x, unused], retain_graph=True, allow_unused=True)
    zeros = torch.autograd.grad(y, [x, unused], materialize_grads=True)
    return [none[0], none[1], zeros[0], zeros[1]]


def test_grad_allow_unused_and_materialize_grads(torch):
    assert_same(script_grad_unused(glassgrad), script_grad_unused(torch))
    for lib, err in ((glassgrad, GraphError), (torch, RuntimeError)):
        x = lib.tensor(A, requires_grad=True)
        unused = lib.tensor(A[0], requires_grad=True)
        with pytest.raises(err, match="allow_unused=True"):
            lib.autograd.grad((x * x).sum(), [x, unused])


def script_data_parallel(torch):
    torch.manual_seed(0)
    inner = torch.nn.Linear(3, 2)
    with torch.no_grad():
        inner.weight.copy_(torch.tensor(A))
        inner.bias.fill_(0.25)
    net = torch.nn.DataParallel(inner)
    out = net(torch.tensor(A[:, ::-1].copy()))
    out.sum().backward()
    return [list(net.state_dict()), net.device_ids, net.module is inner, out, inner.weight.grad]


def test_data_parallel_without_gpus(torch):
    assert_same(script_data_parallel(glassgrad), script_data_parallel(torch))
    assert repr(glassgrad.nn.DataParallel(glassgrad.nn.Identity())) == repr(
        torch.nn.DataParallel(torch.nn.Identity())
    )
    with pytest.raises(TypeError, match="nn.Module"):
        glassgrad.nn.DataParallel(lambda x: x)
