"""Make vanishing and exploding gradients visible: d loss / d h_t per time step, and the gradient
norm of each layer.

The fused sequence layers (``nn.LSTM`` ...) keep their per-step states inside one op, so to see
the gradient reaching every ``h_t`` the recurrence is unrolled here with the matching cell: each
step's state is its own tensor, ``retain_grad()`` keeps its gradient, and after ``backward`` the
norm of ``h_t.grad`` is the total derivative of the loss with respect to ``h_t`` (through every
later step), which is what vanishes in a tanh RNN and survives in an LSTM.

>>> import glassgrad as gg
>>> import glassgrad.nn as nn
>>> _ = gg.manual_seed(0)
>>> cell = nn.RNNCell(2, 4)
>>> states = unroll(cell, gg.randn(10, 3, 2))
>>> states[-1].sum().backward()
>>> norms = step_grad_norms(states)
>>> norms.shape, bool(norms[0] < norms[-1])
((10,), True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.nn.module import Module
from glassgrad.tensor import Tensor

__all__ = ["unroll", "step_grad_norms", "layer_grad_norms"]


def unroll(cell: Module, inputs: Tensor, state: Any = None) -> list[Any]:
    """Run ``cell`` over the time steps of ``inputs``, keeping each step's state with its gradient.

    Args:
        cell: an ``RNNCell``, ``GRUCell`` (state h) or ``LSTMCell`` (state (h, c)).
        inputs: ``(T, N, I)``, time first.
        state: the initial state (zeros when None).

    Returns:
        the T states in order, each ``h_t`` (or ``(h_t, c_t)``); every ``h_t`` retains its gradient.
    """
    states = []
    for t in range(inputs.shape[0]):
        state = cell(inputs[t], state)
        h = state[0] if isinstance(state, tuple) else state
        if h.requires_grad:
            h.retain_grad()
        states.append(state)
    return states


def step_grad_norms(states: list[Any]) -> np.ndarray:
    """``||d loss / d h_t||`` for each step (after ``backward``), 0 where no gradient arrived.

    Shape:
        returns ``(T,)``.
    """
    out = []
    for s in states:
        h = s[0] if isinstance(s, tuple) else s
        out.append(0.0 if h.grad is None else float(np.linalg.norm(h.grad._data)))
    return np.array(out)


def layer_grad_norms(model: Module, kind: str = "weight") -> dict[str, float]:
    """The L2 norm of each submodule's ``kind`` parameter gradient (after ``backward``), by name.

    With a stack of ``nn.Linear`` layers this lists, from input to output, how strongly each
    layer is being trained: a deep sigmoid network's first layers get orders of magnitude less
    than its last ones; with ReLU the norms stay within a small factor.
    """
    norms = {}
    for name, module in model.named_modules():
        p = getattr(module, kind, None) if name else None
        if isinstance(p, Tensor) and p.grad is not None:
            norms[name] = float(np.linalg.norm(p.grad._data))
    return norms
