"""One time step of a recurrent network: ``RNNCell``, ``LSTMCell``, ``GRUCell``.

Each cell is written with ordinary ops (two ``F.linear`` calls, the gate nonlinearities, products),
so its forward reads like the equations and autograd derives its backward: the steps of
``nn/rnn_half.py``, PyTorch's generic cells op for op (so float16 rounds where PyTorch's does). The sequence layers in
``nn/rnn.py`` run the same equations through the fused ops of ``ops/recurrent.py``; the tests check
the two against each other and against PyTorch.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import glassgrad.nn.functional as F
from glassgrad import dtypes
from glassgrad.errors import IndexOutOfRangeError, ShapeError
from glassgrad.factories import empty, zeros
from glassgrad.nn import init
from glassgrad.nn.module import Module, Parameter
from glassgrad.nn.rnn_half import gru_step, lstm_step, rnn_step
from glassgrad.tensor import Tensor

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


def _size(name: str, key: str, v: Any) -> int:
    if isinstance(v, bool) or not hasattr(v, "__index__"):
        raise TypeError(f"{name}: expected {key} to be an int, got {type(v).__name__} {v!r}")
    try:
        n = operator.index(v)
    except TypeError as e:  # a float tensor, or one of several elements
        raise TypeError(f"{name}: expected {key} to be an int, got {v!r} ({e})") from None
    if n < 0:  # 0 is PyTorch's too (an empty hidden state)
        raise ValueError(f"{name}: expected {key} to be a non-negative int, got {n}")
    return n


class RNNCellBase(Module):
    """Parameters ``weight_ih`` (G*H, I), ``weight_hh`` (G*H, H), ``bias_ih``, ``bias_hh`` (G*H,),
    all initialised U(-1/sqrt(H), 1/sqrt(H)) as PyTorch; G is the number of gates."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        # PyTorch takes any integer (a 0-d integer tensor too: SpeechBrain's cells pass
        # torch.prod(torch.tensor(input_shape[1:]))); each is kept here as a Python int
        input_size, hidden_size = (_size(type(self).__name__, k, v) for k, v in
                                   (("input_size", input_size), ("hidden_size", hidden_size)))  # fmt: skip
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        dt = dtype if dtype is not None else dtypes.get_default_dtype()
        kw = {"dtype": dt, "device": device}
        self.weight_ih = Parameter(empty(num_chunks * hidden_size, input_size, **kw))
        self.weight_hh = Parameter(empty(num_chunks * hidden_size, hidden_size, **kw))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, **kw))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0  # as PyTorch
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"  # unquoted, as PyTorch's str.format
        return s

    def _prepare(self, x: Tensor, hx: Tensor | None) -> tuple[Tensor, Tensor | None, bool]:
        """Input as (N, I) and hx as (N, H) (an unbatched 1-D x gains a batch of one)."""
        name = type(self).__name__
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ShapeError(
                f"{name}: expected input (N, {self.input_size}) or ({self.input_size},), got {tuple(x.shape)}"
            )
        batched = x.ndim == 2
        if not batched:
            x = x.unsqueeze(0)  # (I,) -> (1, I)
            hx = hx.unsqueeze(0) if hx is not None else None  # (H,) -> (1, H)
        if hx is not None and tuple(hx.shape) != (x.shape[0], self.hidden_size):
            # PyTorch reads dim 1 of a 1-D state beside a batched input: its IndexError (a ShapeError too)
            raise (IndexOutOfRangeError if hx.ndim < 2 else ShapeError)(
                f"{name}: expected hidden state ({x.shape[0]}, {self.hidden_size}), got {tuple(hx.shape)}"
            )
        return x, hx, batched

    def _zeros(self, x: Tensor) -> Tensor:
        return zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)


class RNNCell(RNNCellBase):
    """``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``, act = tanh or relu.

    Shape:
        input ``(N, I)`` or ``(I,)``, hx ``(N, H)`` or ``(H,)`` (zeros when omitted) -> h' like hx.
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
        device: Any = None, dtype: Any = None,
    ) -> None:  # fmt: skip
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: expected nonlinearity 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, h, batched = self._prepare(input, hx)
        h = self._zeros(x) if h is None else h
        out = rnn_step(
            F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh, self.nonlinearity
        )
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """``[i, f, g, o] = [s, s, tanh, s](x W_ih^T + b_ih + h W_hh^T + b_hh)``;
    ``c' = f * c + i * g``; ``h' = o * tanh(c')`` (s the sigmoid; gate rows in the order i, f, g, o).

    Shape:
        input ``(N, I)`` or ``(I,)``, hx a pair ``(h, c)`` of ``(N, H)`` (zeros when omitted) ->
        ``(h', c')``.
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        if hx is not None and getattr(input, "ndim", None) == 2:
            # PyTorch hands a batched input's state to lstm_cell as it is: a stacked (2, N, H)
            # tensor is refused there, not read as (h, c) (an unbatched one is indexed, as here)
            if not isinstance(hx, (tuple, list)):
                raise TypeError(
                    f"lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, not {type(hx).__name__}"
                )
            if len(hx) != 2:
                raise ShapeError(f"lstm_cell expects two hidden states (LSTMCell: got {len(hx)})")
        h0, c0 = (hx[0], hx[1]) if hx is not None else (None, None)
        x, h, batched = self._prepare(input, h0)
        _, c, _ = self._prepare(input, c0)
        h = self._zeros(x) if h is None else h
        c = self._zeros(x) if c is None else c
        h_new, c_new = lstm_step(
            F.linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh
        )
        return (h_new, c_new) if batched else (h_new.squeeze(0), c_new.squeeze(0))


class GRUCell(RNNCellBase):
    """``r = s(W_ir x + b_ir + W_hr h + b_hr)``, ``z`` likewise,
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.

    Shape:
        input ``(N, I)`` or ``(I,)``, hx ``(N, H)`` or ``(H,)`` (zeros when omitted) -> h' like hx.
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, h, batched = self._prepare(input, hx)
        h = self._zeros(x) if h is None else h
        out = gru_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return out if batched else out.squeeze(0)
