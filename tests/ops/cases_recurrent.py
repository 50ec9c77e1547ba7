"""Gradcheck cases for ops/recurrent.py (rnn_seq, lstm_seq, gru_seq) on packed layouts, and for
ops/recurrent_dense.py (lstm_dense) on full batches."""

from __future__ import annotations

from hypothesis import strategies as st

from glassgrad.ops import recurrent as R
from glassgrad.ops.recurrent_dense import LSTMDense
from tests.ops.harness import case, values


def _layout(draw) -> tuple[tuple[int, ...], int, bool]:
    """Non-increasing batch sizes (a packed batch), the batch size N and a direction."""
    n = draw(st.integers(1, 3))
    t = draw(st.integers(1, 4))
    sizes = sorted((draw(st.integers(1, n)) for _ in range(t)), reverse=True)
    sizes[0] = n
    return tuple(sizes), n, draw(st.booleans())


def _maybe(draw, shape: tuple):
    return values(draw, shape, -0.5, 0.5) if draw(st.booleans()) else None


@case("rnn_seq")
def _rnn(draw):
    sizes, n, rev = _layout(draw)
    h = draw(st.integers(1, 3))
    act = draw(st.sampled_from(["tanh", "relu"]))
    # relu's kink: with |xg| >= 0.2 and recurrent weights within 0.01 (|h W_hh^T| < 0.07), no
    # pre-activation comes near 0, so central differences never straddle it.
    relu = act == "relu"
    xg = values(draw, (sum(sizes), h), away=0.2 if relu else 0.0)
    w = values(draw, (h, h), -0.01, 0.01) if relu else values(draw, (h, h), -1, 1)
    raw = (xg, values(draw, (n, h), -1, 1), w)

    def fn(xg, h0, w, b):
        return R.RNNSeq.apply(xg, h0, w, b, batch_sizes=sizes, reverse=rev, nonlinearity=act)

    return fn, (*raw, None if relu else _maybe(draw, (h,)))


@case("lstm_seq")
def _lstm(draw):
    sizes, n, rev = _layout(draw)
    h = draw(st.integers(1, 3))
    p = draw(st.integers(1, 3)) if draw(st.booleans()) else None
    ph = p or h
    raw = (
        values(draw, (sum(sizes), 4 * h)),
        values(draw, (n, ph), -1, 1),
        values(draw, (n, h), -1, 1),
        values(draw, (4 * h, ph), -1, 1),
        _maybe(draw, (4 * h,)),
        values(draw, (p, h), -1, 1) if p else None,
    )

    def fn(xg, h0, c0, w, b, wr):
        return R.LSTMSeq.apply(xg, h0, c0, w, b, wr, batch_sizes=sizes, reverse=rev)

    return fn, raw


@case("lstm_dense")
def _lstm_dense(draw):
    steps, n, i, h = (draw(st.integers(1, 3)) for _ in range(4))
    rev = draw(st.booleans())
    raw = (
        values(draw, (steps * n, i)),
        values(draw, (n, h), -1, 1),
        values(draw, (n, h), -1, 1),
        values(draw, (4 * h, i), -1, 1),
        values(draw, (4 * h, h), -1, 1),
        _maybe(draw, (4 * h,)),
        _maybe(draw, (4 * h,)),
    )

    def fn(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        return LSTMDense.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, steps=steps, reverse=rev)

    return fn, raw


@case("gru_seq")
def _gru(draw):
    sizes, n, rev = _layout(draw)
    h = draw(st.integers(1, 3))
    raw = (
        values(draw, (sum(sizes), 3 * h)),
        values(draw, (n, h), -1, 1),
        values(draw, (3 * h, h), -1, 1),
        _maybe(draw, (3 * h,)),
    )

    def fn(xg, h0, w, b):
        return R.GRUSeq.apply(xg, h0, w, b, batch_sizes=sizes, reverse=rev)

    return fn, raw
