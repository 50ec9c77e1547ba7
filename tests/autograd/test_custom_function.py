"""A user's own autograd.Function gets PyTorch's contract: Tensors in forward and backward,
ctx.save_for_backward / saved_tensors / needs_input_grad / mark_non_differentiable. Each test body
is written once, the way a PyTorch script writes it, and run on both libraries."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import GraphError


def _relu_tutorial(lib):
    """The official tutorial's MyReLU, unchanged."""

    class MyReLU(lib.autograd.Function):
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

    x = lib.tensor([[-1.0, 2.0], [3.0, -4.0]], requires_grad=True)
    y = MyReLU.apply(x * 2.0)
    (y * lib.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    return y.detach().numpy(), x.grad.numpy(), type(y.grad_fn).__name__ if lib is not gg else None


def _legendre(lib):
    class LegendrePolynomial3(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input**3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input**2 - 1)

    a = lib.tensor(0.3, requires_grad=True)
    x = lib.linspace(-1.0, 1.0, 20)
    y = LegendrePolynomial3.apply(a * x)
    (y**2).sum().backward()
    return y.detach().numpy(), a.grad.numpy()


def _two_outputs_and_constants(lib):
    class ScaleSplit(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale, w):
            ctx.scale = scale
            ctx.save_for_backward(x, w)
            idx = x.argmax()
            ctx.mark_non_differentiable(idx)
            return x * scale * w, x + w, idx

        @staticmethod
        def backward(ctx, g1, g2, g_idx):
            x, w = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False, True)
            return g1 * ctx.scale * w + g2, None, g1 * ctx.scale * x + g2

    x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    w = lib.tensor([0.5, 0.25, -1.0], requires_grad=True)
    a, b, idx = ScaleSplit.apply(x, 3.0, w)
    assert not idx.requires_grad
    (a.sum() + (b * b).sum()).backward()
    return a.detach().numpy(), b.detach().numpy(), int(idx), x.grad.numpy(), w.grad.numpy()


def _one_output_unused(lib):
    class Pair(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 3  # g2 arrives as zeros (materialised), as PyTorch

    x = lib.tensor([1.0, 2.0], requires_grad=True)
    p, _ = Pair.apply(x)
    p.sum().backward()
    return x.grad.numpy()


@pytest.mark.parametrize("body", [_relu_tutorial, _legendre, _two_outputs_and_constants, _one_output_unused])
def test_user_function_matches_torch(torch, body):
    ours, theirs = body(gg), body(torch)
    for o, t in zip(ours, theirs):
        if isinstance(o, np.ndarray):
            np.testing.assert_allclose(o, t, rtol=1e-6)
        elif o is not None:
            assert o == t


def test_user_function_runs_without_torch():
    y, grad, _ = _relu_tutorial(gg)
    np.testing.assert_array_equal(y, [[0.0, 4.0], [6.0, 0.0]])
    np.testing.assert_array_equal(grad, [[0.0, 4.0], [6.0, 0.0]])


def test_grad_fn_is_named_after_the_class_and_forward_runs_without_grad():
    seen = []

    class Double(gg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(gg.is_grad_enabled())
            y = x * 2
            assert not y.requires_grad  # forward runs with grad mode off, as PyTorch
            return y

        @staticmethod
        def backward(ctx, g):
            seen.append(gg.is_grad_enabled())
            return g * 2

    x = gg.tensor([1.0], requires_grad=True)
    y = Double.apply(x)
    assert repr(y) == "tensor([2.], grad_fn=<DoubleBackward>)"  # PyTorch's node name
    y.backward()
    assert seen == [False, False] and x.grad.tolist() == [2.0]
    with gg.no_grad():
        assert not Double.apply(x).requires_grad


def test_outputs_of_a_multi_output_function_are_named_after_the_class(torch):
    """NYU-DLSP20 extra/b-custom_grads prints a split Function's outputs: PyTorch shows
    grad_fn=<MySplitBackward> on each (not an internal node's name)."""

    def run(lib):
        class MySplit(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x.clone(), x.clone()

            @staticmethod
            def backward(ctx, g1, g2):
                return g1 + g2

        x = lib.tensor([1.0, -2.0], requires_grad=True)
        x1, x2 = MySplit.apply(x)
        (1 * x1 + 2 * x2).mean().backward()
        return [x1.grad_fn.name(), x2.grad_fn.name()], x.grad.tolist()

    (n1, n2), grad = run(gg)
    (t1, t2), tgrad = run(torch)
    assert n1 == n2 == t1 == t2 == "MySplitBackward"
    assert grad == tgrad == [1.5, 1.5]


def test_saved_tensor_changed_in_place_is_caught_and_bad_gradients_are_named():
    class Square(gg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = Square.apply(x)
    with gg.no_grad():
        x.mul_(3.0)
    with pytest.raises(GraphError, match="Square: a tensor saved for backward was modified in place"):
        y.sum().backward()

    class Wrong(gg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, g):
            return gg.ones(5)

    with pytest.raises(
        ValueError, match=r"WrongBackward returned an invalid gradient at index 0 - got \[5\] "
    ):
        Wrong.apply(gg.tensor([1.0, 2.0], requires_grad=True)).backward()
    with pytest.raises(TypeError, match="save_for_backward: expected Tensors"):

        class Bad(gg.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(3)
                return x

        Bad.apply(gg.tensor([1.0], requires_grad=True))


def test_variable_returns_a_tensor():
    from glassgrad.autograd import Variable

    v = Variable(gg.tensor([1.0, 2.0]), requires_grad=True)
    assert isinstance(v, gg.Tensor) and v.requires_grad
