"""Regression tests for the special functions and math ops at their extremes (subnormals, poles,
huge inputs, high orders, numbers past float32, mismatched shapes), from the review of math_more /
unary_more / special_series. Each failed before its fix."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import ShapeError
from tests.ops.test_math_more import _run

INF, NAN = math.inf, math.nan


def test_lgamma_at_subnormals_and_huge_negative_integers():
    """pi / sin(pi x) overflowed for subnormal x (inf, not -ln x); and at -1.7e308, a pole,
    inf - inf gave NaN."""
    x = gg.tensor([1e-310, -1e-310, 5e-324, 2e-308, -1.7e308, -1e306, -3.0], dtype=gg.float64)
    ours = gg.lgamma(x).numpy()
    np.testing.assert_allclose(
        ours[:4], [-math.log(abs(v)) for v in (1e-310, -1e-310, 5e-324, 2e-308)], rtol=1e-15
    )
    assert (ours[4:] == INF).all()


def test_i0_of_huge_inputs_is_plus_inf():
    """2 pi x overflowed past 2.9e307, so I0 was inf / inf = NaN, then -inf (NaN's sign)."""
    x = gg.tensor([1.7e308, -1.7e308, 3e307], dtype=gg.float64, requires_grad=True)
    out = gg.i0(x)
    out.backward(gg.ones_like(out))
    assert out.tolist() == [INF, INF, INF] and x.grad.tolist() == [INF, -INF, INF]


def test_polygamma_of_order_past_170(torch):
    """171! is past the largest double: math.factorial(n) as a float raised OverflowError."""
    x = np.array([0.5, 1.0, 3.0, 100.0, -0.5, 0.0])
    for n in (170, 171, 200):
        _run(torch, lambda t, n=n: gg.polygamma(n, t), lambda t, n=n: torch.polygamma(n, t), [x], 1e-12)


def test_polygamma_at_large_negative_inputs_sums_in_bounded_memory():
    """Hurwitz zeta at q < 0 sums about -q terms: once a (points x 4096) block at a time."""
    import tracemalloc

    x = gg.tensor(-np.linspace(900.25, 999.75, 3000), dtype=gg.float64)
    tracemalloc.start()
    try:
        out = gg.polygamma(2, x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6, peak  # 3000 x 1000 terms at once: 50 MB
    assert np.isfinite(out.numpy()).all()


def test_numbers_past_float32_and_mismatched_shapes():
    f = gg.tensor([0.0, 2.0, -3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 1e300 into float32 overflowed with NumPy's warning
        assert gg.copysign(f, 1e300).tolist() == [0.0, 2.0, 3.0]
        assert gg.xlogy(f, 1e300).tolist() == [0.0, INF, -INF]
    for call, name in [
        (lambda: gg.bitwise_left_shift(gg.tensor([1, 2, 3]), gg.tensor([1, 2])), "bitwise_left_shift"),
        (lambda: gg.tensor([1, 2, 3]) >> gg.tensor([1, 2]), "bitwise_right_shift"),
        (lambda: gg.fmod(gg.tensor([1, 2, 3]), gg.tensor([1, 2])), "fmod"),
        (lambda: gg.nextafter(f, gg.tensor([1.0, 2.0])), "nextafter"),
    ]:
        with pytest.raises(ShapeError, match=f"{name}: expected broadcastable shapes, got"):
            call()
    with pytest.raises(TypeError, match="float_power: expected a Tensor or a number, got str"):
        gg.float_power(f, "a")
