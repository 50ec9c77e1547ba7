"""``optim.Muon``: PyTorch's algorithm step for step, the Newton–Schulz orthogonalisation, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.optim.muon import adjusted_lr, zeropower_via_newtonschulz

RNG = np.random.default_rng(0)
W = RNG.standard_normal((6, 4)).astype(np.float32)
X = RNG.standard_normal((5, 6)).astype(np.float32)


def _train(lib, steps=3, **kw):
    w = lib.nn.Parameter(lib.tensor(W.copy()))
    opt = lib.optim.Muon([w], lr=0.05, **kw)
    for _ in range(steps):
        opt.zero_grad()
        (lib.tensor(X) @ w).tanh().pow(2).sum().backward()
        opt.step()
    return w.detach().numpy(), opt


def _float32_newtonschulz(torch):
    """PyTorch's iteration as its ``_zeropower_via_newtonschulz`` writes it, in float32 instead of
    bfloat16 (glassgrad has no bfloat16): the rest of PyTorch's step runs unchanged around it."""

    def ns(grad, coefficients, steps, eps):
        a, b, c = coefficients
        x = grad.float().T if grad.size(0) > grad.size(1) else grad.float()
        x = x / x.norm().clamp(min=eps)
        for _ in range(steps):
            gram = x @ x.T
            x = torch.addmm(x, torch.addmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
        return x.T if grad.size(0) > grad.size(1) else x

    return ns


@pytest.mark.parametrize(
    "kw",
    [{}, {"nesterov": False, "weight_decay": 0.0}, {"adjust_lr_fn": "match_rms_adamw", "momentum": 0.5}],
)
def test_muon_steps_as_torch(torch, monkeypatch, kw):
    import torch.optim._muon as torch_muon

    monkeypatch.setattr(torch_muon, "_zeropower_via_newtonschulz", _float32_newtonschulz(torch))
    got, opt = _train(gg, **kw)
    want, topt = _train(torch, **kw)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    buf = next(iter(opt.state.values()))["momentum_buffer"].numpy()
    np.testing.assert_allclose(
        buf, next(iter(topt.state.values()))["momentum_buffer"].numpy(), rtol=1e-5, atol=1e-7
    )


@pytest.mark.parametrize("shape", [(6, 4), (3, 9), (16, 16)])
def test_newtonschulz_flattens_the_spectrum(shape):
    """Singular values spread over orders of magnitude come out near 1 (the quintic's fixed band)."""
    u, _ = np.linalg.qr(RNG.standard_normal((shape[0], shape[0])))
    v, _ = np.linalg.qr(RNG.standard_normal((shape[1], shape[1])))
    k = min(shape)
    g = (u[:, :k] * np.logspace(-1, 1, k)) @ v[:, :k].T  # singular values 0.1 .. 10
    s = np.linalg.svd(zeropower_via_newtonschulz(g, (3.4445, -4.7750, 2.0315), 5, 1e-7), compute_uv=False)
    assert s.min() > 0.5 and s.max() < 1.5 and s.shape == (k,)


def test_adjusted_lr_by_hand():
    assert adjusted_lr(0.1, None, (8, 2)) == pytest.approx(0.1 * 2)  # √max(1, 8 / 2)
    assert adjusted_lr(0.1, "original", (2, 8)) == pytest.approx(0.1)  # √max(1, 1 / 4)
    assert adjusted_lr(0.1, "match_rms_adamw", (2, 8)) == pytest.approx(0.1 * 0.2 * math.sqrt(8))


def test_muon_refuses_as_torch(torch):
    for lib in (gg, torch):
        with pytest.raises(ValueError, match="Muon only supports 2D parameters"):
            lib.optim.Muon([lib.nn.Parameter(lib.ones(3))])
        with pytest.raises(ValueError, match="Adjust learning rate function bad is not supported"):
            lib.optim.Muon([lib.nn.Parameter(lib.ones(2, 2))], adjust_lr_fn="bad")
        with pytest.raises(ValueError, match="Learning rate should be >= 0"):
            lib.optim.Muon([lib.nn.Parameter(lib.ones(2, 2))], lr=-1.0)
        e = lib.nn.Embedding(4, 2, sparse=True)
        e(lib.tensor([1])).sum().backward()
        with pytest.raises(RuntimeError, match="Muon does not support sparse gradients"):
            lib.optim.Muon(e.parameters()).step()
    with pytest.raises(ValueError, match="less than 100"):
        zeropower_via_newtonschulz(np.ones((2, 2)), (1, 0, 0), 100, 1e-7)
