"""Round 35, image restoration (NAFNet's LayerNorm2d autograd Function reads ``ctx.saved_variables``)."""

import warnings

import numpy as np
import pytest

import glassgrad as gg


def _layernorm2d_function(lib):
    """NAFNet's channel LayerNorm over (N, C, H, W) as a user autograd Function (its backward reads
    the old ``saved_variables`` name)."""

    class LayerNormFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, weight, bias, eps):
            ctx.eps = eps
            c = x.size(1)
            mu = x.mean(1, keepdim=True)
            var = (x - mu).pow(2).mean(1, keepdim=True)
            y = (x - mu) / (var + eps).sqrt()
            ctx.save_for_backward(y, var, weight)
            return weight.view(1, c, 1, 1) * y + bias.view(1, c, 1, 1)

        @staticmethod
        def backward(ctx, grad_output):
            eps = ctx.eps
            c = grad_output.size(1)
            y, var, weight = ctx.saved_variables
            g = grad_output * weight.view(1, c, 1, 1)
            mean_g = g.mean(dim=1, keepdim=True)
            mean_gy = (g * y).mean(dim=1, keepdim=True)
            gx = 1.0 / (var + eps).sqrt() * (g - y * mean_gy - mean_g)
            return gx, (grad_output * y).sum(dim=(0, 2, 3)), grad_output.sum(dim=(0, 2, 3)), None

    return LayerNormFunction


def _run(lib, x, w, b, upstream):
    xt, wt, bt = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = _layernorm2d_function(lib).apply(xt, wt, bt, 1e-6)
        (out * lib.tensor(upstream)).sum().backward()
    kinds = [c.category for c in caught if "saved_variables" in str(c.message)]
    return [t.detach().numpy() for t in (out, xt.grad, wt.grad, bt.grad)], kinds


def test_saved_variables_matches_pytorch(torch):
    rng = np.random.default_rng(0)
    x, up = rng.standard_normal((2, 4, 3, 5)), rng.standard_normal((2, 4, 3, 5))
    w, b = rng.standard_normal(4), rng.standard_normal(4)
    ours, our_kinds = _run(gg, x, w, b, up)
    ref, ref_kinds = _run(torch, x, w, b, up)
    for a, r in zip(ours, ref):
        np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12)
    assert our_kinds == ref_kinds == [DeprecationWarning]


def test_saved_variables_is_saved_tensors():
    class Square(gg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            with pytest.warns(DeprecationWarning, match="saved_variables"):
                (x,) = ctx.saved_variables
            return 2 * x * g

    x = gg.tensor([1.5, -2.0], dtype=gg.float64, requires_grad=True)
    Square.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, -4.0])
