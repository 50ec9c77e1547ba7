"""Round 51, group gan2: StarGAN, pix2pixHD, SPADE, CUT and Real-ESRGAN's networks, run with only
their imports changed.

Their outputs, losses, gradients (StarGAN's gradient penalty included) and Adam steps matched
PyTorch's. One defect was met, in CUT's WGAN-GP penalty through its StyleGAN2 discriminator
(``cal_gradient_penalty``): PyTorch's backward of a piecewise-linear op (``leaky_relu``, ``relu``,
``abs``, the max pools, ...) reads its input, so under ``create_graph=True`` the gradient it gives
hangs from that input (with a zero derivative). glassgrad linked it only when the incoming gradient
was a constant; when that gradient had a graph of its own (a conv or linear layer after the
activation: every discriminator), the link was left out, and a second backward gave the parameters
before the activation (the fused leaky ReLU's bias) ``None`` where PyTorch gives zeros: Adam still
steps a parameter whose gradient is zeros (its moments decay), never one whose gradient is None,
and ``autograd.grad`` refused such a parameter as unused.
"""

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(51)
X = RNG.standard_normal((2, 3, 4, 4))
X[np.abs(X) < 0.05] = 0.3  # no kinks at the sample points
B = RNG.standard_normal((1, 3, 1, 1)) * 0.1
W = RNG.standard_normal((2, 3, 3, 3))
W_LIN = RNG.standard_normal((5, 3 * 4 * 4))


def _F(lib):
    return lib.nn.functional


# PyTorch's backward of each reads its input or output (``leaky_relu_backward(grad, self)``,
# ``threshold_backward(grad, result)``, ``max_pool2d_with_indices_backward(grad, self, ...)``)
LINKED = {
    "leaky_relu": lambda L, z: _F(L).leaky_relu(z, 0.2) * 2**0.5,  # StyleGAN2's fused_leaky_relu
    "relu": lambda L, z: _F(L).relu(z),
    "relu_inplace": lambda L, z: (z * 1.0).relu_(),
    "hardtanh": lambda L, z: _F(L).hardtanh(z),
    "relu6": lambda L, z: _F(L).relu6(z * 4),
    "prelu": lambda L, z: _F(L).prelu(z, L.tensor([0.25], dtype=z.dtype)),
    "rrelu_eval": lambda L, z: _F(L).rrelu(z, training=False),
    "threshold": lambda L, z: _F(L).threshold(z, 0.1, 2.0),
    "hardshrink": lambda L, z: _F(L).hardshrink(z, 0.1),
    "softshrink": lambda L, z: _F(L).softshrink(z, 0.1),
    "abs": lambda L, z: z.abs(),
    "max_pool2d": lambda L, z: _F(L).max_pool2d(z, 2),
    "adaptive_max_pool2d": lambda L, z: _F(L).adaptive_max_pool2d(z, 2),
}

# the layer after the activation, whose weight gives the incoming gradient a graph of its own
AFTER = {
    "conv2d": lambda L, y, w, wl: _F(L).conv2d(y, w, padding=1),
    "linear": lambda L, y, w, wl: _F(L).linear(y.flatten(1), wl[:, : y[0].numel()]),
}


def _penalty(lib, act, after, backward):
    """A WGAN-GP penalty (CUT's ``cal_gradient_penalty``) through act(x + b) and a weighted layer."""
    x = lib.tensor(X, requires_grad=True)
    b = lib.nn.Parameter(lib.tensor(B))
    w = lib.nn.Parameter(lib.tensor(W))
    wl = lib.nn.Parameter(lib.tensor(W_LIN))
    out = AFTER[after](lib, LINKED[act](lib, x + b), w, wl)
    (g,) = lib.autograd.grad(out, x, grad_outputs=lib.ones(out.size()), create_graph=True)
    gp = ((g.view(2, -1).norm(2, dim=1) - 1) ** 2).mean() * 10.0
    params = [b, w] if after == "conv2d" else [b, wl]
    if backward:
        gp.backward()
        return [None if p.grad is None else p.grad.numpy() for p in params]
    return [p.numpy() for p in lib.autograd.grad(gp, params)]


@pytest.mark.parametrize("after", sorted(AFTER))
@pytest.mark.parametrize("act", sorted(LINKED))
def test_gradient_penalty_gives_the_bias_before_the_activation_zeros_as_torch(torch, act, after):
    got = _penalty(gg, act, after, backward=True)
    want = _penalty(torch, act, after, backward=True)
    assert want[0] is not None and got[0] is not None  # zeros, not None
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[0], np.zeros_like(B))
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("act", ["leaky_relu", "relu", "max_pool2d"])
def test_autograd_grad_takes_the_bias_before_the_activation_as_torch(torch, act):
    # before: "grad: an input ... was not used to compute the outputs"
    got = _penalty(gg, act, "conv2d", backward=False)
    want = _penalty(torch, act, "conv2d", backward=False)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12, atol=1e-13)


def _stylegan2_d(lib, x, w1, b1, w2, b2, wl, bl, wo):
    """A tiny StyleGAN2 discriminator: conv, fused leaky ReLU (bias), strided conv, fused leaky ReLU,
    then its ``final_linear``: a linear with a fused leaky ReLU, and a plain linear last (so that
    no activation sees a constant incoming gradient)."""
    F = _F(lib)
    h = F.leaky_relu(F.conv2d(x, w1, padding=1) + b1, 0.2) * 2**0.5
    h = F.leaky_relu(F.conv2d(h, w2, stride=2) + b2, 0.2) * 2**0.5
    h = F.leaky_relu(F.linear(h.flatten(1), wl) + bl, 0.2) * 2**0.5
    return F.linear(h, wo)


def _d_args(lib, rng):
    shapes = [(2, 3, 6, 6), (4, 3, 3, 3), (1, 4, 1, 1), (4, 4, 2, 2), (1, 4, 1, 1), (4, 36), (4,), (1, 4)]
    return [lib.tensor(rng.standard_normal(s) * 0.5, requires_grad=True) for s in shapes]


def _gp(lib, x, *params):
    out = _stylegan2_d(lib, x, *params)
    (g,) = lib.autograd.grad(out, x, grad_outputs=lib.ones(out.size()), create_graph=True)
    return ((g.reshape(g.shape[0], -1) + 1e-16).norm(2, dim=1) - 1.0) ** 2


def test_stylegan2_discriminator_penalty_matches_torch_in_every_parameter(torch):
    args_g = _d_args(gg, np.random.default_rng(7))
    args_t = _d_args(torch, np.random.default_rng(7))
    _gp(gg, *args_g).mean().backward()
    _gp(torch, *args_t).mean().backward()
    for a, t in zip(args_g, args_t):
        assert a.grad is not None and t.grad is not None
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_stylegan2_discriminator_penalty_gradcheck():
    args = _d_args(gg, np.random.default_rng(8))

    def penalty(*a):
        with gg.enable_grad():  # gradcheck's finite differences run under no_grad
            return _gp(gg, *a)

    assert gradcheck(penalty, tuple(args))


def test_stylegan2_discriminator_gradgradcheck():
    args = _d_args(gg, np.random.default_rng(9))
    assert gradgradcheck(lambda *a: _stylegan2_d(gg, *a), tuple(args))
