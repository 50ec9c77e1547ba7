"""nn.utils.rnn: pad_sequence, pack_padded_sequence, pad_packed_sequence, pack_sequence against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
)


def _seqs(lengths, feat=2, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, feat)) for n in lengths]


def test_importable_as_attribute_and_module():
    assert nn.utils.rnn.pack_padded_sequence is pack_padded_sequence
    assert nn.utils.clip_grad_norm_ is not None  # the package kept every existing name


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_parity(torch, batch_first, side):
    seqs = _seqs([3, 5, 1])
    ours = pad_sequence(
        [gg.tensor(s) for s in seqs], batch_first=batch_first, padding_value=-1.0, padding_side=side
    )
    theirs = torch.nn.utils.rnn.pad_sequence(
        [torch.tensor(s) for s in seqs], batch_first=batch_first, padding_value=-1.0, padding_side=side
    )
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_round_trip_parity(torch, enforce_sorted, batch_first):
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    seqs = _seqs(lengths)
    xt = torch.nn.utils.rnn.pad_sequence(
        [torch.tensor(s) for s in seqs], batch_first=batch_first
    ).requires_grad_()
    xg = gg.tensor(xt.detach().numpy(), requires_grad=True)
    pt = torch.nn.utils.rnn.pack_padded_sequence(
        xt, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted
    )
    pg = pack_padded_sequence(xg, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    assert isinstance(pg, PackedSequence)
    np.testing.assert_array_equal(pg.data.detach().numpy(), pt.data.detach().numpy())
    np.testing.assert_array_equal(pg.batch_sizes.numpy(), pt.batch_sizes.numpy())
    for a, b in [(pg.sorted_indices, pt.sorted_indices), (pg.unsorted_indices, pt.unsorted_indices)]:
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    ot, lt = torch.nn.utils.rnn.pad_packed_sequence(
        pt, batch_first=batch_first, padding_value=7.0, total_length=6
    )
    og, lg = pad_packed_sequence(pg, batch_first=batch_first, padding_value=7.0, total_length=6)
    np.testing.assert_array_equal(og.detach().numpy(), ot.detach().numpy())
    np.testing.assert_array_equal(lg.numpy(), lt.numpy())
    weights = np.arange(np.prod(ot.shape)).reshape(ot.shape)
    (ot * torch.tensor(weights)).sum().backward()
    (og * gg.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(xg.grad.numpy(), xt.grad.numpy())  # padded positions get 0


def test_pack_sequence_parity(torch):
    seqs = _seqs([2, 4, 3])
    pt = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    pg = pack_sequence([gg.tensor(s) for s in seqs], enforce_sorted=False)
    np.testing.assert_array_equal(pg.data.numpy(), pt.data.numpy())
    np.testing.assert_array_equal(pg.batch_sizes.numpy(), pt.batch_sizes.numpy())


def test_unsorted_lengths_need_enforce_sorted_false():
    x = gg.zeros(4, 2, 1)
    with pytest.raises(ValueError, match="enforce_sorted=False"):
        pack_padded_sequence(x, [2, 4])
    with pytest.raises(ValueError, match="lengths in"):
        pack_padded_sequence(x, [5, 1])


def test_packed_output_of_a_layer_unpacks_to_the_padded_run():
    """Where every sequence is full length, packed and padded runs agree."""
    gg.manual_seed(0)
    layer = nn.GRU(2, 3, batch_first=True)
    x = gg.randn(3, 4, 2)
    out, h = layer(x)
    packed_out, h_packed = layer(pack_padded_sequence(x, [4, 4, 4], batch_first=True))
    unpacked, lengths = pad_packed_sequence(packed_out, batch_first=True)
    np.testing.assert_allclose(unpacked.detach().numpy(), out.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(h_packed.detach().numpy(), h.detach().numpy(), rtol=1e-6)
    assert lengths.tolist() == [4, 4, 4]
