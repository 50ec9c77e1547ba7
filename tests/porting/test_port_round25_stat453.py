"""Round 25, stat453 course notebooks (rasbt/stat453-deep-learning-ss21): the helpers'
``set_deterministic`` calls ``torch.use_deterministic_algorithms(True)``; glassgrad lacked the
name. The switch, its warn-only flag and the debug mode are kept and read back as PyTorch's."""

from __future__ import annotations

import pytest

import glassgrad


@pytest.fixture(autouse=True)
def _restore():
    yield
    glassgrad.use_deterministic_algorithms(False)


def _trace(lib):
    out = [lib.are_deterministic_algorithms_enabled(), lib.get_deterministic_debug_mode()]
    lib.use_deterministic_algorithms(True, warn_only=True)
    out += [lib.are_deterministic_algorithms_enabled(), lib.is_deterministic_algorithms_warn_only_enabled()]
    out.append(lib.get_deterministic_debug_mode())
    for mode in ("error", 0, "warn", 2, "default"):
        lib.set_deterministic_debug_mode(mode)
        out += [lib.get_deterministic_debug_mode(), lib.are_deterministic_algorithms_enabled()]
    return out


def test_deterministic_switch_matches_torch(torch):
    try:
        expected = _trace(torch)
    finally:
        torch.use_deterministic_algorithms(False)
    assert _trace(glassgrad) == expected


def test_deterministic_bad_input_names_the_op():
    with pytest.raises(TypeError, match="use_deterministic_algorithms"):
        glassgrad.use_deterministic_algorithms(1)
    with pytest.raises(RuntimeError, match="set_deterministic_debug_mode"):
        glassgrad.set_deterministic_debug_mode("bogus")
    with pytest.raises(RuntimeError, match="expected 0, 1, or 2"):
        glassgrad.set_deterministic_debug_mode(5)
    with pytest.raises(TypeError, match="must be str or int"):
        glassgrad.set_deterministic_debug_mode(1.0)


def test_course_helper_set_deterministic_runs():
    # helper_evaluation.py's else-branch (the notebooks gate on torch.__version__)
    glassgrad.use_deterministic_algorithms(True)
    assert glassgrad.are_deterministic_algorithms_enabled()


def _lstm_squeeze_(lib):
    # the char-RNN notebook (nn.LSTM version) does ``output.squeeze_(0)`` on the LSTM's output;
    # float64 keeps PyTorch on its native path (float32 CPU's oneDNN layer saves the output
    # and so refuses the backward)
    lib.manual_seed(0)
    rnn = lib.nn.LSTM(4, 5).double()
    out, (h, _c) = rnn(lib.ones(1, 1, 4, dtype=lib.float64))
    out.squeeze_(0)
    (out.sum() + h.sum()).backward()
    return tuple(out.shape), rnn.weight_hh_l0.grad.shape


def test_lstm_output_may_change_in_place(torch):
    assert tuple(_lstm_squeeze_(glassgrad)[0]) == tuple(_lstm_squeeze_(torch)[0]) == (1, 5)
