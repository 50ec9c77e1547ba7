"""PyTorch parity of the decompositions and matrix functions (glassgrad/linalg_decomp.py).

Eigenvectors and the columns of Q are unique only up to sign, so values are compared through
invariants (reconstructions, |Vᵀ V_torch|, |Q|, |R|) and gradients through sign-free losses.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, GraphError, ShapeError

DTYPES = [("float64", 1e-9), ("float32", 2e-4)]


def _pair(torch, a, grad=True):
    return gg.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def _close(x, y, tol):
    y = y.detach().numpy() if hasattr(y, "detach") else y
    np.testing.assert_allclose(
        np.asarray(x.detach().numpy() if hasattr(x, "detach") else x), y, atol=tol, rtol=tol
    )


def _full_rank(rng, shape, dtype="float64"):
    m, n = shape[-2:]
    return (rng.uniform(-1, 1, shape) + 3.0 * np.eye(m, n)).astype(dtype)


# ---------------------------------------------------------------------------------------------- qr
@pytest.mark.parametrize("dtype,tol", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5), (2, 4, 3), (0, 3, 2), (2, 0, 3)])
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr_values(torch, dtype, tol, shape, mode):
    a = _full_rank(np.random.default_rng(0), shape, dtype)
    q, r = gg.linalg.qr(gg.tensor(a), mode=mode)
    qt, rt = torch.linalg.qr(torch.tensor(a), mode=mode)
    assert q.shape == qt.shape and r.shape == rt.shape and r.dtype == gg.tensor(a).dtype
    _close(r.abs(), rt.abs(), tol)
    if mode != "r":
        _close(q @ r, a, tol)
        _close(q.mT @ q, np.broadcast_to(np.eye(q.shape[-1]), q.shape[:-2] + (q.shape[-1],) * 2), tol)
    if mode == "reduced":
        _close(q.abs(), qt.abs(), tol)


_QR_GRAD = [(4, 3), (3, 3), (3, 5), (2, 3, 3), (2, 2, 4)]


# complete mode is differentiable only for m <= n (tall ones: test_qr_refusals)
@pytest.mark.parametrize(
    "shape,mode", [(s, "reduced") for s in _QR_GRAD] + [(s, "complete") for s in _QR_GRAD if s[-2] <= s[-1]]
)
def test_qr_gradient(torch, shape, mode):
    a = _full_rank(np.random.default_rng(1), shape)
    w = np.random.default_rng(2).standard_normal(shape[-2:])
    gx, tx = _pair(torch, a)
    for lib, x in ((gg, gx), (torch, tx)):
        q, r = lib.linalg.qr(x, mode=mode)
        d = r.diagonal(0, -2, -1)
        (
            (q * d.unsqueeze(-2)).sum() + (r * d.unsqueeze(-1) * 0.5).sum() + (q @ r * lib.tensor(w)).sum()
        ).backward()
    _close(gx.grad, tx.grad, 1e-8)


def test_qr_refusals():
    a = gg.randn(4, 3, dtype=gg.float64, requires_grad=True)
    with pytest.raises(GraphError, match="mode='r'"):
        gg.linalg.qr(a, mode="r").R.sum().backward()
    with pytest.raises(GraphError, match="complete"):
        gg.linalg.qr(a, mode="complete").R.sum().backward()
    with pytest.raises(ValueError, match="mode"):
        gg.linalg.qr(a, mode="x")
    with pytest.raises(ShapeError, match=r"linalg.qr: .*\(3,\)"):
        gg.linalg.qr(gg.randn(3))
    with pytest.raises(DTypeError, match="int64"):
        gg.linalg.qr(gg.ones(3, 3, dtype=gg.long))


@pytest.mark.filterwarnings("ignore:torch.qr is deprecated")
def test_torch_qr_and_method(torch):
    a = _full_rank(np.random.default_rng(3), (5, 3))
    for some in (True, False):
        q, r = gg.qr(gg.tensor(a), some=some)
        qt, rt = torch.qr(torch.tensor(a), some=some)
        assert q.shape == qt.shape and r.shape == rt.shape
        _close(q @ r, a, 1e-10)
    assert gg.tensor(a).qr().Q.shape == (5, 3)


# -------------------------------------------------------------------------------------------- eigh
def _symmetric(rng, shape, dtype="float64"):
    x = rng.standard_normal(shape)
    return (x + np.swapaxes(x, -1, -2) + np.diag(3.0 * np.arange(shape[-1]))).astype(dtype)


@pytest.mark.parametrize("dtype,tol", DTYPES)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 1), (0, 3, 3), (2, 0, 0)])
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_values(torch, dtype, tol, shape, uplo):
    a = _symmetric(np.random.default_rng(4), shape, dtype)
    a = a + np.triu(np.ones(shape[-2:]), 1) * 5.0  # a junk upper triangle: only UPLO's is read
    w, v = gg.linalg.eigh(gg.tensor(a), UPLO=uplo)
    wt, vt = torch.linalg.eigh(torch.tensor(a), UPLO=uplo)
    _close(w, wt, tol * 10)
    _close(gg.linalg.eigvalsh(gg.tensor(a), UPLO=uplo), wt, tol * 10)
    n = shape[-1]
    _close((v.mT @ gg.tensor(vt.numpy())).abs(), np.broadcast_to(np.eye(n), shape), tol * 10)
    assert w.dtype == v.dtype == gg.tensor(a).dtype


@pytest.mark.parametrize("uplo", ["L", "U"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_eigh_gradient(torch, uplo, shape):
    a = _symmetric(np.random.default_rng(5), shape)
    k = np.random.default_rng(6).standard_normal(shape[-2:])
    grads = []
    for lib, x in zip((gg, torch), _pair(torch, a), strict=True):
        w, v = lib.linalg.eigh(x, UPLO=uplo)
        ((v * v * w.unsqueeze(-2) * lib.tensor(k)).sum() + (v @ v.mT).sum() + w.pow(2).sum()).backward()
        grads.append(x.grad)
        x.grad = None
        lib.linalg.eigvalsh(x, UPLO=uplo).pow(3).sum().backward()
        grads.append(x.grad)
    _close(grads[0], grads[2], 1e-8)
    _close(grads[1], grads[3], 1e-8)


def test_eigh_refusals():
    with pytest.raises(ShapeError, match=r"linalg.eigh: expected .*square .*\(3, 4\)"):
        gg.linalg.eigh(gg.randn(3, 4))
    with pytest.raises(ValueError, match="UPLO"):
        gg.linalg.eigh(gg.randn(3, 3), UPLO="X")


# -------------------------------------------------------------------------------------- matrix_exp
@pytest.mark.parametrize("dtype,tol", DTYPES)
@pytest.mark.parametrize(
    "shape,scale", [((3, 3), 0.3), ((2, 4, 4), 3.0), ((5, 5), 20.0), ((0, 2, 2), 1.0), ((1, 1), 2.0)]
)
def test_matrix_exp_values(torch, dtype, tol, shape, scale):
    a = (np.random.default_rng(7).standard_normal(shape) * scale / max(shape[-1], 1)).astype(dtype)
    got = gg.linalg.matrix_exp(gg.tensor(a))
    want = torch.linalg.matrix_exp(torch.tensor(a))
    assert got.dtype == gg.tensor(a).dtype and got.shape == want.shape
    scale_ref = max(float(want.abs().max()) if want.numel() else 1.0, 1.0)
    _close(got / scale_ref, want / scale_ref, tol)
    _close(gg.matrix_exp(gg.tensor(a)), got, 0) if a.size else None
    _close(gg.tensor(a).matrix_exp(), got, 0) if a.size else None


@pytest.mark.parametrize("shape,scale", [((3, 3), 0.5), ((2, 4, 4), 8.0)])
def test_matrix_exp_gradient(torch, shape, scale):
    a = np.random.default_rng(8).standard_normal(shape) * scale / shape[-1]
    w = np.random.default_rng(9).standard_normal(shape[-2:])
    for lib, x in zip((gg, torch), pair := _pair(torch, a), strict=True):
        (lib.linalg.matrix_exp(x) * lib.tensor(w)).sum().backward()
    _close(pair[0].grad, pair[1].grad, 1e-9 * max(1.0, float(pair[1].grad.abs().max())))


def test_matrix_exp_refuses_non_square():
    with pytest.raises(ShapeError, match="matrix_exp"):
        gg.linalg.matrix_exp(gg.randn(2, 3))


# ------------------------------------------------------------------------- pinv, matrix_rank, cond
def _low_rank(rng, shape, rank):
    m, n = shape[-2:]
    return rng.standard_normal((*shape[:-2], m, rank)) @ rng.standard_normal((*shape[:-2], rank, n))


@pytest.mark.parametrize("dtype,tol", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3), (0, 2, 3), (3, 0)])
def test_pinv_values(torch, dtype, tol, shape):
    rng = np.random.default_rng(10)
    low = _low_rank(rng, shape, 1) if min(shape[-2:]) else np.zeros(shape)
    for a, kw in ((rng.standard_normal(shape), {}), (low, {"rtol": 1e-4})):  # rtol: past float32 noise
        a = a.astype(dtype)
        _close(gg.linalg.pinv(gg.tensor(a), **kw), torch.linalg.pinv(torch.tensor(a), **kw), tol * 10)
        _close(gg.pinverse(gg.tensor(a), 1e-4), torch.pinverse(torch.tensor(a), 1e-4), tol * 10)
        _close(gg.tensor(a).pinverse(rcond=0.3), torch.tensor(a).pinverse(rcond=0.3), tol * 10)
    s = _symmetric(rng, (2, 3, 3), dtype)
    _close(
        gg.linalg.pinv(gg.tensor(s), hermitian=True),
        torch.linalg.pinv(torch.tensor(s), hermitian=True),
        tol * 10,
    )
    for kw in ({"atol": 1.0}, {"rtol": 0.5}, {"atol": 0.1, "rtol": 0.6}):
        _close(gg.linalg.pinv(gg.tensor(s), **kw), torch.linalg.pinv(torch.tensor(s), **kw), tol * 10)


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3)])
@pytest.mark.parametrize("rank", [None, 1])
def test_pinv_gradient(torch, shape, rank):
    rng = np.random.default_rng(11)
    a = rng.standard_normal(shape) if rank is None else _low_rank(rng, shape, rank)
    w = rng.standard_normal(shape[-2:][::-1])
    for lib, x in zip((gg, torch), pair := _pair(torch, a), strict=True):
        (lib.linalg.pinv(x) * lib.tensor(w)).sum().backward()
    _close(pair[0].grad, pair[1].grad, 1e-8)


def test_matrix_rank(torch):
    rng = np.random.default_rng(12)
    a = np.stack([_low_rank(rng, (4, 5), r) for r in (1, 2, 3)])
    x = rng.standard_normal((2, 4, 2))
    s = x @ np.swapaxes(x, -1, -2)  # symmetric, rank 2
    for kw in ({}, {"atol": 1.0}, {"rtol": 0.1}, {"hermitian": True}):
        src = s if kw.get("hermitian") else a
        got = gg.linalg.matrix_rank(gg.tensor(src), **kw)
        assert got.dtype == gg.int64
        assert got.tolist() == torch.linalg.matrix_rank(torch.tensor(src), **kw).tolist()


@pytest.mark.parametrize("p", [None, 2, -2, "fro", 1])
def test_cond(torch, p):
    a = _full_rank(np.random.default_rng(13), (2, 3, 3))
    if p not in (None, 2, -2) and not hasattr(gg.linalg, "inv"):
        with pytest.raises(NotImplementedError, match="inv"):
            gg.linalg.cond(gg.tensor(a), p)
        return
    x, t = _pair(torch, a)
    got, want = gg.linalg.cond(x, p), torch.linalg.cond(t, p)
    _close(got, want, 1e-10)
    if p in (None, 2, -2):  # PyTorch 2.x fails in backward for the other p (an in-place inverse)
        got.sum().backward()
        want.sum().backward()
        _close(x.grad, t.grad, 1e-8)
    else:
        assert gg.autograd.gradcheck(lambda y: gg.linalg.cond(y, p), (x,))


# ------------------------------------------------------------------------------ householder_product
@pytest.mark.parametrize("shape,k", [((5, 3), 2), ((4, 4), 4), ((2, 4, 2), 2), ((3, 2), 0)])
def test_householder_product(torch, shape, k):
    rng = np.random.default_rng(14)
    a, tau = rng.standard_normal(shape), rng.uniform(0.2, 1.8, (*shape[:-2], k))
    (x, t), (gt, tt) = _pair(torch, a), _pair(torch, tau)
    got, want = gg.linalg.householder_product(x, gt), torch.linalg.householder_product(t, tt)
    _close(got, want, 1e-12)
    w = rng.standard_normal(shape)
    if k:  # with no reflection the result is I (m, n), a constant here (PyTorch: zero gradients)
        (got * gg.tensor(w)).sum().backward()
        (want * torch.tensor(w)).sum().backward()
        _close(x.grad, t.grad, 1e-10)
        _close(gt.grad, tt.grad, 1e-10)
    with pytest.raises(ShapeError, match="householder_product"):
        gg.linalg.householder_product(gg.randn(2, 3), gg.randn(2))


def test_matrix_rank_of_one_matrix_converts_to_numpy(torch):
    # the 0-d rank of a single matrix is an array: np.asarray / .numpy() of it as PyTorch's
    a = [[1.0, 3.0], [2.0, 2.0]]
    want = torch.linalg.matrix_rank(torch.tensor(a))
    got = gg.linalg.matrix_rank(gg.tensor(a, requires_grad=True))
    assert np.asarray(got).tolist() == got.numpy().tolist() == want.numpy().tolist()
    assert np.asarray(got).dtype == want.numpy().dtype
