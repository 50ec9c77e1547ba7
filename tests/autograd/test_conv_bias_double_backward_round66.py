"""Round 66 (PyTorch's test_convolution): under ``create_graph=True`` a convolution's bias gradient
hangs only from what PyTorch's ConvolutionBackwardBackward0 takes (the incoming gradient, the input
and the weight). With only the bias requiring grad it is a constant, as in PyTorch, not a tensor
that requires grad through a node that gives nothing back."""

import numpy as np
import pytest

import glassgrad

F = glassgrad.nn.functional

_CASES = {
    "conv1d": ((2, 3, 7), (4, 3, 3), (4,), {}),
    "conv2d": ((2, 3, 6, 5), (4, 3, 3, 2), (4,), {"padding": 1}),
    "conv3d": ((1, 2, 4, 5, 4), (3, 2, 2, 3, 2), (3,), {"stride": 2}),
    "conv_transpose1d": ((2, 3, 5), (3, 4, 3), (4,), {"stride": 2}),
    "conv_transpose2d": ((2, 3, 4, 5), (3, 2, 3, 3), (2,), {"output_padding": 1, "stride": 2}),
    "conv_transpose3d": ((1, 2, 3, 4, 3), (2, 3, 2, 2, 2), (3,), {}),
}


def _arrays(name, seed=0):
    rng = np.random.default_rng(seed)
    xs, ws, bs, kw = _CASES[name]
    return rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(bs), kw


def _bias_grad(lib, name, x, w, b, kw, needs):
    """The bias gradient under create_graph, with ``needs`` naming the operands that require grad."""
    t = {
        k: lib.tensor(v, dtype=lib.float64, requires_grad=k in needs)
        for k, v in (("x", x), ("w", w), ("b", b))
    }
    out = getattr(lib.nn.functional, name)(t["x"], t["w"], t["b"], **kw)
    cot = lib.tensor(np.linspace(-1.0, 1.0, out.numel()).reshape(tuple(out.shape)), dtype=lib.float64)
    wrt = [t[k] for k in ("x", "w", "b") if k in needs]
    grads = lib.autograd.grad(out, wrt, cot, create_graph=True)
    return grads[-1], wrt


@pytest.mark.parametrize("name", sorted(_CASES))
def test_bias_only_gradient_is_a_constant(name, torch):
    x, w, b, kw = _arrays(name)
    gb, _ = _bias_grad(glassgrad, name, x, w, b, kw, ("b",))
    tb, _ = _bias_grad(torch, name, x, w, b, kw, ("b",))
    assert gb.requires_grad == tb.requires_grad
    assert gb.requires_grad is False
    np.testing.assert_allclose(gb.detach().numpy(), tb.detach().numpy(), rtol=1e-12, atol=1e-12)
    with pytest.raises(RuntimeError):  # as PyTorch: nothing to differentiate
        glassgrad.autograd.grad(gb.sum(), glassgrad.ones(1, requires_grad=True))


@pytest.mark.parametrize("name", sorted(_CASES))
@pytest.mark.parametrize("needs", [("x", "b"), ("w", "b")])
def test_bias_gradient_still_hangs_from_input_or_weight(name, needs, torch):
    """With the input or the weight requiring grad the bias gradient requires grad (PyTorch's
    ConvolutionBackwardBackward0), and a second gradient through it is None, as in PyTorch."""
    x, w, b, kw = _arrays(name, 1)
    gb, wrt = _bias_grad(glassgrad, name, x, w, b, kw, needs)
    tb, twrt = _bias_grad(torch, name, x, w, b, kw, needs)
    assert gb.requires_grad is tb.requires_grad is True
    assert type(gb.grad_fn).__name__ == type(tb.grad_fn).__name__
    ours = glassgrad.autograd.grad(gb.sum(), wrt, allow_unused=True)
    theirs = torch.autograd.grad(tb.sum(), twrt, allow_unused=True)
    assert [g is None for g in ours] == [g is None for g in theirs]
