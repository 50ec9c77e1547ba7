"""Forward-over-reverse (round 66): inside ``forward_ad.dual_level()``, the gradients of
``autograd.grad(..., create_graph=True)`` carry tangents, as PyTorch's do.

Before, the recorded rules read the forward's saved arrays as new Tensors without tangents, so the
gradients' tangents silently lost every term through the forward values (``d(g b) = g t_b``), or
were None. Checked against PyTorch and, independently, against central differences of the gradient.
"""

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.autograd.forward_ad as gfa
import glassgrad.nn.functional as GF

RNG = np.random.default_rng(66)


def _case(name):
    """(function of (lib, F, *inputs), input arrays) for op ``name``."""
    r = RNG.standard_normal
    cases = {
        "mul": (lambda lib, F, a, b: a * b * a, [r((3, 4)), r((4,))]),
        "matmul": (lambda lib, F, a, b: lib.matmul(a, b).tanh(), [r((3, 4)), r((4, 2))]),
        "softmax": (lambda lib, F, a: lib.softmax(a * a, dim=-1), [r((2, 5))]),
        "exp_div": (lambda lib, F, a, b: a.exp() / (b * b + 1), [r((3,)), r((3,))]),
        "conv2d": (
            lambda lib, F, x, w: F.conv2d(x, w, padding=1).sigmoid(),
            [r((1, 2, 4, 4)), r((3, 2, 3, 3))],
        ),
        "layer_norm": (lambda lib, F, x, w: F.layer_norm(x, (4,), w), [r((3, 4)), r((4,))]),
        "batch_norm": (
            lambda lib, F, x, w: F.batch_norm(x, None, None, w, training=True),
            [r((5, 3)), r((3,))],
        ),
        "cross_entropy": (lambda lib, F, x: F.cross_entropy(x * x, lib.tensor([0, 2, 1])), [r((3, 4))]),
        "sum_pow": (lambda lib, F, a: (a**3).sum(0), [r((3, 2))]),
    }
    return cases[name]


def _fwd_over_rev(lib, fad, f, arrays, tangents, v):
    """Tangents of the gradients of <f(x), v> w.r.t. the inputs, by forward-over-reverse."""

    def wrap(a):
        return lib.from_numpy(a.copy())

    F = GF if lib is gg else lib.nn.functional
    with fad.dual_level():
        ins = [fad.make_dual(wrap(a).requires_grad_(), wrap(t)) for a, t in zip(arrays, tangents)]
        out = f(lib, F, *ins)
        grads = lib.autograd.grad(out, ins, wrap(v), create_graph=True)
        return [fad.unpack_dual(gr).tangent for gr in grads]


def _grads_np(f, arrays, v):
    """First-order gradients of <f(x), v> as arrays (glassgrad, no level), for differences."""
    xs = [gg.from_numpy(a.copy()).requires_grad_() for a in arrays]
    return [gr.numpy() for gr in gg.autograd.grad(f(gg, GF, *xs), xs, gg.from_numpy(v.copy()))]


@pytest.mark.parametrize(
    "name",
    ["mul", "matmul", "softmax", "exp_div", "conv2d", "layer_norm", "batch_norm", "cross_entropy", "sum_pow"],
)
def test_gradient_tangents_match_pytorch(torch, name):
    import torch.autograd.forward_ad as tfa

    f, arrays = _case(name)
    tangents = [RNG.standard_normal(a.shape) for a in arrays]
    out_shape = tuple(f(torch, torch.nn.functional, *[torch.from_numpy(a) for a in arrays]).shape)
    v = RNG.standard_normal(out_shape)
    expected = _fwd_over_rev(torch, tfa, f, arrays, tangents, v)
    got = _fwd_over_rev(gg, gfa, f, arrays, tangents, v)
    for e, g in zip(expected, got):
        assert g is not None, f"{name}: a gradient without a tangent"
        np.testing.assert_allclose(g.detach().numpy(), e.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["mul", "softmax", "conv2d", "layer_norm"])
def test_gradient_tangents_match_central_differences(name):
    """J_grad t by central differences of the first-order gradient (no PyTorch involved)."""
    f, arrays = _case(name)
    tangents = [RNG.standard_normal(a.shape) for a in arrays]
    v = RNG.standard_normal(tuple(f(gg, GF, *[gg.from_numpy(a) for a in arrays]).shape))
    got = _fwd_over_rev(gg, gfa, f, arrays, tangents, v)
    eps = 1e-6
    plus = _grads_np(f, [a + eps * t for a, t in zip(arrays, tangents)], v)
    minus = _grads_np(f, [a - eps * t for a, t in zip(arrays, tangents)], v)
    for g, p, m in zip(got, plus, minus):
        np.testing.assert_allclose(g.detach().numpy(), (p - m) / (2 * eps), rtol=1e-6, atol=1e-7)


def test_non_leaf_inputs_and_constant_operands(torch):
    """A dual input that does not require grad still feeds its tangent into the gradients of the
    others (``operand`` of an input with no grad path); a non-leaf intermediate does too."""
    import torch.autograd.forward_ad as tfa

    a, b = RNG.standard_normal((4,)), RNG.standard_normal((4,))
    ta, tb = RNG.standard_normal((4,)), RNG.standard_normal((4,))
    res = []
    for lib, fad in ((torch, tfa), (gg, gfa)):
        with fad.dual_level():
            x = fad.make_dual(lib.from_numpy(a.copy()).requires_grad_(), lib.from_numpy(ta.copy()))
            y = fad.make_dual(lib.from_numpy(b.copy()), lib.from_numpy(tb.copy()))  # no grad wanted
            h = (x * y).sin()  # a non-leaf whose node saved a dual operand
            (gx,) = lib.autograd.grad((h * y).sum(), x, create_graph=True)
            res.append(fad.unpack_dual(gx).tangent.detach().numpy())
    np.testing.assert_allclose(res[1], res[0], rtol=1e-10, atol=1e-12)


def test_outside_a_level_nothing_is_noted():
    from glassgrad.autograd import forward_over_reverse

    with gfa.dual_level():
        x = gfa.make_dual(gg.ones(3, dtype=gg.float64).requires_grad_(), gg.ones(3, dtype=gg.float64))
        (x * x).sum()
    assert not forward_over_reverse._noted  # the level's exit forgot its nodes
    y = gg.ones(3, dtype=gg.float64, requires_grad=True)
    gg.autograd.grad((y * y).sum(), y, create_graph=True)
    assert not forward_over_reverse._noted
