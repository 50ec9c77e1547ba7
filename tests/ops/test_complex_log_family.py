"""Complex ``log1p`` and ``logaddexp`` against PyTorch.

NumPy's complex ``log1p`` forms 1 + z before its log, so ln(1 + z) of a small z lost digits (1.8e-8
relative error at |z| = 1e-8 in complex128, where PyTorch's is an ulp); ``logaddexp`` refused
complex operands, which PyTorch computes (log-space scans of signed values through complex logs).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import KernelDTypeError

DTYPES = ["complex64", "complex128"]
SPECIAL = [
    0j, -0.0 + 0j, complex(-0.0, -0.0), -1 + 0j, complex(-1, 1e-30), complex(np.inf, 0),
    complex(-np.inf, 0), complex(np.nan, 1), complex(0, np.inf), 1e-300j, complex(-2, 0), complex(-2, -0.0),
]  # fmt: skip


def _same_or_close(got, want, ulps):
    """Equal where either part is not finite (NaN matching NaN), within ``ulps`` relative elsewhere."""
    for g, w in ((got.real, want.real), (got.imag, want.imag)):
        with np.errstate(all="ignore"):
            special = ~np.isfinite(g) | ~np.isfinite(w)
        np.testing.assert_array_equal(g[special], w[special])
    finite = np.isfinite(got) & np.isfinite(want)
    scale = np.maximum(np.abs(want[finite]), np.finfo(got.dtype).tiny)
    assert (np.abs(got[finite] - want[finite]) / scale).max() <= ulps * np.finfo(got.dtype).eps


@pytest.mark.parametrize("dtype", DTYPES)
def test_complex_log1p_is_accurate_near_zero_as_torch(torch, dtype):
    rng = np.random.default_rng(641)
    w = (rng.standard_normal(4000) + 1j * rng.standard_normal(4000)) * 10.0 ** rng.uniform(-30, 30, 4000)
    v = np.concatenate([SPECIAL, w]).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (PyTorch warns for none of these)
        got = gg.log1p(gg.tensor(v)).numpy()
    want = torch.log1p(torch.tensor(v)).numpy()
    assert got.dtype == want.dtype
    n = len(SPECIAL)
    np.testing.assert_array_equal(got[:n], want[:n])  # (signs of zero too)
    np.testing.assert_array_equal(np.signbit(got[:n].imag), np.signbit(want[:n].imag))
    _same_or_close(got[n:], want[n:], ulps=4)
    small = gg.log1p(gg.tensor(np.array([1e-8 + 1e-8j]), dtype=getattr(gg, dtype))).numpy()
    exact = torch.log1p(torch.tensor([1e-8 + 1e-8j], dtype=getattr(torch, dtype))).numpy()
    _same_or_close(small, exact, ulps=2)  # (NumPy's own: 1.8e-8 relative in complex128)


def _grid(dtype):
    rng = np.random.default_rng(642)
    vals = [
        0j,
        1 + 2j,
        -1 - 1j,
        complex(np.inf, 0),
        complex(-np.inf, 0),
        complex(np.inf, 1),
        complex(-np.inf, 2),
    ]
    vals += [complex(np.nan, 0), complex(0, np.nan), 3 + 0j, 1000 + 1j, -1000 + 3j, complex(-np.inf, np.inf)]
    vals += list(rng.standard_normal(12) * 5 + 1j * rng.standard_normal(12) * 5)
    a = np.array([x for x in vals for _ in vals], dtype=dtype)
    b = np.array([y for _ in vals for y in vals], dtype=dtype)
    return a, b


@pytest.mark.parametrize("dtype", DTYPES)
def test_complex_logaddexp_values_match_torch_on_a_grid_with_infinities_and_nans(torch, dtype):
    a, b = _grid(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = gg.logaddexp(gg.tensor(a), gg.tensor(b)).numpy()
    want = torch.logaddexp(torch.tensor(a), torch.tensor(b)).numpy()
    assert got.dtype == want.dtype
    _same_or_close(got, want, ulps=8)


def test_complex_logaddexp_promotes_a_real_operand_and_broadcasts(torch):
    rng = np.random.default_rng(643)
    a = rng.standard_normal((2, 1, 3)) + 1j * rng.standard_normal((2, 1, 3))
    b = rng.standard_normal((4, 1)).astype(np.float32)
    got = gg.logaddexp(gg.tensor(a.astype(np.complex64)), gg.tensor(b))
    want = torch.logaddexp(torch.tensor(a.astype(np.complex64)), torch.tensor(b))
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1] and got.shape == want.shape
    # an ulp or two of the operands (about 1): max + log1p(...) cancels near 0 in one entry
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=4 * np.finfo(np.float32).eps)


def test_complex_logaddexp_first_and_second_derivatives_match_torch(torch):
    rng = np.random.default_rng(644)
    a = rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))
    b = rng.standard_normal((2, 3)) * 3 + 1j * rng.standard_normal((2, 3))

    def run(lib):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        z = lib.logaddexp(x, y)
        gx, gy = lib.autograd.grad((z.abs() ** 2).sum(), (x, y), create_graph=True)
        hx, hy = lib.autograd.grad((gx.abs() ** 2).sum() + (gy * gy.conj()).real.sum(), (x, y))
        return type(z.grad_fn).__name__, [t.detach().numpy() for t in (z, gx, gy, hx, hy)]

    (name, got), (want_name, want) = run(gg), run(torch)
    assert name == want_name == "LogaddexpBackward0"
    for u, v in zip(got, want, strict=True):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-13)


def test_complex_logaddexp_and_log1p_gradcheck_with_a_real_operand():
    rng = np.random.default_rng(645)
    x = gg.tensor(rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3)), requires_grad=True)
    y = gg.tensor(rng.standard_normal((2, 1)) + 1j * rng.standard_normal((2, 1)), requires_grad=True)
    r = gg.tensor(rng.standard_normal(3), requires_grad=True)
    assert gg.autograd.gradcheck(gg.logaddexp, (x, y))
    assert gg.autograd.gradgradcheck(gg.logaddexp, (x, y))
    assert gg.autograd.gradcheck(gg.logaddexp, (x, r))
    assert gg.autograd.gradgradcheck(gg.log1p, (x * 0.1,))


def test_complex_logaddexp2_stays_refused_as_torch(torch):
    x = np.array([1 + 1j])
    with pytest.raises(NotImplementedError, match="logaddexp2"):
        torch.logaddexp2(torch.tensor(x), torch.tensor(x))
    with pytest.raises(KernelDTypeError, match="logaddexp2: expected floating point tensors, got"):
        gg.logaddexp2(gg.tensor(x), gg.tensor(x))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_complex_logcumsumexp_matches_torch_with_its_branches_and_infinities(torch, dtype, dim):
    rng = np.random.default_rng(646)
    # integer real parts (ties) and imaginary parts up to +-20: each prefix's imaginary part is the
    # branch PyTorch's one-at-a-time scan lands on (a doubling scan was 2 pi off in places)
    a = rng.integers(-2, 3, (3, 7, 5)) + rng.standard_normal((3, 7, 5)) + 6j * rng.standard_normal((3, 7, 5))
    a[0, 2, 1], a[2, 3, 3], a[2, 4, 0] = complex(-np.inf, 0), complex(np.inf, 1), complex(np.nan, 0)
    a[1, :, 2] = complex(-np.inf, 0)
    v = a.astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = gg.logcumsumexp(gg.tensor(v), dim).numpy()
    want = torch.logcumsumexp(torch.tensor(v), dim).numpy()
    assert got.dtype == want.dtype and got.flags.c_contiguous
    _same_or_close(got, want, ulps=8)


def test_complex_logcumsumexp_derivatives_and_node_names_match_torch(torch):
    rng = np.random.default_rng(647)
    a = rng.standard_normal((4, 6)) + 4j * rng.standard_normal((4, 6))

    def run(lib):
        x = lib.tensor(a, requires_grad=True)
        z = lib.logcumsumexp(x, 1)
        (gx,) = lib.autograd.grad((z * z.conj()).real.sum() + z.imag.sum(), (x,), create_graph=True)
        (h,) = lib.autograd.grad((gx.abs() ** 2).sum(), (x,))
        real = lib.tensor([1.0, 2.0], requires_grad=True).logcumsumexp(0)
        names = (type(z.grad_fn).__name__, type(real.grad_fn).__name__)
        return names, [t.detach().resolve_conj().numpy() for t in (z, gx, h)]

    (names, got), (want_names, want) = run(gg), run(torch)
    assert names == want_names == ("LogcumsumexpBackward0", "LogcumsumexpBackward0")
    for u, v in zip(got, want, strict=True):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-12 * np.abs(v).max())
    x = gg.tensor(a[:2, :4], requires_grad=True)
    assert gg.autograd.gradcheck(lambda t: gg.logcumsumexp(t, 1), (x,))
    assert gg.autograd.gradgradcheck(lambda t: gg.logcumsumexp(t, 1), (x,))
