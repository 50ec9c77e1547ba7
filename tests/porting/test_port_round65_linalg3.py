"""Round 65, missing ``torch.linalg`` pieces: ``ldl_factor``/``ldl_factor_ex``/``ldl_solve``
(Bunch-Kaufman, LAPACK's sytrf/hetrf pivots and compact LD, sytrs/hetrs), each compared with
PyTorch: the factor and pivots exactly where the pivot choice is not a rounding tie, the solution at
float64 rounding, real, complex symmetric and Hermitian, batched with matrices that take 1x1 and
2x2 blocks at different steps; no derivative (PyTorch has none), PyTorch's errors.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

from .helpers import assert_same

TIGHT = {"rtol": 1e-10, "atol": 1e-12}


def _arr(seed, *shape, cplx=False):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    return a + 1j * rng.standard_normal(shape) if cplx else a


def _indefinite(seed, *shape, cplx=False, sparse=False):
    """Matrices (..., n, n) whose factorisation takes both block sizes (and zero columns when
    ``sparse``); only the lower triangle is read, so the upper one is left unrelated on purpose."""
    a = _arr(seed, *shape, cplx=cplx)
    if sparse:
        a = a * (np.random.default_rng(seed + 1).random(a.shape) < 0.4)
    return a


def _blocks(pivots):
    return {"one": bool((pivots > 0).any()), "two": bool((pivots < 0).any())}


# ---- ldl_factor / ldl_factor_ex --------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
@pytest.mark.parametrize(
    "kind", ["real", "real-hermitian", "complex-symmetric", "complex-hermitian", "float32"]
)
def test_ldl_factor_ex_as_pytorch(torch, kind, n):
    cplx, herm = kind.startswith("complex"), kind.endswith("hermitian")
    a = _indefinite(n, 6, n, n, cplx=cplx)
    if kind == "float32":
        a = a.astype(np.float32)

    def program(lib):
        LD, pivots, info = lib.linalg.ldl_factor_ex(lib.tensor(a), hermitian=herm)
        return [LD, pivots, info]

    ours, theirs = program(gg), program(torch)
    tol = {"rtol": 2e-5, "atol": 1e-6} if kind == "float32" else TIGHT
    assert_same(ours, theirs, **tol)
    if n >= 5:  # the batch mixes 1x1 and 2x2 blocks, so each matrix advances at its own pace
        assert _blocks(theirs[1].numpy()) == {"one": True, "two": True}


@pytest.mark.parametrize("cplx", [False, True], ids=["real", "complex"])
def test_ldl_factor_zero_columns_info_and_pivots_as_pytorch(torch, cplx):
    a = _indefinite(3, 3, 6, 6, cplx=cplx, sparse=True)
    a[0] = 0.0  # every column zero: info 1, pivots 1..n
    a[1] = np.diag([1.0, 0.0, 2.0, 3.0, 0.0, 1.0])
    a[2] = np.array([[0.0, 1.0], [1.0, 0.0]]).repeat(3, 0).repeat(3, 1)  # a 2x2 block, then zeros

    def program(lib):
        return list(lib.linalg.ldl_factor_ex(lib.tensor(a), hermitian=cplx))

    ours, theirs = program(gg), program(torch)
    assert_same(ours, theirs, **TIGHT)
    assert (theirs[2].numpy() > 0).any()


def test_ldl_factor_reconstructs_a_and_reads_the_lower_triangle(torch):
    a = _indefinite(4, 3, 5, 5)
    sym = np.tril(a) + np.tril(a, -1).swapaxes(-1, -2)

    def program(lib, m):
        return list(lib.linalg.ldl_factor(lib.tensor(m)))

    assert_same(program(gg, a), program(torch, a), **TIGHT)
    assert_same(program(gg, a), program(gg, sym), **TIGHT)  # the upper triangle is not read
    x = gg.linalg.ldl_solve(*gg.linalg.ldl_factor(gg.tensor(a)), gg.eye(5, dtype=gg.float64))
    np.testing.assert_allclose(x.numpy() @ sym, np.broadcast_to(np.eye(5), sym.shape), atol=1e-10)


def test_ldl_factor_empty_and_keywords_as_pytorch(torch):
    def program(lib):
        empty = lib.linalg.ldl_factor(lib.zeros(2, 0, 0, dtype=lib.float64))
        named = lib.linalg.ldl_factor(input=lib.tensor(_indefinite(5, 3, 3)), hermitian=True)
        out = (lib.empty(0, dtype=lib.float64), lib.empty(0, dtype=lib.int32), lib.empty(0, dtype=lib.int32))
        res = lib.linalg.ldl_factor_ex(lib.tensor(_indefinite(6, 3, 3)), out=out)
        return [list(empty), list(named), list(out), res.LD is out[0], res.info is out[2]]

    assert_same(program(gg), program(torch), **TIGHT)


# ---- ldl_solve ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["real", "real-hermitian", "complex-symmetric", "complex-hermitian"])
@pytest.mark.parametrize(
    ("ashape", "bshape"),
    [((6, 7, 7), (6, 7, 3)), ((7, 7), (2, 7, 2)), ((3, 7, 7), (1, 7, 1)), ((6, 7, 7), (6, 7, 0))],
    ids=["batched", "broadcast-factor", "broadcast-b", "no-columns"],
)
def test_ldl_solve_as_pytorch(torch, kind, ashape, bshape):
    cplx, herm = kind.startswith("complex"), kind.endswith("hermitian")
    a, b = _indefinite(7, *ashape, cplx=cplx), _arr(8, *bshape, cplx=cplx)

    def program(lib):
        LD, pivots = lib.linalg.ldl_factor(lib.tensor(a), hermitian=herm)
        return [lib.linalg.ldl_solve(LD, pivots, lib.tensor(b), hermitian=herm), pivots]

    ours, theirs = program(gg), program(torch)
    assert_same(ours, theirs, **TIGHT)
    assert _blocks(theirs[1].numpy()) == {"one": True, "two": True}


def test_ldl_solve_int64_pivots_and_keyword_b_as_pytorch(torch):
    a, b = _indefinite(9, 2, 4, 4), _arr(10, 2, 4, 2)

    def program(lib):
        LD, pivots = lib.linalg.ldl_factor(lib.tensor(a))
        return lib.linalg.ldl_solve(LD, pivots.long(), B=lib.tensor(b))

    assert_same(program(gg), program(torch), **TIGHT)


# ---- no derivative, as PyTorch --------------------------------------------------------------------


@pytest.mark.parametrize("op", ["ldl_factor", "ldl_solve"])
def test_ldl_has_no_derivative_as_pytorch(torch, op):
    def program(lib):
        A = lib.tensor(_indefinite(11, 4, 4), requires_grad=True)
        B = lib.tensor(_arr(12, 4, 2), requires_grad=True)
        LD, pivots = lib.linalg.ldl_factor(A)
        out = LD if op == "ldl_factor" else lib.linalg.ldl_solve(LD.detach(), pivots, B)
        flags = [out.requires_grad, type(out.grad_fn).__name__]
        with pytest.raises(
            RuntimeError, match=f"derivative for '?aten::linalg_{op}(_ex)?'? is not implemented"
        ):
            out.sum().backward()
        with lib.no_grad():
            flags.append(lib.linalg.ldl_factor(A).LD.requires_grad)
        return flags

    assert program(gg) == program(torch)


# ---- errors ------------------------------------------------------------------------------------------


def test_ldl_errors_as_pytorch_types():
    LD, pivots = gg.linalg.ldl_factor(gg.tensor(_indefinite(13, 2, 3, 3)))
    b = gg.tensor(_arr(14, 2, 3, 2))
    cases = [
        (lambda: gg.linalg.ldl_factor(gg.ones(3)), "at least 2 dimensions"),
        (lambda: gg.linalg.ldl_factor(gg.ones(2, 3)), "square matrices, but they are 2 by 3"),
        (lambda: gg.linalg.ldl_factor(gg.ones(3, 3, dtype=gg.int64)), "floating point or complex"),
        (lambda: gg.linalg.ldl_factor(gg.zeros(3, 3)), "singular"),
        (lambda: gg.linalg.ldl_factor_ex(gg.zeros(3, 3), check_errors=True), "singular"),
        (lambda: gg.linalg.ldl_solve(LD, pivots[:, :2], b), r"pivots with shape \[2, 2\]"),
        (lambda: gg.linalg.ldl_solve(LD, pivots.float(), b), "pivots to be integers"),
        (lambda: gg.linalg.ldl_solve(LD, pivots, b.float()), "same dtype"),
        (
            lambda: gg.linalg.ldl_solve(LD, pivots, gg.ones(2, 4, 2, dtype=gg.float64)),
            "each b matrix is 4 by 2",
        ),
        (lambda: gg.linalg.ldl_solve(LD, pivots, gg.ones(3, 3, 2, dtype=gg.float64)), "broadcast"),
        (lambda: gg.linalg.ldl_solve(LD, pivots * 0, b), "pivots from ldl_factor"),
    ]
    for fn, match in cases:
        with pytest.raises(RuntimeError, match=match):
            fn()
    with pytest.raises(gg.linalg.LinAlgError):
        gg.linalg.ldl_factor(gg.zeros(2, 2, dtype=gg.float64))


# ---- lu_factor: double backward and forward mode (and so lu_solve, lu_unpack, linalg.lu) ------------


def _real_loss(lib, out, seed):
    p = out * lib.tensor(_arr(seed, *out.shape, cplx=out.dtype.is_complex))
    return (p.real if out.dtype.is_complex else p).sum()


def _plain(t):
    return t.detach().resolve_conj() if t.dtype.is_complex else t.detach()


def _derivatives(lib, fn, a, tangent_seed, tangents=True):
    """Output, gradient, second derivative (a weighted gradient's gradient), and the tangent by
    ``func.jvp`` and by ``autograd.forward_ad`` (real A only: complex duals are another gap)."""
    A = lib.tensor(a, requires_grad=True)
    out = fn(lib, A)
    (g,) = lib.autograd.grad(_real_loss(lib, out, 21), A, create_graph=True)
    (g2,) = lib.autograd.grad(_real_loss(lib, g, 22), A)
    res = [_plain(out), _plain(g), _plain(g2)]
    if tangents and not np.iscomplexobj(a):
        t = _arr(tangent_seed, *a.shape)
        _, tan = lib.func.jvp(lambda x: fn(lib, x), (lib.tensor(a),), (lib.tensor(t),))
        fwd = lib.autograd.forward_ad
        with fwd.dual_level():
            tan2 = fwd.unpack_dual(fn(lib, fwd.make_dual(lib.tensor(a), lib.tensor(t)))).tangent
        res += [_plain(tan), _plain(tan2)]
    return res


_LU = {
    "lu_factor": lambda lib, A: lib.linalg.lu_factor(A).LU,
    "lu_factor_ex": lambda lib, A: lib.linalg.lu_factor_ex(A).LU,
    "lu_L": lambda lib, A: lib.linalg.lu(A).L,
    "lu_U": lambda lib, A: lib.linalg.lu(A).U,
    "lu_unpack": lambda lib, A: lib.lu_unpack(*lib.linalg.lu_factor(A)).L,
}


@pytest.mark.parametrize("shape", [(2, 4, 4), (2, 3, 5), (2, 5, 3)], ids=["square", "wide", "tall"])
@pytest.mark.parametrize("fn", list(_LU), ids=list(_LU))
def test_lu_factor_second_derivative_and_tangent_as_pytorch(torch, fn, shape):
    a = _arr(23, *shape)
    assert_same(_derivatives(gg, _LU[fn], a, 24), _derivatives(torch, _LU[fn], a, 24), **TIGHT)


@pytest.mark.parametrize(("left", "adjoint"), [(True, False), (False, True), (True, True)])
def test_lu_solve_through_the_factor_second_derivative_and_tangent_as_pytorch(torch, left, adjoint):
    b = _arr(25, 2, 4, 3) if left else _arr(25, 2, 3, 4)

    def fn(lib, A):
        LU, pivots = lib.linalg.lu_factor(A)
        return lib.linalg.lu_solve(LU, pivots, lib.tensor(b), left=left, adjoint=adjoint)

    a = _arr(26, 2, 4, 4)
    assert_same(_derivatives(gg, fn, a, 27), _derivatives(torch, fn, a, 27), **TIGHT)


# ---- eig / eigvals: double backward and forward mode -------------------------------------------------

_EIG = {
    "eigvals": lambda lib, A: lib.linalg.eigvals(A),
    "eig-values": lambda lib, A: lib.linalg.eig(A)[0],
    "eig-vector-moduli": lambda lib, A: lib.linalg.eig(A)[1].abs(),  # free of the phase gauge
    "eig-recomposed": lambda lib, A: (lambda L, V: V @ lib.diag_embed(L.exp()) @ lib.linalg.inv(V))(
        *lib.linalg.eig(A)
    ),
}


@pytest.mark.parametrize("cplx", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize("fn", list(_EIG), ids=list(_EIG))
def test_eig_second_derivative_as_pytorch(torch, fn, cplx):
    a = _arr(28, 2, 4, 4, cplx=cplx)
    tangents = fn in ("eigvals", "eig-values")  # the others' forward mode runs through complex ops
    ours, theirs = (_derivatives(lib, _EIG[fn], a, 29, tangents) for lib in (gg, torch))
    assert_same(ours, theirs, **TIGHT)


def test_eig_tangent_of_values_and_vectors_as_pytorch(torch):
    # PyTorch's linalg_eig_jvp: dL = diag(V⁻¹ dA V), dV keeps the columns' unit norm and phase
    a, t = _arr(30, 2, 4, 4), _arr(31, 2, 4, 4)

    def program(lib):
        (w, v), (dw, dv) = lib.func.jvp(lib.linalg.eig, (lib.tensor(a),), (lib.tensor(t),))
        (dw1,) = lib.func.jvp(lib.linalg.eigvals, (lib.tensor(a),), (lib.tensor(t),))[1:]
        return [w, v, dw, dv, dw1]

    assert_same(program(gg), program(torch), **TIGHT)
