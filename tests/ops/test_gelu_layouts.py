"""Exact GELU and erf (ops/special.py) against PyTorch where the piecewise kernels first differed:
broadcast (expanded, 0-stride) inputs keep PyTorch's result strides, float16 erf and GELU's float16
gradient are computed in float32 and rounded once as PyTorch computes them, and inf inputs give
PyTorch's nan/inf without NumPy's RuntimeWarning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.ops import activation as A
from glassgrad.ops.blocks import BLOCK


def _f16_ulps(a: np.ndarray, b: np.ndarray) -> float:
    """Largest distance in float16 ulps (of the larger magnitude) between two float16 arrays,
    less 1.5e-6: PyTorch's vectorised float32 GELU is up to 1.07e-6 from the exact value (see
    test_gelu_pieces.py), so in GELU's tails, where float16 ulps are tiny, the two differ by that
    and not by float16 rounding (GELU(-3.965) is -1.4560e-4 exactly, -1.4627e-4 in PyTorch)."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    ulp = np.spacing(np.maximum(np.abs(a), np.abs(b)).astype(np.float16)).astype(np.float64)
    return float(np.max(np.maximum(np.abs(a - b) - 1.5e-6, 0) / ulp)) if a.size else 0.0


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("view", ["lead", "middle", "transposed", "row"])
def test_expanded_input_keeps_pytorchs_strides(torch, dtype, view):
    base = (np.random.default_rng(0).standard_normal((48, 40)) * 3).astype(dtype)
    t_base, g_base = torch.tensor(base), gg.tensor(base)
    make = {
        "lead": lambda b: b.unsqueeze(0).expand(64, 48, 40),  # 122,880 elements: above BLOCK
        "middle": lambda b: b.unsqueeze(1).expand(48, 5, 40),
        "transposed": lambda b: b.t().unsqueeze(0).expand(30, 40, 48),
        "row": lambda b: b[:1].expand(48, 40),
    }[view]
    x, t = make(g_base), make(t_base)
    for ours, ref in [(A.gelu(x), torch.nn.functional.gelu(t)), (gg.erf(x), torch.erf(t))]:
        assert ours.stride() == ref.stride() and ours.dtype == getattr(gg, dtype)
        if dtype == "float16":
            assert _f16_ulps(ours._data, ref.numpy()) <= 1
        else:
            np.testing.assert_allclose(ours._data, ref.numpy(), rtol=1e-5, atol=1.5e-6)


@pytest.mark.parametrize("size", [7, BLOCK + 1])
def test_float16_erf_is_pytorchs_float32_rounded(torch, size):
    x = np.concatenate([np.linspace(-5, 5, 4001), [0.0, -0.0, np.inf, -np.inf, np.nan]])
    x = np.resize(x, size).astype(np.float16)
    ours, ref = gg.erf(gg.tensor(x)), torch.erf(torch.tensor(x))
    assert ours.dtype == gg.float16
    both_nan = np.isnan(ours._data) & np.isnan(ref.numpy())
    assert _f16_ulps(ours._data[~both_nan], ref.numpy()[~both_nan]) <= 1


@pytest.mark.parametrize("size", [7, 3 * BLOCK + 5])
def test_float16_gelu_gradient_is_pytorchs_float32_rounded(torch, size):
    rng = np.random.default_rng(size)
    x = (rng.standard_normal(size) * 3).astype(np.float16)
    up = rng.standard_normal(size).astype(np.float16)
    a, t = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = A.gelu(a), torch.nn.functional.gelu(t)
    assert _f16_ulps(out._data, ref.detach().numpy()) <= 1
    out.backward(gg.tensor(up))
    ref.backward(torch.tensor(up))
    assert a.grad.dtype == gg.float16
    assert _f16_ulps(a.grad._data, t.grad.numpy()) <= 1


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("size", [8, BLOCK + 8])
def test_infinite_input_gives_no_runtime_warning(torch, dtype, size):
    with np.errstate(over="ignore"):  # 1e30 is inf in float16
        x = np.resize(np.array([np.inf, -np.inf, 1e30, -1e30, np.nan, 1.0, -1.0, 0.0]), size).astype(dtype)
    a = gg.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        out = A.gelu(a)
        out.backward(gg.ones_like(out))
    if dtype == "float64":  # PyTorch's float32 and float16 kernels give nan at +inf, float64 inf
        t = torch.tensor(x, requires_grad=True)
        ref = torch.nn.functional.gelu(t)
        ref.backward(torch.ones_like(ref))
        np.testing.assert_allclose(out._data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(a.grad._data, t.grad.numpy(), rtol=1e-10, atol=1e-12)
