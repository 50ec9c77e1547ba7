"""Double backward (``create_graph=True``) of the linalg ops: ``autograd/recorded_rules_linalg.py``.

Every rule is checked by ``gradgradcheck`` (float64, well-conditioned random matrices, batched and
broadcast, each attr variant), against PyTorch's second-order gradients, and its create_graph
first-order gradients against the plain backward's. Decompositions are read through functions
their factors' signs do not change (U * U, V f(L) Vᵀ), as the sign conventions are LAPACK's.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradgradcheck
from tests.autograd.second_order_helpers import gg_inputs, like_torch, v_w

_R = np.random.default_rng(4321)


# exactly singular (rank 2, rank 1) beside an invertible one: det's cofactor (SVD) branch
_SINGULAR = np.array([
    [[1.0, 2.0, 0.5], [2.0, 4.0, 1.0], [0.3, 0.1, 2.0]],
    [[3.0, 0.2, 0.1], [0.4, 2.5, 0.3], [0.1, 0.2, 3.1]],
    [[1.0, 2.0, 0.5], [2.0, 4.0, 1.0], [4.0, 8.0, 2.0]],
])  # fmt: skip


def _normal(*shape):
    return _R.standard_normal(shape)


def _well(*shape):
    """Square matrices near 3 I: invertible, well conditioned."""
    return _R.standard_normal(shape) * 0.5 + 3 * np.eye(shape[-1])


def _eye(m, n):
    return m.eye(n, dtype=m.float64)


def _spd(m, x):
    """x xᵀ + n I: symmetric positive definite, its gradient reaching x on both triangles."""
    return x @ x.mT + x.shape[-2] * _eye(m, x.shape[-2])


def _sym(m, x):
    return x + x.mT


def _eigh_read(m, w, v):
    return m.cat([w.flatten(), (v * v).flatten(), (v @ (m.sin(w)[..., None] * v.mT)).flatten()])


def _svd_read(m, u, s, vh):
    k = s.shape[-1]
    u, vh = u[..., :k], vh[..., :k, :]
    return m.cat(
        [(u * u).flatten(), (vh * vh).flatten(), ((u * s[..., None, :] ** 2) @ vh).flatten(), s.flatten()]
    )


def _qr_read(m, q, r):
    return m.cat([q.flatten(), r.flatten()])


# name -> (fn(lib, *xs), input arrays); fn is written once for glassgrad and torch (same names)
CASES = {
    "inv": (lambda m, a: m.linalg.inv(a), [_well(2, 3, 3)]),
    "inv_2x": (lambda m, a: m.linalg.inv(a) @ a.mT, [_well(3, 3)]),
    "det": (lambda m, a: m.linalg.det(a), [_well(2, 3, 3)]),
    "det_singular": (lambda m, a: m.linalg.det(a), [_SINGULAR]),
    "det_neg": (lambda m, a: m.linalg.det(a) ** 2, [-_well(3, 3)]),
    "logabsdet": (lambda m, a: m.linalg.slogdet(a)[1], [_well(2, 3, 3)]),
    "logabsdet_neg": (lambda m, a: m.linalg.slogdet(a)[1], [-_well(3, 3)]),
    "solve": (lambda m, a, b: m.linalg.solve(a, b), [_well(2, 3, 3), _normal(2, 3, 2)]),
    "solve_bcast": (lambda m, a, b: m.linalg.solve(a, b), [_well(3, 3), _normal(2, 3, 2)]),
    "solve_bcast_a": (lambda m, a, b: m.linalg.solve(a, b), [_well(2, 1, 3, 3), _normal(3, 3, 1)]),
    "solve_vector": (lambda m, a, b: m.linalg.solve(a, b), [_well(3, 3), _normal(3)]),
    "solve_right": (lambda m, a, b: m.linalg.solve(a, b, left=False), [_well(2, 3, 3), _normal(2, 4, 3)]),
    "solve_triangular_lower": (
        lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False),
        [_well(2, 3, 3), _normal(2, 3, 2)],
    ),
    "solve_triangular_upper": (
        lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True),
        [_well(3, 3), _normal(2, 3, 2)],
    ),
    "solve_triangular_bcast_b": (
        lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True),
        [_well(2, 3, 3), _normal(3, 1)],
    ),
    "cholesky": (lambda m, x: m.linalg.cholesky(_spd(m, x)), [_normal(2, 3, 3)]),
    "cholesky_tall_x": (lambda m, x: m.linalg.cholesky(_spd(m, x)), [_normal(4, 2)]),
    "lstsq_tall": (lambda m, a, b: m.linalg.lstsq(a, b).solution, [_normal(2, 5, 3), _normal(2, 5, 2)]),
    "lstsq_wide": (lambda m, a, b: m.linalg.lstsq(a, b).solution, [_normal(2, 3, 5), _normal(2, 3, 2)]),
    "lstsq_bcast": (lambda m, a, b: m.linalg.lstsq(a, b).solution, [_normal(1, 4, 3), _normal(2, 4, 2)]),
    "eigh": (lambda m, x: _eigh_read(m, *m.linalg.eigh(_sym(m, x))), [_normal(2, 3, 3)]),
    "eigh_upper": (lambda m, x: _eigh_read(m, *m.linalg.eigh(_sym(m, x), UPLO="U")), [_normal(4, 4)]),
    "eigh_values": (lambda m, x: m.linalg.eigh(_sym(m, x))[0] ** 2, [_normal(2, 3, 3)]),
    "eigvalsh": (lambda m, x: m.linalg.eigvalsh(_sym(m, x)), [_normal(2, 3, 3)]),
    "eigvalsh_upper": (lambda m, x: m.linalg.eigvalsh(_sym(m, x), UPLO="U") ** 2, [_normal(3, 3)]),
    "qr_tall": (lambda m, a: _qr_read(m, *m.linalg.qr(a)), [_normal(2, 4, 3)]),
    "qr_square": (lambda m, a: _qr_read(m, *m.linalg.qr(a)), [_normal(3, 3)]),
    "qr_wide": (lambda m, a: _qr_read(m, *m.linalg.qr(a)), [_normal(2, 3, 5)]),
    "qr_complete_wide": (lambda m, a: _qr_read(m, *m.linalg.qr(a, mode="complete")), [_normal(2, 4)]),
    "svdvals": (lambda m, a: m.linalg.svdvals(a), [_normal(2, 4, 3)]),
    "svd_tall": (lambda m, a: _svd_read(m, *m.linalg.svd(a, full_matrices=False)), [_normal(2, 4, 3)]),
    "svd_wide": (lambda m, a: _svd_read(m, *m.linalg.svd(a, full_matrices=False)), [_normal(3, 5)]),
    "svd_square": (lambda m, a: _svd_read(m, *m.linalg.svd(a, full_matrices=False)), [_normal(2, 3, 3)]),
    "svd_full": (lambda m, a: _svd_read(m, *m.linalg.svd(a)), [_normal(4, 2)]),
    "svd_full_wide": (lambda m, a: _svd_read(m, *m.linalg.svd(a)), [_normal(2, 2, 3)]),
    "pinv_tall": (lambda m, a: m.linalg.pinv(a), [_normal(2, 4, 3)]),
    "pinv_wide": (lambda m, a: m.linalg.pinv(a), [_normal(2, 4)]),
    "pinv_hermitian": (lambda m, x: m.linalg.pinv(_sym(m, x), hermitian=True), [_normal(2, 3, 3)]),
    "matrix_exp": (lambda m, a: m.linalg.matrix_exp(a), [_normal(2, 3, 3) * 0.5]),
    "matrix_exp_scaled": (lambda m, a: m.linalg.matrix_exp(a), [_normal(3, 3) * 3]),
}


# Checked by gradgradcheck only. det(A)² at a singular A: the Hessian is 2 v <W, adj(A)ᵀ> adj(A)ᵀ
# (finite differences agree); PyTorch 2.13 gives 0 there.
GROUP2 = {
    "det_singular_square": (lambda m, a: m.linalg.det(a) ** 2 + m.linalg.det(a), [_SINGULAR[0]]),
}
ALL = {**CASES, **GROUP2}


@pytest.mark.parametrize("name", sorted(ALL))
def test_gradgradcheck(name):
    fn, arrays = ALL[name]
    assert gradgradcheck(lambda *xs: fn(gg, *xs), gg_inputs(arrays))


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_order_like_torch(name, torch):
    fn, arrays = CASES[name]
    like_torch(torch, fn, arrays, rtol=1e-9, atol=1e-11, allow_unused=False)


@pytest.mark.parametrize("name", sorted(ALL))
def test_create_graph_first_order_equals_plain(name):
    fn, arrays = ALL[name]
    v, _ = v_w(fn, arrays)
    xs = gg_inputs(arrays)
    plain = gg.autograd.grad(fn(gg, *xs), xs, gg.tensor(v))
    recorded = gg.autograd.grad(fn(gg, *xs), xs, gg.tensor(v), create_graph=True)
    for p, r in zip(plain, recorded):
        np.testing.assert_allclose(r.detach().numpy(), p.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["inv", "matrix_exp", "cholesky"])
def test_third_order_like_torch(name, torch):
    """Each order runs the rules once more (matrix_exp's on a matrix twice as large): it ends."""
    fn, arrays = CASES[name]

    def third(lib):
        x = (gg.tensor(arrays[0].copy()) if lib is gg else lib.tensor(arrays[0])).requires_grad_()
        (g1,) = lib.autograd.grad((fn(lib, x) ** 2).sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad((g1 * g1).sum(), x, create_graph=True)
        (g3,) = lib.autograd.grad(g2.sum(), x)
        return g3.detach().numpy()

    np.testing.assert_allclose(third(gg), third(torch), rtol=1e-8, atol=1e-10)


def test_singular_logabsdet_refused():
    a = gg.tensor(_SINGULAR[0].copy()).requires_grad_()
    with pytest.raises(NotImplementedError, match="linalg_logabsdet"):
        gg.autograd.grad(gg.linalg.slogdet(a)[1], a, create_graph=True)


@pytest.mark.parametrize("name", ["eigh", "eigvalsh"])
def test_eigenvalue_hessian_like_torch(name, torch):
    """A loss linear in the eigenvalues: a constant L̄ (no graph), V̄ zero (eigh's short branch)."""
    x = _normal(2, 3, 3)

    def hess(lib):
        t = (gg.tensor(x.copy()) if lib is gg else lib.tensor(x)).requires_grad_()
        a = _sym(lib, t)
        w = lib.linalg.eigh(a)[0] if name == "eigh" else lib.linalg.eigvalsh(a)
        (g,) = lib.autograd.grad(
            (w * lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64)).sum(), t, create_graph=True
        )
        (h,) = lib.autograd.grad((g * lib.tensor(np.cos(x))).sum(), t)
        return h.detach().numpy()

    np.testing.assert_allclose(hess(gg), hess(torch), rtol=1e-9, atol=1e-11)


def test_qr_complete_refused_and_full_svd_factor_extra_vectors_ignored():
    a = gg.tensor(_normal(4, 3)).requires_grad_()
    with pytest.raises(gg.errors.GraphError, match="mode='complete'"):
        gg.autograd.grad(gg.linalg.qr(a, mode="complete")[0].sum(), a, create_graph=True)
    # PyTorch ignores the gradient on a full factor's extra vectors (round 65): U's 4th column adds
    # nothing (squares: each column's sign is LAPACK's choice)
    w = gg.tensor(_normal(4, 4))
    (full,) = gg.autograd.grad((gg.linalg.svd(a)[0] ** 2 * w).sum(), a, create_graph=True)
    (reduced,) = gg.autograd.grad(
        (gg.linalg.svd(a, full_matrices=False)[0] ** 2 * w[:, :3]).sum(), a, create_graph=True
    )
    assert full.requires_grad and float(full.abs().max()) > 0.1
    np.testing.assert_allclose(full.detach().numpy(), reduced.detach().numpy(), rtol=1e-10, atol=1e-12)
