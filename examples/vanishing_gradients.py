"""Vanishing gradients made visible: a tanh RNN against an LSTM over time, and a deep sigmoid MLP
against a ReLU one over depth.

Run it with ``.venv/bin/python examples/vanishing_gradients.py``. Nothing is trained: each model is
freshly initialised (PyTorch's init), a loss is taken on its LAST output only, and we read how much
gradient reaches each earlier time step (``||d loss / d h_t||``, via ``glassgrad.gradflow``) or each
layer (``||d loss / d W||``). Why they differ:

- tanh RNN: d h_t / d h_{t-1} = diag(1 - h_t^2) W_hh. Each step multiplies the gradient by a matrix
  whose norm is below 1 here, so it shrinks geometrically with distance.
- LSTM: the cell state is updated additively, c_t = f * c_{t-1} + i * g, so along c the gradient is
  multiplied by the forget gate f only: about 0.5 at PyTorch's init (already slower than the RNN),
  about 0.95 with a forget-gate bias of 3, where the gradient 49 steps back is still a fifth of
  the last step's while the RNN's has fallen by 13 orders of magnitude.
- Sigmoid MLP: s'(x) <= 1/4, so every layer scales the backward signal by at most a quarter times
  the weights: the first layers of a deep stack barely learn. ReLU's slope is 0 or 1.
"""

from __future__ import annotations

import numpy as np

import glassgrad as gg
from glassgrad import nn
from glassgrad.gradflow import layer_grad_norms, step_grad_norms, unroll

__all__ = ["time_profile", "depth_profile", "main"]


def time_profile(kind: str, steps: int = 50, hidden: int = 32, forget_bias: float = 0.0) -> np.ndarray:
    """``||d loss / d h_t||`` for t = 0..steps-1, the loss being the sum of the last state.

    Args:
        kind: ``"RNN"`` (tanh) or ``"LSTM"``.
        forget_bias: added to an LSTM's forget-gate bias (0 keeps PyTorch's init).

    Shape:
        returns ``(steps,)``.
    """
    gg.manual_seed(0)
    cell = nn.RNNCell(8, hidden) if kind == "RNN" else nn.LSTMCell(8, hidden)
    if kind == "LSTM" and forget_bias:
        with gg.no_grad():
            cell.bias_ih[hidden : 2 * hidden] += forget_bias
    states = unroll(cell, gg.randn(steps, 16, 8))  # (T, N, I): a batch of 16 random sequences
    last = states[-1][0] if kind == "LSTM" else states[-1]
    last.sum().backward()
    return step_grad_norms(states)


def depth_profile(activation: str, depth: int = 10, width: int = 64) -> list[float]:
    """``||d loss / d W_l||`` for each of ``depth`` Linear layers, input side first.

    Each network gets the init designed for it (Xavier for sigmoid, He/Kaiming for ReLU, zero
    biases), so the sigmoid's decay is its slope's doing, not a poor init's.
    """
    gg.manual_seed(0)
    layers: list[nn.Module] = []
    for _ in range(depth):
        fc = nn.Linear(width, width)
        if activation == "sigmoid":
            nn.init.xavier_uniform_(fc.weight)
        else:
            nn.init.kaiming_normal_(fc.weight, nonlinearity="relu")
        nn.init.zeros_(fc.bias)
        layers += [fc, nn.Sigmoid() if activation == "sigmoid" else nn.ReLU()]
    model = nn.Sequential(*layers)
    model(gg.randn(128, width)).pow(2).mean().backward()
    return list(layer_grad_norms(model).values())


def main(steps: int = 50) -> None:
    rnn, lstm = time_profile("RNN", steps), time_profile("LSTM", steps)
    lstm_fb = time_profile("LSTM", steps, forget_bias=3.0)
    print(f"||d loss / d h_t|| relative to the last step (loss on step {steps - 1} only)")
    print(f"{'steps back':>10}  {'tanh RNN':>10}  {'LSTM':>10}  {'LSTM, f-bias 3':>14}")
    for back in (0, 1, 2, 5, 10, 20, 30, 40, steps - 1):
        if back < steps:
            t = steps - 1 - back
            print(
                f"{back:>10}  {rnn[t] / rnn[-1]:>10.2e}  {lstm[t] / lstm[-1]:>10.2e}  {lstm_fb[t] / lstm_fb[-1]:>14.2e}"
            )
    print()
    sig, relu = depth_profile("sigmoid"), depth_profile("relu")
    print("||d loss / d W|| per layer of a 10-layer MLP (layer 1 = input side)")
    print(f"{'layer':>5}  {'sigmoid':>10}  {'relu':>10}")
    for i, (a, b) in enumerate(zip(sig, relu), start=1):
        print(f"{i:>5}  {a:>10.2e}  {b:>10.2e}")
    print(f"first / last layer: sigmoid {sig[0] / sig[-1]:.1e}, relu {relu[0] / relu[-1]:.1e}")


if __name__ == "__main__":
    main()
