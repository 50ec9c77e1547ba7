"""Round 63, sgrvinod's tutorials: text classification (a hierarchical attention network of
bidirectional GRUs over ``PackedSequence``s, softmax by re-padding) and sequence labeling
(LM-LSTM-CRF: character LSTMs read at word markers, highway layers, the CRF's forward-algorithm
loss over shrinking batch sizes and its Viterbi decoder). Both ran and matched PyTorch; their
patterns are pinned here, written fresh, at float64 rounding. The one difference found:
``pack_padded_sequence`` flattened an ``(N, 1)`` lengths column (a DataLoader's unsqueezed batch)
and packed, where PyTorch's script stops.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import ShapeError

RNG_SEED = 63


def _libs(torch):
    return [("torch", torch), ("glassgrad", gg)]


def _same_weights(torch, make):
    """One module per library, glassgrad's given PyTorch's float64 weights."""
    torch.manual_seed(RNG_SEED)
    ref = make(torch).double()
    mine = make(gg).double()
    mine.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    return {"torch": ref, "glassgrad": mine}


def _assert_same(outs, rtol=1e-12, atol=1e-13):
    for a, b in zip(*outs, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol)


# ---- text classification: attention over packed word and sentence GRUs ---------------------------


def _packed_attention(lib, rnn, att, ctx, padded, lengths):
    """One HAN level: pack unsorted, biGRU, attention scores on ``.data``, softmax by re-padding
    ``exp`` through a PackedSequence rebuilt by keywords, weighted sum. (N, T, E) -> (N, 2H)."""
    rnn_utils = lib.nn.utils.rnn
    packed = rnn_utils.pack_padded_sequence(padded, lengths=lengths, batch_first=True, enforce_sorted=False)
    packed, _ = rnn(packed)
    scores = ctx(lib.tanh(att(packed.data))).squeeze(1)  # (S,)
    scores = lib.exp(scores - scores.max())
    alphas, _ = rnn_utils.pad_packed_sequence(
        rnn_utils.PackedSequence(
            data=scores,
            batch_sizes=packed.batch_sizes,
            sorted_indices=packed.sorted_indices,
            unsorted_indices=packed.unsorted_indices,
        ),
        batch_first=True,
    )
    alphas = alphas / lib.sum(alphas, dim=1, keepdim=True)  # (N, max(lengths))
    outputs, _ = rnn_utils.pad_packed_sequence(packed, batch_first=True)
    return (outputs * alphas.unsqueeze(2)).sum(dim=1), alphas


def _han_parts(lib):
    nn = lib.nn
    return nn.ModuleDict(
        {
            "emb": nn.Embedding(12, 4),
            "word_rnn": nn.GRU(4, 3, num_layers=2, bidirectional=True, batch_first=True),
            "word_att": nn.Linear(6, 5),
            "word_ctx": nn.Linear(5, 1, bias=False),
            "sent_rnn": nn.GRU(6, 2, bidirectional=True, batch_first=True),
            "sent_att": nn.Linear(4, 3),
            "sent_ctx": nn.Linear(3, 1, bias=False),
            "fc": nn.Linear(4, 3),
        }
    )


def _han_forward(lib, m, docs, spd, wps):
    """documents (N, S, W), sentences per document (N,), words per sentence (N, S)."""
    rnn_utils = lib.nn.utils.rnn
    sents = rnn_utils.pack_padded_sequence(docs, lengths=spd.tolist(), batch_first=True, enforce_sorted=False)
    words = rnn_utils.pack_padded_sequence(wps, lengths=spd.tolist(), batch_first=True, enforce_sorted=False)
    s_emb, word_alphas = _packed_attention(
        lib, m["word_rnn"], m["word_att"], m["word_ctx"], m["emb"](sents.data), words.data.tolist()
    )
    rebuilt = rnn_utils.PackedSequence(s_emb, sents.batch_sizes, sents.sorted_indices, sents.unsorted_indices)
    padded, _ = rnn_utils.pad_packed_sequence(rebuilt, batch_first=True)
    doc_emb, sent_alphas = _packed_attention(lib, m["sent_rnn"], m["sent_att"], m["sent_ctx"], padded, spd)
    word_alphas, _ = rnn_utils.pad_packed_sequence(
        rnn_utils.PackedSequence(
            word_alphas, sents.batch_sizes, sents.sorted_indices, sents.unsorted_indices
        ),
        batch_first=True,
    )
    return m["fc"](doc_emb), word_alphas, sent_alphas


def _han_batch():
    rng = np.random.default_rng(RNG_SEED)
    spd = np.array([2, 4, 1, 3])
    wps = np.zeros((4, 4), dtype=np.int64)
    docs = np.zeros((4, 4, 5), dtype=np.int64)
    for d, n in enumerate(spd):
        wps[d, :n] = rng.integers(1, 6, size=n)
        for s in range(n):
            docs[d, s, : wps[d, s]] = rng.integers(1, 12, size=wps[d, s])
    return docs, spd, wps, np.array([0, 2, 1, 2])


def test_han_packed_attention_training_step_matches_torch(torch):
    mods = _same_weights(torch, _han_parts)
    docs, spd, wps, labels = _han_batch()
    outs = []
    for name, lib in _libs(torch):
        m = mods[name]
        opt = lib.optim.Adam(m.parameters(), lr=0.01)
        got = []
        for _ in range(2):
            scores, wa, sa = _han_forward(lib, m, lib.tensor(docs), lib.tensor(spd), lib.tensor(wps))
            loss = lib.nn.CrossEntropyLoss()(scores, lib.tensor(labels))
            opt.zero_grad()
            loss.backward()
            for p in m.parameters():  # the tutorial's clip_gradient
                p.grad.data.clamp_(-0.5, 0.5)
            got += [scores, wa, sa, loss] + [p.grad for p in m.parameters()]
            opt.step()
        outs.append([t.detach().numpy() for t in got + list(m.parameters())])
    _assert_same(outs)


# ---- sequence labeling: LM-LSTM-CRF -----------------------------------------------------------


def _log_sum_exp(lib, x, dim):
    m, _ = lib.max(x, dim)
    return m + lib.log(lib.sum(lib.exp(x - m.unsqueeze(dim).expand_as(x)), dim))


def _viterbi_loss(lib, scores, targets, lengths, start, end):
    """CRF scores (N, T, K, K), targets (N, T) into the unrolled (K*K), lengths a sorted tensor:
    gold path scores packed away from the pads, all paths by the forward algorithm on the first
    ``sum([l > t for l in lengths])`` rows, written into a zeros buffer in place."""
    n, t_len, k, _ = scores.shape
    at_targets = lib.gather(scores.view(n, t_len, -1), 2, targets.unsqueeze(2)).squeeze(2)
    gold = lib.nn.utils.rnn.pack_padded_sequence(at_targets, lengths, batch_first=True)[0].sum()
    upto = lib.zeros(n, k, dtype=scores.dtype)
    for t in range(max(lengths)):
        b = sum([length > t for length in lengths])  # a 0-d tensor, used as a slice bound
        if t == 0:
            upto[:b] = scores[:b, t, start, :]
        else:
            upto[:b] = _log_sum_exp(lib, scores[:b, t, :, :] + upto[:b].unsqueeze(2), 1)
    return (upto[:, end].sum() - gold) / n


def _viterbi_decode(lib, scores, lengths, start, end):
    """Back-pointers by tuple assignment of ``max``'s (values, indices) into slices, traced back
    with ``gather``. scores (N, T, K, K) -> tags (N, T)."""
    n, _, k, _ = scores.shape
    upto = lib.zeros(n, k, dtype=scores.dtype)
    back = lib.ones((n, max(lengths), k), dtype=lib.long) * end
    for t in range(max(lengths)):
        b = sum([length > t for length in lengths])
        if t == 0:
            upto[:b] = scores[:b, t, start, :]
            back[:b, t, :] = lib.ones((b, k), dtype=lib.long) * start
        else:
            upto[:b], back[:b, t, :] = lib.max(scores[:b, t, :, :] + upto[:b].unsqueeze(2), dim=1)
    decoded = lib.zeros((n, back.size(1)), dtype=lib.long)
    pointer = lib.ones((n, 1), dtype=lib.long) * end
    for t in reversed(range(back.size(1))):
        decoded[:, t] = lib.gather(back[:, t, :], 1, pointer).squeeze(1)
        pointer = decoded[:, t].unsqueeze(1)
    return decoded


def _crf_parts(lib):
    nn = lib.nn
    return nn.ModuleDict(
        {
            "chars": nn.Embedding(9, 3),
            "char_lstm": nn.LSTM(3, 4, num_layers=2),
            "hw_t": nn.Linear(4, 4),
            "hw_g": nn.Linear(4, 4),
            "words": nn.Embedding(7, 3),
            "blstm": nn.LSTM(7, 3, bidirectional=True),
            "emission": nn.Linear(6, 5),
        }
    )


def _crf_forward(lib, m, transition, cmaps, cmarkers, wmaps, lengths):
    """Characters (N, C) sorted by length, read at the word markers (N, W); words (N, W), their
    lengths a list of 0-d tensors. -> CRF scores (N, max(lengths), K, K)."""
    rnn_utils = lib.nn.utils.rnn
    c = rnn_utils.pack_padded_sequence(m["chars"](cmaps), [cmaps.shape[1]] * cmaps.shape[0], batch_first=True)
    c, _ = m["char_lstm"](c)
    c, _ = rnn_utils.pad_packed_sequence(c, batch_first=True)
    at_words = lib.gather(c, 1, cmarkers.unsqueeze(2).expand(*cmarkers.shape, 4))  # (N, W, 4)
    g = lib.nn.functional.sigmoid(m["hw_g"](at_words))
    at_words = g * lib.nn.functional.relu(m["hw_t"](at_words)) + (1 - g) * at_words
    w = lib.cat((m["words"](wmaps), at_words), dim=2)  # (N, W, 3 + 4)
    w = rnn_utils.pack_padded_sequence(w, list(lengths), batch_first=True)
    w, _ = m["blstm"](w)
    w, _ = rnn_utils.pad_packed_sequence(w, batch_first=True)
    em = m["emission"](w)
    n, t_len, k = em.shape
    return em.unsqueeze(2).expand(n, t_len, k, k) + transition.unsqueeze(0).unsqueeze(0)


def test_lm_lstm_crf_viterbi_loss_and_decoder_match_torch(torch):
    mods = _same_weights(torch, _crf_parts)
    rng = np.random.default_rng(RNG_SEED)
    lengths = np.array([5, 3, 3, 1])  # sorted, with a tie
    cmaps = rng.integers(1, 9, size=(4, 8))
    cmarkers = np.sort(rng.integers(0, 8, size=(4, 5)), axis=1)
    wmaps = rng.integers(1, 7, size=(4, 5))
    targets = rng.integers(0, 25, size=(4, 5))
    trans = rng.standard_normal((5, 5))
    outs = []
    for name, lib in _libs(torch):
        m = mods[name]
        transition = lib.nn.Parameter(lib.tensor(trans))
        opt = lib.optim.SGD([*m.parameters(), transition], lr=0.05, momentum=0.9)
        got = []
        for _ in range(2):
            lens = lib.tensor(lengths)
            scores = _crf_forward(
                lib, m, transition, *(lib.tensor(a) for a in (cmaps, cmarkers, wmaps)), lens
            )
            loss = _viterbi_loss(lib, scores, lib.tensor(targets), lens, 3, 4)
            opt.zero_grad()
            loss.backward()
            got += [scores, loss, _viterbi_decode(lib, scores.detach(), lens, 3, 4), transition.grad]
            got += [p.grad for p in m.parameters()]
            opt.step()
        outs.append([t.detach().numpy() for t in got + [*m.parameters(), transition]])
    _assert_same(outs)


# ---- pack_padded_sequence: lengths of the wrong rank or count ---------------------------------


_LENGTHS_CASES = {
    # (lengths, enforce_sorted): PyTorch's class (the unsorted path fails in its index_select)
    "column-sorted": ([[4], [3], [2]], True, RuntimeError),
    "column-unsorted": ([[4], [3], [2]], False, IndexError),
    "row-sorted": ([[4, 3, 2]], True, RuntimeError),
    "row-unsorted": ([[4, 3, 2]], False, IndexError),
    "too-many-sorted": ([4, 3, 2, 1], True, RuntimeError),
    "too-many-unsorted": ([4, 3, 2, 1], False, IndexError),
}


@pytest.mark.parametrize("case", sorted(_LENGTHS_CASES))
@pytest.mark.parametrize("as_tensor", [False, True], ids=["list", "tensor"])
def test_pack_padded_sequence_refuses_lengths_torch_refuses(torch, case, as_tensor):
    lengths, enforce_sorted, cls = _LENGTHS_CASES[case]
    for _, lib in _libs(torch):
        x = lib.zeros(3, 4, 2)
        arg = lib.tensor(lengths) if as_tensor else lengths
        with pytest.raises(cls):
            lib.nn.utils.rnn.pack_padded_sequence(x, arg, batch_first=True, enforce_sorted=enforce_sorted)
    # glassgrad's is a ShapeError as well, and names what it expected
    with pytest.raises(ShapeError, match="pack_padded_sequence"):
        gg.nn.utils.rnn.pack_padded_sequence(gg.zeros(3, 4, 2), lengths, batch_first=True)


def test_pack_padded_sequence_squeezed_lengths_column_packs_as_torch(torch):
    """The tutorial's fix for the case above: ``lengths.squeeze(1)`` before packing."""
    x = np.random.default_rng(RNG_SEED).standard_normal((3, 4, 2))
    outs = []
    for _, lib in _libs(torch):
        col = lib.tensor([[2], [4], [1]])
        p = lib.nn.utils.rnn.pack_padded_sequence(
            lib.tensor(x), col.squeeze(1).tolist(), batch_first=True, enforce_sorted=False
        )
        outs.append([t.numpy() for t in p])
    _assert_same(outs, rtol=0, atol=0)
