"""torch.special's Bessel functions (J0, J1, Y0, Y1, K0, K1, scaled K, spherical j0): known zeros
and values, the Wronskians across every method's region, the edges, and PyTorch parity (whose
float64 J and Y are off by up to 1e-6 between x = 3 and 8, so the parity is loose there; SciPy, where
installed, checks the last bits)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg

S = gg.special
NAMES = [
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_k0", "modified_bessel_k1",
    "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0",
]  # fmt: skip


def _f64(values):
    return gg.tensor(np.asarray(values, dtype=np.float64))


def test_zeros_and_values():
    # the first zeros of J0, J1, Y0 and Y1
    assert abs(S.bessel_j0(_f64([2.404825557695773])).item()) < 1e-15
    assert abs(S.bessel_j1(_f64([3.831705970207512])).item()) < 1e-15
    assert abs(S.bessel_y0(_f64([0.8935769662791675])).item()) < 1e-15
    assert abs(S.bessel_y1(_f64([2.197141326031017])).item()) < 1e-15
    # series: J0(x) ~ 1 - x^2/4, Y0(x) ~ (2/pi)(ln(x/2) + gamma), K0(x) ~ -(ln(x/2) + gamma)
    x = 1e-6
    assert S.bessel_j0(_f64([x])).item() == pytest.approx(1 - x * x / 4, abs=1e-18)
    assert S.bessel_y0(_f64([x])).item() == pytest.approx(
        2 / math.pi * (math.log(x / 2) + 0.5772156649015329), rel=1e-12
    )
    assert S.modified_bessel_k0(_f64([x])).item() == pytest.approx(
        -(math.log(x / 2) + 0.5772156649015329), rel=1e-10
    )
    # large x: e^x K1(x) ~ sqrt(pi / 2x) (1 + 3 / 8x - 15 / 128x^2 + 105 / 1024x^3 - ...)
    big = 400.0
    assert S.scaled_modified_bessel_k1(_f64([big])).item() == pytest.approx(
        math.sqrt(math.pi / (2 * big)) * (1 + 3 / (8 * big) - 15 / (128 * big**2) + 105 / (1024 * big**3)),
        rel=1e-11,
    )
    assert S.spherical_bessel_j0(_f64([math.pi / 2])).item() == pytest.approx(2 / math.pi, rel=1e-15)


def test_wronskians_hold_across_regions():
    x = np.concatenate([np.linspace(0.01, 1, 50), np.linspace(1.001, 19.99, 400), np.linspace(20, 300, 200)])
    j0, j1, y0, y1 = (
        getattr(S, n)(_f64(x)).numpy() for n in ("bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1")
    )
    np.testing.assert_allclose(x * (j1 * y0 - j0 * y1), 2 / math.pi, rtol=1e-13)
    xk = np.concatenate([np.linspace(0.01, 2, 50), np.linspace(2.01, 19.99, 300), np.linspace(20, 600, 100)])
    i0, i1 = gg.special.i0e(_f64(xk)).numpy(), gg.special.i1e(_f64(xk)).numpy()
    k0, k1 = S.scaled_modified_bessel_k0(_f64(xk)).numpy(), S.scaled_modified_bessel_k1(_f64(xk)).numpy()
    np.testing.assert_allclose(xk * (i0 * k1 + i1 * k0), 1.0, rtol=1e-13)  # I0 K1 + I1 K0 = 1 / x
    np.testing.assert_allclose(S.modified_bessel_k0(_f64(xk)).numpy(), k0 * np.exp(-xk), rtol=1e-13)


def test_edges_match_pytorch(torch):
    x = np.array([0.0, -0.0, -1.5, -30.0, np.inf, -np.inf, np.nan, 1e-310, 5.0])
    for name in NAMES:
        ours = getattr(S, name)(gg.tensor(x)).numpy()
        theirs = getattr(torch.special, name)(torch.tensor(x)).numpy()
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=name)
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6, err_msg=name)
        assert np.array_equal(np.signbit(ours[:2]), np.signbit(theirs[:2])), name
        assert getattr(S, name)(gg.tensor([1, 2])).dtype == gg.float32
        assert not getattr(S, name)(gg.tensor([1.0], requires_grad=True)).requires_grad
    with pytest.raises(TypeError, match="float32 or float64"):
        S.bessel_j0(gg.tensor([1.0], dtype=gg.float16))


def test_random_values_match_pytorch(torch):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-5, 5, 500), rng.uniform(-60, 60, 500), 10 ** rng.uniform(-8, 3, 500)])
    for name in NAMES:
        for dtype in ("float64", "float32"):
            ours = getattr(S, name)(gg.tensor(x.astype(dtype))).numpy()
            theirs = getattr(torch.special, name)(torch.tensor(x.astype(dtype))).numpy()
            assert ours.dtype == theirs.dtype
            # PyTorch 2.13's J and Y in float64 err up to 1e-6 (between 3 and 8), its Ai up to 3e-6
            # (near -2); its K to the last bits
            if name == "airy_ai":
                tol = (5e-6, 5e-6)
            elif "bessel_j" in name or "bessel_y" in name:
                tol = (1e-6, 1e-6)
            else:
                tol = (2e-5, 1e-30) if dtype == "float32" else (1e-13, 1e-300)
            np.testing.assert_allclose(
                ours, theirs, rtol=tol[0], atol=tol[1], equal_nan=True, err_msg=f"{name} {dtype}"
            )


def test_last_bits_against_scipy():
    sp = pytest.importorskip("scipy.special")
    rng = np.random.default_rng(1)
    # to x = 30: past it SciPy's Cephes reduces x - pi/4 itself and loses the last bits
    x = np.concatenate([rng.uniform(0.001, 30, 2000), 10 ** rng.uniform(-6, 1.4, 500)])
    ref = {"bessel_j0": sp.j0, "bessel_j1": sp.j1, "bessel_y0": sp.y0, "bessel_y1": sp.y1,
           "modified_bessel_k0": sp.k0, "modified_bessel_k1": sp.k1, "scaled_modified_bessel_k0": sp.k0e,
           "scaled_modified_bessel_k1": sp.k1e}  # fmt: skip
    for name, fn in ref.items():
        ours = getattr(S, name)(_f64(x)).numpy()
        with np.errstate(all="ignore"):
            truth = fn(x)
        kept = np.isfinite(truth) & (truth != 0)
        # absolute near the zeros of J and Y (where a relative error means nothing), relative elsewhere
        atol = 1e-15 if "bessel_j" in name or "bessel_y" in name else 0
        np.testing.assert_allclose(ours[kept], truth[kept], rtol=2e-14, atol=atol, err_msg=name)


def test_airy_values_zero_and_equation():
    # Ai(0), Ai(1), Ai(-1) (to 16 digits) and the first zero of Ai
    got = S.airy_ai(_f64([0.0, 1.0, -1.0, -2.338107410459767])).numpy()
    np.testing.assert_allclose(
        got[:3], [0.3550280538878172, 0.1352924163128814, 0.5355608832923521], rtol=2e-15
    )
    assert abs(got[3]) < 1e-15
    # Ai'' = x Ai by central differences, on both sides of each method's boundary (1, 10, -14)
    x = np.array([-20.0, -14.2, -13.8, -7.3, -0.4, 0.9, 1.1, 5.0, 9.9, 10.1, 14.0])
    h = 1e-3
    second = (
        S.airy_ai(_f64(x + h)).numpy() - 2 * S.airy_ai(_f64(x)).numpy() + S.airy_ai(_f64(x - h)).numpy()
    ) / h**2
    np.testing.assert_allclose(second, x * S.airy_ai(_f64(x)).numpy(), rtol=1e-5, atol=1e-9)


def test_airy_last_bits_against_mpmath():
    mpmath = pytest.importorskip("mpmath")
    x = np.concatenate([np.linspace(-60, 12, 181), [20.0, 50.0, 103.1]])
    truth = np.array([float(mpmath.airyai(v)) for v in x])
    got = S.airy_ai(_f64(x)).numpy()
    # past -14 the phase (2/3)|x|^(3/2) carries float64's rounding of a number near 300: 1e-14
    near = x >= -14
    np.testing.assert_allclose(got[near], truth[near], rtol=1e-13, atol=2e-15)
    np.testing.assert_allclose(got[~near], truth[~near], rtol=0, atol=5e-14)
