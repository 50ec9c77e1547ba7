"""Round 65, follow-up of the special-function fuzz: ``gammainc``/``gammaincc`` for large a, the exponent
gradient of a mixed-dtype ``pow``, and the Bessel I1 slopes at subnormals and NaN.

- ``special.gammainc``/``gammaincc`` (``igamma``/``igammac``) ran their series and continued
  fraction for O(√a) terms where a and x are large and close: (1e10, 1e10) took over a minute,
  (1e300, 1e300) and float32 (3e38, 3e38) never finished, and at a = 1e6 the value was 7e-10 off.
  They now pick Cephes' branch per element as PyTorch does (Temme's uniform expansion near x = a
  for large a, Lanczos' form of x^a e^-x / Γ(a)).
- ``pow(a, b)`` with a float32 base and a float64 exponent took ln a in float32 for b's gradient
  (1e-10 relative off); PyTorch promotes the base to the result dtype first.
- i1's and i1e's slopes are 1/2 unless |x| > eps in PyTorch (NaN included): at x = 5e-324 glassgrad
  gave 1 (i1'), NaN (i0e''), and at NaN a NaN; I1(5e-324) was 0 where it rounds to 5e-324.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import glassgrad as gg

NAN, INF = float("nan"), float("inf")


def _igamma(lib, name, a, x, dtype):
    return getattr(lib.special, name)(
        lib.tensor(np.asarray(a, dtype)), lib.tensor(np.asarray(x, dtype))
    ).numpy()


# ---- gammainc: large a near x, fast and as PyTorch ---------------------------------------------
LARGE = [
    (1e10, 1e10), (1e300, 1e300), (1.7e308, 1.7e308), (1e6, 1e6 + 1), (1e8, 1e8 * (1 - 4e-4)),
    (1e10, 1e10 * (1 + 1e-5)), (1e10, 1e10 * (1 + 4.4e-5)), (1e12, 1e12 * 1.01), (1e7, 0.7e7),
    (1e7, 1.4e7),
]  # fmt: skip


@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
@pytest.mark.parametrize("point", range(len(LARGE)))
def test_large_close_arguments_are_quick_and_match_torch(torch, name, point):
    a, x = LARGE[point]
    start = time.perf_counter()
    ours = _igamma(gg, name, [a], [x], np.float64)
    assert time.perf_counter() - start < 1.0
    # PyTorch's own error here is below 4e-12 (checked by quadrature): inside the band of its Temme
    # expansion (a - x within 4.5 √a), with σ = x/a - 1 not so small that its log1p(σ) - σ cancels,
    # or far enough out that its series and continued fraction converge within their 2000 terms
    np.testing.assert_allclose(ours, _igamma(torch, name, [a], [x], np.float64), rtol=1e-11, atol=1e-300)


@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
def test_float32_extremes_are_quick(torch, name):
    a = np.array([3e38, 3e38, 1e30, 1e20, 2e6], np.float32)
    x = np.array([3e38, 2.9e38, 1e30, 1.0000001e20, 2e6 + 1e3], np.float32)
    start = time.perf_counter()
    ours = _igamma(gg, name, a, x, np.float32)
    assert time.perf_counter() - start < 1.0
    assert ours.dtype == np.float32
    # against PyTorch's float64 on the same (float32) arguments, rounded: its float32 kernel takes
    # log1p(σ) - σ in float32, nothing left of it at (1e20, 1.0000001e20) (5e-5 off)
    wide = _igamma(torch, name, a.astype(np.float64), x.astype(np.float64), np.float64).astype(np.float32)
    np.testing.assert_allclose(ours, wide, rtol=1.2e-7, atol=0)
    # PyTorch's float32 where it is accurate (at a = 2e6 its exponent's rounding is 1.5e-5 of P)
    np.testing.assert_allclose(ours[:3], _igamma(torch, name, a, x, np.float32)[:3], rtol=1.2e-7)


def test_tiny_sigma_keeps_its_digits():
    # a = 1e15, x = a (1 - 1e-7): PyTorch's log1p(σ) - σ loses 2ε/σ, 3e-9 of P; the reference is the
    # expansion's first two orders in mpmath (the next is O(a^-1.5), 3e-23)
    mpmath = pytest.importorskip("mpmath")
    a, x = 1e15, 1e15 * (1 - 1e-7)
    with mpmath.workdps(40):
        s = (mpmath.mpf(x) - a) / a
        eta = -mpmath.sqrt(2 * (s - mpmath.log1p(s)))
        c0 = 1 / s - 1 / eta  # c_0(η) = 1/(λ - 1) - 1/η (DLMF 8.12.9)
        want = float(
            mpmath.erfc(-eta * mpmath.sqrt(a / 2)) / 2
            - mpmath.exp(-a * eta**2 / 2) / mpmath.sqrt(2 * mpmath.pi * a) * c0
        )
    np.testing.assert_allclose(_igamma(gg, "gammainc", [a], [x], np.float64), [want], rtol=1e-14)


def test_one_call_over_many_large_pairs_is_quick():
    rng = np.random.default_rng(0)
    a = 10.0 ** rng.uniform(1, 300, 2000)
    x = a * np.abs(1 + rng.normal(0, 1, 2000) / np.sqrt(a) * rng.uniform(0, 6, 2000))
    start = time.perf_counter()
    p = gg.special.gammainc(gg.tensor(a), gg.tensor(x)).numpy()
    q = gg.special.gammaincc(gg.tensor(a), gg.tensor(x)).numpy()
    assert time.perf_counter() - start < 2.0
    np.testing.assert_allclose(p + q, 1.0, rtol=0, atol=4e-16)


def _mp_p_q(mpmath, a, x):
    with mpmath.workdps(30):
        p = mpmath.gammainc(a, 0, x, regularized=True)
        return float(p), float(1 - p) if p < 0.5 else float(
            mpmath.gammainc(a, x, mpmath.inf, regularized=True)
        )


def test_values_match_mpmath_across_the_branches():
    mpmath = pytest.importorskip("mpmath")
    a = np.array([1e-3, 0.1, 0.9, 1.5, 4.0, 19.0, 21.0, 60.0, 199.5, 200.0, 250.0, 600.0, 1e3])
    ratio = np.array([0.05, 0.5, 0.69, 0.75, 0.95, 0.999, 1.0, 1.001, 1.05, 1.25, 1.31, 2.0, 4.0])
    aa, xx = np.meshgrid(a, ratio, indexing="ij")
    aa, xx = aa.ravel(), (aa * xx).ravel()
    p, q = (_igamma(gg, n, aa, xx, np.float64) for n in ("gammainc", "gammaincc"))
    want = np.array([_mp_p_q(mpmath, float(s), float(t)) for s, t in zip(aa, xx)])
    # far from x = a the factor x^a e^-x / Γ(a) is exp(a log x - x - lgamma(a)), as PyTorch's: its
    # argument's rounding, ε (a |log x| + x), is the error there (3e-13 at P(1000, 500) = 3e-86)
    rtol = 1e-13 + 2.3e-16 * (aa * np.abs(np.log(xx)) + xx)
    for got, ref in ((p, want[:, 0]), (q, want[:, 1])):
        keep = ref > 1e-250
        assert np.all(np.abs(got - ref)[keep] <= (rtol * ref)[keep])


def test_where_pytorchs_series_is_cut_short_the_value_is_accurate():
    # just outside PyTorch's band for a = 1e6 its series stops at 2000 terms (P 1e-5 off); the
    # reference: P = x^a e^-x / Γ(a + 1) · 1F1(1; a + 1; x) summed to convergence
    mpmath = pytest.importorskip("mpmath")
    a, x = 1e6, 995400.0
    with mpmath.workdps(30):
        lead = mpmath.exp(a * mpmath.log(x) - x - mpmath.loggamma(a + 1))
        want = float(lead * mpmath.hyp1f1(1, a + 1, x, maxterms=10**6))
    np.testing.assert_allclose(_igamma(gg, "gammainc", [a], [x], np.float64), [want], rtol=1e-13)


EDGES = [0.0, -0.0, 5e-324, 1e-300, 0.5, 1.0, 25.0, 1e6, 1e10, 1e300, INF, -1.0, -INF, NAN]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
def test_edges_as_torch(torch, name, dtype):
    with np.errstate(over="ignore"):  # 1e300 is inf in float32
        a = np.repeat(np.array(EDGES, dtype), len(EDGES))
        x = np.tile(np.array(EDGES, dtype), len(EDGES))
    ours, theirs = _igamma(gg, name, a, x, dtype), _igamma(torch, name, a, x, dtype)
    assert ours.dtype == theirs.dtype
    # PyTorch's Q for a <= 1e-300 takes lgamma(1 + a), which drops a: Q = a E1(x) there
    keep = ~((np.abs(a) <= 1e-300) & (a != 0) & (name == "gammaincc"))
    # PyTorch's expansion takes float's π: 7e-10 off at (25, 25), 4e-12 at (1e6, 1e6) (mpmath and
    # quadrature); its float32 P(25, 0.5) is 2.3e-6 off
    rtol = (
        np.where(a > 20, np.where(a < 200, 1e-9, 1e-11), 1e-13)
        if dtype == np.float64
        else np.full(a.shape, 3e-6)
    )
    o, t = ours[keep].astype(np.float64), theirs[keep].astype(np.float64)
    np.testing.assert_array_equal(np.isnan(o), np.isnan(t))
    both = ~np.isnan(t)
    assert np.all(np.abs(o - t)[both] <= (rtol[keep] * np.abs(t))[both])


def test_nan_edges_follow_cephes_order():
    a = gg.tensor([NAN, NAN, INF, 0.0, NAN, INF], dtype=gg.float64)
    x = gg.tensor([0.0, INF, NAN, NAN, 1.0, INF], dtype=gg.float64)
    np.testing.assert_array_equal(gg.special.gammainc(a, x).numpy(), [0.0, 1.0, 0.0, NAN, NAN, NAN])
    np.testing.assert_array_equal(gg.special.gammaincc(a, x).numpy(), [1.0, 0.0, 1.0, NAN, NAN, NAN])


# ---- pow: b's gradient takes ln a in the result's dtype ---------------------------------------
POW_CASES = {
    "float32-float64": (np.float32, np.float64, [1e-30, 0.3, 2.0, 0.7], [0.5, 1.5, 2.0, 3.0]),
    "float16-float32": (np.float16, np.float32, [0.01, 0.3, 2.0, 0.7], [0.5, 1.5, 2.0, 3.0]),
    "float32-complex64": (np.float32, np.complex64, [-1.5, 0.3, 2.0, 0.5], [0.5 + 0.2j, 1.5, 2.0 - 1j, 1j]),
}


def _pow_grads(lib, da, db, av, bv):
    a = lib.tensor(np.array(av, dtype=da), requires_grad=True)
    b = lib.tensor(np.array(bv, dtype=db), requires_grad=True)
    z = lib.pow(a, b)
    ga, gb = lib.autograd.grad((z.real if z.is_complex() else z).sum(), (a, b), create_graph=True)
    second = lib.autograd.grad((gb.real if gb.is_complex() else gb).sum(), (a, b), allow_unused=True)
    return [t.detach().numpy() for t in (z, ga, gb, *second)]


@pytest.mark.parametrize("case", list(POW_CASES))
def test_pow_exponent_gradient_in_the_result_dtype(torch, case):
    ours, theirs = _pow_grads(gg, *POW_CASES[case]), _pow_grads(torch, *POW_CASES[case])
    for k, (o, t) in enumerate(zip(ours, theirs)):
        assert o.dtype == t.dtype, k
        np.testing.assert_allclose(o, t, rtol=1e-15, atol=0, err_msg=f"result {k}")


def test_pow_tensor_method_and_operator_float32_base(torch):
    out = []
    for lib in (gg, torch):
        a = lib.tensor(np.array([1e-30, 3.0], np.float32))
        b = lib.tensor(np.array([0.5, 2.0]), requires_grad=True)
        ((a**b).sum() + a.pow(b).sum()).backward()
        out.append(b.grad.numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-15, atol=0)


# ---- Bessel I1 slopes at subnormals and NaN -----------------------------------------------------
TINY = [5e-324, -5e-324, 1e-310, -2.2250738585072014e-308, 1e-300, 1e-20, 0.0, NAN, -2e-16]


def _bessel_orders(lib, name, dtype):
    f = lib.special.i0 if name == "i0" else getattr(lib.special, name)
    x = lib.tensor(np.array(TINY, dtype), requires_grad=True)
    y = f(x)
    (first,) = lib.autograd.grad(y.sum(), x, create_graph=True)
    (second,) = lib.autograd.grad(first.sum(), x)
    return y.detach().numpy(), first.detach().numpy(), second.numpy()


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", ["i0", "i0e", "i1", "i1e"])
def test_bessel_slopes_at_subnormals_and_nan_as_torch(torch, name, dtype):
    ours, theirs = _bessel_orders(gg, name, dtype), _bessel_orders(torch, name, dtype)
    rtol = 1e-14 if dtype == np.float64 else 2e-7
    for k, (o, t) in enumerate(zip(ours, theirs)):
        assert o.dtype == t.dtype
        np.testing.assert_allclose(o, t, rtol=rtol, atol=0, equal_nan=True, err_msg=f"order {k}")
