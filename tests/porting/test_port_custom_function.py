"""Issue 7, item 6: a user's ``autograd.Function`` written as the PyTorch tutorials write it, with
Tensors in forward and backward. Each script runs on glassgrad and on PyTorch."""

from __future__ import annotations

import math

import glassgrad

from .helpers import assert_same


def script_legendre(torch):
    """The examples_autograd tutorial's custom Function, trained for a few steps."""

    class LegendrePolynomial3(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input**3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input**2 - 1)

    x = torch.linspace(-math.pi, math.pi, 200)
    y = torch.sin(x)
    a, b, c, d = (torch.full((), v, requires_grad=True) for v in (0.0, -1.0, 0.0, 0.3))
    losses = []
    for _ in range(20):
        loss = (a + b * LegendrePolynomial3.apply(c + d * x) - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= 5e-5 * p.grad
                p.grad = None
    return losses, [a, b, c, d]


def test_legendre_port(torch):
    assert_same(script_legendre(glassgrad), script_legendre(torch), rtol=1e-4)


def script_relu_contract(torch):
    """The two-layer-net tutorial's MyReLU, plus the rest of the ctx contract."""

    class MyReLU(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            return grad_input

    class ScaleAndIndex(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale, k):
            ctx.scale = scale
            index = x.argmax()
            ctx.mark_non_differentiable(index)
            return x * scale, index

        @staticmethod
        def backward(ctx, grad_out, grad_index):
            seen.append((ctx.needs_input_grad, torch.is_grad_enabled(), grad_out.requires_grad))
            return grad_out * ctx.scale, None, None

    seen = []
    x = torch.tensor([[-1.0, 2.0], [0.5, -3.0]], requires_grad=True)
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    out, index = ScaleAndIndex.apply(MyReLU.apply(x) @ w, 3.0, 0)
    out.sum().backward()
    return [out, index, index.requires_grad, x.grad, w.grad, seen]


def test_relu_contract_port(torch):
    assert_same(script_relu_contract(glassgrad), script_relu_contract(torch))


def script_once_differentiable(torch):
    from importlib import import_module

    once_differentiable = import_module(torch.__name__ + ".autograd.function").once_differentiable

    class Exp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, i):
            result = i.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        @once_differentiable
        def backward(ctx, grad_output):
            (result,) = ctx.saved_tensors
            return grad_output * result

    x = torch.tensor([0.0, 1.0], requires_grad=True)
    Exp.apply(x).sum().backward()
    return x.grad


def test_once_differentiable_port(torch):
    assert_same(script_once_differentiable(glassgrad), script_once_differentiable(torch))
