"""Signatures a sweep against PyTorch 2.13 found different (round 45): parameter names, positions
and the arguments PyTorch added (stft's align_to_window, Hardtanh's deprecated spellings)."""

from __future__ import annotations

import inspect
import pickle

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn


def test_parameter_names_and_positions_match_pytorch(torch):
    for name in ("load", "split", "set_rng_state", "set_default_device", "stft"):
        ours = list(inspect.signature(getattr(gg, name)).parameters)
        theirs = list(inspect.signature(getattr(torch, name)).parameters)
        assert ours == theirs, name
    assert list(inspect.signature(gg.Tensor.split).parameters) == ["self", "split_size", "dim"]


def test_load_takes_pickle_module_third_and_weights_only_by_keyword(tmp_path):
    path = tmp_path / "t.pt"
    gg.save({"w": gg.arange(3.0)}, path)
    assert gg.load(path, None, pickle)["w"].tolist() == [0.0, 1.0, 2.0]  # accepted, not used
    assert gg.load(path, weights_only=False, encoding="latin1")["w"].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(TypeError):
        gg.load(path, None, None, True)  # weights_only is keyword-only, as PyTorch's


def test_keyword_calls():
    x = gg.arange(6.0)
    assert [p.tolist() for p in gg.split(tensor=x, split_size_or_sections=4)] == [[0, 1, 2, 3], [4, 5]]
    assert [p.tolist() for p in x.split(split_size=3)] == [[0, 1, 2], [3, 4, 5]]
    state = gg.get_rng_state()
    a = gg.rand(2)
    gg.set_rng_state(new_state=state)
    assert gg.equal(gg.rand(2), a)
    gg.set_default_device(device="cpu")
    assert gg.get_default_device() == gg.device("cpu")


def test_hardtanh_deprecated_spellings(torch):
    with pytest.warns(FutureWarning, match="`min_value` is deprecated"):
        ours = nn.Hardtanh(min_value=-2.0, max_value=3.0)
    with pytest.warns(FutureWarning):
        theirs = torch.nn.Hardtanh(min_value=-2.0, max_value=3.0)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize(
    ("length", "n_fft", "win", "hop"), [(20, 8, 4, 3), (16, 6, 6, 2), (40, 8, 4, 4), (9, 5, 3, 1)]
)
def test_stft_align_to_window_matches_pytorch(torch, length, n_fft, win, hop):
    x = np.random.default_rng(length).standard_normal((2, length))
    w = np.hanning(win + 2)[1:-1]
    kw = dict(hop_length=hop, win_length=win, center=False, return_complex=True)
    for align in (True, False, None):
        theirs = torch.stft(torch.tensor(x), n_fft, window=torch.tensor(w), align_to_window=align, **kw)
        ours = gg.stft(gg.tensor(x), n_fft, window=gg.tensor(w), align_to_window=align, **kw)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
    with pytest.raises(RuntimeError, match="only be set when center = false"):
        gg.stft(
            gg.tensor(x), n_fft, window=gg.tensor(w), center=True, align_to_window=False, return_complex=True
        )


def test_stft_align_to_window_frames_by_hand():
    # n_fft 4, window of 2 ones at offset 1: frame t is [0, x[t], x[t + 1], 0], its DFT at 0 the sum
    x = gg.tensor([1.0, 2.0, 4.0, 8.0], dtype=gg.float64)
    spec = gg.stft(x, 4, hop_length=1, win_length=2, window=gg.ones(2, dtype=gg.float64), center=False,
                   return_complex=True, align_to_window=True)  # fmt: skip
    assert spec.shape == (3, 3)
    assert spec[0].real.tolist() == [3.0, 6.0, 12.0]


def test_rnn_cell_base_takes_device(torch):
    import inspect as _inspect

    ours = list(_inspect.signature(nn.RNNCellBase.__init__).parameters)
    assert ours == list(_inspect.signature(torch.nn.RNNCellBase.__init__).parameters)
    cell = nn.LSTMCell(3, 4, device="meta")
    assert cell.weight_ih.device == gg.device("meta") and cell.weight_ih.shape == (16, 3)


def test_norm_takes_out_and_dtype_positionally_as_pytorch(torch):
    import inspect as _inspect

    assert [n for n in _inspect.signature(gg.norm).parameters][1:] == list(
        _inspect.signature(torch.norm).parameters
    )[1:]
    x = np.arange(6.0).reshape(2, 3)
    ours = gg.norm(gg.tensor(x), 2, 1, False, None, gg.float64)
    theirs = torch.norm(torch.tensor(x), 2, 1, False, None, torch.float64)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-15)
    out = gg.empty(2, dtype=gg.float64)
    assert gg.norm(gg.tensor(x), 2, 1, False, out) is out
    np.testing.assert_allclose(out.numpy(), theirs.numpy(), rtol=1e-15)
    assert gg.tensor(x.astype(np.float32)).norm(2, 1, False, gg.float64).dtype == gg.float64
