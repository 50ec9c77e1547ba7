"""Round 33, speech2 (ming024/FastSpeech2, facebookresearch/demucs): distilled repros.

Demucs's HTDemucs subclasses ``nn.TransformerEncoderLayer`` and overrides ``forward``, calling
``self._sa_block(x, mask, key_padding_mask)`` with three arguments: PyTorch's block gives
``is_causal`` a default of False, glassgrad's required it (TypeError). The other tests pin what the
two programs lean on, against PyTorch: FastSpeech2's length regulator (``expand`` of a row to a
repeat count, zero included, ``cat``, ``F.pad``), bucketized pitch embeddings and masked losses;
Demucs's ``as_strided`` framing and its normalized ``stft``/``istft`` helpers."""

from __future__ import annotations

import numpy as np

import glassgrad as gg


def _copy_weights(ours, theirs):
    ours.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})


def _encoder_subclass(mod):
    class Layer(mod.nn.TransformerEncoderLayer):
        # the Demucs pattern: own forward, PyTorch's private blocks with three arguments
        def forward(self, src, src_mask=None, src_key_padding_mask=None):
            x = src + self._sa_block(self.norm1(src), src_mask, src_key_padding_mask)
            return x + self._ff_block(self.norm2(x))

    return Layer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=True, dtype=mod.float64)


def test_encoder_layer_sa_block_three_arguments_as_torch(torch):
    torch.manual_seed(0)
    theirs = _encoder_subclass(torch)
    ours = _encoder_subclass(gg)
    _copy_weights(ours, theirs)
    x = np.random.RandomState(0).randn(2, 5, 8)
    pad = np.array([[False] * 5, [False, False, False, True, True]])
    xt = torch.tensor(x, requires_grad=True)
    xg = gg.tensor(x, requires_grad=True)
    yt = theirs(xt, None, torch.tensor(pad))
    yg = ours(xg, None, gg.tensor(pad))
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    (yt**2).sum().backward()
    (yg**2).sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    gt = theirs.self_attn.in_proj_weight.grad.numpy()
    np.testing.assert_allclose(ours.self_attn.in_proj_weight.grad.numpy(), gt, rtol=1e-10, atol=1e-12)


def test_decoder_layer_blocks_without_is_causal_as_torch(torch):
    def build(mod):
        class Layer(mod.nn.TransformerDecoderLayer):
            def forward(self, tgt, memory):
                x = tgt + self._sa_block(self.norm1(tgt), None, None)
                x = x + self._mha_block(self.norm2(x), memory, None, None)
                return x + self._ff_block(self.norm3(x))

        return Layer(8, 2, 16, dropout=0.0, batch_first=True, dtype=mod.float64)

    torch.manual_seed(1)
    theirs, ours = build(torch), build(gg)
    _copy_weights(ours, theirs)
    rng = np.random.RandomState(1)
    t, m = rng.randn(2, 3, 8), rng.randn(2, 4, 8)
    yt = theirs(torch.tensor(t), torch.tensor(m))
    yg = ours(gg.tensor(t), gg.tensor(m))
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)


def _length_regulate(mod, x, durations, max_len):
    """FastSpeech2's LengthRegulator + utils.tools.pad, as the program writes them."""
    rows = []
    for batch, target in zip(x, durations):
        parts = [vec.expand(max(int(target[i].item()), 0), -1) for i, vec in enumerate(batch)]
        rows.append(mod.cat(parts, 0))
    padded = [mod.nn.functional.pad(r, (0, 0, 0, max_len - r.size(0)), "constant", 0.0) for r in rows]
    return mod.stack(padded), mod.LongTensor([r.shape[0] for r in rows])


def test_fastspeech2_length_regulator_bucketize_and_masked_loss(torch):
    rng = np.random.RandomState(2)
    x = rng.randn(2, 4, 3)
    dur = np.array([[2, 0, 1, 3], [1, 1, 0, 0]])
    pitch = np.array([[-2.5, 0.1, 0.5, 3.5], [0.0, 1.0, 1.0, -1.0]])
    results = {}
    for mod in (torch, gg):
        xt = mod.tensor(x, requires_grad=True)
        out, lens = _length_regulate(mod, xt, mod.tensor(dur), 7)
        bins = mod.nn.Parameter(mod.linspace(-2.0, 3.0, 5, dtype=mod.float64), requires_grad=False)
        idx = mod.bucketize(mod.tensor(pitch), bins)
        emb = mod.nn.Embedding(6, 3, dtype=mod.float64)
        with mod.no_grad():
            emb.weight.copy_(mod.tensor(np.arange(18.0).reshape(6, 3)))
        mask = ~(mod.arange(0, 7).unsqueeze(0).expand(2, -1) >= lens.unsqueeze(1).expand(-1, 7))
        loss = mod.nn.L1Loss()(
            out.masked_select(mask.unsqueeze(-1)), mod.zeros(int(mask.sum()) * 3, dtype=mod.float64)
        )
        loss = loss + emb(idx).sum() * 0.0
        loss.backward()
        results[mod.__name__] = (
            out.detach().numpy(),
            lens.numpy(),
            idx.numpy(),
            str(idx.dtype),
            xt.grad.numpy(),
            loss.item(),
        )
    ours, theirs = results["glassgrad"], results["torch"]
    for a, b in zip(ours, theirs):
        if isinstance(a, str):
            assert a.split(".")[-1] == b.split(".")[-1]
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_demucs_unfold_as_strided_and_normalized_stft_roundtrip(torch):
    rng = np.random.RandomState(3)
    sig = rng.randn(2, 2, 300)
    results = {}
    for mod in (torch, gg):
        a = mod.nn.functional.pad(mod.tensor(sig), (0, 100))
        strides = list(a.stride())[:-1] + [100, 1]
        frames = a.as_strided([2, 2, 3, 200], strides)  # utils.unfold, 3 frames
        x = mod.tensor(sig, requires_grad=True)
        flat = x.reshape(-1, 300)
        win = mod.hann_window(64, dtype=mod.float64)
        z = mod.stft(
            flat,
            64,
            16,
            window=win,
            win_length=64,
            normalized=True,
            center=True,
            return_complex=True,
            pad_mode="reflect",
        )
        m = mod.view_as_real(z).permute(0, 3, 1, 2)
        back = mod.view_as_complex(m.permute(0, 2, 3, 1).contiguous() * 2.0)
        y = mod.istft(back, 64, 16, window=win, win_length=64, normalized=True, length=300, center=True)
        (y.view(2, 2, 300) * mod.tensor(sig)).sum().backward()
        results[mod.__name__] = (frames.numpy(), m.detach().numpy(), y.detach().numpy(), x.grad.numpy())
    for a, b in zip(results["glassgrad"], results["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
