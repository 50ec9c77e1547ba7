"""Round 62, speed gaps: the faster forms of ``pdist`` (every pair's difference over the N x N square,
then the strict upper triangle), ``erfc`` (each of Cody's three ranges evaluated on its own elements),
and ``digamma``/``lgamma``/``polygamma`` (bit selections instead of ``np.where``). The new code
paths' edges, against PyTorch: 0-size and 0-d inputs, non-contiguous inputs, float32 and float64,
inputs on the range boundaries, and the gradients (float64 gradcheck where PyTorch has none to read).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck

RNG_SEED = 62
_P_VALUES = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, math.inf]


def _pdist_both(torch, a, p, g=None):
    """pdist of ``a`` and the input gradient of ``sum(g * pdist)`` in glassgrad and PyTorch."""
    out = []
    for lib in (gg, torch):
        x = lib.tensor(a, requires_grad=True)
        y = lib.pdist(x, p)
        weights = lib.tensor(np.ones(y.shape, a.dtype) if g is None else g)
        (y * weights).sum().backward()
        out.append((y.detach().numpy(), x.grad.numpy()))
    return out


# ---- pdist: the pairs read off the N x N square ---------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", _P_VALUES, ids=[f"p{p}" for p in _P_VALUES])
def test_pdist_values_and_gradients_as_torch(torch, dtype, p):
    rng = np.random.default_rng(RNG_SEED)
    a = rng.standard_normal((33, 6)).astype(dtype)
    a[5] = a[2]  # a zero distance: its gradient is 0, as PyTorch's
    if p in (1.0, math.inf):  # no ties of |d| (the subgradient there is PyTorch's choice)
        a += np.arange(a.size, dtype=dtype).reshape(a.shape) * dtype_step(dtype)
        a[5] = a[2]
    g = rng.standard_normal(33 * 32 // 2).astype(dtype)
    (y, dx), (ty, tdx) = _pdist_both(torch, a, p, g)
    assert y.dtype == ty.dtype and y.shape == ty.shape
    rtol = 1e-13 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(y, ty, rtol=rtol, atol=0)
    scale = np.abs(tdx).max()
    np.testing.assert_allclose(dx, tdx, rtol=0, atol=rtol * scale)


def dtype_step(dtype: str) -> float:
    return 1e-3 if dtype == "float32" else 1e-6


@pytest.mark.parametrize("shape", [(0, 3), (1, 4), (2, 0), (3, 0), (2, 5), (7, 1)], ids=str)
@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, math.inf], ids=["p0", "p1", "p2", "pinf"])
def test_pdist_degenerate_shapes_as_torch(torch, shape, p):
    a = np.random.default_rng(RNG_SEED).standard_normal(shape)
    if shape[0] < 2:  # no pairs; PyTorch 2.13's backward of an empty pdist crashes (p = 1)
        x = gg.tensor(a, requires_grad=True)
        y = gg.pdist(x, p)
        assert tuple(y.shape) == tuple(torch.pdist(torch.tensor(a), p).shape) == (0,)
        y.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros(shape))
        return
    (y, dx), (ty, tdx) = _pdist_both(torch, a, p)
    assert y.shape == ty.shape and dx.shape == tdx.shape
    np.testing.assert_allclose(y, ty, rtol=1e-14, atol=0)
    np.testing.assert_allclose(dx, tdx, rtol=1e-14, atol=1e-15)


def test_pdist_of_a_non_contiguous_input_as_torch(torch):
    a = np.random.default_rng(RNG_SEED).standard_normal((5, 40))
    results = []
    for lib in (gg, torch):
        base = lib.tensor(a, requires_grad=True)
        y = lib.pdist(base.t()[::2], 2.0)  # (20, 5), strided both ways
        (y * y.detach()).sum().backward()
        results.append((y.detach().numpy(), base.grad.numpy()))
    (y, dx), (ty, tdx) = results
    np.testing.assert_allclose(y, ty, rtol=1e-14)
    np.testing.assert_allclose(dx, tdx, rtol=1e-12, atol=1e-14)


def test_pdist_is_the_upper_triangle_of_cdist_bit_for_bit():
    # each pair's norm is the same reduction of the same differences as cdist's (non-matmul form)
    a = np.random.default_rng(RNG_SEED).standard_normal((12, 7))
    x = gg.tensor(a)
    full = gg.cdist(x, x, 2.0, compute_mode="donot_use_mm_for_euclid_dist").numpy()
    rows, cols = np.triu_indices(12, 1)
    np.testing.assert_array_equal(gg.pdist(x).numpy(), full[rows, cols])


@pytest.mark.parametrize("p", [0.5, 1.5, 2.0, 3.0], ids=["p0.5", "p1.5", "p2", "p3"])
def test_pdist_gradcheck_and_double_backward(torch, p):
    a = np.random.default_rng(RNG_SEED).standard_normal((5, 3))
    assert gradcheck(lambda t: gg.pdist(t, p), (gg.tensor(a, requires_grad=True),))
    # a second order through the composite (cdist, reshape, index); PyTorch's pdist has none, so
    # against its norms of the pairs' differences
    rows, cols = np.triu_indices(5, 1)
    pairs = {
        gg: lambda x: gg.pdist(x, p),
        torch: lambda x: torch.linalg.vector_norm(x[rows] - x[cols], p, dim=1),
    }
    results = []
    for lib in (gg, torch):
        x = lib.tensor(a, requires_grad=True)
        (g,) = lib.autograd.grad(pairs[lib](x).sum(), x, create_graph=True)
        (gg2,) = lib.autograd.grad((g * g).sum(), x)
        results.append(gg2.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-10, atol=1e-12)


# ---- erfc: Cody's ranges on their own elements ----------------------------------------------------

_ERFC_EDGES = [0.0, -0.0, 0.46875, -0.46875, 0.46875 * (1 - 2**-52), 0.46875 * (1 + 2**-52), 4.0, -4.0,
               4.0 * (1 + 2**-52), 26.5, 27.3, 28.0, 30.0, -30.0, 1e-300, 5e-324, 1e300, -1e300,
               math.inf, -math.inf]  # fmt: skip


def _erfc_inputs(dtype: str) -> np.ndarray:
    rng = np.random.default_rng(RNG_SEED)
    parts = [rng.uniform(-6, 6, 300), rng.uniform(-30, 30, 100), _ERFC_EDGES]
    with np.errstate(over="ignore"):
        return np.concatenate(parts).astype(dtype)


def _float64_reference(torch, fn, a):
    """fn's value and gradient by PyTorch in float64, rounded to a's dtype: glassgrad evaluates the
    special functions in float64 and rounds (PyTorch's float32 kernels are ulps to 1e-5 off)."""
    tx = torch.tensor(a.astype(np.float64), requires_grad=True)
    ty = fn(torch, tx)
    ty.sum().backward()
    return ty.detach().numpy().astype(a.dtype), tx.grad.numpy().astype(a.dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_erfc_values_and_gradients_as_torch(torch, dtype):
    a = _erfc_inputs(dtype)
    x = gg.tensor(a, requires_grad=True)
    y = gg.erfc(x)
    y.sum().backward()
    ty, tdx = _float64_reference(torch, lambda lib, t: lib.erfc(t), a)
    rtol = 1e-15 if dtype == "float64" else 1.2e-7  # within 2 float64 ulps, or 1 float32 ulp
    np.testing.assert_allclose(y.detach().numpy(), ty, rtol=rtol, atol=0)
    np.testing.assert_allclose(x.grad.numpy(), tdx, rtol=rtol, atol=0)


def test_erfc_of_nan_is_nan_in_every_range():
    a = np.array([np.nan, 0.1, np.nan, 2.0, 10.0])
    out = gg.erfc(gg.tensor(a)).numpy()
    assert np.isnan(out[[0, 2]]).all() and np.isfinite(out[[1, 3, 4]]).all()


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, a: lib.tensor(a.reshape(4, 5, 6)).transpose(0, 2),
        lambda lib, a: lib.tensor(a.reshape(12, 10))[:, ::3],
        lambda lib, a: lib.tensor(a[:0].reshape(0, 3)),
        lambda lib, a: lib.tensor(a[7]),
        lambda lib, a: lib.tensor(a[:10].reshape(2, 5)).expand(3, 2, 5),
    ],
    ids=["transposed", "strided", "empty", "0-d", "expanded"],
)
@pytest.mark.parametrize("all_near", [True, False], ids=["below4", "some_past4"])
def test_erfc_layouts_as_torch(torch, make, all_near):
    # all |x| below 4 takes the one-rational branch; some beyond takes the split one
    rng = np.random.default_rng(RNG_SEED)
    a = rng.uniform(-3.9, 3.9, 120) if all_near else rng.uniform(-9, 9, 120)
    y, ty = gg.erfc(make(gg, a)).numpy(), torch.erfc(make(torch, a)).numpy()
    assert y.shape == ty.shape
    np.testing.assert_allclose(y, ty, rtol=1e-15, atol=0)


