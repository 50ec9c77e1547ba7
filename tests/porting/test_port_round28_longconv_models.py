"""Round 28 (docs/porting.md): distilled float64 parity checks of the model code of safari's
standalone Hyena and Jamie Stirling's RetNet, which both run unchanged on glassgrad. Each function
takes the library (PyTorch or glassgrad) and is written the way the program writes it."""

from __future__ import annotations

import math

import numpy as np

import glassgrad

F64 = "float64"


def _hyena(lib, u, w1, b1, freq, w2, deltas, dvec):
    """HyenaFilter.filter (complex-exponential positional embedding, Sin MLP, exponential
    modulation) feeding fftconv's FFT long convolution with its skip term; u is (B, D, L)."""
    f64 = getattr(lib, F64)
    seqlen = u.shape[-1]
    bands = 2
    t = lib.linspace(0, 1, seqlen, dtype=f64)[None, :, None]
    t_rescaled = lib.linspace(0, seqlen - 1, seqlen, dtype=f64)[None, :, None]
    w = 2 * math.pi * t_rescaled / seqlen
    f = lib.linspace(1e-4, bands - 1, bands, dtype=f64)[None, None]
    z = lib.exp(-1j * f * w)
    z = lib.cat([t, z.real, z.imag], dim=-1)  # (1, L, 1 + 2 * bands)
    h = lib.sin(freq * (z @ w1 + b1))
    h = h @ w2  # (1, L, D)
    h = h * lib.exp(-t * deltas.abs())
    k = h[0].transpose(0, 1)  # (D, L)
    fft_size = 2 * seqlen
    k_f = lib.fft.rfft(k, n=fft_size) / fft_size
    u_f = lib.fft.rfft(u.to(dtype=k.dtype), n=fft_size)
    y = lib.fft.irfft(u_f * k_f, n=fft_size, norm="forward")[..., :seqlen]
    return (y + u * dvec.unsqueeze(-1)).to(dtype=u.dtype)


def _hyena_arrays():
    rng = np.random.default_rng(3)
    d, order, length = 3, 4, 7
    return [
        rng.standard_normal((2, d, length)),  # u
        rng.standard_normal((5, order)) * 0.5,  # w1
        rng.standard_normal(order) * 0.1,  # b1
        np.ones((1, order)),  # freq (Sin's trainable frequency)
        rng.standard_normal((order, d)) * 0.5,  # w2
        np.linspace(-15.0, -3.0, d)[None, None],  # deltas
        rng.standard_normal(d),  # D
    ]


def _run(lib, fn, arrays, weight_seed):
    ts = [lib.tensor(a, requires_grad=True) for a in arrays]
    y = fn(lib, *ts)
    wts = np.random.default_rng(weight_seed).standard_normal(tuple(y.shape))
    (y * lib.tensor(wts)).sum().backward()
    return y.detach().numpy(), [t.grad.numpy() for t in ts]


def test_hyena_filter_and_fftconv_match_torch(torch):
    arrays = _hyena_arrays()
    y_t, g_t = _run(torch, _hyena, arrays, 0)
    y_g, g_g = _run(glassgrad, _hyena, arrays, 0)
    assert y_g.dtype == y_t.dtype == np.float64
    np.testing.assert_allclose(y_g, y_t, rtol=1e-12, atol=1e-13)
    for a, b in zip(g_g, g_t):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)


def test_hyena_fftconv_is_causal():
    """The operator's own check: an output at position 4 has no gradient from later inputs."""
    arrays = _hyena_arrays()
    ts = [glassgrad.tensor(a, requires_grad=True) for a in arrays]
    y = _hyena(glassgrad, *ts)
    y[:, :, 4].sum().backward()
    g = ts[0].grad.numpy()
    assert np.abs(g[:, :, 5:]).max() < 1e-15
    assert np.abs(g[:, :, :5]).max() > 1e-3


def _xpos(lib, x, offset=0, downscale=False, scale_base=512):
    """xpos_relative_position.XPOS.forward with fixed_pos_embedding and apply_rotary_pos_emb."""
    head_dim = x.shape[-1]
    scale0 = (lib.arange(0, head_dim, 2) + 0.4 * head_dim) / (1.4 * head_dim)
    length = x.shape[1]
    scale = scale0 ** lib.arange(0, length + offset, 1).to(scale0).div(scale_base)[:, None]
    seq_len, dim = scale.shape
    inv_freq = 1.0 / (10000 ** (lib.arange(0, dim) / dim))
    sinusoid = lib.einsum("i , j -> i j", lib.arange(0, seq_len, dtype=lib.float), inv_freq).to(scale)
    sin, cos = lib.sin(sinusoid), lib.cos(sinusoid)
    if scale.shape[0] > length:
        scale, sin, cos = scale[-length:], sin[-length:], cos[-length:]
    if downscale:
        scale = 1 / scale

    def interleave(m):
        return m.view(-1, 1).repeat(1, 2).view(m.shape[0], -1)

    sin, cos = interleave(sin * scale), interleave(cos * scale)
    rot = lib.stack((-x[:, :, 1::2], x[:, :, ::2]), dim=-1).flatten(-2)
    return (x * cos[:, : x.shape[-1]]) + (rot * sin)[:, :, : x.shape[-1]]


