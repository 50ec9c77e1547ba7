"""Complex ``linalg.solve`` and ``linalg.eigh``/``eigvalsh`` (ops/linalg_complex.py) against PyTorch:
values, gradients (PyTorch's convention z.grad = dL/dx + i dL/dy), second derivatives, float64
gradchecks through real views, and the refusals (dtypes, the eigenvectors' phase).

Eigenvectors are compared through phase-free invariants (V diag(L) Vᴴ and |V|), as PyTorch's own
tests do: each column is unique only up to e^{iφ}.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck, gradgradcheck
from glassgrad.errors import DTypeError, GraphError, LinAlgError

RNG = np.random.default_rng(2026)
C, R = gg.view_as_complex, gg.view_as_real


def _c(*shape, dtype=np.complex128):
    return (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(dtype)


def _hermitian(*shape, dtype=np.complex128):
    a = _c(*shape, dtype=dtype)
    return a + np.conj(np.swapaxes(a, -1, -2)) + np.diag(3.0 * np.arange(shape[-1])).astype(dtype)


def _np(t):
    return t.detach().resolve_conj().numpy()


def _leaves(lib, *arrays):
    return [gg.tensor(a).requires_grad_() if lib is gg else lib.tensor(a, requires_grad=True) for a in arrays]


# ------------------------------------------------------------------------------ solve
@pytest.mark.parametrize("dtype,tol", [(np.complex128, 1e-12), (np.complex64, 1e-4)])
@pytest.mark.parametrize(
    "sa,sb,left",
    [((3, 3), (3, 2), True), ((2, 3, 3), (2, 3, 1), True), ((2, 1, 3, 3), (4, 3, 2), True),
     ((3, 3), (3,), True), ((2, 3, 3), (2, 3), True), ((3, 3), (2, 3), False), ((2, 3, 3), (2, 4, 3), False)],
)  # fmt: skip
def test_solve_values_and_gradients(torch, dtype, tol, sa, sb, left):
    a = _c(*sa, dtype=dtype) + 3 * np.eye(sa[-1], dtype=dtype)
    b = _c(*sb, dtype=dtype)
    got, weights = [], None
    for lib in (gg, torch):
        x_a, x_b = _leaves(lib, a, b)
        x = lib.linalg.solve(x_a, x_b, left=left)
        weights = _c(*x.shape, dtype=dtype) if weights is None else weights
        (x * lib.tensor(weights)).real.sum().backward()  # a complex weighting: both parts count
        got.append((x, x_a.grad, x_b.grad))
    (x, ga, gb), (tx, tga, tgb) = got
    assert x.dtype == gg.tensor(a).dtype and tuple(x.shape) == tuple(tx.shape)
    np.testing.assert_allclose(_np(x), _np(tx), rtol=tol, atol=tol)
    np.testing.assert_allclose(ga.numpy(), _np(tga), rtol=tol * 10, atol=tol * 10)
    np.testing.assert_allclose(gb.numpy(), _np(tgb), rtol=tol * 10, atol=tol * 10)


def test_solve_second_order_like_torch(torch):
    a, b = _c(2, 3, 3) + 3 * np.eye(3), _c(2, 3, 2)
    res = []
    for lib in (gg, torch):
        xs = _leaves(lib, a, b)
        x = lib.linalg.solve(*xs)
        firsts = lib.autograd.grad((x * x).real.sum() + (x * x.conj()).real.sum(), xs, create_graph=True)
        seconds = lib.autograd.grad(sum((f * f).real.sum() for f in firsts), xs)
        res.append([_np(t) for t in (*firsts, *seconds)])
    for ours, theirs in zip(*res):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("left", [True, False])
def test_solve_gradcheck_and_gradgradcheck(left):
    a = RNG.standard_normal((2, 3, 3, 2)) + np.stack([3 * np.eye(3), np.zeros((3, 3))], -1)
    b = RNG.standard_normal((2, 3, 3, 2))

    def fn(x, y):
        return R(gg.linalg.solve(C(x), C(y), left=left))

    inputs = [gg.tensor(a).requires_grad_(), gg.tensor(b).requires_grad_()]
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_solve_refusals(torch):
    a, b = gg.tensor(_c(3, 3)), gg.tensor(_c(3, 2))
    with pytest.raises(DTypeError, match="linalg.solve: expected inputs of one dtype"):
        gg.linalg.solve(a, b.real)
    with pytest.raises(DTypeError, match="linalg.solve: expected inputs of one dtype"):
        gg.linalg.solve(a.to(gg.complex64), b)
    with pytest.raises(RuntimeError):  # PyTorch refuses a mixed pair too
        torch.linalg.solve(torch.tensor(_c(3, 3)), torch.randn(3, 2, dtype=torch.float64))
    with pytest.raises(LinAlgError, match="linalg.solve: expected invertible"):
        gg.linalg.solve(gg.tensor(np.ones((3, 3), dtype=np.complex128)), b)
    with pytest.raises(ValueError, match="linalg.solve: expected B"):
        gg.linalg.solve(a, gg.tensor(_c(4, 2)))


# ------------------------------------------------------------------------------ eigh
@pytest.mark.parametrize("dtype,tol", [(np.complex128, 1e-10), (np.complex64, 1e-3)])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 1), (2, 1, 3, 3)])
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_values(torch, dtype, tol, shape, uplo):
    a = _hermitian(*shape, dtype=dtype)
    a = a + np.triu(np.ones(shape[-2:]), 1) * (5.0 + 2j)  # junk in the upper triangle
    w, v = gg.linalg.eigh(gg.tensor(a), UPLO=uplo)
    wt, vt = torch.linalg.eigh(torch.tensor(a), UPLO=uplo)
    assert w.dtype == gg.tensor(a).real.dtype and v.dtype == gg.tensor(a).dtype
    assert str(w.dtype).split(".")[-1] == str(wt.dtype).split(".")[-1]
    np.testing.assert_allclose(w.numpy(), wt.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(
        gg.linalg.eigvalsh(gg.tensor(a), UPLO=uplo).numpy(), wt.numpy(), rtol=tol, atol=tol
    )
    recon = (v * w.unsqueeze(-2).to(v.dtype)) @ v.mT.conj()  # V diag(L) Vᴴ
    recon_t = (vt * wt.unsqueeze(-2)) @ vt.mH
    np.testing.assert_allclose(_np(recon), _np(recon_t), rtol=tol * 10, atol=tol * 10)
    np.testing.assert_allclose(v.abs().numpy(), vt.abs().numpy(), rtol=tol * 10, atol=tol * 10)


def _phase_free_loss(lib, w, v, k):
    return (
        (v.abs() ** 2 * w.unsqueeze(-2) * k).sum()
        + ((v * w.unsqueeze(-2)) @ v.mT.conj()).real.sum()
        + (w**3).sum()
    )


@pytest.mark.parametrize("uplo", ["L", "U"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_eigh_gradient(torch, uplo, shape):
    a, k = _hermitian(*shape), RNG.standard_normal(shape[-2:])
    grads = []
    for lib in (gg, torch):
        (x,) = _leaves(lib, a)
        w, v = lib.linalg.eigh(x, UPLO=uplo)
        _phase_free_loss(lib, w, v, lib.tensor(k)).backward()
        grads.append(_np(x.grad))
        x.grad = None
        lib.linalg.eigvalsh(x, UPLO=uplo).pow(3).sum().backward()
        grads.append(_np(x.grad))
    np.testing.assert_allclose(grads[0], grads[2], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(grads[1], grads[3], rtol=1e-8, atol=1e-10)


def test_eigh_second_order_like_torch(torch):
    a, k = _hermitian(2, 3, 3), RNG.standard_normal((3, 3))
    res = []
    for lib in (gg, torch):
        xs = _leaves(lib, a)
        w, v = lib.linalg.eigh(xs[0] @ xs[0].mT.conj())
        firsts = lib.autograd.grad(_phase_free_loss(lib, w, v, lib.tensor(k)), xs, create_graph=True)
        vals = lib.autograd.grad((lib.linalg.eigvalsh(xs[0] * 2) ** 3).sum(), xs, create_graph=True)
        seconds = lib.autograd.grad(sum((f * f.conj()).real.sum() for f in (*firsts, *vals)), xs)
        res.append([_np(t) for t in (*firsts, *vals, *seconds)])
    for ours, theirs in zip(*res):
        np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10)


def test_eigh_gradcheck_and_gradgradcheck():
    spread = gg.tensor(np.diag([0.0, 3.0, 6.0]))

    def vectors(x):
        h = C(x)
        w, v = gg.linalg.eigh(h + h.mT.conj() + spread)
        p = v * v.conj()
        return R((v * w.unsqueeze(-2)) @ v.mT.conj() + p @ p.mT)

    def values(x):
        h = C(x)
        return gg.linalg.eigvalsh(h + h.mT.conj() + spread, UPLO="U")

    x = gg.tensor(RNG.uniform(-0.5, 0.5, (2, 3, 3, 2))).requires_grad_()
    for fn in (vectors, values):
        assert gradcheck(fn, [x])
        assert gradgradcheck(fn, [x])


def test_eigh_phase_dependent_loss_is_refused_like_torch(torch):
    a = _hermitian(3, 3)
    with pytest.raises(RuntimeError, match="specified up to multiplication by e\\^\\{i phi\\}"):
        _, vt = torch.linalg.eigh(torch.tensor(a, requires_grad=True))
        vt.real.sum().backward()
    x = gg.tensor(a).requires_grad_()
    _, v = gg.linalg.eigh(x)
    with pytest.raises(GraphError, match="linalg.eigh .*specified up to multiplication by e\\^\\{i phi\\}"):
        v.real.sum().backward()
    _, v = gg.linalg.eigh(x)  # and so does the recorded (create_graph) pass
    with pytest.raises(GraphError, match="linalg.eigh .*ill-defined"):
        gg.autograd.grad(v[..., 0].sum().real, x, create_graph=True)
    assert issubclass(GraphError, RuntimeError)


def test_eigh_refusals():
    with pytest.raises(DTypeError, match="linalg.eigh: expected a float32, float64, complex64 or complex128"):
        gg.linalg.eigh(gg.tensor(np.eye(3, dtype=np.int64)))
    with pytest.raises(ValueError, match="linalg.eigvalsh: expected A to be square"):
        gg.linalg.eigvalsh(gg.tensor(_c(3, 4)))
    with pytest.raises(ValueError, match="UPLO"):
        gg.linalg.eigh(gg.tensor(_hermitian(3, 3)), UPLO="X")
