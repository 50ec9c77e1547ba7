"""ops/quantile.py (``quantile``/``nanquantile``, functions and methods) against PyTorch: values
for every interpolation, q as a number, a 0-d and a 1-D tensor, dims, keepdim, NaN slices;
gradients for the input and a tensor q; a float64 finite-difference gradcheck; the errors."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck

MODES = ["linear", "lower", "higher", "midpoint", "nearest"]
_rng = np.random.default_rng(3)
DISTINCT = _rng.standard_normal((3, 4, 5))
NANS = DISTINCT.copy()
NANS[0, 1, 2] = np.nan
NANS[1, :, 3] = np.nan  # an all-NaN slice along dim 1


def _q(module, q):
    return module.tensor(q) if isinstance(q, np.ndarray) else q


@pytest.mark.parametrize("fn", ["quantile", "nanquantile"])
@pytest.mark.parametrize("mode", MODES)
def test_values_match_pytorch(torch, fn, mode):
    for x in (DISTINCT, NANS):
        for q in (0.3, 1.0, np.array(0.25), np.array([0.0, 0.125, 0.5, 0.875])):
            for dim, keepdim in ((None, False), (None, True), (0, False), (1, True), (-1, False)):
                want = getattr(torch, fn)(torch.tensor(x), _q(torch, q), dim, keepdim, interpolation=mode)
                got = getattr(gg, fn)(gg.tensor(x), _q(gg, q), dim, keepdim, interpolation=mode)
                assert tuple(got.shape) == tuple(want.shape), (q, dim, keepdim)
                np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=0, atol=1e-12)


def test_nearest_rounds_half_to_even_and_midpoint_averages():
    x = gg.tensor([0.0, 1.0, 2.0, 3.0, 4.0])  # rank = 4 q
    np.testing.assert_array_equal(
        gg.quantile(x, gg.tensor([0.125, 0.375, 0.625]), interpolation="nearest").numpy(), [0.0, 2.0, 2.0]
    )
    assert gg.quantile(x, 0.125, interpolation="midpoint").item() == 0.5
    assert gg.nanquantile(gg.tensor([np.nan, 1.0, 3.0]), 0.5).item() == 2.0
    assert np.isnan(gg.quantile(gg.tensor([np.nan, 1.0, 3.0]), 0.5).item())


@pytest.mark.parametrize("mode", MODES)
def test_gradients_match_pytorch(torch, mode):
    x = DISTINCT[0]
    for dim in (None, 1, 0):
        a, t = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        qa = gg.tensor([0.1, 0.5, 0.93], dtype=gg.float64, requires_grad=True)
        qt = torch.tensor([0.1, 0.5, 0.93], dtype=torch.float64, requires_grad=True)
        got, want = (
            gg.quantile(a, qa, dim, interpolation=mode),
            torch.quantile(t, qt, dim, interpolation=mode),
        )
        w = _rng.standard_normal(tuple(want.shape))
        (got * gg.tensor(w)).sum().backward()
        (want * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=0, atol=1e-12)
        want_q = np.zeros(3) if qt.grad is None else qt.grad.numpy()
        got_q = np.zeros(3) if qa.grad is None else qa.grad.numpy()
        np.testing.assert_allclose(got_q, want_q, rtol=0, atol=1e-12)


def test_gradcheck_float64():
    x = gg.tensor(_rng.standard_normal((3, 6)), requires_grad=True)
    q = gg.tensor([0.15, 0.55, 0.9], dtype=gg.float64, requires_grad=True)
    assert gradcheck(lambda a, b: gg.quantile(a, b, dim=1), (x, q))
    assert gradcheck(lambda a: a.nanquantile(0.3, dim=0, keepdim=True, interpolation="midpoint"), (x,))


def test_methods_float32_and_out(torch):
    x = DISTINCT.astype(np.float32)
    got = gg.tensor(x).nanquantile(0.3, dim=1)
    assert got.dtype == gg.float32
    np.testing.assert_allclose(got.numpy(), torch.tensor(x).nanquantile(0.3, dim=1).numpy(), rtol=1e-6)
    out = gg.empty(0, dtype=gg.float64)
    result = gg.quantile(gg.tensor(DISTINCT), 0.5, dim=2, out=out)
    assert result is out and tuple(out.shape) == (3, 4)
    np.testing.assert_allclose(out.numpy(), np.quantile(DISTINCT, 0.5, axis=2), rtol=1e-12)
    assert tuple(gg.quantile(gg.tensor(3.0), 0.5, dim=0, keepdim=True).shape) == ()


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: gg.quantile(gg.tensor([]), 0.5), RuntimeError, "non-empty"),
        (lambda: gg.quantile(gg.arange(3), 0.5), RuntimeError, "int64"),
        (lambda: gg.quantile(gg.tensor(DISTINCT), 1.5), RuntimeError, "[0, 1]"),
        (
            lambda: gg.quantile(gg.tensor(DISTINCT), gg.tensor([0.2, 1.5], dtype=gg.float64)),
            RuntimeError,
            "[0, 1]",
        ),
        (lambda: gg.quantile(gg.tensor(DISTINCT), gg.tensor([0.5])), RuntimeError, "float32"),
        (
            lambda: gg.quantile(gg.tensor(DISTINCT), gg.tensor([[0.5]], dtype=gg.float64)),
            RuntimeError,
            "(1, 1)",
        ),
        (lambda: gg.quantile(gg.tensor(DISTINCT), 0.5, interpolation="cubic"), RuntimeError, "'cubic'"),
        (lambda: gg.quantile(gg.tensor(DISTINCT), 0.5, dim=3), IndexError, "got 3"),
    ],
)
def test_errors_name_the_op_and_what_was_expected(call, error, words):
    with pytest.raises(error, match="quantile") as info:
        call()
    assert words in str(info.value)
