"""One time step of each recurrence as PyTorch's generic cells write it, and float16 layers made of them.

PyTorch's CPU runs a float16 ``RNN``/``LSTM``/``GRU`` (no fused kernel there) as its generic C++
layer: the input projection of every step at once, then per step the cell below, each op a float16
tensor op (computed in float32, rounded once) and backward derived by autograd. Checked bit for bit
against PyTorch 2.13 (forward, input, state and weight gradients, weights scaled 1 to 1000).
glassgrad's fused ops (``ops/recurrent.py``, ``ops/recurrent_dense.py``) round elsewhere (the
sigmoid as exp, + 1, reciprocal; slopes multiplied out ahead of the incoming gradient), which in
float16 put the gate gradients of saturated gates into the subnormal range: 7x PyTorch's error.
So float16 layers run these steps op by op, as PyTorch does; float32/float64 keep the fused ops.

The cells (``nn/rnn_cells.py``) are these steps after their own input projection, in every dtype,
so their rounding is PyTorch's too (GRU: ``(h - n) * z + n``, not ``(1 - z) * n + z * h``).
"""

from __future__ import annotations

from typing import Any

import glassgrad.nn.functional as F
from glassgrad.ops.joining import cat
from glassgrad.ops.pieces import split
from glassgrad.tensor import Tensor

__all__ = ["rnn_step", "lstm_step", "gru_step", "half_layer"]


def rnn_step(xg: Tensor, h: Tensor, w_hh: Tensor, b_hh: Any, nonlinearity: str) -> Tensor:
    """``act(h W_hh^T + b_hh + xg)``: xg (N, H) the step's input projection, h (N, H) -> (N, H)."""
    pre = F.linear(h, w_hh, b_hh) + xg
    return F.tanh(pre) if nonlinearity == "tanh" else F.relu(pre)


def lstm_step(
    xg: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Any, w_hr: Any = None
) -> tuple[Tensor, Tensor]:
    """One LSTM step: xg (N, 4H) the input projection (gate columns i, f, g, o), h (N, P), c (N, H)
    -> (h' (N, P), c' (N, H)); ``w_hr`` (P, H) projects h' when given."""
    i, f, g, o = (F.linear(h, w_hh, b_hh) + xg).chunk(4, 1)  # (N, 4H) -> 4 x (N, H)
    c_new = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)
    h_new = F.sigmoid(o) * F.tanh(c_new)
    return (h_new if w_hr is None else F.linear(h_new, w_hr)), c_new


def gru_step(xg: Tensor, h: Tensor, w_hh: Tensor, b_hh: Any) -> Tensor:
    """One GRU step: xg (N, 3H) the input projection (gate columns r, z, n), h (N, H) -> (N, H)."""
    xr, xz, xn = xg.chunk(3, 1)
    hr, hz, hn = F.linear(h, w_hh, b_hh).chunk(3, 1)
    r = F.sigmoid(hr + xr)
    z = F.sigmoid(hz + xz)
    n = F.tanh(xn + hn * r)
    return (h - n) * z + n


def half_layer(
    mode: str, x: Tensor, h0: Tensor, c0: Any, w: tuple[Any, ...], sizes: tuple[int, ...], reverse: bool
) -> tuple[Tensor, Tensor, Any]:
    """One direction of a layer, step by step: ``(outputs (S, P), h_n (N, P), c_n (N, H) or None)``.

    ``x`` (S, I) in the packed layout with ``sizes`` rows per step (sorted, non-increasing), or a
    padded (T, N, I) (then every size is N) as the caller's linear should see it, ``h0``
    (N, P), ``c0`` (N, H) for an LSTM, ``w`` = (w_ih, w_hh, b_ih, b_hh, w_hr), any of the last
    three None. A sequence's state stops at its last step (PyTorch's PackedLayer and
    ReversedPackedLayer: the state shrinks as sequences end, or grows as they start in reverse).
    """
    w_ih, w_hh, b_ih, b_hh, w_hr = w
    lstm = mode == "LSTM"
    xg = F.linear(x, w_ih, b_ih)  # every step's projection at once, as PyTorch
    xs = split(xg.reshape(-1, xg.shape[-1]) if xg.ndim == 3 else xg, list(sizes))
    order = range(len(sizes) - 1, -1, -1) if reverse else range(len(sizes))
    h, c = h0, c0
    if reverse and sizes[-1] < h0.shape[0]:  # only the sequences that run the last step start there
        h, c = h0[: sizes[-1]], (c0[: sizes[-1]] if lstm else None)
    outs: list[Any] = [None] * len(sizes)
    ended: list[tuple[Tensor, Any]] = []  # (h, c) rows of the sequences that ended, in that order
    for t in order:
        b = sizes[t]
        rows = h.shape[0]
        if b < rows:  # sequences rows b.. ended at the previous step
            ended.append((h[b:], c[b:] if lstm else None))
            h, c = h[:b], (c[:b] if lstm else None)
        elif b > rows:  # reverse: sequences rows..b start here, from their initial states
            h = cat([h, h0[rows:b]])
            c = cat([c, c0[rows:b]]) if lstm else None
        xg = xs[t]
        if lstm:
            h, c = lstm_step(xg, h, c, w_hh, b_hh, w_hr)
        elif mode == "GRU":
            h = gru_step(xg, h, w_hh, b_hh)
        else:
            h = rnn_step(xg, h, w_hh, b_hh, "tanh" if mode == "RNN_TANH" else "relu")
        outs[t] = h
    if ended:  # the final states back in the batch's row order
        h = cat([h] + [e[0] for e in ended[::-1]])
        c = cat([c] + [e[1] for e in ended[::-1]]) if lstm else None
    return cat(outs), h, c