def test_erfc_double_backward_as_torch(torch):
    a = np.linspace(-5, 5, 23)
    results = []
    for lib in (gg, torch):
        x = lib.tensor(a, requires_grad=True)
        (g,) = lib.autograd.grad(lib.erfc(x).sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad(g.sum(), x)
        results.append(g2.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-14, atol=1e-300)


# ---- digamma, lgamma, polygamma: selections through the bits -------------------------------------


def _gamma_inputs(dtype: str) -> np.ndarray:
    rng = np.random.default_rng(RNG_SEED)
    # every count of recurrence steps (0 to 10 below 10), the reflection side, exact integers
    # and half-integers, just under and at 10 (the loop's edge), poles and infinities
    edges = [9.999999, 10.0, 10.000001, 0.5, 1.0, 2.0, 3.0, 7.5, 8.0, -2.5, -0.5, 1e-5, -1e-5, 1e-310]
    return np.concatenate([rng.uniform(0.01, 12, 200), rng.uniform(-6, 0, 80), edges]).astype(dtype)


_GAMMA_OPS = {
    "digamma": lambda lib, t: lib.digamma(t),
    "lgamma": lambda lib, t: lib.lgamma(t),
    "trigamma": lambda lib, t: lib.polygamma(1, t),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", sorted(_GAMMA_OPS))
def test_gamma_functions_values_and_gradients_as_torch(torch, op, dtype):
    a = _gamma_inputs(dtype)
    if dtype == "float32":
        a = a[np.abs(a) > 1e-30]  # (1e-310 is 0 in float32: a pole)
    x = gg.tensor(a, requires_grad=True)
    y = _GAMMA_OPS[op](gg, x)
    y.sum().backward()
    ty, tdx = _float64_reference(torch, _GAMMA_OPS[op], a)
    # float64: lgamma near its zeros and trigamma's reflection, where PyTorch is the less accurate
    # against mpmath (5e-10 for trigamma), within its error; float32: an ulp of the rounded value
    rtol = {"float32": 1.2e-7, "float64": 1e-9}[dtype]
    np.testing.assert_allclose(y.detach().numpy(), ty, rtol=rtol, atol=1e-300)
    np.testing.assert_allclose(x.grad.numpy(), tdx, rtol=rtol, atol=1e-300)


@pytest.mark.parametrize("op", sorted(_GAMMA_OPS))
def test_gamma_functions_poles_and_nan_as_torch(torch, op):
    a = np.array([0.0, -0.0, -1.0, -2.0, -3.0, np.inf, -np.inf, np.nan])
    y, ty = _GAMMA_OPS[op](gg, gg.tensor(a)).numpy(), _GAMMA_OPS[op](torch, torch.tensor(a)).numpy()
    finite = np.isfinite(ty)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(ty))
    np.testing.assert_array_equal(y[~finite & ~np.isnan(ty)], ty[~finite & ~np.isnan(ty)])
    np.testing.assert_allclose(y[finite], ty[finite], rtol=1e-12)


@pytest.mark.parametrize("op", sorted(_GAMMA_OPS))
def test_gamma_functions_of_non_contiguous_and_empty_inputs_as_torch(torch, op):
    a = np.random.default_rng(RNG_SEED).uniform(-4, 11, 60)
    for make in (
        lambda lib: lib.tensor(a.reshape(6, 10)).t(),
        lambda lib: lib.tensor(a)[::4],
        lambda lib: lib.tensor(a[:0].reshape(3, 0)),
        lambda lib: lib.tensor(a[3]),
    ):
        y, ty = _GAMMA_OPS[op](gg, make(gg)).numpy(), _GAMMA_OPS[op](torch, make(torch)).numpy()
        assert y.shape == ty.shape
        np.testing.assert_allclose(y, ty, rtol=1e-9)


@pytest.mark.parametrize("op", sorted(_GAMMA_OPS))
def test_gamma_functions_gradcheck(op):
    a = np.array([0.3, 1.7, 4.2, 9.5, 10.5, 14.0, -0.4, -2.7])
    assert gradcheck(lambda t: _GAMMA_OPS[op](gg, t), (gg.tensor(a, requires_grad=True),))


_MPMATH = {  # (value, derivative) of each op, by mpmath
    "digamma": lambda m, v: (m.digamma(v), m.psi(1, v)),
    "lgamma": lambda m, v: (m.loggamma(v).real, m.digamma(v)),
    "trigamma": lambda m, v: (m.psi(1, v), m.psi(2, v)),
}


@pytest.mark.parametrize("op", sorted(_GAMMA_OPS))
def test_gamma_functions_without_a_reflected_element_against_mpmath(op):
    # every x >= 0.5 (no reflection evaluated at all), with the exact zeros of lgamma at 1 and 2;
    # against mpmath: PyTorch's polygamma is 5e-10 off here, glassgrad within 1e-14
    mpmath = pytest.importorskip("mpmath")
    a = np.concatenate([np.random.default_rng(RNG_SEED).uniform(0.5, 30, 60), [0.5, 1.0, 2.0, 10.0]])
    x = gg.tensor(a, requires_grad=True)
    y = _GAMMA_OPS[op](gg, x)
    y.sum().backward()
    with mpmath.workdps(40):
        exact = np.array([[float(t) for t in _MPMATH[op](mpmath, mpmath.mpf(float(v)))] for v in a])
    np.testing.assert_allclose(y.detach().numpy(), exact[:, 0], rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(x.grad.numpy(), exact[:, 1], rtol=1e-14, atol=1e-300)
    if op == "lgamma":
        assert (y.detach().numpy()[-3:-1] == 0).all()
