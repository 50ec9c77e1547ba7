"""What round 28's speech programs needed, distilled: NVIDIA/tacotron2 (packed bidirectional
encoder LSTM, LSTMCell attention steps whose energies are masked through ``.data`` before the
softmax, the location conv, Adam with gradient clipping) and descriptinc/melgan-neurips
(``weight_norm`` convs, ``ReflectionPad1d``, strided ``ConvTranspose1d`` upsampling, grouped convs,
``AvgPool1d(count_include_pad=False)``, ``stft(return_complex=False)``). Each is run against
PyTorch in float64 from the same weights and inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad


def _same(a, b, tol=1e-11):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def test_weight_norm_warns_future_warning_like_torch(torch):
    for lib in (torch, glassgrad):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m = lib.nn.utils.weight_norm(lib.nn.Conv1d(2, 3, 3))
        future = [w for w in caught if issubclass(w.category, FutureWarning)]
        assert len(future) == 1, (lib.__name__, [str(w.message) for w in caught])
        assert str(future[0].message).startswith("`torch.nn.utils.weight_norm` is deprecated")
        assert future[0].filename.endswith("weight_norm.py")  # both point at weight_norm's call
        assert sorted(n for n, _ in m.named_parameters()) == ["bias", "weight_g", "weight_v"]


def _tacotron_step(lib, weights, x, lengths, mask):
    """Encoder BiLSTM over a packed batch, then two attention steps (LSTMCell, location conv,
    energies masked through .data, softmax, bmm), returning outputs and the loss."""
    lstm = lib.nn.LSTM(4, 3, 1, batch_first=True, bidirectional=True).double()
    cell = lib.nn.LSTMCell(6 + 2, 5).double()
    conv = lib.nn.Conv1d(2, 3, 3, padding=1, bias=False).double()
    q = lib.nn.Linear(5, 6, bias=False).double()
    v = lib.nn.Linear(6, 1, bias=False).double()
    mods = {"lstm": lstm, "cell": cell, "conv": conv, "q": q, "v": v}
    for name, m in mods.items():
        m.load_state_dict({k: lib.tensor(weights[name + "." + k]) for k in m.state_dict()})
    xs = lib.tensor(x)
    packed = lib.nn.utils.rnn.pack_padded_sequence(xs, lengths, batch_first=True)
    out, _ = lstm(packed)
    memory, _ = lib.nn.utils.rnn.pad_packed_sequence(out, batch_first=True)  # (B, T, 6)
    B, T = memory.shape[0], memory.shape[1]
    h = memory.data.new(B, 5).zero_()
    c = memory.data.new(B, 5).zero_()
    w = memory.data.new(B, T).zero_()
    wcum = memory.data.new(B, T).zero_()
    ctx = memory.data.new(B, 6).zero_()
    keep = []
    for step in range(2):
        h, c = cell(lib.cat((lib.full((B, 2), 0.1 * step, dtype=lib.float64), ctx), -1), (h, c))
        loc = conv(lib.cat((w.unsqueeze(1), wcum.unsqueeze(1)), dim=1)).transpose(1, 2)  # (B, T, 3)
        e = v(lib.tanh(q(h).unsqueeze(1) + memory + loc.sum(-1, keepdim=True))).squeeze(-1)
        e.data.masked_fill_(lib.tensor(mask), -float("inf"))
        w = lib.nn.functional.softmax(e, dim=1)
        wcum += w
        ctx = lib.bmm(w.unsqueeze(1), memory).squeeze(1)
        keep.append(ctx)
    loss = lib.stack(keep).pow(2).sum() + wcum.pow(3).sum()
    loss.backward()
    grads = {n + "." + k: p.grad.numpy() for n, m in mods.items() for k, p in m.named_parameters()}
    return memory.detach().numpy(), lib.stack(keep).detach().numpy(), loss.item(), grads


def test_tacotron_packed_encoder_and_masked_attention_match_torch(torch):
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    ref = {
        "lstm": torch.nn.LSTM(4, 3, 1, batch_first=True, bidirectional=True),
        "cell": torch.nn.LSTMCell(8, 5),
        "conv": torch.nn.Conv1d(2, 3, 3, padding=1, bias=False),
        "q": torch.nn.Linear(5, 6, bias=False),
        "v": torch.nn.Linear(6, 1, bias=False),
    }
    weights = {n + "." + k: t.double().numpy() for n, m in ref.items() for k, t in m.state_dict().items()}
    lengths = np.array([5, 3, 2])
    x = rng.standard_normal((3, 5, 4))
    mask = np.arange(5)[None] >= lengths[:, None]
    got = _tacotron_step(glassgrad, weights, x, lengths, mask)
    want = _tacotron_step(torch, weights, x, lengths, mask)
    for a, b in zip(got[:3], want[:3]):
        _same(a, b)
    assert got[3].keys() == want[3].keys()
    for k in want[3]:
        _same(got[3][k], want[3][k])


def _melgan_step(lib, weights, audio):
    """A weight-normed generator block and a discriminator block, one Adam step on each loss."""
    wn = lib.nn.utils.weight_norm
    g = lib.nn.Sequential(
        lib.nn.ReflectionPad1d(3),
        wn(lib.nn.Conv1d(3, 4, 7)),
        lib.nn.LeakyReLU(0.2),
        wn(lib.nn.ConvTranspose1d(4, 2, kernel_size=4, stride=2, padding=1, output_padding=0)),
        lib.nn.LeakyReLU(0.2),
        lib.nn.ReflectionPad1d(1),
        wn(lib.nn.Conv1d(2, 1, 3)),
        lib.nn.Tanh(),
    ).double()
    d = lib.nn.Sequential(
        lib.nn.ReflectionPad1d(7),
        wn(lib.nn.Conv1d(1, 4, 15)),
        lib.nn.LeakyReLU(0.2, True),
        wn(lib.nn.Conv1d(4, 4, 11, stride=1, padding=5, groups=2)),
        lib.nn.LeakyReLU(0.2, True),
        wn(lib.nn.Conv1d(4, 1, 3, padding=1)),
    ).double()
    pool = lib.nn.AvgPool1d(4, stride=2, padding=1, count_include_pad=False)
    g.load_state_dict({k: lib.tensor(weights["g." + k]) for k in g.state_dict()})
    d.load_state_dict({k: lib.tensor(weights["d." + k]) for k in d.state_dict()})
    opt_g = lib.optim.Adam(g.parameters(), lr=1e-2, betas=(0.5, 0.9))
    opt_d = lib.optim.Adam(d.parameters(), lr=1e-2, betas=(0.5, 0.9))
    x = lib.tensor(audio)
    window = lib.hann_window(16, dtype=lib.float64)
    spec = lib.stft(x.squeeze(1), n_fft=16, hop_length=4, window=window, center=False, return_complex=False)
    re, im = spec.unbind(-1)
    s = lib.log10(lib.clamp(lib.sqrt(re**2 + im**2)[:, :3], min=1e-5))  # (B, 3, frames)
    fake = g(s)
    loss_d = (
        lib.nn.functional.relu(1 + d(fake.detach())).mean()
        + lib.nn.functional.relu(1 - d(pool(x[:, :, : fake.shape[-1]]))).mean()
    )
    d.zero_grad()
    loss_d.backward()
    opt_d.step()
    loss_g = -d(fake).mean()
    g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return [s.numpy(), fake.detach().numpy(), loss_d.item(), loss_g.item()] + [
        t.detach().numpy() for t in list(g.state_dict().values()) + list(d.state_dict().values())
    ]


def test_melgan_weight_norm_blocks_train_like_torch(torch):
    torch.manual_seed(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        rg = torch.nn.Sequential(
            torch.nn.ReflectionPad1d(3),
            torch.nn.utils.weight_norm(torch.nn.Conv1d(3, 4, 7)),
            torch.nn.LeakyReLU(0.2),
            torch.nn.utils.weight_norm(torch.nn.ConvTranspose1d(4, 2, 4, 2, 1)),
            torch.nn.LeakyReLU(0.2),
            torch.nn.ReflectionPad1d(1),
            torch.nn.utils.weight_norm(torch.nn.Conv1d(2, 1, 3)),
            torch.nn.Tanh(),
        )
        rd = torch.nn.Sequential(
            torch.nn.ReflectionPad1d(7),
            torch.nn.utils.weight_norm(torch.nn.Conv1d(1, 4, 15)),
            torch.nn.LeakyReLU(0.2, True),
            torch.nn.utils.weight_norm(torch.nn.Conv1d(4, 4, 11, padding=5, groups=2)),
            torch.nn.LeakyReLU(0.2, True),
            torch.nn.utils.weight_norm(torch.nn.Conv1d(4, 1, 3, padding=1)),
        )
        weights = {"g." + k: v.double().numpy() for k, v in rg.state_dict().items()}
        weights.update({"d." + k: v.double().numpy() for k, v in rd.state_dict().items()})
        audio = np.random.default_rng(2).uniform(-0.5, 0.5, (2, 1, 64))
        got = _melgan_step(glassgrad, weights, audio)
        want = _melgan_step(torch, weights, audio)
    assert len(got) == len(want)
    for a, b in zip(got[:2], want[:2]):  # the spectrogram and the generator's output
        _same(a, b)
    # after Adam's first step a near-zero gradient moves its parameter by ~lr either way, so the
    # losses and parameters that follow are compared at float64 rounding amplified by that
    for a, b in zip(got[2:], want[2:]):
        _same(a, b, tol=1e-7)


def _postnet_masked_loss(lib, weights, mel, target, gate_target, lengths):
    """Tacotron2.parse_output: outputs masked through ``.data`` after the postnet conv read them,
    then Tacotron2Loss (two MSELoss and a BCEWithLogitsLoss) and a clipped Adam step."""
    proj = lib.nn.Linear(4, 4).double()
    conv = lib.nn.Conv1d(4, 4, 5, padding=2).double()
    gate = lib.nn.Linear(4, 1).double()
    for name, m in (("proj", proj), ("conv", conv), ("gate", gate)):
        m.load_state_dict({k: lib.tensor(weights[name + "." + k]) for k in m.state_dict()})
    params = [*proj.parameters(), *conv.parameters(), *gate.parameters()]
    opt = lib.optim.Adam(params, lr=1e-3, weight_decay=1e-6)
    mel_out = proj(lib.tensor(mel)).transpose(1, 2)  # (B, 4, T)
    gate_out = gate(lib.tensor(mel)).squeeze(-1)  # (B, T)
    post = mel_out + lib.tanh(conv(mel_out))
    mask = ~(lib.arange(0, mel.shape[1]) < lib.tensor(lengths).unsqueeze(1))
    mask3 = mask.expand(4, mask.size(0), mask.size(1)).permute(1, 0, 2)
    mel_out.data.masked_fill_(mask3, 0.0)
    post.data.masked_fill_(mask3, 0.0)
    gate_out.data.masked_fill_(mask, 1e3)
    tgt = lib.tensor(target)
    loss = (
        lib.nn.MSELoss()(mel_out, tgt)
        + lib.nn.MSELoss()(post, tgt)
        + lib.nn.BCEWithLogitsLoss()(gate_out.view(-1, 1), lib.tensor(gate_target).view(-1, 1))
    )
    loss.backward()
    norm = lib.nn.utils.clip_grad_norm_(params, 1.0)
    grads = [p.grad.numpy().copy() for p in params]
    opt.step()
    return [loss.item(), float(norm), *grads, *[p.detach().numpy() for p in params]]


def test_tacotron_outputs_masked_through_data_train_like_torch(torch):
    torch.manual_seed(2)
    ref = {
        "proj": torch.nn.Linear(4, 4),
        "conv": torch.nn.Conv1d(4, 4, 5, padding=2),
        "gate": torch.nn.Linear(4, 1),
    }
    weights = {n + "." + k: t.double().numpy() for n, m in ref.items() for k, t in m.state_dict().items()}
    rng = np.random.default_rng(4)
    lengths = np.array([6, 4])
    mel, target = rng.standard_normal((2, 6, 4)), rng.standard_normal((2, 4, 6))
    gate_target = (np.arange(6)[None] >= lengths[:, None] - 1).astype(np.float64)
    got = _postnet_masked_loss(glassgrad, weights, mel, target, gate_target, lengths)
    want = _postnet_masked_loss(torch, weights, mel, target, gate_target, lengths)
    for a, b in zip(got, want):
        _same(a, b)


def test_melgan_audio2mel_stft_without_return_complex_is_refused_in_both(torch):
    """mel2wav's Audio2Mel calls stft(...) with no return_complex: both refuse a real input; ours
    names the op, the input and the two choices."""
    for lib in (torch, glassgrad):
        x = lib.zeros(2, 64)
        with pytest.raises(RuntimeError, match="return_complex") as err:
            lib.stft(x, n_fft=16, hop_length=4, window=lib.hann_window(16), center=False)
    assert "stft" in str(err.value) and "(2, 64)" in str(err.value) and "float32" in str(err.value)
