"""Round 55, VITS and Glow-TTS (jaywalnut310/vits, jaywalnut310/glow-tts).

Both programs ran after the import change with no glassgrad defect found; these tests keep the
patterns they lean on equal to PyTorch 2.13 in float64 (values and gradients): the pad-and-view
trick of windowed relative-position attention, the alignment path built from cumulative
durations, masked writes of a bin-searched spline, the 1x1 ``conv2d`` invertible convolution with
its ``logdet``, ``stft`` in both output layouts, and ``weight_norm``/``spectral_norm`` layers
trained a few steps.
"""

from __future__ import annotations

import numpy as np

import glassgrad

RS = np.random.RandomState(55)


def _run_both(torch, fn, *arrays):
    """``fn(lib, *leaves)`` in both libraries; returns (outputs, gradients) pairs as NumPy."""
    res = []
    for lib in (torch, glassgrad):
        leaves = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
        outs = fn(lib, *leaves)
        outs = outs if isinstance(outs, tuple) else (outs,)
        total = sum((o.double() * (i + 1.5)).sum() for i, o in enumerate(outs))
        total.backward()
        res.append(
            (
                [o.detach().numpy() for o in outs],
                [x.grad.numpy() if x.grad is not None else None for x in leaves],
            )
        )
    return res


def _check(res, atol=1e-12):
    (to, tg), (go, gg) = res
    for a, b in zip(to, go):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=atol)
    for a, b in zip(tg, gg):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=atol)


def _rel_to_abs(lib, x):
    """[b, h, l, 2l-1] relative logits -> [b, h, l, l] by padding and reshaping."""
    F = lib.nn.functional
    b, h, length, _ = x.size()
    x = F.pad(x, [0, 1, 0, 0, 0, 0, 0, 0])
    x_flat = x.view([b, h, length * 2 * length])
    x_flat = F.pad(x_flat, [0, length - 1, 0, 0, 0, 0])
    return x_flat.view([b, h, length + 1, 2 * length - 1])[:, :, :length, length - 1 :]


def _abs_to_rel(lib, x):
    F = lib.nn.functional
    b, h, length, _ = x.size()
    x = F.pad(x, [0, length - 1, 0, 0, 0, 0, 0, 0])
    x_flat = x.view([b, h, length**2 + length * (length - 1)])
    x_flat = F.pad(x_flat, [length, 0, 0, 0, 0, 0])
    return x_flat.view([b, h, length, 2 * length])[:, :, :, 1:]


def test_windowed_relative_attention_matches_torch(torch):
    q, k, v = (RS.randn(2, 2, 6, 4) for _ in range(3))
    emb_k, emb_v = RS.randn(1, 2 * 2 + 1, 4), RS.randn(1, 2 * 2 + 1, 4)
    mask = np.ones((2, 1, 6, 6))
    mask[1, :, 4:, :] = 0
    mask[1, :, :, 4:] = 0

    def fn(lib, q, k, v, ek, ev):
        F = lib.nn.functional
        length, window = 6, 2
        pad = max(length - (window + 1), 0)
        start = max(window + 1 - length, 0)
        ek = F.pad(ek, [0, 0, pad, pad, 0, 0])[:, start : start + 2 * length - 1]
        ev = F.pad(ev, [0, 0, pad, pad, 0, 0])[:, start : start + 2 * length - 1]
        scores = lib.matmul(q / 2.0, k.transpose(-2, -1))
        scores = scores + _rel_to_abs(lib, lib.matmul(q / 2.0, ek.unsqueeze(0).transpose(-2, -1)))
        scores = scores.masked_fill(lib.tensor(mask) == 0, -1e4)
        p = F.softmax(scores, dim=-1)
        out = lib.matmul(p, v) + lib.matmul(_abs_to_rel(lib, p), ev.unsqueeze(0))
        return out, p

    _check(_run_both(torch, fn, q, k, v, emb_k, emb_v))


def test_duration_path_and_expanded_prior_match_torch(torch):
    dur = np.array([[[1.0, 3.0, 0.0, 2.0]], [[2.0, 2.0, 1.0, 0.0]]])
    m_p = RS.randn(2, 3, 4)

    def fn(lib, d, m):
        F = lib.nn.functional
        w_ceil = lib.ceil(d)
        t_y = int(lib.clamp_min(lib.sum(w_ceil, [1, 2]), 1).long().max())
        cum = lib.cumsum(w_ceil, -1).view(2 * 4)
        path = (lib.arange(t_y, dtype=cum.dtype).unsqueeze(0) < cum.unsqueeze(1)).to(m.dtype)
        path = path.view(2, 4, t_y)
        path = path - F.pad(path, [0, 0, 1, 0, 0, 0])[:, :-1]
        path = path.unsqueeze(1).transpose(2, 3)
        expanded = lib.matmul(path.squeeze(1), m.transpose(1, 2)).transpose(1, 2)
        return path, expanded, lib.log(1e-6 + path.sum(2)) * d

    _check(_run_both(torch, fn, dur, m_p))