def _decay(lib, n_len, gamma):
    n = lib.arange(n_len).unsqueeze(1)
    m = lib.arange(n_len).unsqueeze(0)
    d = (gamma ** (n - m)) * (n >= m).float()
    d[d != d] = 0
    return d


def _retention_forms(lib, x, wq, wk, wv, gamma=0.9, chunk=3):
    """SimpleRetention's parallel, recurrent and chunkwise forms on x (B, L, H)."""
    batch, length, _ = x.shape
    q, k = _xpos(lib, x @ wq), _xpos(lib, x @ wk, downscale=True)
    parallel = ((q @ k.permute(0, 2, 1)) * _decay(lib, length, gamma).unsqueeze(0)) @ (x @ wv)
    s = lib.zeros(wq.shape[1], wv.shape[1], dtype=x.dtype).unsqueeze(0).repeat(batch, 1, 1)
    recurrent = []
    for i in range(length):
        xn = x[:, i : i + 1, :]
        qn, kn = _xpos(lib, xn @ wq, i + 1), _xpos(lib, xn @ wk, i + 1, downscale=True)
        s = gamma * s + (kn.transpose(-1, -2) @ (xn @ wv))
        recurrent.append(qn @ s)
    r = lib.zeros(wq.shape[1], wv.shape[1], dtype=x.dtype).unsqueeze(0).repeat(batch, 1, 1)
    chunks = []
    dmat = _decay(lib, chunk, gamma)
    for i in range(length // chunk):
        xi = x[:, i * chunk : (i + 1) * chunk]
        qi, ki = _xpos(lib, xi @ wq, i * chunk), _xpos(lib, xi @ wk, i * chunk, downscale=True)
        vi = xi @ wv
        e = lib.zeros(batch, chunk, 1, dtype=x.dtype)
        for j in range(chunk):
            e[:, j, :] = gamma ** (j + 1)
        chunks.append(((qi @ ki.transpose(-1, -2)) * dmat.unsqueeze(0)) @ vi + (qi @ r) * e)
        r = (ki.transpose(-1, -2) @ (vi * dmat[-1].view(1, chunk, 1))) + (gamma**chunk) * r
    return parallel, lib.concat(recurrent, dim=1), lib.concat(chunks, dim=1)


def _retention_arrays():
    rng = np.random.default_rng(5)
    return [rng.random((2, 6, 4)), rng.standard_normal((4, 4)) / 4, rng.standard_normal((4, 4)) / 4,
            rng.standard_normal((4, 8)) / 4]  # fmt: skip


def test_retention_three_forms_match_torch_and_each_other(torch):
    """Under set_default_dtype(float64), as the float64 run of the program: xpos's aranges and
    the decay matrix are then float64 too."""
    arrays = _retention_arrays()
    outs = {}
    for lib in (torch, glassgrad):
        before = lib.get_default_dtype()
        lib.set_default_dtype(lib.float64)
        try:
            ts = [lib.tensor(a, requires_grad=True) for a in arrays]
            forms = _retention_forms(lib, *ts)
        finally:
            lib.set_default_dtype(before)
        wts = lib.tensor(np.random.default_rng(1).standard_normal((2, 6, 8)))
        grads = []
        for y in forms:
            grads.append([g.numpy() for g in lib.autograd.grad((y * wts).sum(), ts)])
        outs[lib.__name__] = ([y.detach().numpy() for y in forms], grads)
    (y_t, g_t), (y_g, g_g) = outs["torch"], outs["glassgrad"]
    for a, b in zip(y_g, y_t):
        assert a.dtype == b.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(y_g[1], y_g[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(y_g[2], y_g[0], rtol=1e-12, atol=1e-14)
    for form_g, form_t in zip(g_g, g_t):
        for a, b in zip(form_g, form_t):
            np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)


def test_retention_decay_dtype_matches_torch(torch):
    """gamma ** (int tensor) is the default float dtype; the bool mask's .float() is float32
    (PyTorch's float32 power may be an ulp from the correctly rounded one)."""
    d_t, d_g = _decay(torch, 5, 0.9), _decay(glassgrad, 5, 0.9)
    assert str(d_g.dtype).split(".")[-1] == str(d_t.dtype).split(".")[-1] == "float32"
    np.testing.assert_allclose(d_g.numpy(), d_t.numpy(), rtol=2.5e-7, atol=0)
    np.testing.assert_allclose(
        d_g.numpy(), np.tril(0.9 ** np.subtract.outer(np.arange(5), np.arange(5)).clip(0)), rtol=2.5e-7
    )
