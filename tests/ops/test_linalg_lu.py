"""linalg.lu_factor / lu_factor_ex / lu / lu_solve and torch.lu_unpack / lu_solve / lu against
PyTorch: factors, pivots, info, gradients (square, wide, tall, batched), errors and warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import LinAlgError


@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 5), (2, 5, 3), (2, 2, 4, 4), (1, 1)])
def test_lu_factor_and_lu_match_torch(torch, shape):
    rng = np.random.default_rng(sum(shape))
    a = rng.normal(size=shape)
    ga, ta = gg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (gl, gp), (tl, tp) = gg.linalg.lu_factor(ga), torch.linalg.lu_factor(ta)
    np.testing.assert_allclose(gl.detach().numpy(), tl.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(gp.numpy(), tp.numpy())
    assert str(gp.dtype).split(".")[-1] == "int32"
    w = rng.normal(size=tl.shape)
    (gl * gg.tensor(w)).sum().backward()
    (tl * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(ga.grad.numpy(), ta.grad.numpy(), rtol=1e-10, atol=1e-12)

    ga.grad, ta.grad = None, None
    (gP, gL, gU), (tP, tL, tU) = gg.linalg.lu(ga), torch.linalg.lu(ta)
    for g, t in ((gP, tP), (gL, tL), (gU, tU)):
        assert tuple(g.shape) == tuple(t.shape)
        np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-14)
    wl, wu = rng.normal(size=tL.shape), rng.normal(size=tU.shape)
    ((gL * gg.tensor(wl)).sum() + (gU * gg.tensor(wu)).sum()).backward()
    ((tL * torch.tensor(wl)).sum() + (tU * torch.tensor(wu)).sum()).backward()
    np.testing.assert_allclose(ga.grad.numpy(), ta.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_lu_solve_matches_torch(torch, left, adjoint):
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(2, 4, 4)), rng.normal(size=(2, 4, 3) if left else (2, 3, 4))
    gl, gp = gg.linalg.lu_factor(gg.tensor(a))
    tl, tp = torch.linalg.lu_factor(torch.tensor(a))
    x = gg.linalg.lu_solve(gl, gp, gg.tensor(b), left=left, adjoint=adjoint)
    tx = torch.linalg.lu_solve(tl, tp, torch.tensor(b), left=left, adjoint=adjoint)
    np.testing.assert_allclose(x.numpy(), tx.numpy(), rtol=1e-10, atol=1e-12)


def test_singular_matrix_info_and_errors(torch):
    a = [[0.0, 1.0], [0.0, 2.0]]
    g, t = gg.linalg.lu_factor_ex(gg.tensor(a)), torch.linalg.lu_factor_ex(torch.tensor(a))
    for x, y in zip(g, t):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    assert type(g).__name__ == type(t).__name__ == "linalg_lu_factor_ex"
    with pytest.raises(RuntimeError):
        torch.linalg.lu_factor(torch.tensor(a))
    with pytest.raises(LinAlgError, match=r"linalg.lu_factor: U\[0,0\] is zero"):
        gg.linalg.lu_factor(gg.tensor(a))
    with pytest.raises(LinAlgError, match="zero pivot"):
        gg.linalg.lu_factor_ex(gg.tensor(a), check_errors=True)
    np.testing.assert_array_equal(
        gg.linalg.lu(gg.tensor(a)).U.numpy(), torch.linalg.lu(torch.tensor(a)).U.numpy()
    )
    with pytest.raises(RuntimeError, match="pivot=False"):
        gg.linalg.lu_factor(gg.tensor(a), pivot=False)


def test_torch_lu_tensor_method_and_unpack(torch):
    """Glow's Invertible1x1Conv: P, L, U = torch.lu_unpack(*Q.lu()); warns once, as PyTorch."""
    q = np.linalg.qr(np.random.default_rng(7).normal(size=(3, 3)))[0]
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        P, L, U = gg.lu_unpack(*gg.tensor(q).lu())
        gg.lu(gg.tensor(q))
    assert [
        str(w.message).startswith("torch.lu is deprecated in favor of torch.linalg.lu_factor") for w in rec
    ] == [True]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tP, tL, tU = torch.lu_unpack(*torch.tensor(q).lu())
        _, _, info = torch.tensor(q).lu(get_infos=True)
    for g, t in ((P, tP), (L, tL), (U, tU)):
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-12, atol=1e-14)
    assert gg.tensor(q).lu(get_infos=True)[2].numpy() == info.numpy()
    assert type(gg.lu_unpack(*gg.linalg.lu_factor(gg.tensor(q)))).__name__ == "lu_unpack"
    empty = gg.lu_unpack(*gg.linalg.lu_factor(gg.tensor(q)), unpack_data=False)
    assert tuple(empty.L.shape) == (0,) and tuple(empty.P.shape) == (3, 3)


