"""PyTorch 2's second style of custom ``Function``: ``forward(*args)`` without ``ctx``, then
``setup_context(ctx, inputs, output)`` (the style ``torch.func`` asks for). Same gradients and
the same context behaviour as PyTorch."""

import numpy as np
import pytest

import glassgrad as gg


def _scaled_exp(lib):
    class ScaledExp(lib.autograd.Function):
        @staticmethod
        def forward(x, scale=1.0):
            return (x * scale).exp(), x * 2

        @staticmethod
        def setup_context(ctx, inputs, output):
            _, scale = inputs
            ctx.scale = scale
            ctx.save_for_backward(output[0])
            ctx.mark_non_differentiable(output[1])

        @staticmethod
        def backward(ctx, g, g2):
            (y,) = ctx.saved_tensors
            return g * y * ctx.scale, None

    return ScaledExp


@pytest.mark.parametrize("call", [lambda f, x: f.apply(x, 2.0), lambda f, x: f.apply(x, scale=2.0)])
def test_setup_context_style_matches_pytorch(torch, call):
    got = {}
    for lib in (gg, torch):
        x = lib.tensor([0.5, -1.0, 0.0], dtype=lib.float64, requires_grad=True)
        y, doubled = call(_scaled_exp(lib), x)
        (y * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
        got[lib] = (y.detach().numpy(), doubled.requires_grad, x.grad.numpy(), type(y.grad_fn).__name__)
    ours, theirs = got[gg], got[torch]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-12)
    assert ours[1] is theirs[1] is False
    assert ours[3] == theirs[3] == "ScaledExpBackward"


def test_setup_context_style_passes_a_gradient_check():
    x = gg.tensor(np.random.default_rng(0).standard_normal(4), dtype=gg.float64, requires_grad=True)
    f = _scaled_exp(gg)
    assert gg.autograd.gradcheck(lambda t: f.apply(t, 0.5)[0], (x,))


def test_setup_context_style_without_grad_records_nothing(torch):
    for lib in (gg, torch):
        x = lib.ones(2, requires_grad=True)
        with lib.no_grad():
            y, _ = _scaled_exp(lib).apply(x)
        assert not y.requires_grad and y.grad_fn is None


def test_a_tensor_passed_by_keyword_gets_its_gradient(torch):
    grads = []
    for lib in (gg, torch):

        class Mul(lib.autograd.Function):
            @staticmethod
            def forward(a, b):
                return a * b

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.save_for_backward(*inputs)

            @staticmethod
            def backward(ctx, g):
                a, b = ctx.saved_tensors
                return g * b, g * a

        a = lib.tensor([2.0, 3.0], requires_grad=True)
        b = lib.tensor([5.0, 7.0], requires_grad=True)
        Mul.apply(a, b=b).sum().backward()
        grads.append((a.grad.tolist(), b.grad.tolist()))
    assert grads[0] == grads[1] == ([5.0, 7.0], [2.0, 3.0])


def test_a_function_class_made_in_a_loop_is_freed():
    import gc
    import weakref

    def make():
        class Tmp(gg.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2

        Tmp.apply(gg.ones(1, requires_grad=True)).backward()
        return weakref.ref(Tmp)

    ref = make()
    gc.collect()
    assert ref() is None
