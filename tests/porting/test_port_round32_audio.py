"""Round 32, audio group: HiFi-GAN (jik876/hifi-gan) and Conformer (sooftware/conformer).

HiFi-GAN's train.py logs the ground-truth and generated clips with ``SummaryWriter.add_audio``
(it raised NotImplementedError); the rest is distilled from its generator, discriminators and
mel-spectrogram loss, checked against PyTorch from the same weights.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.utils.tensorboard import SummaryWriter, summary


def _read_audio(logdir, tag):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    ea = EventAccumulator(str(logdir), size_guidance={"audio": 0})
    ea.Reload()
    return ea.Audio(tag)


def test_add_audio_writes_pytorchs_wav(torch, tmp_path):
    pytest.importorskip("tensorboard")
    # train.py: sw.add_audio('gt/y_0', y[0], steps, h.sampling_rate) with y[0] of shape (1, L)
    rng = np.random.default_rng(0)
    clip = (0.9 * np.sin(np.linspace(0, 60, 500)) + 0.01 * rng.standard_normal(500)).astype(np.float32)
    with SummaryWriter(str(tmp_path / "gg")) as w:
        w.add_audio("gt/y_0", gg.tensor(clip[None]), 3, 22050)
        w.add_audio("flat", clip, global_step=4)  # (L,) works too; PyTorch's 44100 Hz default
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    with TorchWriter(str(tmp_path / "pt")) as w:
        w.add_audio("gt/y_0", torch.tensor(clip[None]), 3, 22050)
        w.add_audio("flat", clip, global_step=4)
    for tag, rate in (("gt/y_0", 22050), ("flat", 44100)):
        (ours,), (theirs,) = _read_audio(tmp_path / "gg", tag), _read_audio(tmp_path / "pt", tag)
        assert ours.encoded_audio_string == theirs.encoded_audio_string
        assert (ours.step, ours.sample_rate, ours.length_frames) == (theirs.step, rate, 500)
        assert ours.content_type == theirs.content_type == "audio/wav"


def test_audio_summary_clips_loud_samples_and_prints(torch, capsys):
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import summary as torch_summary

    loud = np.array([-1.7, -1.0, -0.3, 0.0, 0.49999, 1.0, 2.5], dtype=np.float64)
    ours = summary.audio("a", gg.tensor(loud), sample_rate=16000).value[0].audio
    said = capsys.readouterr().out
    theirs = torch_summary.audio("a", torch.tensor(loud), sample_rate=16000).value[0].audio
    assert ours.encoded_audio_string == theirs.encoded_audio_string
    assert said.startswith("warning: audio amplitude") and capsys.readouterr().out.startswith("warning")
    summary.audio("quiet", loud / 3)
    assert capsys.readouterr().out == ""


def test_add_audio_refuses_two_channels(tmp_path):
    with SummaryWriter(str(tmp_path)) as w, pytest.raises(ValueError, match=r"add_audio.*\(2, 8\)"):
        w.add_audio("stereo", np.zeros((2, 8)))


def test_hifigan_mel_loss_through_weight_and_spectral_norm(torch):
    # Generator piece (weight-normed ConvTranspose1d), a spectral-normed discriminator conv, the
    # reflect-padded STFT magnitude through a mel matrix and log: outputs and gradients as PyTorch.
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 8, 6))
    mel = np.abs(rng.standard_normal((5, 33)))
    outs, start = {}, {}
    for lib, nn in ((torch, torch.nn), (gg, gg.nn)):
        lib.manual_seed(0)
        up = nn.utils.weight_norm(nn.ConvTranspose1d(8, 1, 16, 8, padding=4)).double()
        disc = nn.utils.spectral_norm(nn.Conv1d(1, 4, 15, 2, groups=1, padding=7)).double()
        for name, mod in (("up", up), ("disc", disc)):
            if lib is torch:  # copied before the forward pass moves the power iteration's u and v
                start[name] = {k: v.detach().numpy().copy() for k, v in mod.state_dict().items()}
            else:
                mod.load_state_dict({k: gg.tensor(v) for k, v in start[name].items()})
        xin = lib.tensor(x)
        y = lib.tanh(up(xin)).squeeze(1)  # (2, 48)
        yp = lib.nn.functional.pad(y.unsqueeze(1), (24, 24), mode="reflect").squeeze(1)
        spec = lib.stft(
            yp,
            64,
            hop_length=16,
            window=lib.hann_window(64, dtype=lib.float64),
            center=False,
            return_complex=True,
        )
        loss_mel = lib.log(lib.clamp(lib.matmul(lib.tensor(mel), spec.abs()), min=1e-5)).mean()
        d = lib.nn.functional.leaky_relu(disc(y.unsqueeze(1)), 0.1)
        loss = loss_mel + lib.mean((1 - d) ** 2)
        loss.backward()
        grads = [p.grad.numpy() for p in (*up.parameters(), *disc.parameters())]
        outs[lib.__name__] = (loss.item(), spec.abs().detach().numpy(), grads, disc.weight_u.numpy())
    (l1, s1, g1, u1), (l2, s2, g2, u2) = outs["torch"], outs["glassgrad"]
    assert abs(l1 - l2) < 1e-12 and np.allclose(s1, s2, rtol=1e-12, atol=1e-14)
    for a, b in zip(g1, g2, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(u2, u1, rtol=1e-12)
    assert F.leaky_relu is gg.nn.functional.leaky_relu
