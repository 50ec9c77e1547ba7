"""Double backward (``create_graph=True``) through complex tensors: ``autograd/recorded_rules_complex.py``
and the complex-aware real ops' rules (reshape, sum, cat ... run on complex gradients).

``gradgradcheck`` sees complex inputs and outputs through their real views (float64 ``(..., 2)``
leaves viewed as complex inside, complex outputs viewed as real), as PyTorch's does, so the
convention ``z.grad = dL/dx + i dL/dy`` is checked to second order too; PyTorch's second-order
gradients (complex v and weights) and the plain backward's first-order values are compared as well.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradgradcheck

_R = np.random.default_rng(4321)


def _c(*shape):
    return _R.standard_normal(shape) + 1j * _R.standard_normal(shape)


def _r(*shape):
    return _R.standard_normal(shape)


def _leaf(lib, a):
    return gg.tensor(a).requires_grad_() if lib is gg else lib.tensor(a, requires_grad=True)


# name -> (fn(lib, *xs), input arrays); fn is written once for glassgrad and torch (same names)
CASES = {
    "add": (lambda m, a, b: a + b * b, [_c(2, 3), _c(1, 3)]),
    "sub": (lambda m, a, b: a * a - b, [_c(2, 1), _c(3)]),
    "mul": (lambda m, a, b: a * b, [_c(2, 3), _c(3)]),
    "div": (lambda m, a, b: a / b, [_c(2, 3), _c(1, 3) + 2]),
    "div_number": (lambda m, a: (2.5 - 1j) / a + a / 3.0, [_c(2, 2) + 2]),
    "mul_python_j": (lambda m, a: (a * 1j) * a, [_c(3)]),
    "exp": (lambda m, a: m.exp(a * a), [_c(2, 3)]),
    "abs": (lambda m, a: m.abs(a * a), [_c(2, 3)]),
    "matmul": (lambda m, a, b: a @ b, [_c(2, 3), _c(3, 4)]),
    "matmul_vec": (lambda m, a, b: a @ b, [_c(3), _c(2, 3, 2)]),
    "matmul_dot": (lambda m, a, b: (a * b) @ b, [_c(3), _c(3)]),
    "real": (lambda m, a: m.real(a * a), [_c(2, 3)]),
    "imag": (lambda m, a: m.imag(a * a), [_c(2, 3)]),
    "conj": (lambda m, a: m.conj(a) * a * a, [_c(2, 3)]),
    "conj_physical": (lambda m, a: m.conj_physical(a * a) * a, [_c(2, 3)]),
    "angle": (lambda m, a: m.angle(a * a), [_c(2, 3)]),
    "angle_real": (lambda m, a: m.angle(a) * a, [_r(4)]),
    "complex": (lambda m, a, b: m.complex(a, b) * m.complex(b * b, a), [_r(2, 3), _r(1, 3)]),
    "polar": (lambda m, a, b: m.polar(a, b) * m.polar(a, b), [_r(2, 3) + 2, _r(1, 3)]),
    "polar_computed": (lambda m, a, b: m.polar(a * a, b * 4), [_r(2, 1), _r(3)]),
    "polar_constant_angle": (
        lambda m, a: m.polar(a * a, m.tensor([0.3, -2.0, 7.5], dtype=a.dtype)),
        [_r(2, 3)],
    ),
    "view_as_real": (lambda m, a: m.view_as_real(a * a), [_c(2, 3)]),
    "view_as_complex": (lambda m, a: m.view_as_complex(a * a) * m.view_as_complex(a), [_r(2, 3, 2)]),
    "fft": (lambda m, a: m.fft.fft(a * a), [_c(2, 4)]),
    "fft_real": (lambda m, a: m.fft.fft(a * a, dim=0), [_r(3, 2)]),
    "fft_pad_ortho": (lambda m, a: m.fft.fft(a * a, n=6, norm="ortho"), [_c(2, 4)]),
    "fft_cut_forward": (lambda m, a: m.fft.fft(a * a, n=3, dim=0, norm="forward"), [_c(5, 2)]),
    "ifft": (lambda m, a: m.fft.ifft(a * a, dim=0), [_c(3, 2)]),
    "ifft_pad_forward": (lambda m, a: m.fft.ifft(a * a, n=5, norm="forward"), [_c(2, 3)]),
    "ifft_real_cut": (lambda m, a: m.fft.ifft(a * a, n=3, dim=0, norm="ortho"), [_r(5, 2)]),
    "fft_ifft": (lambda m, a: m.fft.ifft(m.fft.fft(a) * m.fft.fft(a)), [_c(4)]),
    # the complex-aware real ops, on complex values and gradients
    "sum": (lambda m, a: (a * a).sum(1), [_c(2, 3)]),
    "mean": (lambda m, a: (a * a).mean(0, keepdim=True), [_c(2, 3)]),
    "reshape": (lambda m, a: (a * a).reshape(3, 2), [_c(2, 3)]),
    "permute": (lambda m, a: (a * a).permute(1, 0), [_c(2, 3)]),
    "expand": (lambda m, a: (a * a).expand(4, 2, 3), [_c(2, 3)]),
    "repeat": (lambda m, a: (a * a).repeat(2, 1), [_c(2, 3)]),
    "flip": (lambda m, a: (a * a).flip(0), [_c(2, 3)]),
    "roll": (lambda m, a: m.roll(a * a, 1, 1), [_c(2, 3)]),
    "tril": (lambda m, a: m.tril(a * a), [_c(3, 3)]),
    "triu": (lambda m, a: m.triu(a * a, 1), [_c(3, 3)]),
    "cumsum": (lambda m, a: m.cumsum(a * a, 1), [_c(2, 3)]),
    "cat": (lambda m, a, b: m.cat([a * a, b], 0), [_c(2, 3), _c(1, 3)]),
    "stack": (lambda m, a, b: m.stack([a * a, b], 1), [_c(2, 3), _c(2, 3)]),
    "neg": (lambda m, a: -(a * a), [_c(2, 3)]),
    "clone": (lambda m, a: (a * a).clone(), [_c(2, 3)]),
}
# a real and a complex operand: the real one is cast to complex first (its gradient: the real part)
MIXED = {
    "add_real": (lambda m, a, b: a + b * b, [_c(2, 3), _r(1, 3)]),
    "mul_real": (lambda m, a, b: a * b, [_r(2, 3), _c(3)]),
    "div_real": (lambda m, a, b: a / b, [_c(2, 3), _r(1, 3) + 3]),
    "real_times_j": (lambda m, a: a * 1j + a * a, [_r(2, 3)]),
    "cast_to_complex": (lambda m, a: (a * a).to(m.complex128) * (1 + 2j), [_r(2, 3)]),
}
# the first-order backward needs index_put / diag_embed on complex gradients (not complex-aware)
INDEXED = {
    "getitem": (lambda m, a: (a * a)[0, 1:], [_c(2, 3)]),
    "getitem_advanced": (lambda m, a: (a * a)[[0, 0, 1]], [_c(2, 3)]),
    "diagonal": (lambda m, a: m.diagonal(a * a), [_c(3, 3)]),
    "unbind": (lambda m, a: (a * a).unbind(0)[1], [_c(2, 3)]),
}
# the n-d and the real/Hermitian transforms (drawn after the others, so their data stay as they were)
FFT = {
    "fftn_pad_cut_ortho": (lambda m, a: m.fft.fftn(a * a, s=(3, 5), norm="ortho"), [_c(2, 4)]),
    "ifft2_real": (lambda m, a: m.fft.ifft2(a * a, dim=(1, 0), norm="forward"), [_r(3, 2)]),
    "rfft": (lambda m, a: m.fft.rfft(a * a), [_r(2, 5)]),
    "rfft_pad_ortho": (lambda m, a: m.fft.rfft(a * a, n=6, dim=0, norm="ortho"), [_r(4, 2)]),
    "rfftn_cut_forward": (lambda m, a: m.fft.rfftn(a * a, s=(2, 3), norm="forward"), [_r(3, 5)]),
    "irfft": (lambda m, a: m.fft.irfft(a * a), [_c(2, 4)]),
    "irfft_odd_ortho": (lambda m, a: m.fft.irfft(a * a, n=5, dim=0, norm="ortho"), [_c(4, 2)]),
    "irfft_real_pad": (lambda m, a: m.fft.irfft(a * a, n=9, norm="forward"), [_r(2, 3)]),
    "irfftn": (lambda m, a: m.fft.irfftn(a * a, s=(3, 6)), [_c(4, 3)]),
    "hfft": (lambda m, a: m.fft.hfft(a * a, n=6), [_c(2, 4)]),
    "ihfft": (lambda m, a: m.fft.ihfft(a * a, dim=0, norm="ortho"), [_r(5, 2)]),
    "hfft2": (lambda m, a: m.fft.hfft2(a * a, s=(2, 5)), [_c(3, 3)]),
    "ihfftn": (lambda m, a: m.fft.ihfftn(a * a, norm="forward"), [_r(3, 4)]),
    "rfft_irfft": (lambda m, a: m.fft.irfft(m.fft.rfft(a) * m.fft.rfft(a * a), n=5), [_r(5)]),
    "fftshift": (lambda m, a: m.fft.fftshift(m.fft.fft2(a * a)), [_c(3, 4)]),
}
ALL = {**CASES, **MIXED, **FFT}


@pytest.mark.parametrize("name", sorted(ALL))
def test_gradgradcheck(name):
    """gradgradcheck takes complex inputs (through their real views, as gradcheck)."""
    fn, arrays = ALL[name]
    assert gradgradcheck(lambda *xs: fn(gg, *xs), [gg.tensor(a).requires_grad_() for a in arrays])


def _second_order(lib, fn, arrays, v, w):
    """(create_graph first-order grads, grads of sum Re(grads * w) in (inputs, v)); complex v and w."""
    xs, vt = [_leaf(lib, a) for a in arrays], _leaf(lib, v)
    firsts = lib.autograd.grad(fn(lib, *xs), xs, vt, create_graph=True)
    total = sum(
        (f * lib.tensor(wi)).real.sum() if f.is_complex() else (f * lib.tensor(wi)).sum()
        for f, wi in zip(firsts, w)
    )
    seconds = lib.autograd.grad(total, [*xs, vt], allow_unused=True)
    return [_np(f) for f in firsts], [None if s is None else _np(s) for s in seconds]


def _np(t):
    return t.detach().resolve_conj().numpy()  # (PyTorch's conj is a lazy view)


def _v_w(fn, arrays):
    out = fn(gg, *[_leaf(gg, a) for a in arrays])
    rng = np.random.default_rng(7)
    v = rng.standard_normal(tuple(out.shape))
    if out.is_complex():
        v = v + 1j * rng.standard_normal(tuple(out.shape))
    w = [
        rng.standard_normal(a.shape) + (1j * rng.standard_normal(a.shape) if a.dtype.kind == "c" else 0)
        for a in arrays
    ]
    return v, w


def _close(got, want):
    for a, b in zip(got, want):
        if a is None or b is None:  # unused on one side: zeros on the other
            assert (a is None or not np.any(a)) and (b is None or not np.any(b))
            continue
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(ALL))
def test_second_order_like_torch(name, torch):
    fn, arrays = ALL[name]
    v, w = _v_w(fn, arrays)
    f_gg, s_gg = _second_order(gg, fn, arrays, v, w)
    f_t, s_t = _second_order(torch, fn, arrays, v, w)
    _close(f_gg, f_t)
    _close(s_gg, s_t)


@pytest.mark.parametrize("name", sorted(ALL))
@pytest.mark.parametrize("dtype", [np.complex128, np.complex64])
def test_create_graph_first_order_equals_plain(name, dtype):
    fn, arrays = ALL[name]
    arrays = [a.astype(dtype if a.dtype.kind == "c" else np.dtype(dtype).type(0).real.dtype) for a in arrays]
    v, _ = _v_w(fn, arrays)
    xs = [_leaf(gg, a) for a in arrays]
    out = fn(gg, *xs)
    v = gg.tensor(v.astype(out._data.dtype))
    plain = gg.autograd.grad(out, xs, v, retain_graph=True)
    recorded = gg.autograd.grad(out, xs, v, create_graph=True)
    for p, r in zip(plain, recorded):
        assert r.dtype == p.dtype
        np.testing.assert_allclose(
            r.detach().numpy(), p.numpy(), rtol=1e-5 if dtype == np.complex64 else 1e-12, atol=1e-6
        )


def test_zeros_like_torch(torch):
    """abs and angle at z = 0: gradient 0 there (PyTorch's choice), and so are its derivatives.
    PyTorch's angle gives NaN second derivatives at 0 (its ``where`` backward meets 0 / |0|^2); the
    rule selects its operand first, as the math rules do, so they are 0 here."""
    z = np.array([0j, 1 - 2j, 0j, 0.5j])
    for op in ("abs", "angle"):
        fn = lambda m, a: getattr(m, op)(a) * 3  # noqa: E731
        v, w = _v_w(fn, [z])
        f_gg, s_gg = _second_order(gg, fn, [z], v, w)
        f_t, s_t = _second_order(torch, fn, [z], v, w)
        _close(f_gg, f_t)
        if op == "abs":
            _close(s_gg, s_t)
        else:
            _close([s[1::2] for s in s_gg], [s[1::2] for s in s_t])
        assert np.all(s_gg[0][::2] == 0) and np.all(s_gg[1][::2] == 0) and np.all(np.isfinite(s_gg[0]))


@pytest.mark.parametrize("real_x", [True, False])
def test_gradient_penalty_like_torch(real_x, torch):
    """The brief's losses: (fft(x).real ** 2).sum() and (z * conj(w)).abs().sum(); grad with
    create_graph, then a penalty's gradient (and a leaf's .grad through backward(create_graph))."""
    x0 = _r(2, 5) if real_x else _c(2, 5)
    z0, w0 = _c(3, 4), _c(4)

    def run(lib):
        x, z, w = _leaf(lib, x0), _leaf(lib, z0), _leaf(lib, w0)
        loss = (lib.fft.fft(x * x, dim=1).real ** 2).sum() + (z * w.conj()).abs().sum() * x.abs().sum()
        gx, gz, gw = lib.autograd.grad(loss, [x, z, w], create_graph=True)
        penalty = (gx.abs() ** 2).sum() + (gz.abs() ** 2).sum() + (gw * gw.conj()).real.sum()
        firsts = [_np(t) for t in (gx, gz, gw)]
        if lib is not gg:  # (PyTorch warns of backward(create_graph=True) once a process: not here)
            return firsts, [_np(t) for t in lib.autograd.grad(penalty, [x, z, w])]
        with pytest.warns(UserWarning, match="reference cycle"):
            penalty.backward(create_graph=True)
        return firsts, [_np(t.grad) for t in (x, z, w)]

    f_gg, s_gg = run(gg)
    f_t, s_t = run(torch)
    _close(f_gg, f_t)
    _close(s_gg, s_t)


def test_third_order_like_torch(torch):
    """Rules whose gradients go through other complex rules (and their own), three orders deep;
    no mixed real/complex op (so no cast node) appears in the recorded graphs."""
    z0, r0, t0 = _c(4), _r(4) + 2, _r(4)

    def run(lib):
        z, r, t = _leaf(lib, z0), _leaf(lib, r0), _leaf(lib, t0)
        y = lib.fft.fft(lib.exp(z) * lib.polar(r, t * 2) / (z * z + 3)).abs().sum() + lib.angle(z * z).sum()
        out, ins = [], [z, r, t]
        for create in (True, True, False):
            gs = lib.autograd.grad(y, ins, create_graph=create)
            out += [_np(g) for g in gs]
            y = sum((g * g.conj()).real.sum() for g in gs)
        return out

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = run(gg)
    _close(got, run(torch))


def test_third_order_through_the_real_transforms_like_torch(torch):
    """rfft/irfft/ihfft/hfft rules (each written with the others), three orders deep."""
    x0 = _r(6)

    def run(lib):
        x = _leaf(lib, x0)
        f, h = lib.fft.rfft(x * x), lib.fft.ihfft(x, norm="ortho")
        y = (lib.fft.irfft(f * f, n=6, norm="ortho") ** 2).sum() + (lib.fft.hfft(h * h, n=5) ** 3).sum()
        out = []
        for create in (True, True, False):
            (g,) = lib.autograd.grad(y, [x], create_graph=create)
            out.append(_np(g))
            y = (g * g).sum()
        return out

    _close(run(gg), run(torch))


def test_mixed_real_complex_warns_nothing():
    a, b = _leaf(gg, _c(2, 3)), _leaf(gg, _r(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gg.autograd.grad(a * b, [a, b], gg.tensor(_c(2, 3)), create_graph=True)


@pytest.mark.parametrize("name", sorted(INDEXED))
def test_indexed_complex(name):
    fn, arrays = INDEXED[name]
    assert gradgradcheck(lambda *xs: fn(gg, *xs), [gg.tensor(a).requires_grad_() for a in arrays])
