"""Act 5: vanishing gradients, a vanilla RNN against an LSTM."""

from __future__ import annotations

import glassgrad as gg
from glassgrad import nn
from glassgrad.gradflow import step_grad_norms, unroll
from glassgrad.tour.report import Report

__all__ = ["gradient_flow_act"]


def gradient_flow_act(report: Report, quick: bool) -> None:
    s = report.section("5. Gradient flow through time: vanilla RNN vs LSTM")
    s.text(
        "The loss reads only the last hidden state of a 50-step sequence. ||dL/dh_t|| for earlier t shows how "
        "much of the gradient reaches step t: it shrinks geometrically in a tanh RNN and survives in an LSTM, "
        "whose cell state is carried by a sum (forget-gate bias initialised to 2 in total, the usual remedy)."
    )
    T = 50
    x = gg.randn(T, 8, 4)  # (T, N, I)
    ratios = {}
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    lstm = nn.LSTMCell(4, 32)
    with gg.no_grad():  # forget-gate bias 1 + 1: the usual remedy, so the cell starts out remembering
        lstm.bias_ih[32:64] = 1.0
        lstm.bias_hh[32:64] = 1.0
    for name, cell in (("RNN", nn.RNNCell(4, 32)), ("LSTM", lstm)):
        states = unroll(cell, x)
        last = states[-1][0] if isinstance(states[-1], tuple) else states[-1]
        last.pow(2).sum().backward()
        norms = step_grad_norms(states)
        ratios[name] = float(norms[0] / norms[-1])
        ax.semilogy(range(T), norms, label=name)
    ax.set_xlabel("time step t")
    ax.set_ylabel("||dL/dh_t||")
    ax.legend()
    s.figure(fig, "gradient flow through time")
    s.number("rnn_grad_ratio", "RNN ||dL/dh_0|| / ||dL/dh_T||", ratios["RNN"], "{:.2e}")
    s.number("lstm_grad_ratio", "LSTM ||dL/dh_0|| / ||dL/dh_T||", ratios["LSTM"], "{:.2e}")
