"""Round 65, a differential fuzz of ``torch.linalg``'s derivatives (second order, forward mode,
vmap, broadcast batches, real and complex). Pinned here, each against PyTorch at float64
rounding: ``cholesky_solve``/``cholesky_inverse`` give L the gradient (and tangent) of
(L Lᴴ)⁻¹ B in all of L, as PyTorch's, not only on L's triangle; ``linalg.cholesky(A, upper=True)``
(and ``cholesky_ex``, ``torch.cholesky``) read A's upper triangle, as LAPACK's uplo='U', with
PyTorch's gradient; a ``full_matrices=True`` SVD factor's gradient on its extra vectors is ignored
(PyTorch's documented rule) instead of refused.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

from .helpers import assert_same

TIGHT = {"rtol": 1e-10, "atol": 1e-12}


def _arr(seed, *shape, cplx=False):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    return a + 1j * rng.standard_normal(shape) if cplx else a


def _spd(seed, n, *batch, cplx=False):
    a = _arr(seed, *batch, n, n, cplx=cplx)
    return a @ np.conj(np.swapaxes(a, -1, -2)) + n * np.eye(n)


def _t(lib, a, grad=True):
    return lib.tensor(a, requires_grad=grad)


def _real_loss(lib, out, seed):
    w = lib.tensor(_arr(seed, *out.shape, cplx=out.dtype.is_complex))
    p = out * w
    return (p.real if out.dtype.is_complex else p).sum()


def _plain(t):
    return t.detach().resolve_conj() if t.dtype.is_complex else t.detach()


def _first_and_second(lib, fn, *inputs):
    """Output, first gradients and the gradients of a weighted sum of those (double backward)."""
    out = fn(*inputs)
    grads = lib.autograd.grad(_real_loss(lib, out, 7), inputs, create_graph=True)
    s = sum(_real_loss(lib, g, 8 + i) for i, g in enumerate(grads))
    second = lib.autograd.grad(s, inputs)
    return [_plain(out), *(_plain(g) for g in grads), *(_plain(g) for g in second)]


# ---- cholesky_solve / cholesky_inverse: the gradient of (L Lᴴ)⁻¹ B in all of L ----------------


@pytest.mark.parametrize("cplx", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize("upper", [False, True], ids=["lower", "upper"])
@pytest.mark.parametrize("bshape", [(2, 3, 2), (3, 2)], ids=["batched", "broadcast"])
def test_cholesky_solve_gradients_of_the_factor_as_pytorch(torch, cplx, upper, bshape):
    low = np.linalg.cholesky(_spd(1, 3, 2, cplx=cplx))
    fac = np.conj(np.swapaxes(low, -1, -2)) if upper else low

    def program(lib):
        b, f = _t(lib, _arr(2, *bshape, cplx=cplx)), _t(lib, fac)
        return _first_and_second(lib, lambda b_, f_: lib.cholesky_solve(b_, f_, upper=upper), b, f)

    assert_same(program(gg), program(torch), **TIGHT)


@pytest.mark.parametrize("cplx", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize("upper", [False, True], ids=["lower", "upper"])
def test_cholesky_inverse_gradient_as_pytorch(torch, cplx, upper):
    low = np.linalg.cholesky(_spd(3, 3, cplx=cplx))
    fac = np.conj(low.T) if upper else low

    def program(lib):
        return _first_and_second(lib, lambda f: lib.cholesky_inverse(f, upper=upper), _t(lib, fac))

    assert_same(program(gg), program(torch), **TIGHT)


def test_cholesky_solve_tangent_of_the_factor_as_pytorch(torch):
    # a tangent on all of L (jacfwd's basis matrices reach L's zero triangle too)
    low, b = np.linalg.cholesky(_spd(4, 3, 2)), _arr(5, 2, 3, 2)
    tl, tb = _arr(6, 2, 3, 3), _arr(7, 2, 3, 2)

    def program(lib):
        fn = lib.cholesky_solve
        _, tangent = lib.func.jvp(fn, (lib.tensor(b), lib.tensor(low)), (lib.tensor(tb), lib.tensor(tl)))
        jac = lib.func.jacfwd(fn, argnums=1)(lib.tensor(b), lib.tensor(low))
        return [tangent, jac]

    assert_same(program(gg), program(torch), **TIGHT)


# ---- cholesky(upper=True): A's upper triangle ------------------------------------------------------


def _not_symmetric(cplx):
    a = _spd(9, 3, cplx=cplx)
    return a + np.triu(_arr(10, 3, 3, cplx=cplx), 1)  # the upper triangle no longer the lower's mirror


@pytest.mark.parametrize("cplx", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize(
    "op",
    [
        lambda lib, a: lib.linalg.cholesky(a, upper=True),
        lambda lib, a: lib.linalg.cholesky_ex(a, upper=True).L,
        lambda lib, a: lib.cholesky(a, upper=True),
        lambda lib, a: lib.linalg.cholesky(a),
    ],
    ids=["linalg.cholesky", "cholesky_ex", "torch.cholesky", "lower"],
)
def test_cholesky_upper_reads_the_upper_triangle(torch, cplx, op):
    a0 = _not_symmetric(cplx)

    def program(lib):
        with warnings.catch_warnings():  # torch.cholesky's deprecation
            warnings.simplefilter("ignore")
            return _first_and_second(lib, lambda a: op(lib, a), _t(lib, a0))

    assert_same(program(gg), program(torch), **TIGHT)


def test_cholesky_ex_upper_info_reads_the_upper_triangle(torch):
    # positive-definite in its upper triangle only: info 0 for upper=True, 2 for the lower one
    a0 = np.array([[1.0, 0.5, 0.0], [3.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    for lib in (gg, torch):
        assert lib.linalg.cholesky_ex(lib.tensor(a0), upper=True).info.item() == 0
        assert lib.linalg.cholesky_ex(lib.tensor(a0)).info.item() == 2
    with pytest.raises(gg.linalg.LinAlgError):
        gg.linalg.cholesky(gg.tensor(a0.T), upper=True)


# ---- svd(full_matrices=True): the extra vectors' gradient is ignored ----------------------------


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 3)], ids=["tall", "wide", "batched"])
@pytest.mark.parametrize("part", [0, 2], ids=["U", "Vh"])
def test_svd_full_matrices_gradient_ignores_the_extra_vectors(torch, shape, part):
    # the loss weighs the whole factor; the extra vectors (any basis of their subspace, so not
    # compared) get no gradient, and no tangent
    a0, k = _arr(11, *shape), min(shape[-2:])

    def reduced(f):
        return f[..., :k] if part == 0 else f[..., :k, :]

    def program(lib):
        a = _t(lib, a0)
        sq = lib.linalg.svd(a, full_matrices=True)[part] ** 2  # sign-free: signs are LAPACK's choice
        g = lib.autograd.grad(_real_loss(lib, sq, 12), a, create_graph=True)[0]
        g2 = lib.autograd.grad(_real_loss(lib, g, 13), a)[0]
        _, tangent = lib.func.jvp(
            lambda x: lib.linalg.svd(x, full_matrices=True)[part] ** 2,
            (lib.tensor(a0),),
            (lib.tensor(_arr(15, *shape)),),
        )
        return [reduced(sq), g, g2, tangent]

    assert_same(program(gg), program(torch), rtol=1e-9, atol=1e-10)


def test_torch_svd_some_false_trains(torch):
    a0 = _arr(14, 4, 3)

    def program(lib):
        a = _t(lib, a0)
        u = lib.svd(a, some=False).U
        (u**2 * lib.tensor(_arr(16, 4, 4))).sum().backward()  # U's fourth column is weighed too
        return [a.grad]

    assert_same(program(gg), program(torch), **TIGHT)


# ---- create_graph through an op's output that carries no gradient ----------------------------------


@pytest.mark.parametrize(
    ("op", "cols"),
    [
        (lambda lib, a: lib.linalg.slogdet(a), 4),  # a real matrix's sign
        (lambda lib, a: lib.linalg.lstsq(a, lib.tensor(_arr(17, 2, 4, 2))), 3),  # residuals
    ],
    ids=["slogdet", "lstsq"],
)
def test_create_graph_through_an_output_without_gradient(torch, op, cols):
    a0 = _arr(18, 2, 4, cols)

    def program(lib):
        a = _t(lib, a0)
        outs = [o for o in op(lib, a) if o.dtype.is_floating_point and o.numel()]
        loss = sum(_real_loss(lib, o, 19 + i) for i, o in enumerate(outs))
        (g,) = lib.autograd.grad(loss, a, create_graph=True)
        (g2,) = lib.autograd.grad(_real_loss(lib, g, 25), a)
        return [*outs, g, g2]

    assert_same(program(gg), program(torch), **TIGHT)
