"""torch.special.spherical_bessel_j0: sin(x) / x with its series near 0, against hand values and PyTorch."""

from __future__ import annotations

import math

import numpy as np

import glassgrad as gg


def test_hand_values():
    x = gg.tensor([0.0, math.pi / 2, math.pi, 1e-9, math.inf, -math.inf], dtype=gg.float64)
    out = gg.special.spherical_bessel_j0(x).tolist()
    assert out[0] == 1.0 and out[3] == 1.0 and out[4] == 0.0 and out[5] == 0.0
    assert abs(out[1] - 2 / math.pi) < 1e-16 and abs(out[2]) < 1e-16
    # the series branch below 0.5: 1 - x^2/3! + x^4/5! - x^6/7! + x^8/9! at 0.1 (the next term is 1e-22)
    series = 1 - 0.01 / 6 + 1e-4 / 120 - 1e-6 / 5040 + 1e-8 / 362880
    assert abs(gg.special.spherical_bessel_j0(gg.tensor(0.1, dtype=gg.float64)).item() - series) < 2e-16


def test_matches_pytorch(torch):
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            [0.0, -0.0, 0.4999, 0.5, 0.50001, np.nan, 1e20, 5e-324],
            rng.uniform(-1, 1, 500),
            rng.uniform(-100, 100, 500),
        ]
    )
    for dtype, atol in (("float64", 2e-16), ("float32", 2e-7)):
        theirs = torch.special.spherical_bessel_j0(torch.tensor(x.astype(dtype)))
        ours = gg.special.spherical_bessel_j0(gg.tensor(x.astype(dtype)))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=0, atol=atol)
    assert gg.special.spherical_bessel_j0(gg.tensor([1, 2])).dtype == gg.float32
    x = gg.tensor([1.0], requires_grad=True)
    assert (
        gg.special.spherical_bessel_j0(x).requires_grad
        is torch.special.spherical_bessel_j0(torch.tensor([1.0], requires_grad=True)).requires_grad
    )
