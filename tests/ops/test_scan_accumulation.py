"""cumsum/cumprod/logcumsumexp of float32 accumulate in float64, as PyTorch's CPU scans do
(``acc_type<float, false>`` is double), so every prefix is the exactly rounded one and the result
equals PyTorch's bit for bit; a float32 running sum drifted with the length (1.9e-5 relative after
1e6 terms). Found porting aladdinpersson's mean_avg_precision.py (``torch.cumsum`` of TP/FP)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

_rng = np.random.default_rng(0)


def test_float32_cumsum_is_the_rounded_float64_one():
    y = _rng.random(100_000).astype(np.float32)
    exact = np.cumsum(y.astype(np.float64)).astype(np.float32)
    assert np.array_equal(gg.cumsum(gg.tensor(y), 0).numpy(), exact)


def test_cumsum_gradient_accumulates_in_float64_too():
    g = _rng.random(50_000).astype(np.float32)
    x = gg.zeros(50_000, requires_grad=True)
    (gg.cumsum(x, 0) * gg.tensor(g)).sum().backward()
    exact = np.cumsum(g[::-1].astype(np.float64))[::-1].astype(np.float32)
    assert np.array_equal(x.grad.numpy(), exact)


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "logcumsumexp"])
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_scans_equal_torch_bit_for_bit(torch, name, dtype):
    y = _rng.uniform(0.9, 1.1, (300, 4)).astype(dtype)
    for dim in (0, 1):
        ours = getattr(gg, name)(gg.tensor(y), dim).numpy()
        theirs = getattr(torch, name)(torch.tensor(y), dim).numpy()
        assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)
