"""Round 31, audio (deepspeech.pytorch, r9y9/wavenet_vocoder): distilled repros.

wavenet_vocoder's `to_one_hot` builds its buffer as `torch.FloatTensor(tensor.size() + (n,))`:
PyTorch's `Size + tuple` is a `Size`, so that is a tensor of shape (*size, n). Here `Size + tuple`
was a plain tuple, so `FloatTensor` took it as data ([2., 3., n]) and the `scatter_` after it
failed. deepspeech.pytorch's samplers call `super().__init__(data_source=dataset)`, which
PyTorch (since 2.2) refuses with a TypeError; glassgrad's Sampler took it silently. The other tests pin what the two programs lean on: DeepSpeech's packed bidirectional LSTM
and CTC step, and WaveNet's weight-normed causal dilated conv with a gated unit, against PyTorch."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import glassgrad as gg


def test_size_arithmetic_gives_size_as_torch(torch):
    for mod in (gg, torch):
        s = mod.zeros(2, 3).size()
        cases = {
            "add": s + (4,),
            "radd": (1,) + s,
            "self": s + s,
            "empty": s + (),
            "mul": s * 2,
            "rmul": 2 * s,
            "zero": s * 0,
            "slice": s[1:],
            "tensor_item": s + (mod.tensor(5),),
        }
        for name, got in cases.items():
            assert type(got) is mod.Size, (mod.__name__, name)
    ours = {k: tuple(v) for k, v in [("a", gg.Size([2, 3]) + (4,)), ("b", (1,) + gg.Size([2]))]}
    assert ours == {"a": (2, 3, 4), "b": (1, 2)}
    assert tuple(gg.Size([2]) + (gg.tensor(5),)) == (2, 5)
    assert type(tuple(gg.Size([2]) + (np.int64(5),))[1]) is int


def test_size_add_refuses_non_int_as_torch(torch):
    with pytest.raises(TypeError):
        torch.Size([2, 3]) + (2.5,)
    with pytest.raises(TypeError, match=r"Size \+: every size must be an int, got float at position 2"):
        gg.Size([2, 3]) + (2.5,)
    with pytest.raises(TypeError):
        gg.Size([2]) + [4]


def test_wavenet_to_one_hot(torch):
    idx = np.array([[0, 2], [1, 1]])

    def to_one_hot(mod, tensor, n, fill_with=1.0):  # the program's helper
        one_hot = mod.FloatTensor(tensor.size() + (n,)).zero_()
        one_hot.scatter_(len(tensor.size()), tensor.unsqueeze(-1), fill_with)
        return one_hot

    ours = to_one_hot(gg, gg.tensor(idx), 3)
    ref = to_one_hot(torch, torch.tensor(idx), 3)
    assert ours.shape == (2, 2, 3) and ours.dtype == gg.float32
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def _copy(params, ref_params):
    for p, r in zip(params, ref_params):
        p.data = gg.tensor(r.detach().numpy())


def test_deepspeech_packed_lstm_ctc_step(torch):
    """BatchRNN (pack, bidirectional LSTM, pad, sum directions) then the CTC loss, float64."""
    rng = np.random.RandomState(0)
    T, N, H = 6, 3, 4
    x0 = rng.randn(T, N, H)
    lens = [6, 5, 3]
    targets, tlens = np.array([1, 2, 2, 3, 1, 4]), [3, 2, 1]

    def run(mod, rnn, fc):
        x = mod.tensor(x0, requires_grad=True)
        p = mod.nn.utils.rnn.pack_padded_sequence(x, mod.tensor(lens).int())
        y, _ = rnn(p)
        y, _ = mod.nn.utils.rnn.pad_packed_sequence(y)
        y = y.view(y.size(0), y.size(1), 2, -1).sum(2).view(y.size(0), y.size(1), -1)
        out = fc(y.view(T * N, -1)).view(T, N, -1).log_softmax(-1)
        crit = mod.nn.CTCLoss(blank=0, reduction="sum", zero_infinity=True)
        loss = crit(out, mod.tensor(targets).int(), mod.tensor(lens).int(), mod.tensor(tlens).int())
        loss.backward()
        return loss, x.grad, [q.grad for q in rnn.parameters()]

    torch.manual_seed(0)
    t_rnn = torch.nn.LSTM(H, 3, bidirectional=True).double()
    t_fc = torch.nn.Linear(3, 5, bias=False).double()
    g_rnn = gg.nn.LSTM(H, 3, bidirectional=True).double()
    g_fc = gg.nn.Linear(3, 5, bias=False).double()
    _copy(g_rnn.parameters(), t_rnn.parameters())
    _copy(g_fc.parameters(), t_fc.parameters())
    tl, tx, tg = run(torch, t_rnn, t_fc)
    gl, gx, ggr = run(gg, g_rnn, g_fc)
    np.testing.assert_allclose(gl.item(), tl.item(), rtol=1e-12)
    np.testing.assert_allclose(gx.numpy(), tx.numpy(), atol=1e-12)
    for a, b in zip(ggr, tg):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-12)


def test_wavenet_residual_glu_block(torch):
    """ResidualConv1dGLU: weight-normed causal dilated conv, crop, tanh*sigmoid gate, 1x1 skip/out."""
    rng = np.random.RandomState(1)
    x0 = rng.randn(2, 4, 9)

    def build(mod):
        conv = mod.nn.utils.weight_norm(mod.nn.Conv1d(4, 6, 3, padding=4, dilation=2))
        out = mod.nn.utils.weight_norm(mod.nn.Conv1d(3, 4, 1))
        return conv.double(), out.double()

    def run(mod, conv, out):
        x = mod.tensor(x0, requires_grad=True)
        h = conv(x)[:, :, : x.size(-1)]
        a, b = h.split(h.size(1) // 2, dim=1)
        y = (out(mod.tanh(a) * mod.sigmoid(b)) + x) * math.sqrt(0.5)
        (y**2).sum().backward()
        return y, x.grad, conv.weight_g.grad, conv.weight_v.grad

    with pytest.warns(FutureWarning):
        g_mods = build(gg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_mods = build(torch)
    for gm, tm in zip(g_mods, t_mods):
        gm.load_state_dict({k: gg.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    for a, b in zip(run(gg, *g_mods), run(torch, *t_mods)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-12)


def test_sampler_init_takes_no_arguments_as_torch(torch):
    class DSRandomSampler(torch.utils.data.Sampler):  # deepspeech.pytorch's pattern
        def __init__(self, dataset):
            super().__init__(data_source=dataset)

    with pytest.raises(TypeError):
        DSRandomSampler(range(4))
    with pytest.raises(TypeError):
        torch.utils.data.Sampler(range(4))

    class Ours(gg.utils.data.Sampler):
        def __init__(self, dataset):
            super().__init__(data_source=dataset)

    with pytest.raises(TypeError, match=r"Ours: Sampler.__init__ takes no arguments, got data_source="):
        Ours(range(4))
    with pytest.raises(TypeError, match=r"Sampler.__init__ takes no arguments, got range"):
        gg.utils.data.Sampler(range(4))

    class Fine(gg.utils.data.Sampler):
        def __init__(self, n):
            super().__init__()
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

    assert list(gg.utils.data.DataLoader(range(3), sampler=Fine(3), batch_size=None)) == [0, 1, 2]


def test_size_constructor_refuses_non_int_as_torch(torch):
    """``Size([2.5])`` is a TypeError in PyTorch; it made a Size holding a float here."""
    with pytest.raises(TypeError):
        torch.Size([2, 2.5])
    with pytest.raises(TypeError, match=r"Size \(\): every size must be an int, got float at position 1"):
        gg.Size([2, 2.5])
    got = gg.Size([np.int64(2), gg.tensor(3)])
    assert got == torch.Size([np.int64(2), torch.tensor(3)]) and all(type(v) is int for v in got)
    assert gg.Size() == () and type(gg.zeros(2, 3).shape) is gg.Size
