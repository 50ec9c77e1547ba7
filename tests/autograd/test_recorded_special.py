"""Double backward (``create_graph=True``) of the special functions, float_power, fmod/remainder,
the order statistics and SDPA's layout copy: ``autograd/recorded_rules_special.py``.

Every rule is checked by ``gradgradcheck`` (float64, shapes with broadcasting and size-1 dims, each
attr variant), against PyTorch's second-order gradients, and its create_graph first-order gradients
against the plain backward's (float32 too, where the slope is evaluated in float64).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradgradcheck
from glassgrad.nn.functional.sdpa_backend import QueryLayoutCopy
from tests.autograd.second_order_helpers import gg_inputs, like_torch, v_w

_R = np.random.default_rng(4321)


def _normal(*shape):
    return _R.standard_normal(shape)


def _pos(*shape):
    return _R.uniform(0.3, 3.0, shape)


def _prob(*shape):
    return _R.uniform(0.05, 0.95, shape)


def _unit(*shape):
    return _R.uniform(-0.85, 0.85, shape)


def _twice(m, a, dim):
    """a beside itself along dim: every value twice, ties that a perturbation of a keeps."""
    return m.cat([a, a.flip(dim)], dim)


def _holes(m, a):
    """a with NaN in its middle column (selected: the NaN sends no gradient back to a)."""
    return m.where(m.tensor([True, False, True]), a, m.tensor(math.nan, dtype=m.float64))


# name -> (fn(lib, *xs), input arrays); fn is written once for glassgrad and torch (same names)
CASES = {
    "lgamma": (lambda m, a: m.lgamma(a), [_pos(2, 3)]),
    "lgamma_neg": (lambda m, a: m.lgamma(a - 3.5), [_unit(3, 1)]),
    "digamma": (lambda m, a: m.digamma(a), [_pos(2, 3)]),
    "digamma_neg": (lambda m, a: m.digamma(a - 1.5), [_unit(4)]),
    "polygamma0": (lambda m, a: m.polygamma(0, a), [_pos(2, 3)]),
    "polygamma1": (lambda m, a: m.polygamma(1, a), [_pos(3, 1)]),
    "polygamma3": (lambda m, a: m.polygamma(3, a), [_pos(2, 2)]),
    "i0": (lambda m, a: m.i0(a), [_normal(2, 3) * 2]),
    "i0e": (lambda m, a: m.special.i0e(a), [_normal(2, 3) * 2]),
    "i1": (lambda m, a: m.special.i1(a), [_normal(2, 3) * 2]),
    "i1e": (lambda m, a: m.special.i1e(a), [_normal(2, 3) * 2]),
    "erfinv": (lambda m, a: m.erfinv(a), [_unit(2, 3)]),
    "erfcx": (lambda m, a: m.special.erfcx(a), [_normal(2, 3) * 2]),
    "entr": (lambda m, a: m.special.entr(a), [_pos(2, 3)]),
    "ndtr": (lambda m, a: m.special.ndtr(a), [_normal(2, 3) * 2]),
    "ndtri": (lambda m, a: m.special.ndtri(a), [_prob(2, 3)]),
    "log_ndtr": (lambda m, a: m.special.log_ndtr(a), [_normal(3, 4) * 3]),
    "log_ndtr_tails": (lambda m, a: m.special.log_ndtr(a), [np.array([-30.0, -6.0, 0.0, 6.0, 9.0])]),
    "xlog1py": (lambda m, a, b: m.special.xlog1py(a, b), [_normal(2, 3), _pos(1, 3) - 0.5]),
    "xlog1py_number": (lambda m, b: m.special.xlog1py(2.5, b) * b, [_pos(3)]),
    "float_power": (lambda m, a, b: m.float_power(a, b), [_pos(2, 3), _normal(1, 3)]),
    "float_power_num_exp": (lambda m, a: m.float_power(a, 2.5), [_pos(3, 1)]),
    "float_power_num_base": (lambda m, b: m.float_power(1.7, b), [_normal(2, 3)]),
    "float_power_int_exp": (lambda m, a: m.float_power(a, 3), [_normal(2, 3)]),
    "fmod": (lambda m, a, b: m.fmod(a, b) * b, [_normal(2, 3) * 3, _pos(1, 3)]),
    "fmod_neg": (lambda m, a, b: m.fmod(a * a, b) * a, [_normal(2, 3) * 2, -_pos(2, 1)]),
    "fmod_number": (lambda m, a: m.fmod(a, 0.7) * a, [_normal(2, 3)]),
    "remainder": (lambda m, a, b: m.remainder(a, b) * b, [_normal(2, 3) * 3, _pos(1, 3)]),
    "remainder_neg": (lambda m, a, b: m.remainder(a, b) ** 2, [_normal(3) * 3, -_pos(2, 1)]),
    "xlog1py_number_b": (lambda m, a: m.special.xlog1py(a, 0.5) * a, [_normal(2, 3)]),
    "median": (lambda m, a: m.median(a) ** 2, [_normal(3, 4)]),
    "median_ties": (lambda m, a: m.median(_twice(m, a, 0)) ** 2, [_normal(2, 3)]),
    "nanmedian": (lambda m, a: m.nanmedian(_holes(m, a)) ** 2, [_normal(3, 3)]),
    "median_dim": (lambda m, a: m.median(a, 1).values ** 2, [_normal(3, 4)]),
    "median_dim_keep": (lambda m, a: m.median(a, 0, keepdim=True).values ** 2, [_normal(3, 2, 2)]),
    "median_dim_ties": (lambda m, a: m.median(_twice(m, a, 1), 1).values ** 2, [_normal(2, 3)]),
    "nanmedian_dim": (lambda m, a: m.nanmedian(_holes(m, a), -1).values ** 2, [_normal(4, 3)]),
    "kthvalue": (lambda m, a: m.kthvalue(a, 2).values ** 2, [_normal(3, 4)]),
    "kthvalue_dim0_keep": (lambda m, a: m.kthvalue(a, 3, 0, keepdim=True).values ** 2, [_normal(3, 2, 1)]),
    "kthvalue_ties": (lambda m, a: m.kthvalue(_twice(m, a, 0), 2, 0).values ** 2, [_normal(3, 2)]),
    "mode": (lambda m, a: m.mode(a).values ** 2, [_normal(3, 4)]),
    "mode_ties": (lambda m, a: m.mode(_twice(m, a, 1), 1).values ** 2, [_normal(2, 4)]),
    "mode_dim0_keep": (lambda m, a: m.mode(_twice(m, a, 0), 0, keepdim=True).values ** 2, [_normal(3, 2)]),
    "chain": (
        lambda m, a: m.special.log_ndtr(m.lgamma(a)) * m.special.i1e(a),
        [_pos(2, 3)],
    ),
}

# PyTorch has no derivative for remainder(number, tensor) at all (glassgrad's first order gives one)
GG_ONLY = {
    "remainder_number_num": (lambda m, b: m.remainder(2.5, b) * b, [_pos(2, 3)]),
}
ALL = {**CASES, **GG_ONLY}


@pytest.mark.parametrize("name", sorted(ALL))
def test_gradgradcheck(name):
    fn, arrays = ALL[name]
    assert gradgradcheck(lambda *xs: fn(gg, *xs), gg_inputs(arrays))


def _like_torch(fn, arrays, torch, rtol=1e-10):
    like_torch(torch, fn, arrays, rtol=rtol)


# PyTorch's trigamma (polygamma(1, x), digamma's slope) is off by up to 5e-10 relative for
# positive x (against mpmath); glassgrad's is within an ulp or two. (chain: after cancellation)
_LOOSER = {"lgamma": 1e-9, "digamma": 1e-9, "polygamma0": 1e-9, "chain": 1e-8}


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_order_like_torch(name, torch):
    fn, arrays = CASES[name]
    _like_torch(fn, arrays, torch, _LOOSER.get(name, 1e-10))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(ALL))
def test_create_graph_first_order_equals_plain(name, dtype):
    fn, arrays = ALL[name]
    v, _ = v_w(fn, arrays)
    xs = gg_inputs(arrays, dtype)
    vt = gg.tensor(v.astype(dtype))
    plain = gg.autograd.grad(fn(gg, *xs), xs, vt)
    recorded = gg.autograd.grad(fn(gg, *xs), xs, vt, create_graph=True)
    for p, r in zip(plain, recorded):
        assert r.dtype == p.dtype
        np.testing.assert_array_equal(r.detach().numpy(), p.numpy())


# Random shapes that broadcast (size-1 dims, missing leading dims) for the binary ops.
BINARY = {
    "xlog1py": (lambda m, a, b: m.special.xlog1py(a, b), _normal, _pos),
    "float_power": (lambda m, a, b: m.float_power(a, b), _pos, _normal),
    "fmod": (lambda m, a, b: m.fmod(a * 3, b) * b, _normal, _pos),
    "remainder": (lambda m, a, b: m.remainder(a * 3, b) * a, _normal, _pos),
}


def _broadcast_shapes(rng):
    full = tuple(int(n) for n in rng.integers(1, 4, rng.integers(1, 4)))
    other = tuple(1 if rng.random() < 0.4 else n for n in full)[int(rng.integers(0, len(full))) :]
    return (full, other) if rng.random() < 0.5 else (other, full)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_random_broadcast(name, seed, torch):
    fn, sa, sb = BINARY[name]
    rng = np.random.default_rng(seed)
    shape_a, shape_b = _broadcast_shapes(rng)
    arrays = [sa(*shape_a), sb(*shape_b)]
    assert gradgradcheck(lambda *t: fn(gg, *t), gg_inputs(arrays))
    _like_torch(fn, arrays, torch)


UNARY = ["lgamma", "digamma", "i0", "i0e", "i1", "i1e", "erfcx", "entr", "ndtr", "log_ndtr"]


@pytest.mark.parametrize("seed", range(2))
def test_unary_random_shapes(seed):
    rng = np.random.default_rng(seed + 10)
    shape = tuple(int(n) for n in rng.integers(1, 4, rng.integers(0, 4)))
    for name in UNARY:
        fn, _ = CASES[name]
        (x,) = gg_inputs([rng.uniform(0.2, 2.5, shape)])
        assert gradgradcheck(lambda t, fn=fn: fn(gg, t), (x,))


def test_polygamma_orders_random_shapes():
    rng = np.random.default_rng(3)
    for n in (0, 1, 2, 4):
        shape = tuple(int(s) for s in rng.integers(1, 4, rng.integers(1, 3)))
        (x,) = gg_inputs([rng.uniform(0.5, 3.0, shape)])
        assert gradgradcheck(lambda t, n=n: gg.polygamma(n, t), (x,))


def _order_statistic(m, a, which, dim, keepdim, k):
    if which == "median":
        return m.median(a, dim, keepdim=keepdim).values
    if which == "kthvalue":
        return m.kthvalue(a, k, dim, keepdim=keepdim).values
    return m.mode(_twice(m, a, dim), dim, keepdim=keepdim).values


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("which", ["median", "kthvalue", "mode"])
def test_order_statistics_random(which, seed, torch):
    rng = np.random.default_rng(seed + 20)
    shape = tuple(int(n) for n in rng.integers(1, 4, rng.integers(1, 4)))
    dim = int(rng.integers(-len(shape), len(shape)))
    keepdim, k = bool(rng.random() < 0.5), int(rng.integers(1, shape[dim] + 1))

    def fn(m, a):
        return _order_statistic(m, a, which, dim, keepdim, k) ** 2

    arrays = [rng.standard_normal(shape)]
    assert gradgradcheck(lambda t: fn(gg, t), gg_inputs(arrays))
    _like_torch(fn, arrays, torch)


# ------------------------------------------------------------------ edges
# The Bessel slopes at 0 are first-order constants (1/2), as PyTorch's: their own slope there is 0
# (I1''(0) = 0; for i1e and i0e, sign(0) = 0 leaves the kink's one-sided slopes out).
EDGES = {
    "i1_zero": (lambda m, a: m.special.i1(a), [np.array([0.0, 0.5, -1.0])]),
    "i1e_zero": (lambda m, a: m.special.i1e(a), [np.array([0.0, 0.5, -1.0])]),
    "i0e_zero": (lambda m, a: m.special.i0e(a), [np.array([0.0, 0.5, -1.0])]),
    "entr_zero": (lambda m, a: m.special.entr(a), [np.array([0.0, 0.5, 2.0])]),
    "xlog1py_zero": (
        lambda m, a, b: m.special.xlog1py(a, b),
        [np.array([0.0, 1.0, 0.0]), np.array([-1.0, 2.0, -3.0])],
    ),
    # a NaN median: g shared among the NaNs (linear in g, constant in a)
    "median_nan": (lambda m, a: m.median(a) * 3, [np.array([[1.0, math.nan], [math.nan, -2.0]])]),
}


@pytest.mark.parametrize("name", sorted(EDGES))
def test_edges_like_torch(name, torch):
    fn, arrays = EDGES[name]
    like_torch(torch, fn, arrays, nans="same")


def test_i1_past_overflow():
    # past e^|a|'s overflow the first-order slope is inf; its slope is I1's (+inf, -inf for a < 0)
    for dtype, big in ((np.float64, 720.0), (np.float32, 90.0)):
        x = gg.tensor(np.array([big, -big, 1.0], dtype=dtype)).requires_grad_()
        (g,) = gg.autograd.grad(gg.special.i1(x).sum(), x, create_graph=True)
        (plain,) = gg.autograd.grad(gg.special.i1(x).sum(), x)
        np.testing.assert_array_equal(g.detach().numpy(), plain.numpy())
        (h,) = gg.autograd.grad(g.sum(), x)
        assert h.numpy()[0] == math.inf and h.numpy()[1] == -math.inf and np.isfinite(h.numpy()[2])


def test_log_ndtr_far_tails_finite():
    # each branch's operand is harmless where the other is taken: no NaN from the branch not used
    x = gg.tensor([-40.0, -5.0, 5.0, 40.0]).requires_grad_()
    (g,) = gg.autograd.grad(gg.special.log_ndtr(x).sum(), x, create_graph=True)
    (h,) = gg.autograd.grad(g.sum(), x)
    assert np.isfinite(h.numpy()).all()
    np.testing.assert_allclose(h.numpy()[0], -1.0, rtol=1e-3)  # log Phi(x) ~ -x^2 / 2 far left


def test_modulo_divisor_without_grad():
    # b not requiring grad: forward saved nothing, a's gradient is g
    a = gg.tensor(_normal(2, 3)).requires_grad_()
    for op in (gg.fmod, gg.remainder):
        assert gradgradcheck(lambda t, op=op: op(t * t, gg.tensor([0.7, 1.1, 2.0])) * t, (a,))


def test_digamma_third_order():
    x = gg.tensor([0.7, 2.5]).requires_grad_()
    (g1,) = gg.autograd.grad(gg.lgamma(x).sum(), x, create_graph=True)
    (g2,) = gg.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = gg.autograd.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.numpy(), gg.polygamma(2, x).detach().numpy(), rtol=1e-13)


# ------------------------------------------------------------------ SDPA's layout copy
def _query_copy(t):
    return QueryLayoutCopy.apply(t, order=(0, 2, 1, 3)) ** 2


def test_query_layout_copy_gradgradcheck():
    (x,) = gg_inputs([_normal(2, 3, 2, 2)])
    assert gradgradcheck(_query_copy, (x,))


def _attention(m, x):
    q = x.transpose(1, 2)  # (N, L, H, E) viewed as (N, H, L, E): PyTorch's flash layout on CPU
    return m.nn.functional.scaled_dot_product_attention(q, q * 0.5, q)


def test_sdpa_query_layout_gradgradcheck():
    (x,) = gg_inputs([_normal(1, 3, 2, 2)])
    assert _attention(gg, x).grad_fn.name() == "QueryLayoutCopyBackward0"
    assert gradgradcheck(lambda t: _attention(gg, t), (x,))


def test_sdpa_query_layout_like_torch(torch):
    # PyTorch's CPU flash kernel refuses double backward; its math kernel computes the same function
    from torch.nn.attention import SDPBackend, sdpa_kernel

    arrays = [_normal(2, 3, 2, 4)]
    with sdpa_kernel(SDPBackend.MATH):
        _like_torch(_attention, arrays, torch)
