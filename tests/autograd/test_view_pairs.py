"""In-place changes through views that change a complex tensor's dtype (.real, .imag,
view_as_real, view_as_complex, view(dtype)) while recording: rebased as PyTorch's CopySlices
(autograd/view_pairs.py), so the gradient is that of what the memory holds afterwards."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def test_real_part_scaled_by_hand():
    """w = z, then w.real *= 3: L = sum(re w) + sum(im w) = 3 sum(re z) + sum(im z), so
    dL/dz = 3 + 1j for every element (d/d re + i d/d im, PyTorch's convention)."""
    z = gg.tensor([1 + 2j, -0.5 + 0.25j], dtype=gg.complex128, requires_grad=True)
    w = z * 1
    w.real.mul_(3)
    (w.real.sum() + w.imag.sum()).backward()
    np.testing.assert_array_equal(z.grad.numpy(), [3 + 1j, 3 + 1j])
    np.testing.assert_array_equal(w.detach().numpy(), [3 + 2j, -1.5 + 0.25j])


def _scenarios(lib):
    f64, c128 = lib.float64, lib.complex128
    weights = lib.tensor([1.0, -2.0, 0.5], dtype=f64)

    def real_and_imag(z):
        w = z * (1 + 1j)
        r = w.real
        r.mul_(3)
        w.imag.mul_(2.5)
        lib.view_as_real(w)[:, 1].add_(1.0)
        return (w.abs() ** 2).sum() + r.sum() + (w.imag * weights).sum()

    def views_made_before(z):
        w = z * (2 - 1j)
        im, pairs = w.imag, lib.view_as_real(w)  # live views of w when it changes
        w.real.sub_(w.real.detach() * 0.5)
        return (im * weights).sum() + (pairs**2).sum()

    def complex_view_of_floats(z):
        y = lib.view_as_real(z) * 2  # (3, 2) floats
        c = lib.view_as_complex(y)
        c.mul_(1j)
        return (y**2 * lib.tensor([1.0, 3.0], dtype=f64)).sum()

    def flat_float_view(z):
        w = z * 1
        flat = w.view(f64)  # (6,) floats over the same memory
        flat[1:5].mul_(lib.tensor([2.0, 3.0, 4.0, 5.0], dtype=f64))
        return (w * w.conj()).real.sum() + (w.real * weights).sum()

    z0 = lib.tensor([1 + 2j, -0.5 + 0.3j, 2 - 1j], dtype=c128)
    return z0, {
        f.__name__: f for f in (real_and_imag, views_made_before, complex_view_of_floats, flat_float_view)
    }


@pytest.mark.parametrize(
    "name", ["real_and_imag", "views_made_before", "complex_view_of_floats", "flat_float_view"]
)
def test_matches_pytorch(torch, name):
    grads = []
    for lib in (gg, torch):
        z0, scenarios = _scenarios(lib)
        z = z0.clone().requires_grad_(True)
        loss = scenarios[name](z)
        loss.backward()
        grads.append((loss.item(), z.grad.numpy()))
    assert grads[0][0] == pytest.approx(grads[1][0], rel=1e-14)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-13, atol=1e-13)
