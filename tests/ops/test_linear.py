"""The fused Linear primitive against its composite x @ W.t() + b, and through F.linear."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.errors import DTypeError
from glassgrad.ops.linear import Linear


def test_fused_linear_equals_its_composite():
    rng = np.random.default_rng(0)
    for lead in [(), (5,), (2, 3)]:
        x0, w0, b0 = rng.standard_normal((*lead, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)
        fused = [gg.tensor(a, requires_grad=True) for a in (x0, w0, b0)]
        plain = [gg.tensor(a, requires_grad=True) for a in (x0, w0, b0)]
        y1 = Linear.apply(*fused)
        y2 = plain[0] @ plain[1].t() + plain[2]
        np.testing.assert_allclose(y1._data, y2._data, rtol=1e-12, atol=1e-12)
        g = rng.standard_normal(y1.shape)
        y1.backward(gg.tensor(g))
        y2.backward(gg.tensor(g))
        for a, b in zip(fused, plain):
            np.testing.assert_allclose(a.grad._data, b.grad._data, rtol=1e-12, atol=1e-12)


def test_f_linear_records_one_node_and_checks_dtypes():
    x = gg.randn(2, 3)
    w = gg.randn(4, 3, requires_grad=True)
    b = gg.zeros(4, requires_grad=True)
    assert F.linear(x, w, b).grad_fn.name() == "AddmmBackward0"  # (one node, named as PyTorch's)
    with pytest.raises(
        DTypeError, match="linear: expected input and weight of one dtype, got glassgrad.float64"
    ):
        F.linear(x.double(), w)
