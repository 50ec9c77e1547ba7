"""Round 53, group seq2seq: IBM/pytorch-seq2seq, the CS224n 2019 NMT solutions (a4, a5), timbmg's
Sentence-VAE, keon/seq2seq, joeynmt, OpenNMT-py and atulkum/pointer_summarizer, each run against
PyTorch from the same weights. They agreed to rounding; the one glassgrad change is a hint: an RNN's
state with a dim too many (Sentence-VAE's ``inference`` on a 2-layer model gives a 4-D ``hx``) was
explained as a ``batch_first`` mix-up, though the input was right. The patterns those programs
lean on are pinned here against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import ShapeError

# --- the state-dimension hint -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_state_with_a_dim_too_many_is_not_called_a_batch_first_mixup(torch, kind):
    x = np.random.default_rng(0).standard_normal((5, 1, 6))
    h = np.zeros((1, 4, 5, 7))  # Sentence-VAE: view(hidden_factor, B, H).unsqueeze(0)
    theirs = getattr(torch.nn, kind)(6, 7, num_layers=2, bidirectional=True, batch_first=True)
    ours = getattr(gg.nn, kind)(6, 7, num_layers=2, bidirectional=True, batch_first=True)
    state_t = torch.tensor(h, dtype=torch.float32)
    state_g = gg.tensor(h, dtype=gg.float32)
    if kind == "LSTM":
        state_t, state_g = (state_t, state_t), (state_g, state_g)
    with pytest.raises(RuntimeError) as t_err:
        theirs(torch.tensor(x, dtype=torch.float32), state_t)
    with pytest.raises(ShapeError) as g_err:
        ours(gg.tensor(x, dtype=gg.float32), state_g)
    assert str(t_err.value) in str(g_err.value)
    message = str(g_err.value)
    assert "batch_first" in message  # named only as what does not matter
    assert "pass batch_first" not in message
    assert "(4, N, H) for a batched input and (4, H) for an unbatched one" in message


def test_unbatched_input_with_a_batched_state_gets_the_state_hint(torch):
    rnn = gg.nn.GRU(3, 2)
    with pytest.raises(ShapeError, match=r"\(1, N, H\) for a batched input and \(1, H\)") as err:
        rnn(gg.zeros(4, 3), gg.zeros(1, 1, 2))
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.GRU(3, 2)(torch.zeros(4, 3), torch.zeros(1, 1, 2))
    assert str(theirs.value) in str(err.value)


def test_hidden_of_the_wrong_batch_keeps_the_batch_first_hint():
    rnn = gg.nn.GRU(3, 2, batch_first=True)
    with pytest.raises(ShapeError, match=r"pass batch_first=False or transpose\(0, 1\)"):
        rnn(gg.zeros(5, 4, 3), gg.zeros(1, 4, 2))  # the state's batch is the input's dim 1


# --- packed bidirectional encoders with unsorted lengths and a given state ----------------------


def _copy_weights(ours, theirs):
    with gg.no_grad():
        for (name, p), (name_t, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert name == name_t
            p.copy_(gg.tensor(q.detach().numpy()))


@pytest.mark.parametrize("kind", ["GRU", "LSTM"])
def test_packed_unsorted_bidirectional_encoder_matches_pytorch(torch, kind):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 5, 3))
    lengths = [2, 5, 3, 1]
    h0 = rng.standard_normal((4, 4, 6))
    theirs = getattr(torch.nn, kind)(3, 6, num_layers=2, bidirectional=True, batch_first=True).double()
    ours = getattr(gg.nn, kind)(3, 6, num_layers=2, bidirectional=True, batch_first=True).double()
    _copy_weights(ours, theirs)
    outs = []
    for lib, rnn in ((torch, theirs), (gg, ours)):
        xt = lib.tensor(x, requires_grad=True)
        state = lib.tensor(h0, requires_grad=True)
        packed = lib.nn.utils.rnn.pack_padded_sequence(xt, lengths, batch_first=True, enforce_sorted=False)
        out, hidden = rnn(packed, (state, state * 0.5) if kind == "LSTM" else state)
        padded, lens = lib.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=6)
        last = hidden[0] if kind == "LSTM" else hidden
        (padded.pow(2).sum() + last.sum()).backward()
        grads = [p.grad.numpy() for p in rnn.parameters()]
        outs.append(
            [padded.detach().numpy(), last.detach().numpy(), xt.grad.numpy(), state.grad.numpy(), *grads]
        )
        assert list(lens.numpy()) == lengths
    for a, b in zip(*outs):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)


# --- the beam-search bookkeeping of pytorch-seq2seq's TopKDecoder -------------------------------


def test_topk_decoder_step_bookkeeping_matches_pytorch(torch):
    rng = np.random.default_rng(3)
    batch, k, vocab = 2, 3, 5
    logp = np.log(rng.dirichlet(np.ones(vocab), batch * k))
    hidden = rng.standard_normal((1, batch * k, 4))
    results = []
    for lib in (torch, gg):
        scores = lib.Tensor(batch * k, 1).fill_(-float("inf"))
        scores.index_fill_(0, lib.LongTensor([i * k for i in range(batch)]), 0.0)
        pos_index = (lib.LongTensor(range(batch)) * k).view(-1, 1)
        scores = scores.repeat(1, vocab) + lib.tensor(logp, dtype=scores.dtype)
        top, candidates = scores.view(batch, -1).topk(k, dim=1)
        symbols = (candidates % vocab).view(batch * k, 1)
        predecessors = (candidates // vocab + pos_index.expand_as(candidates)).view(batch * k, 1)
        h = lib.tensor(hidden).index_select(1, predecessors.squeeze())
        eos = symbols.data.eq(2)
        flat = top.view(batch * k, 1).clone()
        flat.data.masked_fill_(eos, -float("inf"))
        results.append([top.numpy(), symbols.numpy(), predecessors.numpy(), h.numpy(), flat.numpy()])
    for a, b in zip(*results):
        np.testing.assert_array_equal(b, a)
