"""Complex tensors, round 57's differential fuzz against PyTorch: the ops PyTorch takes complex
operands for and glassgrad refused (``sinc``, ``logsumexp``: now complex twins, first and second
order; ``linalg.qr``: a complex twin, first order), and the ones PyTorch refuses and glassgrad
computed (``deg2rad``/``rad2deg``)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError

DTYPES = ["complex64", "complex128"]
TOL = {"complex64": dict(rtol=2e-5, atol=2e-5), "complex128": dict(rtol=1e-10, atol=1e-12)}


def _data(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def _np(t):
    return t.detach().resolve_conj().numpy().copy() if hasattr(t, "resolve_conj") else t.detach().numpy()


CASES = {
    "sinc": lambda lib, z: lib.sinc(z),
    "sinc_method": lambda lib, z: (z * 0.7).sinc() * z,
    "logsumexp_dim": lambda lib, z: lib.logsumexp(z, 1),
    "logsumexp_keepdim": lambda lib, z: z.logsumexp(dim=0, keepdim=True),
    "logsumexp_all_large": lambda lib, z: lib.logsumexp(z * 400, (0, 1)),  # (the shift keeps it finite)
}


def _losses(lib, y, w):
    """Real losses of a complex output: |y|, Re, Im, angle, |y|^2, view_as_real, weighted."""
    wr = lib.tensor(w.real, dtype=y.real.dtype)
    wi = lib.tensor(w.imag, dtype=y.real.dtype)
    return (
        (y.abs() * wr).sum()
        + (y.real * wi).sum()
        + (y.imag * wr).sum()
        + (lib.angle(y) * wi).sum()
        + (y * y.conj()).real.sum()
        + (lib.view_as_real(y) * lib.stack([wi, wr], -1)).sum()
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_complex_op_values_and_gradients_match_torch(torch, case, dtype):
    """Value, the gradient of real losses (PyTorch's conjugate Wirtinger convention), and the
    vector-Jacobian product with a complex ``grad_outputs``."""
    x0 = _data((3, 4))
    out = []
    for lib in (gg, torch):
        z = lib.tensor(x0, dtype=getattr(lib, dtype), requires_grad=True)
        y = CASES[case](lib, z)
        w = _data(tuple(y.shape), seed=1)
        (g_loss,) = lib.autograd.grad(_losses(lib, y, w), z, retain_graph=True)
        (g_vjp,) = lib.autograd.grad(y, z, grad_outputs=lib.tensor(w, dtype=getattr(lib, dtype)))
        out.append((_np(y), _np(g_loss), _np(g_vjp), str(y.dtype).split(".")[-1]))
    (y, gl, gv, dt), (ty, tgl, tgv, tdt) = out
    assert dt == tdt
    np.testing.assert_allclose(y, ty, **TOL[dtype])
    np.testing.assert_allclose(gl, tgl, **TOL[dtype])
    np.testing.assert_allclose(gv, tgv, **TOL[dtype])


@pytest.mark.parametrize("case", sorted(CASES))
def test_complex_op_second_derivatives_match_torch(torch, case):
    """create_graph through the twins' recorded rules (points away from sinc's 0, where PyTorch's
    second derivative is NaN and glassgrad's the limit, as for real inputs)."""
    x0 = _data((3, 4), seed=2)
    out = []
    for lib in (gg, torch):
        z = lib.tensor(x0, requires_grad=True)
        y = CASES[case](lib, z)
        (g1,) = lib.autograd.grad((y * y.conj()).real.sum() + y.abs().sum(), z, create_graph=True)
        (g2,) = lib.autograd.grad((g1 * g1.conj()).real.sum() + g1.imag.sum(), z)
        out.append((_np(g1), _np(g2)))
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_complex_sinc_at_zero_matches_torch(torch):
    """sinc(0) = 1 and its gradient 0 there, for a complex zero as for a real one."""
    x0 = np.array([0j, 0.5 - 0.25j, -1 + 2j])
    out = []
    for lib in (gg, torch):
        z = lib.tensor(x0, requires_grad=True)
        y = lib.sinc(z)
        (g,) = lib.autograd.grad(y.abs().sum() + y.imag.sum(), z)
        out.append((_np(y), _np(g)))
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_complex_logsumexp_gradcheck(torch):
    z = gg.tensor(_data((2, 3), seed=3), requires_grad=True)
    assert gg.autograd.gradcheck(lambda t: gg.logsumexp(t, 1), (z,), eps=1e-6, atol=1e-6)
    assert gg.autograd.gradcheck(lambda t: gg.sinc(t), (z,), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("op", ["deg2rad", "rad2deg"])
def test_deg2rad_refuses_complex_as_torch(torch, op):
    """PyTorch refuses a complex operand ("deg2rad is not supported for complex tensors."); the
    multiply underneath would have computed one."""
    with pytest.raises(RuntimeError, match="not supported for complex tensors"):
        getattr(torch, op)(torch.tensor([1 + 1j]))
    z = gg.tensor([1 + 1j])
    with pytest.raises(DTypeError, match=f"{op}: {op} is not supported for complex tensors"):
        getattr(gg, op)(z)
    with pytest.raises(DTypeError, match="not supported for complex tensors"):
        getattr(z, op)()
    np.testing.assert_allclose(
        getattr(gg, op)(gg.tensor([90.0, 1.0])).numpy(), getattr(torch, op)(torch.tensor([90.0, 1.0])).numpy()
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("shape", "mode"),
    [
        ((4, 3), "reduced"),
        ((3, 3), "complete"),
        ((3, 5), "reduced"),
        ((3, 5), "complete"),
        ((2, 4, 2), "reduced"),
    ],
)
def test_complex_qr_matches_torch(torch, shape, mode, dtype):
    """Q and R of a complex A (LAPACK's: R's diagonal real), and the gradient of real losses of
    both (Re, Im of Q; |R|), tall, square and wide, batched."""
    a0 = _data(shape, seed=4)
    wq, wr = _data(shape[:-1] + (min(shape[-2:]) if mode == "reduced" else shape[-2],), 5), _data(shape, 6)
    out = []
    for lib in (gg, torch):
        a = lib.tensor(a0, dtype=getattr(lib, dtype), requires_grad=True)
        q, r = lib.linalg.qr(a, mode=mode)
        rd = q.real.dtype
        wrt = lib.tensor(wr.real[..., : r.shape[-2], :], dtype=rd)
        loss = (q.real * lib.tensor(wq.real, dtype=rd)).sum() + (q.imag * lib.tensor(wq.imag, dtype=rd)).sum()
        loss = loss + (r.abs() * wrt).sum() + (r.imag * wrt).sum()
        (g,) = lib.autograd.grad(loss, a)
        out.append((_np(q), _np(r), _np(g), str(q.dtype).split(".")[-1]))
    (q, r, g, dt), (tq, tr, tg, tdt) = out
    assert dt == tdt
    for x, y in ((q, tq), (r, tr), (g, tg)):
        np.testing.assert_allclose(x, y, **TOL[dtype])


def test_complex_qr_gradcheck_and_refusals(torch):
    a = gg.tensor(_data((4, 3), seed=7), requires_grad=True)
    assert gg.autograd.gradcheck(lambda t: tuple(gg.linalg.qr(t)), (a,))
    w = gg.tensor(_data((2, 4), seed=8), requires_grad=True)
    assert gg.autograd.gradcheck(lambda t: tuple(gg.linalg.qr(t, mode="complete")), (w,))
    # PyTorch refuses these too: mode 'r' has no Q; 'complete' of a tall matrix is not differentiable
    for mode in ("r", "complete"):
        q, r = gg.linalg.qr(a, mode=mode)
        with pytest.raises(RuntimeError, match="linalg.qr"):
            r.abs().sum().backward()
    # no recorded rule yet: a second derivative is refused by name, never silently real-only
    q, r = gg.linalg.qr(a)
    with pytest.raises(NotImplementedError, match="complex_qr"):
        gg.autograd.grad(q.abs().sum(), a, create_graph=True)
