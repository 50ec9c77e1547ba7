"""Round 40, group tslib: Time-Series-Library's and neuralforecast's forecasting models.

The round found no glassgrad defect; these tests pin the model patterns whose parity it checked,
each against PyTorch's CPU build: Koopa's batched under-determined ``linalg.lstsq`` (minimum-norm
solution and its gradient), FEDformer/FiLM's spectral layers (``rfft``, a complex ``einsum`` with
complex weights, ``irfft`` to an odd length), Informer's ProbAttention gathers and index writes,
Autoformer's period aggregation (``topk`` over a spectrum, ``roll``) and TimesNet's period search.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _both(torch, arrays):
    """The same float64 arrays as leaves requiring grad in PyTorch and in glassgrad."""
    return (
        [torch.tensor(a, requires_grad=True) for a in arrays],
        [gg.tensor(a, requires_grad=True) for a in arrays],
    )


def _check(torch, fn, arrays, seed=0):
    """fn(lib, *leaves) -> tensor; outputs and every input gradient agree with PyTorch's."""
    ts, gs = _both(torch, arrays)
    yt, yg = fn(torch, *ts), fn(gg, *gs)
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), rtol=1e-11, atol=1e-12)
    w = np.random.RandomState(seed).randn(*yt.shape)
    (yt * torch.tensor(w)).sum().backward()
    (yg * gg.tensor(w)).sum().backward()
    for t, g in zip(ts, gs):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("rows,cols", [(1, 5), (3, 5), (6, 3)])
def test_koopa_batched_lstsq_min_norm_and_gradient(torch, rows, cols):
    # Koopa fits K from z[:, :-1] to z[:, 1:]; with fewer snapshots than dimensions the
    # system is under-determined and PyTorch returns the minimum-norm solution.
    rng = np.random.RandomState(rows)
    a, b = rng.randn(2, rows, cols), rng.randn(2, rows, cols)
    _check(torch, lambda L, x, y: L.linalg.lstsq(x, y).solution, [a, b])


@pytest.mark.parametrize("n", [8, 9, 11])
def test_fedformer_spectral_layer_to_odd_lengths(torch, n):
    rng = np.random.RandomState(n)
    x, wr, wi = rng.randn(2, 4, n), rng.randn(4, 3, 3), rng.randn(4, 3, 3)

    def layer(L, x, wr, wi):
        xf = L.fft.rfft(x, dim=-1)[..., :3]
        out = L.einsum("bix,iox->box", xf, L.complex(wr, wi))
        full = L.zeros(2, 3, n // 2 + 1, dtype=out.dtype)
        full[..., :3] = out
        return L.fft.irfft(full, n=n, dim=-1)

    _check(torch, layer, [x, wr, wi])


@pytest.mark.parametrize("n,norm", [(7, None), (10, "ortho"), (9, "forward")])
def test_rfft_irfft_gradcheck_with_broadcasting(n, norm):
    rng = np.random.RandomState(n)
    x = gg.tensor(rng.randn(3, 1, 6), requires_grad=True)
    s = gg.tensor(rng.randn(1, 2, 1), requires_grad=True)

    def f(x, s):
        return gg.fft.irfft(gg.fft.rfft(x * s, dim=-1, norm=norm), n=n, dim=-1, norm=norm)

    assert gg.autograd.gradcheck(f, (x, s))


def test_informer_prob_attention_gathers_and_writes(torch):
    rng = np.random.RandomState(0)
    B, H, L, E, u = 2, 2, 6, 3, 2
    q, k, v = rng.randn(B, H, L, E), rng.randn(B, H, L, E), rng.randn(B, H, L, E)
    sample = rng.randint(0, L, (L, 3))

    def prob_attention(lib, q, k, v):
        k_exp = k.unsqueeze(-3).expand(B, H, L, L, E)
        k_sample = k_exp[:, :, lib.arange(L).unsqueeze(1), lib.tensor(sample), :]
        qk = lib.matmul(q.unsqueeze(-2), k_sample.transpose(-2, -1)).squeeze(-2)
        m = qk.max(-1)[0] - lib.div(qk.sum(-1), L)
        top = m.topk(u, sorted=False)[1]
        q_red = q[lib.arange(B)[:, None, None], lib.arange(H)[None, :, None], top, :]
        attn = lib.softmax(lib.matmul(q_red, k.transpose(-2, -1)), dim=-1)
        ctx = v.cumsum(dim=-2).clone()
        ctx[lib.arange(B)[:, None, None], lib.arange(H)[None, :, None], top, :] = lib.matmul(attn, v)
        return ctx

    _check(torch, prob_attention, [q, k, v])


def test_autoformer_time_delay_aggregation_training(torch):
    rng = np.random.RandomState(1)
    values, corr = rng.randn(2, 2, 3, 12), rng.randn(2, 2, 3, 12)

    def agg(lib, values, corr):
        top_k = 3
        mean_value = lib.mean(lib.mean(corr, dim=1), dim=1)
        index = lib.topk(lib.mean(mean_value, dim=0), top_k, dim=-1)[1]
        weights = lib.stack([mean_value[:, index[i]] for i in range(top_k)], dim=-1)
        tmp_corr = lib.softmax(weights, dim=-1)
        out = lib.zeros_like(values)
        for i in range(top_k):
            pattern = lib.roll(values, -int(index[i]), -1)
            out = out + pattern * tmp_corr[:, i].unsqueeze(1).unsqueeze(1).unsqueeze(1).repeat(1, 2, 3, 12)
        return out

    _check(torch, agg, [values, corr])


def test_timesnet_period_search(torch):
    rng = np.random.RandomState(2)
    t = np.arange(32)
    x = np.sin(2 * np.pi * t / 8)[None, :, None] + 0.5 * np.sin(2 * np.pi * t / 4)[None, :, None]
    x = x + 0.1 * rng.randn(4, 32, 3)

    def amplitudes(lib, x):
        xf = lib.fft.rfft(x, dim=1)
        freq = abs(xf).mean(0).mean(-1)
        freq[0] = 0
        top = lib.topk(freq, 2)[1]
        assert [32 // int(i) for i in top] == [8, 4]
        return abs(xf).mean(-1)[:, top]

    _check(torch, amplitudes, [x])
