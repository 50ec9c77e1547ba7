"""Round 66 (PyTorch's OpInfo samples for linalg/fft): complex ``lu_solve`` with ``adjoint``, the
operand checks of ``linalg.cross``, ``tensorsolve``'s ``dims`` and ``vander`` of a 0-d tensor,
each as PyTorch parity (values and gradients)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import ShapeError


def _crandn(rng, *shape) -> np.ndarray:
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
@pytest.mark.parametrize("dtype", ["complex128", "float64"])
def test_lu_solve_adjoint_is_the_conjugate_transpose(torch, left, adjoint, dtype):
    """Aᴴ X = B, not Aᵀ X = B: the complex adjoint solve was silently wrong (errors of order 1)."""
    rng = np.random.default_rng(0)
    make = _crandn if dtype == "complex128" else (lambda r, *s: r.standard_normal(s))
    a = make(rng, 2, 4, 4) + 4 * np.eye(4)
    b = make(rng, 2, 4, 3) if left else make(rng, 2, 3, 4)
    LU_t, piv_t = torch.linalg.lu_factor(torch.tensor(a))
    lu_np, piv_np = LU_t.numpy(), piv_t.numpy()
    LU_t.requires_grad_(True)
    bt = torch.tensor(b, requires_grad=True)
    LU_g = gg.tensor(lu_np, requires_grad=True)
    bg = gg.tensor(b, requires_grad=True)
    xt = torch.linalg.lu_solve(LU_t, piv_t, bt, left=left, adjoint=adjoint)
    xg = gg.linalg.lu_solve(LU_g, gg.tensor(piv_np), bg, left=left, adjoint=adjoint)
    np.testing.assert_allclose(
        xg.detach().numpy(), xt.detach().resolve_conj().numpy(), rtol=1e-10, atol=1e-12
    )
    # the system itself: op(A) X = B or X op(A) = B
    A = a if not adjoint else a.conj().swapaxes(-1, -2)
    x = xg.detach().numpy()
    np.testing.assert_allclose(A @ x if left else x @ A, b, rtol=1e-10, atol=1e-12)
    c = make(rng, *x.shape)
    gt = torch.autograd.grad(xt, (LU_t, bt), torch.tensor(c))
    gl = gg.autograd.grad(xg, (LU_g, bg), gg.tensor(c))
    for u, v in zip(gl, gt):
        np.testing.assert_allclose(u.numpy(), v.resolve_conj().numpy(), rtol=1e-9, atol=1e-11)


def test_linalg_cross_refuses_a_size_one_dim_before_broadcasting(torch):
    """PyTorch refuses (5, 3) x (5, 1); broadcasting the 1 to 3 ran a user's bug silently."""
    a, b = np.ones((5, 3)), np.ones((5, 1))
    with pytest.raises(RuntimeError, match="must have length 3"):
        torch.linalg.cross(torch.tensor(a), torch.tensor(b))
    with pytest.raises(ShapeError, match="linalg.cross: inputs dimension -1 must have length 3"):
        gg.linalg.cross(gg.tensor(a), gg.tensor(b))
    # batch dims still broadcast, as PyTorch's
    rng = np.random.default_rng(1)
    u, v = rng.standard_normal((1, 3)), rng.standard_normal((4, 3))
    np.testing.assert_allclose(
        gg.linalg.cross(gg.tensor(u), gg.tensor(v)).numpy(),
        torch.linalg.cross(torch.tensor(u), torch.tensor(v)).numpy(),
        rtol=1e-12,
    )


@pytest.mark.parametrize("shape", [(2, 3, 6), (3, 4, 4, 3)])
def test_tensorsolve_dims_need_equal_counts_not_equal_shapes(torch, shape):
    """dims=(0, 2) leaves A's leading dims in another order than B's shape; PyTorch checks counts."""
    rng = np.random.default_rng(2)
    a = rng.standard_normal(shape)
    b = rng.standard_normal(shape[:2])
    at, bt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ag, bg = gg.tensor(a, requires_grad=True), gg.tensor(b, requires_grad=True)
    xt = torch.linalg.tensorsolve(at, bt, dims=(0, 2))
    xg = gg.linalg.tensorsolve(ag, bg, dims=(0, 2))
    assert tuple(xg.shape) == tuple(xt.shape)
    np.testing.assert_allclose(xg.detach().numpy(), xt.detach().numpy(), rtol=1e-9, atol=1e-11)
    c = rng.standard_normal(tuple(xt.shape))
    for u, v in zip(
        gg.autograd.grad(xg, (ag, bg), gg.tensor(c)), torch.autograd.grad(xt, (at, bt), torch.tensor(c))
    ):
        np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-9, atol=1e-11)
    # unequal counts are refused by both
    with pytest.raises(RuntimeError):
        torch.linalg.tensorsolve(torch.zeros(2, 3, 4), torch.zeros(2, 3))
    with pytest.raises(ShapeError, match="linalg.tensorsolve"):
        gg.linalg.tensorsolve(gg.zeros(2, 3, 4), gg.zeros(2, 3))


