"""``linalg.eig``/``eigvals`` (ops/linalg_eig.py) against PyTorch and by finite differences:
complex results for real and complex A, A V = V L with unit columns, gradients of phase-free
losses, the refusal of a phase-dependent one, and the errors.

The losses are invariant to the order of the eigenvalues (each column of V is weighted by its own
eigenvalue), so the comparison does not depend on the order two LAPACK builds return.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck
from glassgrad.errors import DTypeError, GraphError, LinAlgError, ShapeError

RNG = np.random.default_rng(7)


def _matrix(shape, dtype):
    a = RNG.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * RNG.standard_normal(shape)
    return a.astype(dtype)


def _loss(lib, a):
    """A real loss of L and V that neither the eigenvalues' order nor the vectors' phases change."""
    w, v = lib.linalg.eig(a)
    return ((w**3).real + w.imag**2).sum() + (v.abs() ** 3 * w.real.unsqueeze(-2)).sum()


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 5, 5), (1, 1), (3, 0, 0)])
@pytest.mark.parametrize("dtype", ["float64", "float32", "complex128", "complex64"])
def test_eig_decomposes_and_types_as_torch(shape, dtype):
    a = _matrix(shape, dtype)
    w, v = gg.linalg.eig(gg.tensor(a))
    want = {"float32": "complex64", "complex64": "complex64"}.get(dtype, "complex128")
    assert str(w.dtype) == str(v.dtype) == f"glassgrad.{want}"
    assert w.shape == shape[:-1] and v.shape == shape
    w, v = w.numpy(), v.numpy()
    tol = 1e-10 if want == "complex128" else 1e-4
    np.testing.assert_allclose(a @ v, v * w[..., None, :], atol=tol * 10 * max(1, np.abs(a).max(initial=0)))
    np.testing.assert_allclose(np.linalg.norm(v, axis=-2), np.ones(shape[:-1]), atol=tol)


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-10), ("complex128", 1e-10), ("float32", 1e-3)])
def test_eig_values_and_gradients_match_torch(torch, dtype, tol):
    a = _matrix((2, 4, 4), dtype)
    g_a, t_a = gg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    g_w, t_w = gg.linalg.eigvals(g_a), torch.linalg.eigvals(t_a)
    key = lambda w: np.sort_complex(np.round(w, 3))  # noqa: E731  (the same multiset of values)
    np.testing.assert_allclose(key(g_w.detach().numpy()), key(t_w.detach().numpy()), atol=tol)
    _loss(gg, g_a).backward()
    _loss(torch, t_a).backward()
    assert g_a.grad.dtype == g_a.dtype
    np.testing.assert_allclose(g_a.grad.numpy(), t_a.grad.numpy(), rtol=tol, atol=tol)
    g_a.grad, t_a.grad = None, None
    (gg.linalg.eigvals(g_a).abs() ** 2).sum().backward()
    (torch.linalg.eigvals(t_a).abs() ** 2).sum().backward()
    np.testing.assert_allclose(g_a.grad.numpy(), t_a.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_eig_gradcheck(dtype):
    a = gg.tensor(_matrix((2, 3, 3), dtype), requires_grad=True)
    assert gradcheck(lambda x: _loss(gg, x), (a,))
    assert gradcheck(lambda x: (gg.linalg.eigvals(x) ** 2).real.sum(), (a,))


def test_eig_of_a_known_matrix():
    # [[0, -1], [1, 0]] rotates by 90 degrees: eigenvalues ±i, eigenvectors (1, ∓i) / √2.
    w, v = gg.linalg.eig(gg.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=gg.float64))
    order = np.argsort(w.numpy().imag)
    np.testing.assert_allclose(w.numpy()[order], [-1j, 1j], atol=1e-15)
    v = v.numpy()[:, order]
    np.testing.assert_allclose(np.abs(v), np.full((2, 2), 2**-0.5), atol=1e-15)
    np.testing.assert_allclose(v[1] / v[0], [1j, -1j], atol=1e-15)
    # d(sum |L|^2)/dA for the rotation: V^-H diag(conj L) ... reduces to A itself (A is normal)
    a = gg.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=gg.float64, requires_grad=True)
    (gg.linalg.eigvals(a).abs() ** 2).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 2 * np.array([[0.0, -1.0], [1.0, 0.0]]), atol=1e-14)


def test_eig_refuses_a_loss_that_depends_on_the_phases(torch):
    a = _matrix((3, 3), "complex128")
    t_a = torch.tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError, match="e\\^\\{i phi\\}"):
        torch.linalg.eig(t_a)[1][0].imag.sum().backward()
    g_a = gg.tensor(a, requires_grad=True)
    with pytest.raises(GraphError, match="linalg.eig .*e\\^\\{i phi\\}"):
        gg.linalg.eig(g_a)[1][0].imag.sum().backward()


@pytest.mark.parametrize(
    "make,error,match",
    [
        (lambda: gg.zeros(2, 3), ShapeError, "linalg.eig: expected A to be square"),
        (lambda: gg.zeros(3), ShapeError, "linalg.eig: expected a matrix"),
        (lambda: gg.zeros(2, 2, dtype=gg.int64), DTypeError, "linalg.eig: expected a float32"),
        (
            lambda: gg.tensor([[float("nan"), 1.0], [1.0, 1.0]]),
            LinAlgError,
            "should not contain infs or NaNs",
        ),
    ],
)
def test_eig_errors(make, error, match):
    with pytest.raises(error, match=match):
        gg.linalg.eig(make())


def test_eig_on_meta_gives_shapes_and_dtypes():
    w, v = gg.linalg.eig(gg.zeros(2, 3, 3, device="meta"))
    assert (w.shape, v.shape, str(w.dtype)) == ((2, 3), (2, 3, 3), "glassgrad.complex64")


def test_eigenvalues_alone_have_a_gradient_at_repeated_eigenvalues(torch):
    for a in (np.eye(2) * 2.0, np.eye(3)):
        g = gg.tensor(a, requires_grad=True)
        t = torch.tensor(a, requires_grad=True)
        gg.linalg.eig(g)[0].real.sum().backward()
        torch.linalg.eig(t)[0].real.sum().backward()
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), atol=1e-14)
        np.testing.assert_allclose(g.grad.numpy(), np.eye(len(a)), atol=1e-14)  # d tr(A) / dA = I
