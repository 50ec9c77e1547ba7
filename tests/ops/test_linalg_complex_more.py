"""Complex ``linalg.inv``/``inv_ex``, ``det``, ``slogdet``/``logdet``, ``matrix_exp``, ``cholesky``/
``cholesky_ex``, ``solve_triangular``, ``cholesky_solve`` and ``solve_ex`` (ops/linalg_complex_more.py)
against PyTorch: values, gradients (PyTorch's convention z.grad = dL/dx + i dL/dy, each output
weighted by complex numbers so that both parts count), second derivatives, float64 gradchecks
through real views, singular matrices, and the dtype refusals and promotions.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck, gradgradcheck
from glassgrad.errors import DTypeError, LinAlgError

RNG = np.random.default_rng(3036)
C, R = gg.view_as_complex, gg.view_as_real
TOLS = [(np.complex128, 1e-12), (np.complex64, 1e-4)]


def _c(*shape, dtype=np.complex128, scale=1.0):
    return (scale * (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape))).astype(dtype)


def _well(*shape, dtype=np.complex128):
    """Complex matrices near 3 I: invertible, well conditioned."""
    return (_c(*shape, scale=0.5) + 3 * np.eye(shape[-1])).astype(dtype)


def _tri(*shape, upper, dtype=np.complex128):
    """Complex triangular matrices with 3 on the diagonal (junk in the other triangle, not read)."""
    a = _c(*shape, scale=0.5) + 3 * np.eye(shape[-1])
    keep = np.triu(a) if upper else np.tril(a)
    return (keep + 50 * (a - keep)).astype(dtype)


def _np(t):
    return t.detach().resolve_conj().numpy()


def _outs(y):
    return list(y) if isinstance(y, tuple) else [y]


def _run(lib, fn, arrays, weights):
    xs = [gg.tensor(a).requires_grad_() if lib is gg else lib.tensor(a, requires_grad=True) for a in arrays]
    ys = _outs(fn(lib, *xs))
    if not weights:
        for y in ys:  # complex outputs weighted by complex numbers: both parts count
            w = _c(*y.shape) if y.is_complex() else RNG.standard_normal(tuple(y.shape))
            weights.append(w.astype(_np(y).dtype))
    loss = sum(
        (y * lib.tensor(w)).real.sum() if y.is_complex() else (y * lib.tensor(w)).sum()
        for y, w in zip(ys, weights)
    )
    loss.backward()
    return [_np(y) for y in ys], [_np(x.grad) for x in xs]


def _compare(torch, fn, arrays, tol):
    weights = []
    ys, gs = _run(gg, fn, arrays, weights)
    tys, tgs = _run(torch, fn, arrays, weights)
    for y, ty in zip(ys, tys):
        assert y.dtype == ty.dtype and y.shape == ty.shape
        np.testing.assert_allclose(y, ty, rtol=tol, atol=tol)
    for g, tg in zip(gs, tgs):
        assert g.dtype == tg.dtype
        np.testing.assert_allclose(g, tg, rtol=tol * 10, atol=tol * 10)


def _inv(lib, a):
    return lib.linalg.inv(a)


def _inverse(lib, a):
    return lib.inverse(a)


def _inv_ex(lib, a):
    return lib.linalg.inv_ex(a).inverse


def _det(lib, a):
    return lib.linalg.det(a)


def _torch_det(lib, a):
    return lib.det(a)


def _slogdet(lib, a):
    return tuple(lib.linalg.slogdet(a))


def _torch_slogdet(lib, a):
    return tuple(lib.slogdet(a))


def _logdet(lib, a):
    return lib.logdet(a)


def _matrix_exp(lib, a):
    return lib.linalg.matrix_exp(a)


def _torch_matrix_exp(lib, a):
    return lib.matrix_exp(a)


ONE_MATRIX = [_inv, _inverse, _inv_ex, _det, _torch_det, _slogdet, _torch_slogdet, _logdet, _matrix_exp, _torch_matrix_exp]  # fmt: skip


@pytest.mark.parametrize("dtype,tol", TOLS)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (2, 1, 2, 2), (1, 1)])
@pytest.mark.parametrize("fn", ONE_MATRIX, ids=lambda f: f.__name__)
def test_one_matrix_ops_match_torch(torch, dtype, tol, shape, fn):
    a = _well(*shape, dtype=dtype) * np.exp(1j * RNG.uniform(0, 2 * np.pi, shape[:-2] + (1, 1))).astype(dtype)
    _compare(torch, fn, [a], tol)


@pytest.mark.parametrize("dtype,tol", TOLS)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (2, 1, 3, 3)])
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_matches_torch(torch, dtype, tol, shape, upper):
    x = _c(*shape, dtype=dtype)

    def fn(lib, x):  # X Xᴴ + n I: the gradient reaches X through both triangles
        return lib.linalg.cholesky(x @ x.mH + shape[-1] * lib.eye(shape[-1]), upper=upper)

    def ex(lib, x):
        return lib.linalg.cholesky_ex(x @ x.mH + shape[-1] * lib.eye(shape[-1]), upper=upper).L

    _compare(torch, fn, [x], tol)
    _compare(torch, ex, [x], tol)
    # only the lower triangle (and the diagonal's real part) is read, as PyTorch's
    h = x @ np.conj(np.swapaxes(x, -1, -2)) + shape[-1] * np.eye(shape[-1], dtype=dtype)
    junk = h + np.triu(np.full(shape[-2:], 5 + 7j), 1) + 2j * np.eye(shape[-1])
    np.testing.assert_allclose(
        _np(gg.linalg.cholesky(gg.tensor(junk))),
        _np(torch.linalg.cholesky(torch.tensor(junk))),
        rtol=tol,
        atol=tol,
    )


@pytest.mark.parametrize("dtype,tol", TOLS)
@pytest.mark.parametrize(
    "sa,sb,left",
    [((3, 3), (3, 2), True), ((2, 3, 3), (2, 3, 1), True), ((2, 1, 3, 3), (4, 3, 2), True),
     ((3, 3), (2, 3), False), ((2, 3, 3), (2, 4, 3), False)],
)  # fmt: skip
@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("unitriangular", [False, True])
def test_solve_triangular_matches_torch(torch, dtype, tol, sa, sb, left, upper, unitriangular):
    a, b = _tri(*sa, upper=upper, dtype=dtype), _c(*sb, dtype=dtype)

    def fn(lib, a, b):
        return lib.linalg.solve_triangular(a, b, upper=upper, left=left, unitriangular=unitriangular)

    _compare(torch, fn, [a, b], tol)


@pytest.mark.parametrize("dtype,tol", TOLS)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_and_inverse_match_torch(torch, dtype, tol, upper):
    fac = _tri(2, 3, 3, upper=upper, dtype=dtype)
    fac = np.triu(fac, 1) if upper else np.tril(fac, -1)
    fac = fac + np.diag([3.0, 2.5, 2.0]).astype(dtype)  # a Cholesky factor's diagonal is real, positive
    b = _c(3, 2, dtype=dtype)
    for fn in (
        lambda lib, b, f: lib.cholesky_solve(b, f, upper),
        lambda lib, b, f: lib.cholesky_inverse(f[0], upper) @ b,
    ):
        weights = []
        (y,), (gb, gf) = _run(gg, fn, [b, fac], weights)
        (ty,), (tgb, tgf) = _run(torch, fn, [b, fac], weights)
        np.testing.assert_allclose(y, ty, rtol=tol, atol=tol)
        np.testing.assert_allclose(gb, tgb, rtol=tol * 10, atol=tol * 10)
        # PyTorch's: that of (L Lᴴ)⁻¹ B in all of L, its unread triangle too (round 65)
        np.testing.assert_allclose(gf, tgf, rtol=tol * 10, atol=tol * 10)


def test_solve_ex_matches_torch(torch):
    a, b = _well(2, 3, 3), _c(2, 3, 2)
    _compare(torch, lambda lib, a, b: lib.linalg.solve_ex(a, b).result, [a, b], 1e-12)


# ------------------------------------------------------------------ second order, gradchecks
SECOND = {
    "inv": _inv, "det": _det, "slogdet": _slogdet, "logdet": _logdet,
    "matrix_exp": lambda lib, x: lib.linalg.matrix_exp(x - 3 * lib.eye(3)),  # (moderate values: the two Padé schemes agree)
    "cholesky": lambda lib, x: lib.linalg.cholesky(x @ x.mH + 3 * lib.eye(3)),
    "solve_triangular": lambda lib, x: lib.linalg.solve_triangular(x, x[..., :2] * 2, upper=True),
    "solve_triangular_left": lambda lib, x: lib.linalg.solve_triangular(x.tril(), x.mT, upper=False, left=False),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(SECOND))
def test_second_order_like_torch(torch, name):
    a = _well(2, 3, 3)
    weights, res = [], []
    for lib in (gg, torch):
        (x,) = xs = [gg.tensor(a).requires_grad_() if lib is gg else lib.tensor(a, requires_grad=True)]
        ys = _outs(SECOND[name](lib, x))
        weights = weights or [
            _c(*y.shape) if y.is_complex() else RNG.standard_normal(tuple(y.shape)) for y in ys
        ]
        loss = sum(
            (y * y * lib.tensor(w)).real.sum() if y.is_complex() else (y * y * lib.tensor(w)).sum()
            for y, w in zip(ys, weights)
        )
        (g,) = lib.autograd.grad(loss, xs, create_graph=True)
        (h,) = lib.autograd.grad((g * g.conj()).real.sum() + (g * g).real.sum(), xs)
        res.append((_np(g), _np(h)))
    (g, h), (tg, th) = res
    np.testing.assert_allclose(g, tg, rtol=1e-12, atol=1e-12 * np.abs(tg).max())
    np.testing.assert_allclose(h, th, rtol=1e-10, atol=1e-12 * np.abs(th).max())


GRADCHECKED = {
    "inv": lambda t: R(gg.linalg.inv(C(t) + 3 * gg.eye(3, dtype=gg.float64))),
    "det": lambda t: R(gg.linalg.det(C(t) + 3 * gg.eye(3, dtype=gg.float64))),
    "slogdet": lambda t: gg.cat([R(s) if s.is_complex() else s[..., None] for s in gg.linalg.slogdet(C(t) + 3 * gg.eye(3, dtype=gg.float64))], -1),
    "logdet": lambda t: R(gg.logdet(C(t) + 3 * gg.eye(3, dtype=gg.float64))),
    "matrix_exp": lambda t: R(gg.linalg.matrix_exp(C(t))),
    "cholesky": lambda t: R(gg.linalg.cholesky(C(t) @ C(t).mH + 3 * gg.eye(3, dtype=gg.float64), upper=True)),
    "solve_triangular": lambda t: R(gg.linalg.solve_triangular(C(t) + 3 * gg.eye(3, dtype=gg.float64), C(t)[..., :2], upper=False)),
    "cholesky_solve": lambda t: R(gg.cholesky_solve(C(t)[..., :2], (C(t) + 3 * gg.eye(3, dtype=gg.float64)).tril())),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(GRADCHECKED))
def test_gradcheck_and_gradgradcheck_through_real_views(name):
    x = gg.tensor(RNG.uniform(-0.5, 0.5, (2, 3, 3, 2))).requires_grad_()
    assert gradcheck(GRADCHECKED[name], [x])
    assert gradgradcheck(GRADCHECKED[name], [x])


# ------------------------------------------------------------------ singular matrices
def _singular(n, zero_row):
    """A complex n x n matrix whose row ``zero_row`` is 0: exactly singular in floating point."""
    a = _c(n, n)
    a[zero_row] = 0
    return a


def _cofactor(a):
    """adj(A)ᵀ by its definition: C_ij = (-1)^(i+j) det(A without row i and column j)."""
    n = a.shape[-1]
    minor = lambda i, j: np.linalg.det(np.delete(np.delete(a, i, 0), j, 1))  # noqa: E731
    return np.array([[(-1) ** (i + j) * minor(i, j) for j in range(n)] for i in range(n)])


def test_det_of_singular_complex_matrices_and_its_cofactor_gradient(torch):
    # rank n-1 (a zero row): det 0, gradient ḡ adj(A)ᴴ from the cofactors' definition
    a = _singular(3, 1)
    x = gg.tensor(a, requires_grad=True)
    d = gg.linalg.det(x)
    w = 0.3 - 0.7j  # (a complex128 tensor: glassgrad rounds a Python complex factor to complex64)
    (d * gg.tensor(np.array(w))).real.backward()
    assert d.item() == 0 and np.abs(_cofactor(a)).max() > 0.1
    # L = Re(w d): ḡ = conj(w), so A's gradient is conj(w) conj(adj(A)ᵀ)
    np.testing.assert_allclose(x.grad.numpy(), np.conj(w * _cofactor(a)), rtol=1e-12, atol=1e-12)
    # the limit of PyTorch's gradient at nearby invertible matrices (PyTorch perturbs the LU there)
    tx = torch.tensor(a + 1e-9 * np.eye(3), requires_grad=True)
    (torch.linalg.det(tx) * w).real.backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-7)
    # rank n-2 (two zero rows): every cofactor is 0; batched beside an invertible matrix
    b = np.stack([_singular(3, 1) * [[1], [1], [0]], np.diag([1.0, 2.0, 3.0j])])
    y = gg.tensor(b, requires_grad=True)
    gg.det(y).real.sum().backward()
    np.testing.assert_allclose(y.grad.numpy()[0], np.zeros((3, 3)), atol=1e-12)
    np.testing.assert_allclose(y.grad.numpy()[1], np.conj(np.diag([6j, 3j, 2.0])), atol=1e-12)
    with pytest.raises(NotImplementedError, match="complex_linalg_det: create_graph=True at a singular"):
        gg.autograd.grad(gg.linalg.det(x).real, [x], create_graph=True)


def test_slogdet_and_logdet_of_a_singular_complex_matrix_as_torch(torch):
    a = np.stack([_singular(3, 2), _well(3, 3)])
    for lib in (gg, torch):
        x = gg.tensor(a, requires_grad=True) if lib is gg else torch.tensor(a, requires_grad=True)
        sign, logabs = lib.linalg.slogdet(x)
        assert sign.is_complex() and not logabs.is_complex()
        assert _np(sign)[0] == 0 and _np(logabs)[0] == -np.inf and abs(abs(_np(sign)[1]) - 1) < 1e-15
        logabs[0].backward()
        assert np.isnan(_np(x.grad)[0]).all() and (_np(x.grad)[1] == 0).all()  # NaN, as PyTorch's
        ld = _np(lib.logdet(x))
        assert ld[0].real == -np.inf and np.isnan(ld[0].imag) and np.isfinite(ld[1])
    with pytest.raises(NotImplementedError, match="complex_linalg_logdet: create_graph=True at a singular"):
        x = gg.tensor(a, requires_grad=True)
        gg.autograd.grad(gg.logdet(x)[0].real, x, create_graph=True)


def test_singular_inv_and_the_ex_forms_as_torch(torch):
    a = np.stack([_well(3, 3), _singular(3, 0)])
    b = _c(2, 3, 1)
    with pytest.raises(LinAlgError, match=r"linalg.inv: expected invertible .*batch element \(1,\)"):
        gg.linalg.inv(gg.tensor(a))
    for name, args in (("inv_ex", (a,)), ("solve_ex", (a, b))):
        ours = getattr(gg.linalg, name)(*map(gg.tensor, args))
        theirs = getattr(torch.linalg, name)(*map(torch.tensor, args))
        np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())
        np.testing.assert_allclose(_np(ours[0]), _np(theirs[0]), rtol=1e-12, atol=1e-12)  # nan + nan·i
        with pytest.raises(LinAlgError, match=f"linalg.{name}: expected invertible"):
            getattr(gg.linalg, name)(*map(gg.tensor, args), check_errors=True)


def test_cholesky_of_a_matrix_that_is_not_positive_definite(torch):
    a = np.stack([np.diag([2.0, 3.0]).astype(complex) + [[0, 1j], [-1j, 0]], [[1, 2j], [-2j, 1]]])
    with pytest.raises(LinAlgError, match="cholesky: expected a positive-definite matrix"):
        gg.linalg.cholesky(gg.tensor(a))
    low, info = gg.linalg.cholesky_ex(gg.tensor(a))
    tlow, tinfo = torch.linalg.cholesky_ex(torch.tensor(a))
    np.testing.assert_array_equal(info.numpy(), tinfo.numpy())
    np.testing.assert_allclose(_np(low)[0], _np(tlow)[0], rtol=1e-12)  # (the failed one is unspecified)
    with pytest.raises(LinAlgError, match="linalg.cholesky_ex: expected positive-definite .*order 2"):
        gg.linalg.cholesky_ex(gg.tensor(a), check_errors=True)


# ------------------------------------------------------------------ dtypes
def test_solve_triangular_casts_b_to_a_complex_as_dtype_as_torch(torch):
    a, b = _tri(3, 3, upper=True), RNG.standard_normal((3, 2))
    pairs = (
        (a, b),
        (a, _c(3, 2, dtype=np.complex64)),
        (a.astype(np.complex64), b),
        (a.astype(np.complex64), _c(3, 2)),
    )
    for pa, pb in pairs:
        x, y = gg.tensor(pa, requires_grad=True), gg.tensor(pb, requires_grad=True)
        tx, ty = torch.tensor(pa, requires_grad=True), torch.tensor(pb, requires_grad=True)
        out, tout = (
            gg.linalg.solve_triangular(x, y, upper=True),
            torch.linalg.solve_triangular(tx, ty, upper=True),
        )
        assert str(out.dtype).split(".")[-1] == str(tout.dtype).split(".")[-1]
        tol = 1e-12 if tout.dtype == torch.complex128 else 1e-4
        np.testing.assert_allclose(_np(out), _np(tout), rtol=tol, atol=tol)
        # PyTorch's backward refuses a real operand here (its gradient would be complex): the
        # expected gradients come from both operands cast to the result's dtype, a real one's real part
        dt = tout.dtype
        tx, ty = torch.tensor(pa).to(dt).requires_grad_(), torch.tensor(pb).to(dt).requires_grad_()
        tout = torch.linalg.solve_triangular(tx, ty, upper=True)
        w = _c(3, 2)
        (out * gg.tensor(w)).real.sum().backward()
        (tout * torch.tensor(w)).real.sum().backward()
        for g, tg, p in ((x.grad, tx.grad, pa), (y.grad, ty.grad, pb)):  # a real operand: a real gradient
            assert g.dtype == gg.tensor(p).dtype
            want = _np(tg) if np.iscomplexobj(p) else _np(tg).real
            double = _np(g).dtype in (np.complex128, np.float64)
            gtol = 1e-11 if double and tol < 1e-6 else 1e-3  # a complex64 step inside: its precision
            np.testing.assert_allclose(_np(g), want, rtol=gtol, atol=gtol)


def test_refusals(torch):
    c, r = _c(3, 3), RNG.standard_normal((3, 3))
    with pytest.raises(DTypeError, match="cholesky_solve: expected inputs of one dtype"):
        gg.cholesky_solve(gg.tensor(c), gg.tensor(r))
    with pytest.raises(RuntimeError):  # PyTorch refuses the mixed pair too
        torch.cholesky_solve(torch.tensor(c), torch.tensor(r))
    with pytest.raises(DTypeError, match="cholesky_solve: expected inputs of one dtype"):
        gg.cholesky_solve(gg.tensor(c.astype(np.complex64)), gg.tensor(np.tril(c)))
    with pytest.raises(RuntimeError):
        torch.cholesky_solve(torch.tensor(c.astype(np.complex64)), torch.tensor(np.tril(c)))
    # a real A beside a complex B: PyTorch casts B to A's real dtype, dropping its imaginary part
    with pytest.raises(DTypeError, match="solve_triangular: expected B of A's dtype float64 .*complex128"):
        gg.linalg.solve_triangular(gg.tensor(np.triu(r)), gg.tensor(c), upper=True)
    with pytest.raises(ValueError, match="linalg.det: expected A to be square"):
        gg.linalg.det(gg.tensor(_c(2, 3)))
    with pytest.raises(ValueError, match="linalg.matrix_exp: expected A to be square"):
        gg.linalg.matrix_exp(gg.tensor(_c(2, 3)))