def test_vander_of_a_zero_dim_tensor(torch):
    """PyTorch reads a 0-d x as one element: (1, N); N defaults to 1 there, which both refuse."""
    for dtype in ("float64", "float32"):
        t = torch.linalg.vander(torch.tensor(2.5, dtype=getattr(torch, dtype)), N=3)
        g = gg.linalg.vander(gg.tensor(2.5, dtype=getattr(gg, dtype)), N=3)
        assert tuple(g.shape) == tuple(t.shape) and str(g.dtype).endswith(dtype)
        np.testing.assert_array_equal(g.numpy(), t.numpy())
    with pytest.raises(RuntimeError):
        torch.linalg.vander(torch.tensor(2.0))
    with pytest.raises(ValueError, match="linalg.vander: expected N greater than 1"):
        gg.linalg.vander(gg.tensor(2.0))


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("transpose", [True, False])
def test_complex_householder_product_and_ormqr(torch, left, transpose):
    """Complex reflections are I - tau v vᴴ (LAPACK's ungqr/unmqr); they were refused."""
    rng = np.random.default_rng(3)
    a = _crandn(rng, 2, 5, 3)
    A_t, tau_t = torch.geqrf(torch.tensor(a))
    A_np, tau_np = A_t.numpy(), tau_t.numpy()
    c = _crandn(rng, 2, 5, 4) if left else _crandn(rng, 2, 4, 5)
    ts = [torch.tensor(v, requires_grad=True) for v in (A_np, tau_np, c)]
    gs = [gg.tensor(v, requires_grad=True) for v in (A_np, tau_np, c)]
    # householder_product: Q of the QR, so Q R is the input
    q = gg.linalg.householder_product(gs[0], gs[1])
    qt = torch.linalg.householder_product(ts[0], ts[1])
    np.testing.assert_allclose(q.detach().numpy(), qt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(q.detach().numpy() @ np.triu(A_np[..., :3, :]), a, rtol=1e-10, atol=1e-12)
    yt = torch.ormqr(*ts, left=left, transpose=transpose)
    yg = gg.ormqr(*gs, left=left, transpose=transpose)
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = _crandn(rng, *yt.shape)
    for u, v in zip(gg.autograd.grad(yg, gs, gg.tensor(w)), torch.autograd.grad(yt, ts, torch.tensor(w))):
        np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-9, atol=1e-11)


def test_ormqr_refuses_operands_of_too_few_dims(torch):
    cases = [
        (((), (), ()), RuntimeError),  # PyTorch: "input must have at least 2 dimensions"
        (((3, 3), (3,), (3,)), RuntimeError),  # "other must have at least 2 dimensions"
        (((3, 3), (), (3, 3)), IndexError),  # a 0-d tau: dim -1 out of range
    ]
    for shapes, kind in cases:
        with pytest.raises(kind) as caught:
            torch.ormqr(*(torch.ones(s) for s in shapes))
        with pytest.raises(type(caught.value), match="ormqr"):
            gg.ormqr(*(gg.ones(*s) for s in shapes))


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 5), (5, 3)])
def test_complex_lu_factor_matches_pytorch_with_double_backward(torch, shape):
    """Complex LU (refused before): LAPACK's pivots (|re| + |im|), factors, and the VJP with ᴴ, once
    and differentiated again (the recorded rule)."""
    rng = np.random.default_rng(4)
    a = _crandn(rng, *shape)
    t, g = torch.tensor(a, requires_grad=True), gg.tensor(a, requires_grad=True)
    LU_t, piv_t = torch.linalg.lu_factor(t)
    LU_g, piv_g = gg.linalg.lu_factor(g)
    np.testing.assert_array_equal(piv_g.numpy(), piv_t.numpy())
    np.testing.assert_allclose(LU_g.detach().numpy(), LU_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    P, L, U = gg.linalg.lu(gg.tensor(a))
    np.testing.assert_allclose((P @ L @ U).numpy(), a, rtol=1e-10, atol=1e-12)
    c, w = _crandn(rng, *shape), _crandn(rng, *shape)
    (gt,) = torch.autograd.grad(LU_t, t, torch.tensor(c), create_graph=True)
    (gl,) = gg.autograd.grad(LU_g, g, gg.tensor(c), create_graph=True)
    np.testing.assert_allclose(gl.detach().numpy(), gt.detach().numpy(), rtol=1e-9, atol=1e-11)
    (ht,) = torch.autograd.grad(gt, t, torch.tensor(w))
    (hl,) = gg.autograd.grad(gl, g, gg.tensor(w))
    np.testing.assert_allclose(hl.numpy(), ht.numpy(), rtol=1e-8, atol=1e-10)
