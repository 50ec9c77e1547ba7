"""PyTorch's refusal of ``proj_size`` on RNN and GRU, and three names of ``torch.nn.functional``
a sweep of porting round 48 found missing (``native_channel_shuffle``, the grid-sample mode tables)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck


@pytest.mark.parametrize("name", ["RNN", "GRU"])
@pytest.mark.parametrize("value", [2, 0, None])
def test_proj_size_refused_on_rnn_and_gru_as_pytorch(torch, name, value):
    for lib in (torch, gg):
        with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM, not RNN or GRU"):
            getattr(lib.nn, name)(3, 4, proj_size=value)


def test_rnn_and_gru_positional_arguments_unchanged():
    gru = gg.nn.GRU(3, 4, 2, True, True, 0.0, True)
    assert (gru.num_layers, gru.batch_first, gru.bidirectional) == (2, True, True)
    assert gg.nn.RNN(3, 4, 1, "relu").nonlinearity == "relu"


def test_native_channel_shuffle_as_pytorch(torch):
    x = np.random.default_rng(0).standard_normal((2, 6, 3, 2))
    ours = gg.nn.functional.native_channel_shuffle(gg.tensor(x), 3)
    theirs = torch.nn.functional.native_channel_shuffle(torch.tensor(x), 3)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(
        gg.native_channel_shuffle(gg.tensor(x), 2).numpy(),
        torch.native_channel_shuffle(torch.tensor(x), 2).numpy(),
    )
    xg = gg.tensor(x, requires_grad=True)
    assert gradcheck(lambda t: gg.nn.functional.native_channel_shuffle(t, 3), (xg,))


def test_grid_sample_mode_tables_as_pytorch(torch):
    F, TF = gg.nn.functional, torch.nn.functional
    assert F.GRID_SAMPLE_INTERPOLATION_MODES == TF.GRID_SAMPLE_INTERPOLATION_MODES
    assert F.GRID_SAMPLE_PADDING_MODES == TF.GRID_SAMPLE_PADDING_MODES
