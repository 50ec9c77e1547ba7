"""Porting round 30: FEDformer's Fourier cross attention (LTSF-Linear's copy) takes ``tanh`` of
a complex einsum; complex ``tanh`` now runs, with PyTorch's values and gradients (first and second
order)."""

from __future__ import annotations

import numpy as np

import glassgrad as gg
from glassgrad.autograd import gradgradcheck

_R = np.random.default_rng(30)


def _c(*shape):
    return 0.6 * (_R.standard_normal(shape) + 1j * _R.standard_normal(shape))


def _cross_attention(m, q, k, w):
    """FEDformer's FourierCrossAttention core: (B, H, E, modes) spectra -> (B, H, O, modes)."""
    qk = m.einsum("bhex,bhey->bhxy", q, k).tanh()
    qkv = m.einsum("bhxy,bhey->bhex", qk, k)
    return m.einsum("bhex,heox->bhox", qkv, w)


def test_complex_tanh_cross_attention_matches_pytorch(torch):
    arrays = [_c(2, 2, 3, 4), _c(2, 2, 3, 4), _c(2, 3, 3, 4)]
    ours = [gg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    got, want = _cross_attention(gg, *ours), _cross_attention(torch, *theirs)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert got.grad_fn is not None
    weight = _c(*want.shape)
    gg.view_as_real(got * gg.tensor(weight)).sum().backward()
    torch.view_as_real(want * torch.tensor(weight)).sum().backward()
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_complex_tanh_second_order_matches_pytorch(torch):
    z, v = _c(2, 3), _c(2, 3)
    a, t = gg.tensor(z, requires_grad=True), torch.tensor(z, requires_grad=True)
    (ga,) = gg.autograd.grad(a.tanh(), a, gg.tensor(v), create_graph=True)
    (gt,) = torch.autograd.grad(t.tanh(), t, torch.tensor(v), create_graph=True)
    np.testing.assert_allclose(ga.detach().numpy(), gt.detach().numpy(), rtol=1e-12, atol=1e-12)
    (ga * ga).real.sum().backward()
    (gt * gt).real.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-11, atol=1e-12)
    assert gradgradcheck(lambda x: (x * x).tanh(), [gg.tensor(_c(2, 2)).requires_grad_()])


def test_real_tanh_is_unchanged_and_complex_float32_keeps_its_dtype():
    x = gg.tensor([0.5, -1.0])
    np.testing.assert_allclose(x.tanh().numpy(), np.tanh([0.5, -1.0]).astype(np.float32), rtol=1e-6)
    z = gg.tensor([0.5 + 0.25j], dtype=gg.complex64)
    assert z.tanh().dtype == gg.complex64
    np.testing.assert_allclose(z.tanh().numpy(), np.tanh(np.complex64(0.5 + 0.25j)), rtol=1e-6)


def _adam_run(lib, opt_name, **kw):
    """FEDformer's Fourier weights: a complex Parameter trained by Adam next to a real one."""
    rng = np.random.default_rng(7)
    w = lib.nn.Parameter(lib.tensor(rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))))
    b = lib.nn.Parameter(lib.tensor(rng.standard_normal(4)))
    opt = getattr(lib.optim, opt_name)([w, b], lr=0.1, **kw)
    for _ in range(4):
        x = lib.tensor(rng.standard_normal((2, 3)) + 0j)
        opt.zero_grad()
        out = lib.fft.irfft(x @ w, n=6) + b.sum()
        (out**2).sum().backward()
        opt.step()
    state = opt.state[w]
    return [w.detach().numpy(), b.detach().numpy(), state["exp_avg"].numpy(), state["exp_avg_sq"].numpy()]


def test_adam_steps_complex_parameters_as_pytorch(torch):
    for opt_name, kw in [
        ("Adam", {}),
        ("Adam", {"amsgrad": True, "weight_decay": 0.1, "maximize": True}),
        ("AdamW", {"weight_decay": 0.05}),
    ]:
        ours, theirs = _adam_run(gg, opt_name, **kw), _adam_run(torch, opt_name, **kw)
        for a, b in zip(ours, theirs, strict=True):
            assert a.dtype == b.dtype
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
