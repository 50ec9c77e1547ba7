"""``svd_lowrank`` / ``pca_lowrank`` (glassgrad/linalg_lowrank.py): randomised, so PyTorch's own
draws cannot be matched; on matrices of rank at most q both libraries return the exact SVD, which
is what is compared (singular values, the reconstruction, subspaces); shapes as PyTorch's;
gradients of the singular values against PyTorch's; the errors."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.functional

_rng = np.random.default_rng(7)


def _low_rank(shape, rank):
    *batch, m, n = shape
    return _rng.standard_normal((*batch, m, rank)) @ _rng.standard_normal((*batch, rank, n))


@pytest.mark.parametrize("shape", [(8, 5), (4, 9), (2, 3, 7, 6)])
def test_svd_lowrank_is_the_exact_svd_at_low_rank(torch, shape):
    a = _low_rank(shape, 3)
    gg.manual_seed(1)
    u, s, v = gg.svd_lowrank(gg.tensor(a), q=4, niter=1)
    tu, ts, tv = torch.svd_lowrank(torch.tensor(a), q=4, niter=1)
    assert (tuple(u.shape), tuple(s.shape), tuple(v.shape)) == (
        tuple(tu.shape),
        tuple(ts.shape),
        tuple(tv.shape),
    )
    np.testing.assert_allclose(s.numpy()[..., :3], ts.numpy()[..., :3], rtol=1e-10)
    recon = u.numpy() @ (s.numpy()[..., None] * np.swapaxes(v.numpy(), -1, -2))
    np.testing.assert_allclose(recon, a, atol=1e-10)
    eye = np.broadcast_to(np.eye(4), u.shape[:-2] + (4, 4))
    np.testing.assert_allclose(np.swapaxes(v.numpy(), -1, -2) @ v.numpy(), eye, atol=1e-10)
    # the top-3 subspaces agree with PyTorch's (singular vectors up to sign)
    proj = np.abs(np.sum(u.numpy()[..., :3] * tu.numpy()[..., :3], axis=-2))
    np.testing.assert_allclose(proj, 1.0, rtol=1e-8)


def test_svd_lowrank_shapes_and_mean_as_torch(torch):
    for shape, q, m in [((5, 4), 10, None), ((3, 5), 2, (5,)), ((6, 4), 3, (1, 4))]:
        a = _rng.standard_normal(shape)
        mean = None if m is None else _rng.standard_normal(m)
        got = gg.svd_lowrank(gg.tensor(a), q=q, M=None if m is None else gg.tensor(mean))
        want = torch.svd_lowrank(torch.tensor(a), q=q, M=None if m is None else torch.tensor(mean))
        assert [tuple(t.shape) for t in got] == [tuple(t.shape) for t in want]
    a = _low_rank((6, 4), 2) + _rng.standard_normal(4)
    got = gg.pca_lowrank(gg.tensor(a), q=3)
    want = torch.pca_lowrank(torch.tensor(a), q=3)
    assert [tuple(t.shape) for t in got] == [tuple(t.shape) for t in want]
    np.testing.assert_allclose(got[1].numpy()[:2], want[1].numpy()[:2], rtol=1e-10)
    assert tuple(gg.pca_lowrank(gg.randn(5, 4))[1].shape) == tuple(
        torch.pca_lowrank(torch.randn(5, 4))[1].shape
    )
    assert glassgrad.functional.svd_lowrank is gg.svd_lowrank


def test_svd_lowrank_gradient_of_singular_values(torch):
    a = _low_rank((6, 5), 3) + 0.01 * _rng.standard_normal((6, 5))  # distinct values, q covers them all
    x, tx = gg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    gg.manual_seed(0)
    w = np.array([1.0, -2.0, 0.5, 3.0, 1.5])
    (gg.svd_lowrank(x, q=5, niter=2)[1] * gg.tensor(w)).sum().backward()
    (torch.svd_lowrank(tx, q=5, niter=2)[1] * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-8)


def test_lowrank_errors_name_the_op(torch):
    with pytest.raises(ValueError, match="must be non-negative integer and not greater"):
        torch.pca_lowrank(torch.randn(5, 4), q=5)
    with pytest.raises(ValueError, match=r"pca_lowrank: expected q <= min\(m, n\) = 4 .* got q=5"):
        gg.pca_lowrank(gg.randn(5, 4), q=5)
    with pytest.raises(ValueError, match="svd_lowrank: expected niter to be a non-negative int, got -1"):
        gg.svd_lowrank(gg.randn(5, 4), niter=-1)
    with pytest.raises(
        gg.errors.ShapeError, match=r"svd_lowrank: expected A of shape \(\*, m, n\), got shape \(5,\)"
    ):
        gg.svd_lowrank(gg.randn(5))
    with pytest.raises(
        gg.errors.ShapeError, match=r"svd_lowrank: expected M broadcastable to A's shape \(5, 4\)"
    ):
        gg.svd_lowrank(gg.randn(5, 4), M=gg.randn(3))
    with pytest.raises(
        gg.errors.DTypeError, match="svd_lowrank: expected a floating point or complex A, got"
    ):
        gg.svd_lowrank(gg.ones(5, 4, dtype=gg.int64))
    with pytest.raises(TypeError, match="argument 'q' must be int, not float"):
        gg.svd_lowrank(gg.randn(5, 4), q=2.5)
