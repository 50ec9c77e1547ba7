"""Regressions from a review of the ``torch.linalg`` surface: errors that name the op (as PyTorch's
``LinAlgError``), edge cases where PyTorch returns a value, no stray NumPy warnings, one home for
the shared helpers."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, LinAlgError, ShapeError

NAN = np.full((3, 3), np.nan)

NON_CONVERGING = [  # (name in the message, call): NaN entries make LAPACK give up, as in PyTorch
    ("linalg.svd", lambda x: gg.linalg.svd(x)),
    ("linalg.svdvals", lambda x: gg.linalg.svdvals(x)),
    ("linalg.svd", lambda x: gg.svd(x)),
    ("linalg.eigh", lambda x: gg.linalg.eigh(x)),
    ("linalg.eigh", lambda x: gg.linalg.eigvalsh(x)),
    ("linalg.pinv", lambda x: gg.linalg.pinv(x)),
    ("linalg.pinv", lambda x: gg.linalg.pinv(x, hermitian=True)),
    ("linalg.matrix_rank", lambda x: gg.linalg.matrix_rank(x)),
    ("linalg.matrix_rank", lambda x: gg.linalg.matrix_rank(x, hermitian=True)),
    ("linalg.lstsq", lambda x: gg.linalg.lstsq(x, gg.ones(3, 1, dtype=gg.float64))),
    ("linalg.svd", lambda x: gg.linalg.cond(x)),
]


@pytest.mark.parametrize(("name", "call"), NON_CONVERGING)
def test_non_finite_input_raises_linalg_error_naming_the_op(name, call):
    # was: ValueError (svd), ShapeError "eigh: ... cannot be combined", NumPy's own LinAlgError
    with pytest.raises(LinAlgError, match=rf"{name}: expected a finite matrix, got one of shape \(3, 3\)"):
        call(gg.tensor(NAN))


def test_svd_refuses_half_precision_naming_the_op():
    # was: NumPy's "TypeError: array type float16 is unsupported in linalg"
    with pytest.raises(
        DTypeError,
        match="linalg.svd: expected a float32, float64, complex64 or complex128 input, got float16",
    ):
        gg.linalg.svd(gg.ones(3, 3, dtype=gg.float16))


def test_cholesky_solve_shape_error_names_cholesky_solve():
    # was: "solve_triangular: expected A (..., n, n) and B (..., n, k)"
    with pytest.raises(ShapeError, match=r"cholesky_solve: expected B \(\.\.\., 3, k\) for L \(3, 3\), got"):
        gg.cholesky_solve(gg.ones(2, 1, dtype=gg.float64), gg.eye(3, dtype=gg.float64))


@pytest.mark.parametrize("p", [1, -1, "fro", "nuc", math.inf, -math.inf])
def test_cond_of_a_singular_matrix_is_inf(torch, p):
    # was: LinAlgError from linalg.inv; PyTorch returns inf for a singular matrix in these norms
    a = np.array([[[1.0, 2.0], [2.0, 4.0]], [[1.0, 0.0], [0.0, 2.0]]])
    got = gg.linalg.cond(gg.tensor(a), p).numpy()
    want = torch.linalg.cond(torch.tensor(a), p).numpy()
    assert got[0] == math.inf or want[0] > 1e15
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)


def test_householder_product_without_reflections_is_differentiable(torch):
    # k = 0: Q is the identity's first n columns, a function of A with a zero gradient (was: the
    # result did not require grad, so backward raised)
    a = gg.randn(4, 3, dtype=gg.float64, requires_grad=True)
    q = gg.linalg.householder_product(a, gg.zeros(0, dtype=gg.float64))
    at = torch.tensor(a.detach().numpy(), requires_grad=True)
    qt = torch.linalg.householder_product(at, torch.zeros(0, dtype=torch.float64))
    np.testing.assert_array_equal(q.detach().numpy(), qt.detach().numpy())
    q.sum().backward()
    qt.sum().backward()
    assert at.grad is None or not at.grad.any()  # PyTorch: no gradient reaches A
    np.testing.assert_array_equal(a.grad.numpy(), np.zeros((4, 3)))


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn()


def test_no_numpy_warnings_where_pytorch_is_silent(torch):
    # repeated eigenvalues / singular values: an infinite gradient, as PyTorch's, without a warning
    x = gg.eye(3, dtype=gg.float64, requires_grad=True)
    _quiet(lambda: gg.linalg.eigh(x).eigenvectors.abs().sum().backward())
    _quiet(lambda: gg.linalg.svd(x, full_matrices=False).Vh.abs().sum().backward())
    y = gg.tensor(np.outer([1.0, 2.0, 3.0], [1.0, 1.0]), requires_grad=True)  # rank 1: s_2 = 0
    _quiet(lambda: gg.linalg.svd(y, full_matrices=False).U.abs().sum().backward())
    # overflow to inf in the squaring steps of matrix_exp, NaN through det
    big = _quiet(lambda: gg.linalg.matrix_exp(gg.full((3, 3), 1e3, dtype=gg.float64)))
    assert (
        np.isinf(big.numpy()).all() == torch.linalg.matrix_exp(torch.full((3, 3), 1e3)).isinf().all().item()
    )
    assert np.isnan(_quiet(lambda: gg.linalg.det(gg.tensor(NAN))).item())


def test_the_linalg_ops_share_one_set_of_helpers():
    from glassgrad.ops import linalg_decomp, linalg_matfn, linalg_solve, linalg_svd

    assert linalg_decomp._mt is linalg_solve.mt and linalg_svd._mt is linalg_solve.mt
    assert linalg_matfn.mt is linalg_solve.mt
    assert not hasattr(linalg_decomp, "check_matrix") and not hasattr(linalg_solve, "_t")
