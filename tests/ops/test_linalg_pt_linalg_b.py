"""Round 67, PyTorch's test_linalg.py (second half) run against glassgrad: the differences fixed.

- einsum's sublist form named the indices 0-25 a-z and 26-51 A-Z (PyTorch: A-Z, then a-z), so an
  implicit output, which lists its indices sorted, came out with its dims in another order;
- addmm/addmv/baddbmm took an input of more dims than the product (or of a size the product's 1
  would broadcast to) and returned a result of another shape, where PyTorch refuses it;
- lu_unpack and linalg.lu_solve read a pivot of 0 (or below) as an index from the end;
- triangular_solve promoted mixed dtypes, ormqr took a tau shorter than min(m, n): PyTorch refuses;
- geqrf's ``a`` is column-major (PyTorch's strides); geqrf, lu_factor, householder_product and
  cholesky_solve/cholesky_inverse refuse integer, bool and float16 input with PyTorch's
  NotImplementedError;
- float16 matrix_exp (PyTorch's CPU kernel takes float16) is computed in float32, rounded once,
  and float32/complex64 in 64 bits (their squarings lost 1e-5 of relative accuracy);
- ormqr broadcast other's batch dims, qr's unknown mode was a ValueError only, einsum read '. ..'
  as an ellipsis once the spaces were gone: PyTorch refuses each (RuntimeError);
- the warning for a resized ``out=`` holding elements now has PyTorch's words (filters match it).
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

_rng = np.random.default_rng(67)


def _both(torch, *arrays):
    return [torch.tensor(a, requires_grad=True) for a in arrays], [
        gg.tensor(a, requires_grad=True) for a in arrays
    ]


@pytest.mark.parametrize(
    "sublists",
    [
        ([30, 12, Ellipsis], [21, Ellipsis]),  # (1, 4, 8) and (5, 8): indices on both sides of 26
        ([23], [37, 25, 39], [39, 42, Ellipsis]),
        ([0, 27], [27, 1]),
        ([51, 0], [0, 26]),
    ],
)
def test_einsum_sublist_implicit_output_order_and_grad_match_pytorch(torch, sublists):
    sizes = {30: 1, 12: 4, 21: 5, 23: 6, 37: 8, 25: 2, 39: 2, 42: 1, 0: 3, 27: 4, 1: 2, 51: 5, 26: 2}
    shapes = [tuple(sizes[k] for k in sub if k is not Ellipsis) for sub in sublists]
    ell = (7,)
    shapes = [s + ell if Ellipsis in sub else s for s, sub in zip(shapes, sublists)]
    arrays = [_rng.standard_normal(s) for s in shapes]
    ts, gs = _both(torch, *arrays)
    want = torch.einsum(*[x for pair in zip(ts, sublists) for x in pair])
    got = gg.einsum(*[x for pair in zip(gs, sublists) for x in pair])
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = _rng.standard_normal(tuple(want.shape))
    for u, v in zip(gg.autograd.grad(got, gs, gg.tensor(w)), torch.autograd.grad(want, ts, torch.tensor(w))):
        np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "op, shapes",
    [
        ("addmm", [(1, 3, 2), (3, 4), (4, 2)]),  # input of more dims than the product
        ("addmm", [(3, 2), (1, 4), (4, 2)]),  # the product's 1 against the input's 3
        ("addmv", [(1, 3), (3, 4), (4,)]),
        ("addmv", [(3,), (1, 4), (4,)]),
        ("baddbmm", [(1, 2, 3, 2), (2, 3, 4), (2, 4, 2)]),
        ("baddbmm", [(2, 3, 2), (1, 3, 4), (1, 4, 2)]),
    ],
)
def test_addmm_family_refuses_an_input_that_does_not_expand_to_the_product(torch, op, shapes):
    arrays = [_rng.standard_normal(s) for s in shapes]
    with pytest.raises(RuntimeError):
        getattr(torch, op)(*(torch.tensor(a) for a in arrays))
    with pytest.raises(RuntimeError, match=op):
        getattr(gg, op)(*(gg.tensor(a) for a in arrays))


@pytest.mark.parametrize(
    "op, shapes",
    [
        ("addmm", [(2,), (3, 4), (4, 2)]),
        ("addmm", [(3, 1), (3, 4), (4, 2)]),
        ("addmv", [(1,), (3, 4), (4,)]),
        ("baddbmm", [(3, 2), (2, 3, 4), (2, 4, 2)]),
        ("baddbmm", [(1, 1, 2), (2, 3, 4), (2, 4, 2)]),
    ],
)
def test_addmm_family_still_expands_a_broadcastable_input_with_pytorch_gradients(torch, op, shapes):
    arrays = [_rng.standard_normal(s) for s in shapes]
    ts, gs = _both(torch, *arrays)
    want = getattr(torch, op)(*ts, beta=0.5, alpha=2.0)
    got = getattr(gg, op)(*gs, beta=0.5, alpha=2.0)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = _rng.standard_normal(tuple(want.shape))
    for u, v in zip(gg.autograd.grad(got, gs, gg.tensor(w)), torch.autograd.grad(want, ts, torch.tensor(w))):
        np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("pivots", [[0, 2, 3], [-1, 2, 3], [4, 2, 3]])
def test_lu_unpack_and_lu_solve_refuse_pivots_outside_1_to_m(torch, pivots):
    a = _rng.standard_normal((3, 3)) + 3 * np.eye(3)
    b = _rng.standard_normal((3, 2))
    lu_t, _ = torch.linalg.lu_factor(torch.tensor(a))
    lu_g, _ = gg.linalg.lu_factor(gg.tensor(a))
    p_t, p_g = torch.tensor(pivots, dtype=torch.int32), gg.tensor(pivots, dtype=gg.int32)
    for call_t, call_g in [
        (lambda: torch.lu_unpack(lu_t, p_t), lambda: gg.lu_unpack(lu_g, p_g)),
        (
            lambda: torch.linalg.lu_solve(lu_t, p_t, torch.tensor(b)),
            lambda: gg.linalg.lu_solve(lu_g, p_g, gg.tensor(b)),
        ),
    ]:
        with pytest.raises(RuntimeError):
            call_t()
        with pytest.raises(RuntimeError, match="pivots"):
            call_g()


def test_lu_unpack_takes_every_pivot_from_1_to_m_as_pytorch(torch):
    for shape, pivots in [((5, 3), [5, 5, 3]), ((3, 5), [3, 3, 3]), ((3, 3), [1, 2, 3])]:
        lu = _rng.standard_normal(shape)
        want = torch.lu_unpack(torch.tensor(lu), torch.tensor(pivots, dtype=torch.int32))
        got = gg.lu_unpack(gg.tensor(lu), gg.tensor(pivots, dtype=gg.int32))
        for u, v in zip(got, want):
            np.testing.assert_array_equal(u.numpy(), v.numpy())


def test_triangular_solve_refuses_mixed_dtypes_as_pytorch(torch):
    a = np.triu(_rng.standard_normal((3, 3))) + 3 * np.eye(3)
    b = _rng.standard_normal((3, 2)).astype(np.float32)
    with pytest.raises(RuntimeError):
        torch.triangular_solve(torch.tensor(b), torch.tensor(a))
    with pytest.raises(RuntimeError, match="triangular_solve"):
        gg.triangular_solve(gg.tensor(b), gg.tensor(a))


@pytest.mark.parametrize(
    "shape, k, left", [((4, 3), 2, True), ((4, 3), 2, False), ((3, 4), 2, True), ((4, 2), 1, True)]
)
def test_ormqr_refuses_a_tau_shorter_than_min_m_n_as_pytorch(torch, shape, k, left):
    m = shape[0]
    arrays = [
        _rng.standard_normal(shape),
        _rng.standard_normal(k),
        _rng.standard_normal((m, 2) if left else (2, m)),
    ]
    with pytest.raises(RuntimeError):
        torch.ormqr(*(torch.tensor(a) for a in arrays), left=left)
    with pytest.raises(RuntimeError, match="ormqr"):
        gg.ormqr(*(gg.tensor(a) for a in arrays), left=left)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4)])
def test_geqrf_a_is_column_major_as_pytorch(torch, shape):
    x = _rng.standard_normal(shape)
    a_t, tau_t = torch.geqrf(torch.tensor(x))
    a_g, tau_g = gg.geqrf(gg.tensor(x))
    assert a_g.stride() == a_t.stride()
    assert a_g.is_contiguous() == a_t.is_contiguous() and a_g.mT.is_contiguous() == a_t.mT.is_contiguous()
    np.testing.assert_allclose(a_g.numpy(), a_t.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tau_g.numpy(), tau_t.numpy(), rtol=1e-12, atol=1e-12)


_LAPACK_CALLS = {
    "geqrf": lambda m, d: m.geqrf(m.ones(3, 3, dtype=d)),
    "lu_factor": lambda m, d: m.linalg.lu_factor(m.ones(3, 3, dtype=d)),
    "lu_factor_ex": lambda m, d: m.linalg.lu_factor_ex(m.ones(3, 3, dtype=d)),
    "lu": lambda m, d: m.lu(m.ones(3, 3, dtype=d)),
    "householder_product": lambda m, d: m.linalg.householder_product(
        m.ones(3, 3, dtype=d), m.ones(2, dtype=d)
    ),
    "cholesky_solve": lambda m, d: m.cholesky_solve(m.ones(3, 2, dtype=d), m.ones(3, 3, dtype=d)),
    "cholesky_inverse": lambda m, d: m.cholesky_inverse(m.ones(3, 3, dtype=d)),
}


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float16"])
@pytest.mark.parametrize("name", sorted(_LAPACK_CALLS))
def test_lapack_functions_refuse_what_pytorch_has_no_kernel_for(torch, name, dtype):
    """PyTorch raises NotImplementedError ("lu_cpu" not implemented for 'Long'); glassgrad raised a
    DTypeError (geqrf a ShapeError, NumPy's TypeError for float16), now a KernelDTypeError (both)."""
    with pytest.raises(NotImplementedError):
        _LAPACK_CALLS[name](torch, getattr(torch, dtype))
    with pytest.raises(NotImplementedError, match="not implemented for"):
        _LAPACK_CALLS[name](gg, getattr(gg, dtype))


def test_float16_matrix_exp_is_the_float32_result_rounded_once_with_its_gradient():
    """PyTorch's CPU kernel takes float16 but overflows (inf/NaN for entries of size 0.1); the
    reference is the float64 exponential of the float16 input (a float64 Taylor sum to 40 terms)."""
    x = (_rng.standard_normal((2, 3, 3)) * 0.5).astype(np.float16)
    x64 = x.astype(np.float64)
    term = np.broadcast_to(np.eye(3), x64.shape).copy()
    ref = term.copy()
    for k in range(1, 40):
        term = term @ x64 / k
        ref = ref + term
    leaf = gg.tensor(x.astype(np.float32), requires_grad=True)
    y = gg.linalg.matrix_exp(leaf.half())
    assert y.dtype == gg.float16
    np.testing.assert_allclose(y.detach().numpy().astype(np.float64), ref, rtol=2e-3, atol=2e-3)
    y.float().sum().backward()
    # d/dX sum(exp(X)) through the float32 computation, against the float32 result's own gradient
    leaf32 = gg.tensor(x.astype(np.float32), requires_grad=True)
    gg.linalg.matrix_exp(leaf32).sum().backward()
    assert leaf.grad.dtype == gg.float32
    np.testing.assert_allclose(leaf.grad.numpy(), leaf32.grad.numpy(), rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize(
    "a, tau, c",
    [((1, 2, 2), (1, 2), (2, 2, 2)), ((2, 2, 2), (2, 2), (1, 2, 2)), ((2, 2, 2), (1, 2), (2, 2, 2))],
)
def test_ormqr_refuses_batch_dims_other_than_input_s_as_pytorch(torch, a, tau, c):
    """PyTorch does not broadcast ormqr's operands; glassgrad's product broadcast other's batch."""
    arrays = [_rng.standard_normal(s) for s in (a, tau, c)]
    with pytest.raises(RuntimeError):
        torch.ormqr(*(torch.tensor(x) for x in arrays))
    with pytest.raises(RuntimeError, match="ormqr"):
        gg.ormqr(*(gg.tensor(x) for x in arrays))


def test_qr_refuses_an_unknown_mode_with_pytorch_s_runtime_error(torch):
    with pytest.raises(RuntimeError):
        torch.linalg.qr(torch.ones(3, 3), mode="hello")
    with pytest.raises(RuntimeError, match="mode"):
        gg.linalg.qr(gg.ones(3, 3), mode="hello")


@pytest.mark.parametrize("equation", [". ..", "a->... .", ".. .", "a. ..->a"])
def test_einsum_refuses_a_dot_outside_an_ellipsis_even_with_spaces(torch, equation):
    """Spaces were dropped first, so '. ..' read as an ellipsis and the equation ran."""
    with pytest.raises(RuntimeError):
        torch.einsum(equation, torch.ones(2))
    with pytest.raises(RuntimeError, match="einsum"):
        gg.einsum(equation, gg.ones(2))


def test_einsum_still_reads_spaces_around_an_ellipsis_as_pytorch(torch):
    x = _rng.standard_normal((2, 3, 4))
    for eq in [" ... ij -> ... ji ", "b ... , b ... -> ...", "i j k"]:
        n = eq.count(",") + 1
        want = torch.einsum(eq, *[torch.tensor(x)] * n)
        got = gg.einsum(eq, *[gg.tensor(x)] * n)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


def test_the_resize_warning_of_an_out_holding_elements_has_pytorch_s_words(torch):
    """A program's warnings.filterwarnings(message="An output with one or more elements was resized")
    matches PyTorch's text from its start; glassgrad's began with the op's name."""
    import warnings

    texts = []
    for m in (torch, gg):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m.mm(m.ones(2, 2), m.ones(2, 2), out=m.empty(3))
        texts.append([str(w.message) for w in caught if "resized" in str(w.message)])
    assert len(texts[0]) == len(texts[1]) == 1
    prefix = "An output with one or more elements was resized since it had shape [3], which does not match"
    assert texts[0][0].startswith(prefix) and texts[1][0].startswith(prefix)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message="An output with one or more elements was resized")
        gg.mm(gg.ones(2, 2), gg.ones(2, 2), out=gg.empty(3))
    assert not caught


@pytest.mark.parametrize("batch", [(), (2,), (2, 2)])
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_inverse_refuses_a_zero_on_the_diagonal_as_pytorch(torch, batch, upper):
    """A factor with a zero diagonal element is singular: PyTorch raises LinAlgError, glassgrad
    returned inf/NaN."""
    L = np.tril(_rng.standard_normal(batch + (3, 3))) + 3 * np.eye(3)
    L[(..., 1, 1) if not batch else (-1,) * len(batch) + (1, 1)] = 0
    L = np.swapaxes(L, -1, -2).copy() if upper else L
    with pytest.raises(torch.linalg.LinAlgError):
        torch.cholesky_inverse(torch.tensor(L), upper=upper)
    with pytest.raises(gg.linalg.LinAlgError, match="diagonal element 2 is zero"):
        gg.cholesky_inverse(gg.tensor(L), upper=upper)
    good = L.copy()
    good[..., 1, 1] = 2.0
    want = torch.cholesky_inverse(torch.tensor(good), upper=upper)
    np.testing.assert_allclose(
        gg.cholesky_inverse(gg.tensor(good), upper=upper).numpy(), want.numpy(), rtol=1e-12
    )


@pytest.mark.parametrize("dtype", ["float32", "complex64"])
@pytest.mark.parametrize("n", [5, 60, 200])
def test_single_precision_matrix_exp_is_the_exact_exponential_rounded_once(dtype, n):
    """PyTorch's test_linalg_matrix_exp_analytic: float32 matrices of norm ~20-60 lost 1e-5 of
    relative accuracy in the squarings (PyTorch's kernel: 1e-6); computed in 64 bits, the result is
    the exponential of the float32 input rounded once. Reference: SciPy's float64 expm of that input."""
    sl = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(n)
    q = np.eye(n) + rng.random((n, n)) / n**2 * (1 - np.eye(n))
    d = rng.standard_normal(n) * 3
    x = (q @ np.diag(d) @ np.linalg.inv(q)).astype(dtype)
    if dtype == "complex64":
        x = (x + 0.5j * x.T).astype(dtype)
    want = sl.expm(x.astype(np.complex128 if dtype == "complex64" else np.float64))
    got = gg.linalg.matrix_exp(gg.tensor(x))
    assert got.dtype == getattr(gg, dtype)
    err = np.abs(got.numpy().astype(want.dtype) - want).max() / np.abs(want).max()
    assert err < 4 * np.finfo(np.float32).eps  # rounding to float32 alone (eps = 1.2e-7)
