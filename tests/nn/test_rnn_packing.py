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


def test_pad_sequence_takes_a_tensor_or_generator_as_pytorch(torch):
    # PyTorch iterates its input: a (N, L, *) tensor's rows, or a generator, are the sequences
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(
        pad_sequence(gg.tensor(x)).numpy(), torch.nn.utils.rnn.pad_sequence(torch.tensor(x)).numpy()
    )
    seqs = _seqs([2, 4])
    ours = pad_sequence((gg.tensor(s) for s in seqs), batch_first=True)
    theirs = torch.nn.utils.rnn.pad_sequence((torch.tensor(s) for s in seqs), batch_first=True)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(TypeError, match="pad_sequence: expected an iterable"):
        pad_sequence(3)


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
    with pytest.raises(RuntimeError, match="enforce_sorted=False"):
        pack_padded_sequence(x, [2, 4])
    with pytest.raises(RuntimeError, match="lengths in"):
        pack_padded_sequence(x, [5, 1])


@pytest.mark.parametrize("lengths, enforce_sorted", [([1, 3], True), ([3, 0], False), ([2, -1], False)])
def test_bad_lengths_raise_runtime_error_as_pytorch(torch, lengths, enforce_sorted):
    """PyTorch raises RuntimeError for increasing lengths under enforce_sorted and for lengths <= 0."""
    with pytest.raises(RuntimeError):
        torch.nn.utils.rnn.pack_padded_sequence(
            torch.zeros(4, 2, 1), torch.tensor(lengths), enforce_sorted=enforce_sorted
        )
    with pytest.raises(RuntimeError):
        pack_padded_sequence(gg.zeros(4, 2, 1), gg.tensor(lengths), enforce_sorted=enforce_sorted)


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


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence_parity_and_gradient(torch, batch_first):
    seqs = _seqs([3, 5, 1])
    lengths = [3, 5, 1]
    xt = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first=batch_first)
    xt.requires_grad_()
    xg = gg.tensor(xt.detach().numpy(), requires_grad=True)
    ot = torch.nn.utils.rnn.unpad_sequence(xt * 1, torch.tensor(lengths), batch_first=batch_first)
    og = nn.utils.rnn.unpad_sequence(xg * 1, gg.tensor(lengths), batch_first=batch_first)
    assert [tuple(o.shape) for o in og] == [tuple(o.shape) for o in ot] == [(3, 2), (5, 2), (1, 2)]
    for a, b, s in zip(og, ot, seqs):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        np.testing.assert_array_equal(a.detach().numpy(), s)
    sum(o.sum() * (i + 1) for i, o in enumerate(ot)).backward()
    sum(o.sum() * (i + 1) for i, o in enumerate(og)).backward()
    np.testing.assert_array_equal(xg.grad.numpy(), xt.grad.numpy())  # padding gets 0


def test_unpad_sequence_transposes_its_input_in_place_as_pytorch(torch):
    """Without batch_first PyTorch's unpad_sequence calls transpose_ on the caller's tensor."""
    pt, pg = torch.zeros(4, 3), gg.zeros(4, 3)
    torch.nn.utils.rnn.unpad_sequence(pt, torch.tensor([1, 4, 2]))
    nn.utils.rnn.unpad_sequence(pg, gg.tensor([1, 4, 2]))
    assert tuple(pg.shape) == tuple(pt.shape) == (3, 4)
    with pytest.raises(AttributeError):  # lengths must be a Tensor (PyTorch reads lengths.device)
        torch.nn.utils.rnn.unpad_sequence(torch.zeros(4, 3), [1, 4, 2])
    with pytest.raises(AttributeError):
        nn.utils.rnn.unpad_sequence(gg.zeros(4, 3), [1, 4, 2])


def test_unpack_sequence_restores_the_original_order(torch):
    seqs = _seqs([2, 4, 3])
    ot = torch.nn.utils.rnn.unpack_sequence(
        torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    )
    og = nn.utils.rnn.unpack_sequence(pack_sequence([gg.tensor(s) for s in seqs], enforce_sorted=False))
    for a, b, s in zip(og, ot, seqs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        np.testing.assert_array_equal(a.numpy(), s)