def test_bin_search_masked_spline_writes_match_torch(torch):
    x = RS.randn(3, 7) * 2
    w = RS.randn(3, 7, 5)

    def fn(lib, x, w):
        F = lib.nn.functional
        inside = (x >= -2.5) & (x <= 2.5)
        out = lib.zeros_like(x)
        logdet = lib.zeros_like(x)
        out[~inside] = x[~inside]
        widths = F.softmax(w[inside], dim=-1)
        edges = F.pad(lib.cumsum(widths, dim=-1), pad=(1, 0), mode="constant", value=0.0)
        edges = 5 * edges - 2.5
        edges[..., -1] += 1e-6
        xs = x[inside]
        idx = lib.sum(xs[..., None] >= edges, dim=-1) - 1
        left = edges.gather(-1, idx[..., None])[..., 0]
        width = widths.gather(-1, idx[..., None])[..., 0]
        theta = (xs - left) / (5 * width)
        out[inside] = left + theta * theta * 5 * width
        logdet[inside] = lib.log(2 * theta + 1e-3)
        return out, logdet

    _check(_run_both(torch, fn, x, w))


def test_invertible_1x1_conv2d_and_logdet_match_torch(torch):
    x = RS.randn(2, 8, 5)
    wq = np.linalg.qr(RS.randn(4, 4))[0]
    x_len = np.array([5.0, 3.0])

    def fn(lib, x, weight):
        b, c, t = x.size()
        xs = x.view(b, 2, c // 4, 2, t).permute(0, 1, 3, 2, 4).contiguous().view(b, 4, c // 4, t)
        z = lib.nn.functional.conv2d(xs, weight.view(4, 4, 1, 1))
        z = z.view(b, 2, 2, c // 4, t).permute(0, 1, 3, 2, 4).contiguous().view(b, c, t)
        logdet = lib.logdet(weight) * (c / 4) * lib.tensor(x_len)
        back = lib.nn.functional.conv2d(z.view(b, 4, c // 4, t), lib.inverse(weight).view(4, 4, 1, 1))
        return z, logdet, back

    _check(_run_both(torch, fn, x, wq))


def test_stft_both_layouts_with_reflect_pad_match_torch(torch):
    wav = RS.rand(2, 120) * 1.8 - 0.9

    def fn(lib, y):
        win = lib.hann_window(16, dtype=lib.float64)
        yp = lib.nn.functional.pad(y.unsqueeze(1), (4, 4), mode="reflect").squeeze(1)
        spec = lib.stft(yp, 16, 4, 16, window=win, center=False, onesided=True, return_complex=True)
        mag = lib.sqrt(lib.view_as_real(spec).pow(2).sum(-1) + 1e-6)
        old = lib.stft(yp, 16, 4, 16, window=win, center=False, return_complex=False)
        return mag, old, lib.angle(spec)

    _check(_run_both(torch, fn, wav))


def test_weight_norm_and_spectral_norm_discriminator_steps_match_torch(torch):
    x = RS.randn(2, 1, 30)
    models = []
    for lib in (torch, glassgrad):
        utils = lib.nn.utils
        models.append(
            lib.nn.Sequential(
                utils.weight_norm(lib.nn.Conv1d(1, 4, 5, 2, padding=2)),
                lib.nn.LeakyReLU(0.1),
                utils.spectral_norm(lib.nn.Conv1d(4, 4, 3, 1, padding=1, groups=2)),
                lib.nn.AvgPool1d(4, 2, padding=2),
            ).double()
        )
    tm, gm = models
    gm.load_state_dict({k: glassgrad.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    opts = [torch.optim.AdamW(tm.parameters(), 1e-2), glassgrad.optim.AdamW(gm.parameters(), 1e-2)]
    for _ in range(3):
        for lib, m, opt in zip((torch, glassgrad), models, opts):
            out = m(lib.tensor(x))
            loss = lib.mean((1 - out) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
    tsd, gsd = tm.state_dict(), gm.state_dict()
    assert list(tsd) == list(gsd)
    for key in tsd:
        np.testing.assert_allclose(gsd[key].numpy(), tsd[key].numpy(), rtol=1e-10, atol=1e-12)
