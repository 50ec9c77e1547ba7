"""Round 49's trust sweep: values and gradients at special points (NaN, +-inf, +-0, kinks, size-1
dims) against PyTorch, at the points where glassgrad differed and was fixed.

Where PyTorch's CPU kernels give another value at NaN or -0.0 in their scalar loop (the tail of a
tensor too short for a whole vector) than in their vectorised loop, the vectorised one is followed
(as ``test_small_fixes.py`` does for hardtanh/elu): the tensors here hold 64 elements or a multiple
of 64, all inside PyTorch's vectorised loop for float32 and float64.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck
from glassgrad.errors import GraphError

nan, inf = math.nan, math.inf


def _F(lib):
    return lib.nn.functional


def _np(t):
    """A gradient's values (PyTorch's zero tensors, which its ``numpy`` refuses, as zeros)."""
    if getattr(t, "_is_zerotensor", lambda: False)():
        return np.zeros(tuple(t.shape))
    return t.detach().numpy()


def _run(lib, fn, arrays, order2=False, seed=0, recorded=False):
    """fn's outputs, the gradients of its float outputs (random upstream gradients) with respect to
    every float input and, with ``order2``, the gradients of (grads * v).sum() (second order).
    ``recorded``: the first-order gradients with ``create_graph=True`` (glassgrad's recorded rules)."""
    xs = [lib.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = fn(lib, *xs)
    outs = list(out) if isinstance(out, tuple) else [out]
    rng = np.random.default_rng(seed)
    ups = [lib.tensor(rng.uniform(0.5, 1.5, tuple(o.shape))) for o in outs]
    leaves = [x for x in xs if x.requires_grad]
    grads = lib.autograd.grad(outs, leaves, ups, create_graph=order2 or recorded, allow_unused=True)
    result = [o.detach().numpy() for o in outs] + [_np(g) for g in grads]
    if order2:
        s = sum((g * lib.tensor(rng.uniform(0.5, 1.5, tuple(g.shape)))).sum() for g in grads)
        second = lib.autograd.grad([s], leaves, allow_unused=True)
        result += [np.zeros(x.shape) if g is None else _np(g) for x, g in zip(leaves, second)]
    return result


def _parity(torch, fn, arrays, order2=False):
    """Values and gradients as PyTorch's; the first-order gradients also with create_graph=True."""
    arrays = [np.asarray(a) for a in arrays]
    if not order2:
        _parity_of(_run(gg, fn, arrays, recorded=True), _run(torch, fn, arrays))
    _parity_of(_run(gg, fn, arrays, order2), _run(torch, fn, arrays, order2))


def _parity_of(ours, theirs):
    assert len(ours) == len(theirs)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300, err_msg=f"result {k}")
        # the sign of a zero and of an infinity too
        assert np.array_equal(np.signbit(a), np.signbit(b)) or np.isnan(a).any(), f"signs of result {k}"


def _body(values):
    """``values`` repeated to a multiple of 64 elements (PyTorch's vectorised loop throughout)."""
    v = np.asarray(values, dtype=np.float64)
    return np.tile(v, 64 // math.gcd(64, v.size))


# ------------------------------------------------------------------ norms at NaN
@pytest.mark.parametrize("ord_", [1, inf, -inf])
@pytest.mark.parametrize("which", ["vector_norm", "norm", "vector_norm all"])
def test_norm_gradient_at_nan_is_zero_as_pytorchs_sgn(torch, ord_, which):
    # before: NaN for the whole slice (ord=+-inf) or at the NaN (ord=1); PyTorch's sgn(NaN) is 0
    # and its inf-norm mask counts the NaNs as the extremes, so a slice holding a NaN gets 0
    x = np.array([[1.0, nan, -3.0, 0.0], [nan, nan, nan, nan], [2.0, -2.0, 1.0, 0.5], [nan, -inf, 1.0, 0.0]])
    fns = {
        "vector_norm": lambda L, t: L.linalg.vector_norm(t, ord_, dim=1),
        "norm": lambda L, t: L.norm(t, ord_, dim=1),
        "vector_norm all": lambda L, t: L.linalg.vector_norm(t[2:3], ord_) + L.linalg.vector_norm(t, ord_),
    }
    _parity(torch, fns[which], [x])
    _parity(torch, fns[which], [x], order2=True)


def test_norm_gradient_without_nan_unchanged_and_gradchecks():
    rng = np.random.default_rng(1)
    for o in (1, 3, inf, -inf, 0.5):
        x = gg.tensor(rng.uniform(0.3, 2.0, (3, 4)) * rng.choice([-1, 1], (3, 4)), requires_grad=True)
        assert gradcheck(lambda t, o=o: gg.linalg.vector_norm(t, o, dim=1), (x,))


# ------------------------------------------------------------------ cumprod over a size-1 dim
def test_cumprod_over_one_element_passes_the_gradient(torch):
    # before: NaN at a NaN or infinite element (z / x); z = x there, so its gradient is g
    x = np.array([[5.0], [0.0], [nan], [inf], [-inf]])
    _parity(torch, lambda L, t: t.cumprod(1), [x])
    _parity(torch, lambda L, t: t.cumprod(1) * t, [x], order2=True)


# ------------------------------------------------------------------ piecewise activations at NaN
@pytest.mark.parametrize(
    "name",
    [
        "hardswish",
        "hardshrink",
        "softshrink",
        "softshrink0",
        "hardtanh",
        "relu6",
        "elu",
        "celu",
        "selu",
        "relu",
    ],
)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_piecewise_activation_values_and_gradients_at_special_points(torch, name, dtype):
    # before: hardswish passed g at NaN (PyTorch's vectorised kernel: NaN), hardshrink and
    # softshrink passed g (PyTorch: 0); values unchanged
    pts = [nan, 0.0, -0.0, 0.5, -0.5, 3.0, -3.0, 2.0, inf, -inf, 0.25, 1e-8, 7.0, -1.0, 1.0, 0.4]
    fns = {
        "hardswish": lambda F, t: F.hardswish(t),
        "hardshrink": lambda F, t: F.hardshrink(t, 0.5),
        "softshrink": lambda F, t: F.softshrink(t, 0.5),
        "softshrink0": lambda F, t: F.softshrink(t, 0.0),
        "hardtanh": lambda F, t: F.hardtanh(t, -0.5, 2.0),
        "relu6": lambda F, t: F.relu6(t),
        "elu": lambda F, t: F.elu(t, 1.5),
        "celu": lambda F, t: F.celu(t, 0.5),
        "selu": lambda F, t: F.selu(t),
        "relu": lambda F, t: F.relu(t),
    }
    x = _body(pts).astype(dtype)
    rtol = 1e-12 if dtype == "float64" else 1e-6
    out = []
    for lib in (gg, torch):
        t = lib.tensor(x, requires_grad=True)
        y = fns[name](_F(lib), t)
        (g,) = lib.autograd.grad(y, t, lib.ones_like(y) * 0.75)
        out.append((y.detach().numpy(), g.numpy()))
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=0)


@pytest.mark.parametrize("name", ["hardswish", "hardshrink", "softshrink"])
def test_piecewise_activation_second_order_at_nan(torch, name):
    fn = {
        "hardswish": lambda L, t: _F(L).hardswish(t),
        "hardshrink": lambda L, t: _F(L).hardshrink(t) * t,
        "softshrink": lambda L, t: _F(L).softshrink(t) * t,
    }[name]
    _parity(torch, fn, [_body([nan, 0.0, 1.0, -1.0, 2.5, -2.5, 4.0, 0.5])], order2=True)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_celu_second_derivative_at_zero_is_zero_as_pytorch(torch, alpha):
    # before: 1 / alpha (the left branch's); PyTorch's elu double backward masks x < 0 only, as
    # glassgrad's elu already did
    x = np.array([0.0, -0.0, -1.0, 1.0, -0.5])
    _parity(torch, lambda L, t: _F(L).celu(t, alpha), [x], order2=True)


def test_shrinks_and_celu_gradcheck_away_from_the_kinks():
    rng = np.random.default_rng(2)
    x = gg.tensor(rng.uniform(0.7, 2.0, (3, 4)) * rng.choice([-1, 1], (3, 4)), requires_grad=True)
    assert gradcheck(lambda t: gg.nn.functional.hardshrink(t, 0.5), (x,))
    assert gradcheck(lambda t: gg.nn.functional.softshrink(t, 0.5), (x,))
    assert gradcheck(lambda t: gg.nn.functional.celu(t, 0.5), (x,))
    assert gradcheck(lambda t: gg.nn.functional.hardswish(t * 2), (x,))


# ------------------------------------------------------------------ logit at -0.0 and NaN
def test_logit_at_signed_zero_and_nan_also_with_create_graph(torch):
    x = _body([0.0, -0.0, 1.0, 0.5, nan, 0.25, 0.05, -0.5])
    _parity(torch, lambda L, t: L.logit(t), [x])
    _parity(torch, lambda L, t: L.logit(t, eps=0.1), [x])
    _parity(torch, lambda L, t: L.logit(t) * -1, [x])


# ------------------------------------------------------------------ powers
def test_pow_of_a_zero_base_to_a_nan_exponent_has_a_nan_gradient(torch):
    # before: 0 (the b >= 0 rule applied to NaN); PyTorch's z ln 0 is NaN there
    b = np.array([nan, -1.0, -0.5, 0.0, 2.0, 0.5])
    _parity(torch, lambda L, t: L.pow(0.0, t), [b])
    _parity(torch, lambda L, t: L.float_power(0.0, t), [b])
    (g,) = gg.autograd.grad(gg.pow(0.0, (t := gg.tensor(b, requires_grad=True))).sum(), t, create_graph=True)
    assert np.isnan(g._data[0]) and g._data[1] == -inf


@pytest.mark.parametrize("exponent", [0.5, -0.5, 2, 3, -1, -2, 1.5, 0])
def test_float_power_with_a_number_takes_pows_scalar_paths(torch, exponent):
    # before: float_power(-0.0, -0.5) was +inf and its gradient of x ** 0.5 at -0.0 +inf, at -inf 0
    # (NumPy's power); PyTorch's float_power is pow(x.double(), exponent): 1 / sqrt(-0.0) = -inf
    x = np.array([-0.0, 0.0, -inf, inf, 4.0, -2.0, nan, 0.25])
    _parity(torch, lambda L, t: L.float_power(t, exponent), [x])
    if exponent != 0:  # (x ** 0's gradient is a constant 0 here, without a graph)
        _parity(torch, lambda L, t: L.float_power(t, exponent), [x[4:6]], order2=True)
    y = gg.float_power(gg.tensor([2.0], dtype=gg.float32), exponent)
    assert y.dtype == gg.float64


def test_float_power_gradchecks_with_broadcasting():
    rng = np.random.default_rng(3)
    a = gg.tensor(rng.uniform(0.5, 2.0, (2, 3)), requires_grad=True)
    b = gg.tensor(rng.uniform(-1.5, 1.5, (3,)), requires_grad=True)
    assert gradcheck(lambda s, t: gg.float_power(s, t), (a, b))
    assert gradcheck(lambda s: gg.float_power(s, -0.5), (a,))
    assert gradcheck(lambda t: gg.float_power(2.0, t), (b,))


# ------------------------------------------------------------------ lerp and remainder
def test_lerp_weight_gradient_at_an_infinite_difference(torch):
    # before: NaN (the form not taken sent 0 * inf back); PyTorch's is g (end - input) = +-inf
    start = np.array([inf, -inf, 1.0, 0.0, 2.0, nan])
    end = np.array([2.0, 2.0, inf, 1.0, -inf, 1.0])
    w = np.array([1.0, -1.0, 0.25, 0.75, 0.5, 0.3])
    _parity(torch, lambda L, a, b, c: L.lerp(a, b, c), [start, end, w])
    _parity(
        torch,
        lambda L, a, b, c: L.lerp(a, b, c),
        [np.array([0.5, 2.0]), np.array([3.0, -1.0]), w[3:5]],
        order2=True,
    )


def test_lerp_gradchecks_with_broadcasting():
    rng = np.random.default_rng(4)
    a = gg.tensor(rng.normal(size=(2, 3)), requires_grad=True)
    b = gg.tensor(rng.normal(size=(3,)), requires_grad=True)
    w = gg.tensor(rng.uniform(-1, 2, (2, 1)), requires_grad=True)
    assert gradcheck(lambda s, e, t: gg.lerp(s, e, t), (a, b, w))


def test_remainder_gradient_at_an_infinite_divisor_uses_floor_divide(torch):
    # before: floor(1 / -inf) = -0, so 0; PyTorch's -g div(a, b, rounding_mode='floor') is -g * -1
    a = np.array([1.0, -1.0, 1.0, -1.0, inf, 0.0, 2.5, -2.5])
    b = np.array([-inf, inf, inf, -inf, 1.0, -inf, 1.0, -2.0])
    _parity(torch, lambda L, s, t: L.remainder(s, t), [a, b])
    _parity(torch, lambda L, s, t: L.fmod(s, t), [a, b])
    (_, gb) = gg.autograd.grad(
        gg.remainder(s := gg.tensor(a, requires_grad=True), t := gg.tensor(b, requires_grad=True)).sum(),
        (s, t),
        create_graph=True,
    )
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (_, ref) = torch.autograd.grad(torch.remainder(ta, tb).sum(), (ta, tb))
    np.testing.assert_array_equal(gb._data, ref.numpy())


def test_remainder_gradchecks_with_broadcasting():
    rng = np.random.default_rng(5)
    a = gg.tensor(rng.uniform(0.1, 0.9, (2, 3)) + rng.integers(-3, 3, (2, 3)), requires_grad=True)
    b = gg.tensor(np.array([1.7, -2.3, 3.1]), requires_grad=True)
    assert gradcheck(lambda s, t: gg.remainder(s, t), (a, b))
    assert gradcheck(lambda s, t: gg.fmod(s, t), (a, b))


# ------------------------------------------------------------------ elu family precision, softplus, i1
@pytest.mark.parametrize("name", ["elu", "celu", "selu"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_elu_family_gradient_at_large_negative_inputs_keeps_its_precision(torch, name, dtype):
    # before: g (alpha expm1(x) + alpha) cancelled: float32's gradient at x = -20 was 0 (PyTorch
    # 2e-9), float64's at -20 off by 5e-8 relative; now g alpha e^x, as PyTorch's kernel
    fn = {
        "elu": lambda F, t: F.elu(t, 1.5),
        "celu": lambda F, t: F.celu(t, 2.0),
        "selu": lambda F, t: F.selu(t),
    }[name]
    x = _body([-1.0, -3.0, -10.0, -15.0, -20.0, -30.0, -40.0, -80.0]).astype(dtype)
    out = []
    for lib in (gg, torch):
        t = lib.tensor(x, requires_grad=True)
        (g,) = lib.autograd.grad(fn(_F(lib), t).sum(), t)
        out.append(g.numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-12 if dtype == "float64" else 1e-6, atol=0)
    _parity(torch, lambda L, t: fn(_F(L), t), [x[:8].astype(np.float64)], order2=True)


def test_softplus_second_derivative_at_its_threshold_is_zero_as_pytorch(torch):
    # before: sigmoid'(20) = 2e-9 (the first derivative's branch); PyTorch masks beta x < threshold
    x = np.array([20.0, 19.5, 20.5, 0.0, -3.0, 1.5])
    _parity(torch, lambda L, t: _F(L).softplus(t), [x], order2=True)
    _parity(torch, lambda L, t: _F(L).softplus(t, beta=2.0, threshold=3.0), [x], order2=True)


@pytest.mark.parametrize("name", ["i1", "i1e"])
def test_i1_second_derivative_at_tiny_inputs_is_zero_as_pytorch(torch, name):
    # before: +-inf at +-1e-300 (i1(a) / a differentiated); PyTorch's |a| <= eps takes 1/2
    x = np.array([1e-300, -1e-300, 0.0, 1e-17, 0.5, -2.0, 3.0, -1e-20])
    _parity(torch, lambda L, t: getattr(L.special, name)(t), [x], order2=True)


def test_celu_in_place_saves_its_result_as_pytorchs_celu_(torch):
    # PyTorch's celu_ is elu_ with an input scale: g (y + alpha) / alpha from the result, and a
    # negative alpha's backward refused; glassgrad's was the out-of-place formula
    # (float64: the result's rounding, amplified by y + alpha's cancellation, stays below 1e-12)
    x = _body([-1.0, -3.0, 0.5, -0.25, 0.0, -0.0, 2.0, -0.75])
    out = []
    for lib in (gg, torch):
        t = lib.tensor(x, requires_grad=True)
        y = t * 1
        _F(lib).celu(y, 0.5, inplace=True)
        (g,) = lib.autograd.grad(y.sum(), t)
        out.append((y.detach().numpy(), g.numpy(), y.grad_fn.name()))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12, atol=0)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-12, atol=0)
    assert out[0][2] == out[1][2] == "CeluBackward1"
    y = gg.tensor([-1.0, 2.0], requires_grad=True) * 1
    gg.nn.functional.celu(y, -0.5, inplace=True)
    with pytest.raises(GraphError, match="elu_: expected alpha >= 0"):
        y.sum().backward()


# ------------------------------------------------------------------ reciprocal
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_reciprocal_is_its_own_op_with_pytorchs_gradient_bits(torch, dtype):
    # before: 1 / x, a division: -g / x^2 differed from PyTorch's -g (z z) in the last bit on about
    # half the arguments, and the node was DivBackward0
    x = np.random.default_rng(6).standard_normal(256).astype(dtype) * 3
    out = []
    for lib in (gg, torch):
        t = lib.tensor(x, requires_grad=True)
        y = lib.reciprocal(t)
        (g,) = lib.autograd.grad(y, t, lib.ones_like(y) * 0.7)
        out.append((y.detach().numpy(), g.numpy(), y.grad_fn.name()))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])
    assert out[0][2] == out[1][2] == "ReciprocalBackward0"


def test_reciprocal_second_derivative_at_zero_and_infinity(torch):
    # before: NaN at +-0 and +-inf (the division's -g a / b^2 differentiated); PyTorch 2 g z^3
    x = np.array([0.0, -0.0, inf, -inf, 2.0, -0.5, nan, 1e-200])
    _parity(torch, lambda L, t: L.reciprocal(t), [x], order2=True)
    _parity(torch, lambda L, t: t.reciprocal(), [x])
    a = gg.tensor(np.random.default_rng(7).uniform(0.5, 2.0, (2, 3)), requires_grad=True)
    assert gradcheck(lambda t: gg.reciprocal(t) * gg.tensor([1.0, -2.0, 3.0]), (a,))
    assert gg.reciprocal(gg.tensor([2, 4])).tolist() == [0.5, 0.25]
