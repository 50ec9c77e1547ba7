"""Review of round 34's new code: adversarial parity with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F

_PADS = ("zeros", "border", "reflection")


@pytest.mark.parametrize("nd", [2, 3])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_grid_sample_non_finite_points_as_pytorch(torch, nd, value):
    # PyTorch's image kernel reads a NaN (or folded infinite) point at pixel 0 once clipped; its
    # volume kernel at the last pixel, and reads 0 (not NaN) for one outside with zeros padding
    spatial = [3, 4] if nd == 2 else [2, 3, 4]
    x = np.arange(float(np.prod(spatial))).reshape(1, 1, *spatial)
    g = np.full((3, nd), 0.2)
    g[0, 0], g[1, -1], g[2, :] = value, value, value
    g = g.reshape(1, *([1] * (nd - 1)), 3, nd)
    for mode in ("bilinear", "nearest"):
        for pad in _PADS:
            for ac in (False, True):
                for dt in (np.float64, np.float32):
                    want = torch.nn.functional.grid_sample(
                        torch.tensor(x.astype(dt)), torch.tensor(g.astype(dt)), mode, pad, ac
                    ).numpy()
                    got = F.grid_sample(
                        gg.tensor(x.astype(dt)), gg.tensor(g.astype(dt)), mode, pad, ac
                    ).numpy()
                    np.testing.assert_allclose(
                        got, want, rtol=1e-5, equal_nan=True, err_msg=f"{mode} {pad} {ac}"
                    )


def test_grid_sample_nan_point_border_gradients():
    # (PyTorch's backward crashes the process on a NaN point: hand-derived values) the NaN x is
    # clipped to column 0 with slope 0; y = 0.2 is row 1.3, between 4 and 8: d/dy = 4 * H / 2
    x = gg.tensor(np.arange(12.0).reshape(1, 1, 3, 4), requires_grad=True)
    g = gg.tensor([[[[np.nan, 0.2]]]], dtype=gg.float64, requires_grad=True)
    out = F.grid_sample(x, g, "bilinear", "border", False)
    np.testing.assert_allclose(out.item(), 5.2)
    out.sum().backward()
    np.testing.assert_allclose(g.grad.numpy().ravel(), [0.0, 6.0])
    want = np.zeros((3, 4))
    want[1, 0], want[2, 0] = 0.7, 0.3
    np.testing.assert_allclose(x.grad.numpy()[0, 0], want, atol=1e-12)


@pytest.mark.parametrize("nd", [2, 3])
def test_grid_sample_nearest_double_backward_linked_to_grid(torch, nd):
    # PyTorch's first-order gradients of nearest sampling hang on the grid: a penalty on them
    # backpropagates (zeros to the grid, nothing to the input)
    shape, gshape = ([1, 1, 2, 2], [1, 1, 1, 2]) if nd == 2 else ([1, 1, 2, 2, 2], [1, 1, 1, 1, 3])
    res = []
    for lib, fn in ((torch, torch.nn.functional.grid_sample), (gg, F.grid_sample)):
        x = lib.ones(*shape, dtype=lib.float64, requires_grad=True)
        g = lib.full(gshape, 0.1, dtype=lib.float64, requires_grad=True)
        dx, dg = lib.autograd.grad(fn(x, g, "nearest", "zeros", False).sum(), (x, g), create_graph=True)
        assert dx.requires_grad and dg.requires_grad
        res.append(lib.autograd.grad((dx * 2).sum() + (dg * 3).sum(), (x, g), allow_unused=True))
    assert res[0][0] is None and res[1][0] is None
    np.testing.assert_array_equal(res[1][1].numpy(), res[0][1].numpy())


@pytest.mark.parametrize("dt", ["complex128", "complex64"])
def test_complex_acosh_gradient_on_the_cut_and_at_infinity(torch, dt):
    # PyTorch's a - 1 makes a -0.0 imaginary part +0.0, so -3 - 0j takes the same side as -3 + 0j
    vals = np.array(
        [
            complex(-3, -0.0),
            complex(-3, 0.0),
            complex(-0.0, -0.0),
            complex(0.0, -0.0),
            complex(np.inf, 0),
            complex(-np.inf, 1),
            0.3 + 0.4j,
        ]
    )
    w = (np.arange(len(vals)) + 1) * (1 - 0.5j)
    tz = torch.tensor(vals.astype(dt), requires_grad=True)
    torch.acosh(tz).backward(torch.tensor(w.astype(dt)))
    gz = gg.tensor(vals.astype(dt), requires_grad=True)
    gg.acosh(gz).backward(gg.tensor(w.astype(dt)))
    np.testing.assert_allclose(gz.grad.numpy(), tz.grad.numpy(), rtol=1e-5)


@pytest.mark.parametrize("fn", ["asin", "acos", "asinh", "acosh"])
def test_complex_inverse_trig_gradient_at_poles_is_nan(torch, fn):
    vals = np.array([1, -1, 1j, -1j, 0.5 + 0.25j], dtype=np.complex128)
    tz = torch.tensor(vals, requires_grad=True)
    getattr(torch, fn)(tz).sum().abs().backward()
    gz = gg.tensor(vals, requires_grad=True)
    getattr(gg, fn)(gz).sum().abs().backward()
    np.testing.assert_allclose(gz.grad.numpy(), tz.grad.numpy(), rtol=1e-9, equal_nan=True)
    assert np.isnan(gz.grad.numpy()).any()


def test_norm_nuclear_as_pytorch(torch):
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    for kw in ({"dim": (1, 2)}, {"dim": (0, 2), "keepdim": True}):
        tx, gx = torch.tensor(a, requires_grad=True), gg.tensor(a, requires_grad=True)
        want, got = torch.norm(tx, p="nuc", **kw), gg.norm(gx, p="nuc", **kw)
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
        want.sum().backward()
        got.sum().backward()
        np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(gg.tensor(a[0]).norm(p="nuc").item(), torch.tensor(a[0]).norm(p="nuc").item())
    with pytest.raises(RuntimeError, match="2-tuple"):
        torch.norm(torch.tensor(a), p="nuc")
    with pytest.raises(gg.errors.ShapeError, match="nuc"):
        gg.norm(gg.tensor(a), p="nuc")


def test_einsum_sublist_form_as_pytorch(torch):
    a, b = np.arange(9.0).reshape(3, 3), np.arange(6.0).reshape(3, 2)
    c = np.arange(24.0).reshape(2, 3, 4)
    cases = [
        lambda L: L.einsum(L.tensor(a), [0, 0], [0]),
        lambda L: L.einsum(L.tensor(a), [0, 0]),
        lambda L: L.einsum(L.tensor(a), [0, 1], L.tensor(b), [1, 2], [0, 2]),
        lambda L: L.einsum(L.tensor(a), [0, 1], L.tensor(b), [1, 2]),
        lambda L: L.einsum(L.tensor(c), [Ellipsis, 1], [1, Ellipsis]),
        lambda L: L.einsum(L.tensor(a), [51, 30], [30, 51]),
    ]
    for f in cases:
        np.testing.assert_array_equal(f(gg).numpy(), f(torch).numpy())
    x = gg.tensor(a, requires_grad=True)
    gg.einsum(x, [0, 1], gg.tensor(b), [1, 2], [0, 2]).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.broadcast_to(b.sum(1), (3, 3)))
    with pytest.raises(ValueError, match=r"\[0, 52\)"):
        gg.einsum(gg.tensor(a), [0, 52])
