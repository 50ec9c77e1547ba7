"""Round 35, minimal RNNs (minGRU/minLSTM, RecurrentGemma's RG-LRU): distilled repros.

Both programs ran unchanged; these pin what they lean on. minGRU's parallel mode is Heinsen's
log-space scan (`cumsum` then `logcumsumexp`, with a previous hidden state concatenated in front
and the coefficients left-padded by `F.pad`), and must agree with its one-step sequential mode.
The RG-LRU runs a Python-loop scan that writes each step into a `zeros_like` buffer, takes `sqrt`
through a custom `autograd.Function` with a clipped derivative, and runs under non-reentrant
`checkpoint(..., determinism_check="none")`."""

from __future__ import annotations

import numpy as np

import glassgrad as gg


def _heinsen(lib, x, w, h0):
    f = lib.nn.functional
    hidden, gate = (x @ w).chunk(2, dim=-1)
    log_coeffs = -f.softplus(gate)
    log_tilde_h = lib.where(hidden >= 0, (f.relu(hidden) + 0.5).log(), -f.softplus(-hidden))
    log_values = lib.cat((h0.log(), -f.softplus(-gate) + log_tilde_h), dim=1)
    log_coeffs = f.pad(log_coeffs, (0, 0, 1, 0))
    a_star = log_coeffs.cumsum(dim=1)
    log_h = a_star + (log_values - a_star).logcumsumexp(dim=1)
    return log_h.exp()[:, -x.shape[1] :]


def _sequential(lib, x, w, h0):
    h, outs = h0, []
    for t in range(x.shape[1]):
        hidden, gate = (x[:, t : t + 1] @ w).chunk(2, dim=-1)
        hidden = lib.where(hidden >= 0, hidden + 0.5, hidden.sigmoid())
        h = lib.lerp(h, hidden, gate.sigmoid())
        outs.append(h)
    return lib.cat(outs, dim=1)


def test_heinsen_log_scan_matches_torch_and_sequential(torch):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 5, 3)), rng.standard_normal((3, 8))
    h0 = rng.random((2, 1, 4)) + 0.1
    res = {}
    for name, lib in (("torch", torch), ("gg", gg)):
        xt, wt, ht = (lib.tensor(a, requires_grad=True) for a in (x, w, h0))
        out = _heinsen(lib, xt, wt, ht)
        (out * lib.tensor(x[..., :1] + 1.0)).sum().backward()
        res[name] = [out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), ht.grad.numpy()]
        seq = _sequential(lib, lib.tensor(x), lib.tensor(w), lib.tensor(h0))
        np.testing.assert_allclose(seq.numpy(), res[name][0], rtol=1e-12, atol=1e-13)
    for got, want in zip(res["gg"], res["torch"]):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-12)


def _rg_lru_block(lib, sqrt_fn, x, a_param):
    log_a = -8.0 * x.sigmoid() * lib.nn.functional.softplus(a_param)
    a = lib.exp(log_a)
    normalized = x * sqrt_fn(1 - lib.exp(2 * log_a))
    h = lib.zeros(x[:, 0].shape, dtype=x.dtype)
    y = lib.zeros_like(x)
    for t in range(x.shape[1]):
        h = a[:, t] * h + normalized[:, t]
        y[:, t] = h
    return y, h


def _sqrt_fn(lib):
    class SqrtBound(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return lib.sqrt(x)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad / lib.sqrt(lib.clip(4.0 * x, min=1e-6))

    return SqrtBound.apply


def test_rg_lru_scan_under_checkpoint_matches_torch(torch):
    rng = np.random.default_rng(1)
    x, a_param = rng.standard_normal((2, 4, 3)), rng.standard_normal(3)
    # a -> 1 in channel 0, so the clipped sqrt derivative is taken; 1 - a**2 there is all
    # cancellation, hence the absolute tolerance
    a_param[0] = -30.0
    res = {}
    for name, lib in (("torch", torch), ("gg", gg)):
        xt, at = lib.tensor(x, requires_grad=True), lib.tensor(a_param, requires_grad=True)
        fn = _sqrt_fn(lib)
        block = lambda u, v: _rg_lru_block(lib, fn, u, v)  # noqa: E731
        if lib is gg:  # torch's first checkpoint call costs seconds; recomputing changes no value
            y, h = gg.utils.checkpoint.checkpoint(
                block, xt, at, use_reentrant=False, determinism_check="none"
            )
        else:
            y, h = block(xt, at)
        (y.square().sum() + h.sum()).backward()
        res[name] = [y.detach().numpy(), h.detach().numpy(), xt.grad.numpy(), at.grad.numpy()]
    for got, want in zip(res["gg"], res["torch"]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-9)
