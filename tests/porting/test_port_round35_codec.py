"""Round 35, EnCodec (facebookresearch/encodec): distilled repros of what the codec leans on.

The program ran unchanged; these pin its residual vector quantizer (k-means init through
`bincount`/`scatter_add_`/`masked_fill`, the EMA codebook update written through `.data.mul_().add_`,
the straight-through commitment loss) and its SEANet pieces (weight-normed causal convolutions,
an LSTM with a skip, a Spectrogram built on `stft`) against PyTorch from the same values."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _codebook_step(T, samples, means, decay=0.9, eps=1e-5):
    """One k-means refinement then one EMA codebook update; returns every intermediate."""
    x = T.tensor(samples, requires_grad=True)
    means = T.tensor(means)
    n_codes, dim = means.shape
    dists = -((x.detach()[:, None, :] - means[None]) ** 2).sum(dim=-1)
    buckets = dists.max(dim=-1).indices
    bins = T.bincount(buckets, minlength=n_codes)
    zero = bins == 0
    new = buckets.new_zeros(n_codes, dim, dtype=x.dtype)
    new.scatter_add_(0, buckets[:, None].expand(-1, dim), x.detach())
    new = new / bins.masked_fill(zero, 1)[..., None]
    embed = T.where(zero[..., None], means, new)
    cluster_size, embed_avg = bins.to(x.dtype).clone(), embed.clone()
    ind = (
        (-(x.pow(2).sum(1, keepdim=True) - 2 * x @ embed.t() + embed.t().pow(2).sum(0, keepdim=True)))
        .max(-1)
        .indices
    )
    onehot = T.nn.functional.one_hot(ind, n_codes).type(x.dtype)
    cluster_size.data.mul_(decay).add_(onehot.sum(0), alpha=1 - decay)
    embed_avg.data.mul_(decay).add_((x.t() @ onehot).t(), alpha=1 - decay)
    smoothed = (cluster_size + eps) / (cluster_size.sum() + n_codes * eps) * cluster_size.sum()
    quant = T.nn.functional.embedding(ind, embed)
    quant = x + (quant - x).detach()
    loss = T.tensor([0.0], requires_grad=True) + T.nn.functional.mse_loss(quant.detach(), x)
    (loss.sum() + quant.pow(2).sum()).backward()
    return [bins, ind, cluster_size, embed_avg / smoothed.unsqueeze(1), loss, x.grad]


def test_rvq_kmeans_ema_commitment_as_torch(torch):
    rng = np.random.RandomState(0)
    samples = rng.randn(20, 3)
    means = samples[[0, 5, 7, 7]]  # a repeated centre leaves one bucket empty
    got = _codebook_step(gg, samples, means)
    want = _codebook_step(torch, samples, means)
    for g, w in zip(got, want):
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-12, atol=1e-13)


def _seanet_bits(T, w, wl, x):
    conv = T.nn.utils.weight_norm(T.nn.Conv1d(2, 3, 3, dilation=2).double())
    lstm = T.nn.LSTM(3, 3, 1).double()
    sd = {
        "bias": T.tensor(w[:3, 0, 0]),
        "weight_g": T.tensor(w[:3, :1, :1] + 2.0),
        "weight_v": T.tensor(w[:, :2, :]),
    }
    conv.load_state_dict(sd)
    lstm.load_state_dict({k: T.tensor(v) for k, v in wl.items()})
    xt = T.tensor(x, requires_grad=True)
    h = conv(T.nn.functional.pad(xt, (4, 0), mode="constant"))  # causal: pad on the left only
    y, _ = lstm(h.permute(2, 0, 1))
    h = h + y.permute(1, 2, 0)
    win = T.hann_window(8, dtype=T.float64)
    spec = T.stft(h.reshape(-1, h.shape[-1]), 8, 2, 8, win, center=False, return_complex=True)
    spec = spec / win.pow(2.0).sum().sqrt()
    out = T.cat([spec.real, spec.imag], dim=1)
    out.abs().mean().backward()
    return [out, xt.grad, conv.weight_g.grad, conv.weight_v.grad, lstm.weight_hh_l0.grad]


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_weight_norm_causal_conv_lstm_stft_as_torch(torch):
    rng = np.random.RandomState(1)
    w = rng.randn(3, 2, 3)
    wl = {
        "weight_ih_l0": rng.randn(12, 3),
        "weight_hh_l0": rng.randn(12, 3),
        "bias_ih_l0": rng.randn(12),
        "bias_hh_l0": rng.randn(12),
    }
    x = rng.randn(2, 2, 16)
    got = _seanet_bits(gg, w, wl, x)
    want = _seanet_bits(torch, w, wl, x)
    for g, wt in zip(got, want):
        assert tuple(g.shape) == tuple(wt.shape)
        np.testing.assert_allclose(g.detach().numpy(), wt.detach().numpy(), rtol=1e-10, atol=1e-12)
