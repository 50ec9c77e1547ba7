"""Complex asin/acos/atan/asinh/acosh/atanh, prod and cumprod (ops/complex_twins.py) against
PyTorch (values on the principal branches, PyTorch's complex gradients, points on the branch cuts'
axis and zeros included), and complex gradchecks."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck

_rng = np.random.default_rng(4)
Z = (_rng.standard_normal((3, 4)) + 1j * _rng.standard_normal((3, 4))) * 1.5
Z[0, 0], Z[1, 1], Z[2, 2], Z[2, 3] = 0, 2.5 + 0j, -1.7 + 0j, 0  # zeros, and real points past +-1
W = _rng.standard_normal((3, 4)) + 1j * _rng.standard_normal((3, 4))
FNS = {
    "asin": lambda m, t: t.asin(),
    "acos": lambda m, t: t.acos(),
    "atan": lambda m, t: t.atan(),
    "asinh": lambda m, t: t.asinh(),
    "acosh": lambda m, t: t.acosh(),
    "atanh": lambda m, t: t.atanh(),
    "prod_dim": lambda m, t: t.prod(1),
    "prod": lambda m, t: t.prod(),
    "cumprod": lambda m, t: t.cumprod(1),
    "cumprod_fn": lambda m, t: m.cumprod(t, 0),
}


@pytest.mark.parametrize("name", list(FNS))
def test_complex_values_and_gradients_match_torch(torch, name):
    res = []
    for m in (torch, gg):
        t = m.tensor(Z, requires_grad=True)
        y = FNS[name](m, t)
        w = m.tensor({2: W, 1: W[:, 0].copy(), 0: W[0, 0]}[y.dim()])
        (y * w).real.sum().backward()
        res.append([y.detach().numpy(), t.grad.numpy()])
    for a, b in zip(*res):
        assert a.dtype == b.dtype and np.array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", list(FNS))
def test_complex_gradcheck(name):
    z = gg.tensor(Z[:2, :3] + 0.3j, requires_grad=True)  # away from the cuts and the zeros
    assert gradcheck(lambda t: FNS[name](gg, t), (z,))
