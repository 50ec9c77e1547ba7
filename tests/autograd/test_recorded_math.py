"""Double backward (``create_graph=True``) of the math ops: ``autograd/recorded_rules_math*.py``.

Every rule is checked by ``gradgradcheck`` (float64, shapes with broadcasting and size-1 dims, each
attr variant); the first group also against PyTorch's second-order gradients, and every case's
create_graph first-order gradients against the plain backward's.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradgradcheck
from tests.autograd.second_order_helpers import gg_inputs, like_torch, second_order, v_w

_R = np.random.default_rng(1234)
_ZEROS = np.array([[0.0, 1.5, -0.7], [0.3, 0.0, 2.0]])  # exact zeros: the ops' special cases there


def _normal(*shape):
    return _R.standard_normal(shape)


def _pos(*shape):
    return _R.uniform(0.5, 2.0, shape)


def _unit(*shape):
    return _R.uniform(-0.8, 0.8, shape)


def _ties(*shape):
    return _R.integers(-2, 3, shape).astype(np.float64)


def _holes(m, a):
    """a with NaN in its middle column (selected: the NaN sends no gradient back to a)."""
    return m.where(m.tensor([True, False, True]), a, m.tensor(math.nan, dtype=m.float64))


# name -> (fn(lib, *xs), input arrays); fn is written once for glassgrad and torch (same names)
CASES = {
    "div": (lambda m, a, b: a / b, [_normal(2, 3), _pos(1, 3)]),
    "div_number_num": (lambda m, a: 2.5 / a, [_pos(3, 1)]),
    "div_number_den": (lambda m, a: a / 3.0, [_normal(2, 2)]),
    "neg": (lambda m, a: -a * a, [_normal(2, 3)]),
    "pow_tt": (lambda m, a, b: m.pow(a, b), [_pos(2, 3), _normal(1, 3)]),
    "pow_t2": (lambda m, a: m.pow(a, 2.0), [_normal(4)]),
    "pow_t3": (lambda m, a: m.pow(a, 3.0), [_normal(2, 2)]),
    "pow_thalf": (lambda m, a: m.pow(a, 0.5), [_pos(3)]),
    "pow_tneg": (lambda m, a: m.pow(a, -1.5), [_pos(2, 1)]),
    "pow_tm2": (lambda m, a: m.pow(a, -2.0), [_pos(3)]),
    "pow_t0": (lambda m, a: m.pow(a, 0.0) * a, [_normal(3)]),
    "pow_nt": (lambda m, b: m.pow(2.0, b), [_normal(2, 3)]),
    "pow_nt_small": (lambda m, b: m.pow(0.5, b), [_normal(3)]),
    "exp": (lambda m, a: m.exp(a), [_normal(2, 3)]),
    "expm1": (lambda m, a: m.expm1(a), [_normal(2, 3)]),
    "log": (lambda m, a: m.log(a), [_pos(2, 3)]),
    "log1p": (lambda m, a: m.log1p(a), [_pos(3, 1)]),
    "sqrt": (lambda m, a: m.sqrt(a), [_pos(2, 3)]),
    "rsqrt": (lambda m, a: m.rsqrt(a), [_pos(2, 3)]),
    "abs": (lambda m, a: m.abs(a) * a, [_normal(2, 3)]),
    "sin": (lambda m, a: m.sin(a), [_normal(2, 3)]),
    "cos": (lambda m, a: m.cos(a), [_normal(2, 3)]),
    "clone": (lambda m, a: m.clone(a) * a, [_normal(2, 3)]),
    "maximum": (lambda m, a, b: m.maximum(a, b) ** 2, [_normal(2, 3), _normal(1, 3)]),
    "minimum": (lambda m, a, b: m.minimum(a, b) ** 2, [_normal(2, 1), _normal(3)]),
    "where": (
        lambda m, a, b: m.where(m.tensor([True, False, True]), a * a, b * a),
        [_normal(2, 3), _normal(1, 3)],
    ),
    "clamp": (lambda m, a: m.clamp(a, -0.5, 0.7) ** 2, [_normal(3, 4)]),
    "clamp_lo": (lambda m, a: m.clamp(a, min=-0.3) ** 2, [_normal(3, 4)]),
    "clamp_hi": (lambda m, a: m.clamp(a, max=0.3) ** 2, [_normal(3, 4)]),
    "clamp_bounds": (
        lambda m, a, lo, hi: m.clamp(a, lo, hi) ** 2,
        [_normal(3, 4), _normal(1, 4) - 1, _normal(3, 1) + 1],
    ),
    "clamp_bounds_lo": (lambda m, a, lo: m.clamp(a, min=lo) ** 3, [_normal(3, 4), _normal(4)]),
    "clamp_bounds_hi": (lambda m, a, hi: m.clamp(a, max=hi) ** 3, [_normal(1, 4), _normal(3, 1)]),
    "prod_all": (lambda m, a: m.prod(a), [_normal(2, 3)]),
    "prod_dim": (lambda m, a: m.prod(a, 1), [_normal(3, 4)]),
    "prod_keep": (lambda m, a: m.prod(a, 0, keepdim=True), [_normal(3, 1, 2)]),
    "prod_zero": (lambda m, a: m.prod(a, 1), [_ZEROS]),
    "prod_zero_all": (lambda m, a: m.prod(a), [_ZEROS]),
    "prod_zero_keep": (lambda m, a: m.prod(a, 1, keepdim=True), [_ZEROS[:, :, None]]),
    "prod_two_zeros": (lambda m, a: m.prod(a, -1), [np.array([[0.0, 0.0, 1.3], [0.5, 0.0, 2.0]])]),
    "prod_node": (lambda m, a: m.prod(m.sin(a), 0), [_ZEROS]),
    "amax": (lambda m, a: m.amax(a, 1) ** 2, [_normal(3, 4)]),
    "amax_ties": (
        lambda m, a: m.amax(a * m.tensor([1.0, 1.0, 0.0]) + 1, (0, 1), keepdim=True) ** 2,
        [_ties(2, 3)],
    ),
    "amin": (lambda m, a: m.amin(a, (0, 2)) ** 2, [_normal(2, 3, 2)]),
    "amin_all": (lambda m, a: m.amin(a) ** 2, [_normal(3, 2)]),
    "max_dim": (lambda m, a: m.max(a, 1).values ** 2, [_normal(3, 4)]),
    "min_dim_keep": (lambda m, a: m.min(a, 0, keepdim=True).values ** 2, [_normal(3, 4)]),
    "max_all": (lambda m, a: m.max(a) ** 2, [_normal(3, 4)]),
    "logsumexp": (lambda m, a: m.logsumexp(a, 1), [_normal(3, 4)]),
    "logsumexp_keep": (lambda m, a: m.logsumexp(a, (0, 2), keepdim=True), [_normal(2, 3, 2)]),
    "logsumexp_all": (lambda m, a: m.logsumexp(a, (0, 1)), [_normal(3, 1)]),
    "norm2": (lambda m, a: m.norm(a), [_normal(3, 4)]),
    "norm2_dim": (lambda m, a: m.norm(a, 2, 1, keepdim=True), [_normal(3, 4)]),
    "norm1": (lambda m, a: m.norm(a, 1, 0) ** 2, [_normal(3, 4)]),
    "norm3": (lambda m, a: m.norm(a, 3, (0, 1)), [_normal(3, 4)]),
    "norm_half": (lambda m, a: m.norm(a, 0.5, 1), [_normal(3, 4)]),
    "norm_1p5": (lambda m, a: m.norm(a, 1.5, 0), [_normal(3, 1)]),
    "norm_inf": (lambda m, a: m.norm(a, math.inf, 1) ** 2, [_normal(3, 4)]),
    "norm_ninf": (lambda m, a: m.norm(a, -math.inf) ** 2, [_normal(3, 4)]),
    "norm0": (lambda m, a: m.norm(a, 0, 1) + a.sum(), [_normal(3, 4)]),
    "norm_neg1": (lambda m, a: m.norm(a, -1, 1), [_normal(3, 4)]),
    "norm_neg2p5": (lambda m, a: m.norm(a, -2.5, 0, keepdim=True), [_normal(3, 2)]),
    "norm_fro": (lambda m, a: m.norm(a, "fro", (0, 1)), [_normal(2, 3)]),
    "norm_node": (lambda m, a: m.norm(m.sin(a), 3), [_normal(2, 3)]),
    "var": (lambda m, a: m.var(a), [_normal(3, 4)]),
    "var_dim": (lambda m, a: m.var(a, 1, keepdim=True) ** 2, [_normal(3, 4)]),
    "var_corr0": (lambda m, a: m.var(a, (0, 2), correction=0) ** 2, [_normal(2, 3, 2)]),
    "var_corr2": (lambda m, a: m.var(a, 0, correction=2) ** 2, [_normal(4, 2)]),
    "std": (lambda m, a: m.std(a), [_normal(3, 4)]),
    "std_dim": (lambda m, a: m.std(a, 1, keepdim=True) ** 2, [_normal(3, 4)]),
    "std_corr0": (lambda m, a: m.std(a, (0, 1), correction=0), [_normal(2, 3, 1)]),
    "var_node": (lambda m, a: m.var(m.sin(a), 1) ** 2, [_normal(2, 3)]),
    "std_node": (lambda m, a: m.std(m.sin(a) * 2, 0, keepdim=True) ** 2, [_normal(3, 2)]),
    "pow_t2_at0": (lambda m, a: m.pow(a, 2.0), [_ZEROS]),
    "pow_t3_at0": (lambda m, a: m.pow(m.exp(a) - 1, 3.0), [_ZEROS]),
    "pow_t0_at0": (lambda m, a: m.pow(a, 0.0), [_ZEROS]),
    "pow_tt_node": (lambda m, a, b: m.pow(m.exp(a), m.sin(b)), [_normal(2, 1), _normal(3)]),
    "cumsum": (lambda m, a: m.cumsum(a, 1) ** 2, [_normal(3, 4)]),
    "cumsum0": (lambda m, a: m.cumsum(a, 0) ** 2, [_normal(3, 1)]),
}
GROUP2 = {
    "tan": (lambda m, a: m.tan(a), [_unit(2, 3)]),
    "sinh": (lambda m, a: m.sinh(a), [_normal(2, 3)]),
    "cosh": (lambda m, a: m.cosh(a), [_normal(2, 3)]),
    "asin": (lambda m, a: m.asin(a), [_unit(2, 3)]),
    "acos": (lambda m, a: m.acos(a), [_unit(2, 3)]),
    "atan": (lambda m, a: m.atan(a), [_normal(2, 3)]),
    "atan2": (lambda m, a, b: m.atan2(a, b), [_normal(2, 3), _normal(1, 3)]),
    "erf": (lambda m, a: m.erf(a), [_normal(2, 3)]),
    "erfc": (lambda m, a: m.erfc(a), [_normal(2, 3)]),
    "asinh": (lambda m, a: m.asinh(a), [_normal(2, 3)]),
    "acosh": (lambda m, a: m.acosh(a + 2.5), [_pos(2, 3)]),
    "atanh": (lambda m, a: m.atanh(a), [_unit(2, 3)]),
    "sinc": (lambda m, a: m.sinc(a), [_normal(2, 3)]),
    "sinc_zero": (lambda m, a: m.sinc(a), [_ZEROS]),
    "frac": (lambda m, a: m.frac(a) * a, [_normal(2, 3)]),
    "hypot": (lambda m, a, b: m.hypot(a, b), [_normal(2, 3), _normal(1, 3)]),
    "logaddexp": (lambda m, a, b: m.logaddexp(a, b), [_normal(2, 3), _normal(2, 1)]),
    "logaddexp2": (lambda m, a, b: m.logaddexp2(a, b), [_normal(2, 3), _normal(1)]),
    "xlogy": (lambda m, a, b: m.xlogy(a, b), [_normal(2, 3), _pos(1, 3)]),
    "copysign": (lambda m, a, b: m.copysign(a, b) * a, [_normal(2, 3), _normal(1, 3)]),
    "fmax": (lambda m, a, b: m.fmax(a, b) ** 2, [_normal(2, 3), _normal(1, 3)]),
    "fmin": (lambda m, a, b: m.fmin(a, b) ** 2, [_normal(2, 1), _normal(3)]),
    "cumprod": (lambda m, a: m.cumprod(a, 1), [_normal(3, 4)]),
    "cumprod_zero": (
        lambda m, a: m.cumprod(a, 1),
        [np.array([[1.5, 0.0, -0.7, 0.0], [0.0, 0.4, 2.0, -1.1]])],
    ),
    "cumprod_zero0": (lambda m, a: m.cumprod(a, 0), [_ZEROS.T.copy()]),
    "logcumsumexp": (lambda m, a: m.logcumsumexp(a, 1), [_normal(3, 4)]),
    "logcumsumexp0": (lambda m, a: m.logcumsumexp(a, 0), [_normal(4, 2)]),
    "nansum": (lambda m, a: m.nansum(_holes(m, a), 1) ** 2, [_normal(2, 3)]),
    "nansum_all": (lambda m, a: m.nansum(a) ** 2, [_normal(2, 3)]),
    "nanmean": (lambda m, a: m.nanmean(_holes(m, a), 1, keepdim=True) ** 2, [_normal(2, 3)]),
    "nanmean_all": (lambda m, a: m.nanmean(a) ** 2, [_normal(2, 3)]),
    # (PyTorch's prod takes one dim)
    "prod_dims": (lambda m, a: m.prod(a, (0, 2)), [_normal(2, 3, 2)]),
    "prod_zero_dims": (lambda m, a: m.prod(a, (0, 1), keepdim=True), [_ZEROS[:, :, None]]),
}
ALL = {**CASES, **GROUP2}


@pytest.mark.parametrize("name", sorted(ALL))
def test_gradgradcheck(name):
    fn, arrays = ALL[name]
    assert gradgradcheck(lambda *xs: fn(gg, *xs), gg_inputs(arrays))


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_order_like_torch(name, torch):
    fn, arrays = CASES[name]
    like_torch(torch, fn, arrays)


@pytest.mark.parametrize("name", sorted(ALL))
def test_create_graph_first_order_equals_plain(name):
    fn, arrays = ALL[name]
    v, _ = v_w(fn, arrays)
    xs = gg_inputs(arrays)
    plain = gg.autograd.grad(fn(gg, *xs), xs, gg.tensor(v))
    recorded = gg.autograd.grad(fn(gg, *xs), xs, gg.tensor(v), create_graph=True)
    for p, r in zip(plain, recorded):
        np.testing.assert_allclose(r.detach().numpy(), p.numpy(), rtol=1e-13, atol=1e-15)


# Non-differentiable points where PyTorch's double backward gives NaN (0 * inf inside its
# masked_fill-then-divide formulas) and glassgrad its first-order convention's own derivative
# (0, or sinc''(0)): equal wherever PyTorch's is not NaN, and never NaN where PyTorch's is.
_B = np.array([[2.0, 0.0, -1.0], [0.5, 1.5, 3.0]])
EDGES = {
    "pow_tt_at0": (lambda m, a, e: m.pow(a, e), [np.abs(_ZEROS), _B]),
    "norm2_zero": (lambda m, a: m.norm(a, 2, 1), [np.array([[0.0, 0.0], [1.0, 2.0]])]),
    "norm3_zero": (lambda m, a: m.norm(a, 3, 1), [_ZEROS]),
    "std_zero": (lambda m, a: m.std(a, 1), [np.array([[1.0, 1.0], [1.0, 2.0]])]),
    "sinc_zero": (lambda m, a: m.sinc(a), [_ZEROS]),
    "atan2_origin": (lambda m, a, c: m.atan2(a, c), [np.array([0.0, 1.0]), np.array([0.0, 2.0])]),
    "xlogy_zero": (lambda m, a, c: m.xlogy(a, c), [np.array([0.0, 1.0, 0.0]), np.array([-1.0, 2.0, 3.0])]),
    "copysign_zero": (lambda m, a, c: m.copysign(a, c) * a, [np.array([0.0, 1.0]), np.array([-1.0, -2.0])]),
    "amax_ties": (lambda m, a: m.amax(a, 1) ** 2, [np.array([[1.0, 1.0, 0.0], [2.0, -1.0, 2.0]])]),
    "max_ties": (lambda m, a: m.max(a) ** 2, [np.array([[1.0, 2.0, 0.0], [2.0, -1.0, 2.0]])]),
    "max_dim_ties": (lambda m, a: m.max(a, 1).values ** 2, [np.array([[1.0, 1.0, 0.0], [2.0, -1.0, 2.0]])]),
    "maximum_ties": (
        lambda m, a, c: m.maximum(a, c) ** 2,
        [np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 3.0])],
    ),
    "minimum_ties": (
        lambda m, a, c: m.minimum(a, c) ** 2,
        [np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 3.0])],
    ),
    "clamp_at_bounds": (lambda m, a: m.clamp(a, 0.0, 1.5) ** 2, [_ZEROS]),
    "clamp_bounds_ties": (lambda m, a, lo: m.clamp(a, min=lo) ** 2, [_ZEROS, np.array([0.0, 1.5, 0.0])]),
    "abs_zero": (lambda m, a: m.abs(a) * a, [_ZEROS]),
    "norm_inf_ties": (lambda m, a: m.norm(a, math.inf, 1) ** 2, [np.array([[1.0, -1.0], [0.5, 2.0]])]),
}


@pytest.mark.parametrize("name", sorted(EDGES))
def test_edges_like_torch(name, torch):
    fn, arrays = EDGES[name]
    like_torch(torch, fn, arrays, nans="finite")


def test_sinc_second_derivative_at_zero():
    x = gg.tensor([0.0, 0.5]).requires_grad_()
    (g,) = gg.autograd.grad(gg.sinc(x).sum(), x, create_graph=True)
    (h,) = gg.autograd.grad(g.sum(), x)
    assert h.numpy()[0] == pytest.approx(-(math.pi**2) / 3)


# Random shapes that broadcast (size-1 dims, missing leading dims) for the binary ops.
BINARY = {
    "div": (lambda m, a, b: a / b, _normal, _pos),
    "pow": (lambda m, a, b: m.pow(a, b), _pos, _normal),
    "maximum": (lambda m, a, b: m.maximum(a, b) * a, _normal, _normal),
    "where": (lambda m, a, b: m.where(a > 0, a * b, b), _normal, _normal),
    "clamp_bounds": (lambda m, a, b: m.clamp(a * a, max=b) * b, _normal, _normal),
    "atan2": (lambda m, a, b: m.atan2(a, b), _normal, _normal),
    "hypot": (lambda m, a, b: m.hypot(a, b), _normal, _normal),
    "logaddexp2": (lambda m, a, b: m.logaddexp2(a, b), _normal, _normal),
    "xlogy": (lambda m, a, b: m.xlogy(a, b), _normal, _pos),
    "fmin": (lambda m, a, b: m.fmin(a, b) * b, _normal, _normal),
}


def _broadcast_shapes(rng):
    full = tuple(int(n) for n in rng.integers(1, 4, rng.integers(1, 4)))
    other = tuple(1 if rng.random() < 0.4 else n for n in full)[int(rng.integers(0, len(full))) :]
    return (full, other) if rng.random() < 0.5 else (other, full)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_random_broadcast(name, seed):
    fn, sa, sb = BINARY[name]
    rng = np.random.default_rng(seed)
    shape_a, shape_b = _broadcast_shapes(rng)
    xs = gg_inputs([sa(*shape_a), sb(*shape_b)])
    assert gradgradcheck(lambda *t: fn(gg, *t), xs)


def test_third_order_through_rules():
    # rules built from ops that have rules: a third derivative, d^3/dx^3 exp(sin x) summed
    x = gg.tensor([0.3, -1.2], dtype=gg.float64).requires_grad_()
    (g1,) = gg.autograd.grad(gg.exp(gg.sin(x)).sum(), x, create_graph=True)
    (g2,) = gg.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = gg.autograd.grad(g2.sum(), x)
    s, c = np.sin(x.detach().numpy()), np.cos(x.detach().numpy())
    expected = np.exp(s) * (c**3 - 3 * s * c - c)
    np.testing.assert_allclose(g3.numpy(), expected, rtol=1e-12)


def test_pow_number_zero_base():
    # 0 ** b: b's gradient g * -inf where b < 0, else 0 (PyTorch's); linear in g, constant in b
    b = gg.tensor(_B).requires_grad_()
    v = gg.tensor(np.ones_like(_B)).requires_grad_()
    (gb,) = gg.autograd.grad(gg.pow(0.0, b), b, v, create_graph=True)
    np.testing.assert_array_equal(gb.detach().numpy(), np.where(_B < 0, -math.inf, 0.0))
    (gv,) = gg.autograd.grad(gb.sum(), v)
    np.testing.assert_array_equal(gv.numpy(), np.where(_B < 0, -math.inf, 0.0))


def _cast_fn(m, a):
    """Through float32 and back: two casts, each a recorded rule."""
    b = a.to(m.float32)
    return (b * b * b).to(m.float64)


def test_cast_gradgradcheck():
    (x,) = gg_inputs([_normal(2, 3)])
    # float32 in the middle: differences of rounded values need a wide step (the map is cubic)
    assert gradgradcheck(lambda t: _cast_fn(gg, t), (x,), eps=1e-2, atol=1e-4, rtol=1e-3)


def test_cast_like_torch(torch):
    arrays = [_normal(2, 3)]
    v, w = v_w(_cast_fn, arrays)
    (f_gg,), s_gg = second_order(gg, _cast_fn, arrays, v, w)
    (f_t,), s_t = second_order(torch, _cast_fn, arrays, v, w)
    np.testing.assert_allclose(f_gg, f_t, rtol=1e-6)
    for a, b in zip(s_gg, s_t):
        np.testing.assert_allclose(a, b, rtol=1e-6)
