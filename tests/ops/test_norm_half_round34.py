"""Norm of float16 tensors accumulates in float32, as PyTorch's (round 34, kornia): the quaternion
conversions take ``norm`` of float16 vectors whose squares overflow float16 (3e4 ** 2 > 65504)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _norms(lib, x, p):
    t = lib.tensor(x, requires_grad=True)
    out = t.norm(p=p, dim=-1)
    out.sum().backward()
    return out.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize("p", [2, 3, 1, float("inf")])
def test_half_norm_matches_torch(torch, p):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal((3, 7)), np.full((1, 7), 3.0e4)]).astype(np.float16)
    want_out, want_grad = _norms(torch, x, p)
    got_out, got_grad = _norms(gg, x, p)
    assert got_out.dtype == np.float16 and got_grad.dtype == np.float16
    np.testing.assert_allclose(got_out.astype(np.float64), want_out.astype(np.float64), rtol=2e-3)
    # p = 3: PyTorch's float16 backward overflows |x|^2 on the 3e4 row (nan); ours stays finite
    rows = slice(None) if p != 3 else slice(0, 3)
    np.testing.assert_allclose(
        got_grad[rows].astype(np.float64), want_grad[rows].astype(np.float64), rtol=2e-3, atol=1e-3
    )


def test_half_norm_of_large_vector_is_finite():
    x = gg.tensor([32768.0, 32768.0, 32768.0], dtype=gg.float16, requires_grad=True)
    n = gg.linalg.vector_norm(x)
    n.backward()
    assert n.item() == pytest.approx(32768.0 * 3**0.5, rel=1e-3)  # 56755.8, within float16's range
    np.testing.assert_allclose(x.grad.numpy().astype(np.float64), [3**-0.5] * 3, rtol=1e-3)
