"""Round 32, time-series forecasting (N-BEATS, DeepAR, a Temporal Fusion Transformer): distilled repros.

DeepAR (zhykoties/TimeSeries `model/net.py`) sets the LSTM forget-gate biases to 1 by walking
`lstm._all_weights`, the parameter names grouped per layer and direction; glassgrad had only the
public `all_weights` (the tensors), so building the model stopped with AttributeError."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        ("LSTM", dict(num_layers=3)),
        ("LSTM", dict(num_layers=2, bidirectional=True, proj_size=2)),
        ("GRU", dict(bias=False)),
        ("RNN", dict(num_layers=2, bidirectional=True)),
    ],
)
def test_all_weights_names_as_torch(torch, cls, kwargs):
    ours = getattr(gg.nn, cls)(3, 4, **kwargs)
    theirs = getattr(torch.nn, cls)(3, 4, **kwargs)
    assert ours._all_weights == theirs._all_weights
    for names in ours._all_weights:
        for name in names:
            assert tuple(getattr(ours, name).shape) == tuple(getattr(theirs, name).shape)


def test_deepar_forget_gate_bias_init():
    lstm = gg.nn.LSTM(input_size=5, hidden_size=4, num_layers=2)
    for names in lstm._all_weights:
        for name in filter(lambda n: "bias" in n, names):
            bias = getattr(lstm, name)
            n = bias.size(0)
            bias.data[n // 4 : n // 2].fill_(1.0)
    for name in ("bias_ih_l0", "bias_hh_l0", "bias_ih_l1", "bias_hh_l1"):
        b = getattr(lstm, name).detach().numpy()
        np.testing.assert_array_equal(b[4:8], np.ones(4, dtype=np.float32))
        assert not np.any(b[:4] == 1.0) and not np.any(b[8:] == 1.0)
    # the module still computes with the changed biases: the forget gate now starts near sigmoid(2)
    x = gg.zeros(1, 1, 5)
    _, (h, c) = lstm(x)
    assert tuple(h.shape) == (2, 1, 4) and tuple(c.shape) == (2, 1, 4)


def test_implicit_softmax_dim_warning_filterable_by_torch_words(torch):
    """The TFT's variable selection calls `nn.Softmax()` on (T, N, k) weights: PyTorch's legacy rule
    takes dim 0 for 3-d input and warns; programs silence that warning by its opening words."""
    x = np.random.default_rng(1).standard_normal((5, 2, 3))
    for ours, theirs in ((gg.nn.Softmax(), torch.nn.Softmax()), (gg.nn.LogSoftmax(), torch.nn.LogSoftmax())):
        with pytest.warns(
            UserWarning, match=r"^Implicit dimension choice for (log_)?softmax has been deprecated"
        ):
            out = ours(gg.tensor(x))
        with pytest.warns(UserWarning, match=r"^Implicit dimension choice"):
            ref = theirs(torch.tensor(x))
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message="Implicit dimension choice")
        gg.nn.functional.softmin(gg.tensor(x))  # silenced, so no error


def test_one_layer_lstm_dropout_warning_filterable_by_torch_words(torch):
    """The TFT builds one-layer LSTMs with dropout=0.05: both frameworks warn, with the same opening
    words, so one filterwarnings line silences both."""
    words = "dropout option adds dropout after all but last recurrent layer"
    with pytest.warns(UserWarning, match="^" + words):
        torch.nn.LSTM(4, 4, num_layers=1, dropout=0.05)
    with pytest.warns(UserWarning, match="^" + words + r".*LSTM: dropout=0.05"):
        gg.nn.LSTM(4, 4, num_layers=1, dropout=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message=words)
        gg.nn.GRU(4, 4, dropout=0.05)
