"""Round 57's differential fuzz of the recurrent layers: the cases where glassgrad differed from PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import ShapeError

_LAYERS = ["RNN", "LSTM", "GRU"]


@pytest.mark.parametrize("kind", _LAYERS)
@pytest.mark.parametrize(
    ("batch_first", "shape"), [(False, (0, 2, 3)), (True, (2, 0, 3)), (False, (0, 3)), (True, (0, 3))]
)
def test_empty_sequence_is_refused_as_pytorch(torch, kind, batch_first, shape):
    # Before: glassgrad returned an output (0, 0, H) that had lost its batch dim.
    with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0"):
        getattr(torch.nn, kind)(3, 2, batch_first=batch_first)(torch.zeros(*shape))
    with pytest.raises(ShapeError, match="Expected sequence length to be larger than 0"):
        getattr(gg.nn, kind)(3, 2, batch_first=batch_first)(gg.zeros(*shape))


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_functional_lstm_refuses_empty_sequence(torch, lib_name):
    lib = torch if lib_name == "torch" else gg
    weights = list(lib.nn.LSTM(3, 2)._flat_weights)
    state = (lib.zeros(1, 2, 2), lib.zeros(1, 2, 2))
    with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0"):
        lib.lstm(lib.zeros(0, 2, 3), state, weights, True, 1, 0.0, False, False, False)


@pytest.mark.parametrize("kind", _LAYERS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_empty_batch_matches_pytorch(torch, kind, batch_first):
    shape = (0, 4, 3) if batch_first else (4, 0, 3)
    theirs = getattr(torch.nn, kind)(3, 2, num_layers=2, batch_first=batch_first)(torch.zeros(*shape))
    ours = getattr(gg.nn, kind)(3, 2, num_layers=2, batch_first=batch_first)(gg.zeros(*shape))
    assert tuple(ours[0].shape) == tuple(theirs[0].shape)
    ours_h = ours[1] if kind == "LSTM" else (ours[1],)
    theirs_h = theirs[1] if kind == "LSTM" else (theirs[1],)
    assert [tuple(h.shape) for h in ours_h] == [tuple(h.shape) for h in theirs_h]


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_pad_sequence_bad_padding_side_is_a_runtime_error(torch, lib_name):
    lib = torch if lib_name == "torch" else gg
    with pytest.raises(
        RuntimeError, match="Expected padding_side to be one of left or right, but got middle"
    ):
        lib.nn.utils.rnn.pad_sequence([lib.zeros(2), lib.zeros(3)], padding_side="middle")


def test_pad_sequence_bad_padding_side_stays_a_value_error():
    with pytest.raises(ValueError, match="padding_side"):
        gg.nn.utils.rnn.pad_sequence([gg.zeros(2)], padding_side="up")


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_pad_sequence_of_scalars_is_a_runtime_error(torch, lib_name):
    lib = torch if lib_name == "torch" else gg
    with pytest.raises(RuntimeError):
        lib.nn.utils.rnn.pad_sequence([lib.tensor(1.0), lib.tensor(2.0)])


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_batched_input_with_1d_state_is_an_index_error(torch, lib_name, cell):
    lib = torch if lib_name == "torch" else gg
    h = lib.zeros(2)
    with pytest.raises(IndexError):
        getattr(lib.nn, cell)(3, 2)(lib.zeros(2, 3), (h, h) if cell == "LSTMCell" else h)


def test_cell_wrong_state_shape_is_still_a_shape_error():
    with pytest.raises(ShapeError, match=r"expected hidden state \(2, 2\), got \(3, 2\)"):
        gg.nn.GRUCell(3, 2)(gg.zeros(2, 3), gg.zeros(3, 2))
    with pytest.raises(ShapeError):  # the IndexError above is a ShapeError as well
        gg.nn.RNNCell(3, 2)(gg.zeros(2, 3), gg.zeros(2))


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
def test_pack_padded_sequence_of_1d_input_is_an_index_error(torch, lib_name):
    lib = torch if lib_name == "torch" else gg
    with pytest.raises(IndexError):
        lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(3), [3])


@pytest.mark.parametrize("kind", _LAYERS)
def test_one_step_after_in_place_weight_change_matches_pytorch(torch, kind):
    # a fuzz configuration kept as a guard: packed unsorted batch, a given state, weight_hh_l0
    # halved in place and weight_ih_l0 frozen between calls; values and gradients in float64
    rng = np.random.default_rng(57)
    tm = getattr(torch.nn, kind)(2, 3, num_layers=2, bidirectional=True, batch_first=True).double()
    gm = getattr(gg.nn, kind)(2, 3, num_layers=2, bidirectional=True, batch_first=True).double()
    gm.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = rng.standard_normal((3, 4, 2))
    h = [rng.standard_normal((4, 3, 3)) for _ in range(2 if kind == "LSTM" else 1)]
    lengths = [2, 4, 1]
    got = []
    for lib, m in ((torch, tm), (gg, gm)):
        with lib.no_grad():
            m.weight_hh_l0.mul_(0.5)
        m.weight_ih_l0.requires_grad_(False)
        xi = lib.tensor(x, requires_grad=True)
        hi = [lib.tensor(v, requires_grad=True) for v in h]
        packed = lib.nn.utils.rnn.pack_padded_sequence(
            xi, lib.tensor(lengths), batch_first=True, enforce_sorted=False
        )
        out, hn = m(packed, tuple(hi) if kind == "LSTM" else hi[0])
        out, _ = lib.nn.utils.rnn.pad_packed_sequence(
            out, batch_first=True, padding_value=0.5, total_length=5
        )
        hn = hn if isinstance(hn, tuple) else (hn,)
        loss = (out * lib.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))).sum()
        (loss + sum((v * v).sum() for v in hn)).backward()
        grads = [p.grad for p in m.parameters()]
        got.append([out, *hn, xi.grad, *[v.grad for v in hi], *[g for g in grads if g is not None]])
        assert m.weight_ih_l0.grad is None
    assert len(got[0]) == len(got[1])
    for a, b in zip(got[1], got[0]):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("lib_name", ["torch", "glassgrad"])
@pytest.mark.parametrize("kind", _LAYERS)
@pytest.mark.parametrize("bias", [0, 1, None, "yes"])
def test_layer_bias_must_be_a_bool(torch, lib_name, kind, bias):
    lib = torch if lib_name == "torch" else gg
    with pytest.raises(TypeError, match="bias should be of type bool"):
        getattr(lib.nn, kind)(3, 2, bias=bias)