def test_lu_factor_grad_fn_name_and_float32(torch):
    x = gg.eye(3, requires_grad=True)
    assert type(gg.linalg.lu_factor(x).LU.grad_fn).__name__ == "LinalgLuFactorExBackward0"
    a = np.random.default_rng(8).normal(size=(4, 4)).astype(np.float32)
    g, t = gg.linalg.lu_factor(gg.tensor(a)), torch.linalg.lu_factor(torch.tensor(a))
    assert str(g.LU.dtype).split(".")[-1] == "float32"
    np.testing.assert_allclose(g.LU.numpy(), t.LU.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(Exception, match="lu_factor"):
        gg.linalg.lu_factor(gg.tensor([1.0, 2.0]))


def test_lu_on_meta_gives_shapes(torch):
    x = gg.empty(2, 3, 4, device="meta", requires_grad=True)
    tx = torch.empty(2, 3, 4, device="meta", requires_grad=True)
    g, t = gg.linalg.lu(x), torch.linalg.lu(tx)
    assert [tuple(a.shape) for a in g] == [tuple(b.shape) for b in t] == [(2, 3, 3), (2, 3, 3), (2, 3, 4)]
    assert all(a.device.type == "meta" for a in g)
    (g.L.sum() + g.U.sum()).backward()
    assert tuple(x.grad.shape) == (2, 3, 4) and x.grad.device.type == "meta"
    assert tuple(gg.linalg.lu_factor(gg.empty(3, 4, device="meta")).pivots.shape) == (3,)


@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 3), (3, 0), (0, 3, 3)])
def test_lu_of_empty_matrices(torch, shape):
    g, t = gg.linalg.lu_factor(gg.empty(*shape)), torch.linalg.lu_factor(torch.empty(*shape))
    assert (tuple(g.LU.shape), tuple(g.pivots.shape)) == (tuple(t.LU.shape), tuple(t.pivots.shape))
    gp, tp = gg.linalg.lu(gg.empty(*shape)), torch.linalg.lu(torch.empty(*shape))
    assert [tuple(a.shape) for a in gp] == [tuple(b.shape) for b in tp]


def test_a_singular_u_gives_pytorchs_inf_and_nan(torch):
    """A zero on U's diagonal: the triangular solves give inf / nan, as PyTorch's, not an error."""
    s = [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]
    out = []
    for lib in (gg, torch):
        a = lib.tensor(s, dtype=lib.float64, requires_grad=True)
        _, lower, upper = lib.linalg.lu(a)
        (lower.sum() + upper.sum()).backward()
        lu, piv, _ = lib.linalg.lu_factor_ex(lib.tensor(s, dtype=lib.float64))
        x = lib.linalg.lu_solve(lu, piv, lib.ones(3, 1, dtype=lib.float64))
        t = lib.linalg.solve_triangular(lib.tensor([[1.0, 0.0], [2.0, 0.0]]), lib.ones(2, 1), upper=False)
        out.append([a.grad.numpy(), x.detach().numpy(), t.numpy()])
    for g, r in zip(*out):
        np.testing.assert_array_equal(g, r)
