"""Sequence layers ``RNN``, ``LSTM``, ``GRU``: stacked, optionally bidirectional recurrences.

How one layer runs (the same for all three):

1. the input of every time step is projected at once, ``xg = x W_ih^T + b_ih`` (one matmul);
2. one fused op of ``ops/recurrent.py`` runs the loop over time steps and, in backward, the loop
   back through them (backpropagation through time written by hand); the reverse direction is
   the same op walking the steps from the end;
3. the two directions' outputs are joined feature-wise and feed the next layer (through dropout
   in training when ``dropout > 0``).

An LSTM without ``proj_size`` whose sequences all run every step (any padded batch) takes a faster
route for steps 1 and 2: ``ops/recurrent_dense.py``'s ``LSTMDense``, the same layer in a
feature-major layout with the projection inside its per-step product.

float16 layers take neither: PyTorch's CPU runs them op by op through its generic cells, and
``nn/rnn_half.py`` does the same, so they round where PyTorch's do.

Internally every batch is in the packed layout of ``nn.utils.rnn`` (step after step of rows): a
padded ``(T, N, I)`` batch is reshaped to ``(T * N, I)`` with ``N`` rows at every step, and a
``PackedSequence`` is used as it is, so padded steps are never computed.
"""

from __future__ import annotations

import math
import sys
import warnings
from typing import Any

import glassgrad.nn.functional as F
from glassgrad import dtypes
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.factories import empty
from glassgrad.nn import init
from glassgrad.nn.module import Parameter
from glassgrad.nn.rnn_checks import LSTMChecks, RNNChecks, RNNInputDTypeError
from glassgrad.nn.rnn_flat_weights import FlatWeights
from glassgrad.nn.rnn_forward import RNNForward
from glassgrad.nn.rnn_half import half_layer
from glassgrad.ops.joining import cat, stack
from glassgrad.ops.pieces import split
from glassgrad.ops.recurrent import GRUSeq, LSTMSeq, RNNSeq
from glassgrad.ops.recurrent_dense import LSTMDense
from glassgrad.tensor import Tensor

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNInputDTypeError"]

_F16 = dtypes.float16
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _caller_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside glassgrad.nn (each constructor is wrapped)."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("glassgrad.nn"):
        frame, level = frame.f_back, level + 1
    return level


class RNNBase(RNNForward, RNNChecks, FlatWeights):
    """What the three layers share: parameters, state handling, layers and directions.

    Parameters per layer ``k`` and direction (suffix ``_reverse`` for the backward one), named as
    PyTorch so state_dicts move both ways: ``weight_ih_l{k}`` (G*H, I_k), ``weight_hh_l{k}``
    (G*H, P), ``bias_ih_l{k}``, ``bias_hh_l{k}`` (G*H,), and with ``proj_size`` P > 0 (LSTM only)
    ``weight_hr_l{k}`` (P, H); P = H without projection. I_0 = input_size, I_k = D * P after.
    All are initialised U(-1/sqrt(H), 1/sqrt(H)).
    """

    _checks_base: type = RNNChecks  # whose checking helpers the fast path may trust (rnn_forward)

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if mode not in _GATES:  # PyTorch's words first
            raise ValueError(f"Unrecognized RNN mode: {mode} ({name}: expected one of {', '.join(_GATES)})")
        for key, v, low in (("input_size", input_size, 1), ("hidden_size", hidden_size, 1),
                            ("num_layers", num_layers, 1), ("proj_size", proj_size, 0)):  # fmt: skip
            if not isinstance(v, int) or isinstance(v, bool):  # PyTorch's TypeError, a tensor too
                raise TypeError(f"{name}: {key} should be of type int, got: {type(v).__name__} {v!r}")
            if v < low:
                raise ValueError(f"{name}: expected {key} to be an int >= {low}, got {v!r}")
        if bias is not True and bias is not False:  # PyTorch's check and words: bias=0 is refused
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__} ({name})")
        if batch_first is not True and batch_first is not False:  # PyTorch's check: "no" read as True
            raise TypeError(f"{name}: batch_first should be of type bool, got: {type(batch_first).__name__}")
        if not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(f"{name}: expected dropout in [0, 1], got {dropout!r}")
        if dropout > 0 and num_layers == 1:  # PyTorch's warning: dropout only acts between layers
            warnings.warn(
                # Opens with PyTorch's words, which programs pass to filterwarnings(message=...).
                f"dropout option adds dropout after all but last recurrent layer ({name}: "
                f"dropout={dropout} has no effect with num_layers={num_layers}: it is applied to "
                "the outputs of every layer but the last, so it needs num_layers greater than 1)",
                UserWarning,
                stacklevel=_caller_stacklevel(),
            )
        if proj_size and mode != "LSTM":
            raise ValueError(f"{name}: proj_size is supported only by LSTM, got proj_size={proj_size}")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: expected proj_size < hidden_size ({hidden_size}), got {proj_size}")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        dt = dtype if dtype is not None else dtypes.get_default_dtype()
        gates = _GATES[mode] * hidden_size
        real = proj_size or hidden_size
        dirs = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        # The names grouped per layer and direction: programs walk this to find e.g. the biases.
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            width = input_size if layer == 0 else real * dirs
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                shapes = [("weight_ih", (gates, width)), ("weight_hh", (gates, real))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for pname, shape in shapes:
                    setattr(self, pname + sfx, Parameter(empty(*shape, dtype=dt)))
                    self._flat_weights_names.append(pname + sfx)
                self._all_weights.append([pname + sfx for pname, _ in shapes])
        self._init_flat_weights()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def flatten_parameters(self) -> None:
        """Nothing to do: PyTorch compacts weights for cuDNN here; kept so ported code runs."""

    @property
    def all_weights(self) -> list[list[Tensor]]:
        """The parameters grouped per layer and direction, as PyTorch's ``all_weights``."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s  # PyTorch's RNNBase.extra_repr: an RNN's nonlinearity is not shown (its cell's is)

    # ------------------------------------------------------------------ forward
    def _layout(self, data: Tensor, packed: Any, checked: bool) -> tuple[Tensor, tuple[int, ...]]:
        """``(x (S, I), batch_sizes)`` in the packed layout, from packed data or a 3-D batch."""
        if packed is not None:
            sizes = tuple(int(b) for b in packed.batch_sizes._data)
            if not checked and (data.ndim != 2 or data.shape[1] != self.input_size):
                raise ShapeError(
                    f"{type(self).__name__}: expected packed data (S, {self.input_size}), got {tuple(data.shape)}"
                )
            return data, sizes
        if not checked and data.shape[-1] != self.input_size:  # an override of the checks let it by
            raise ShapeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {data.shape[-1]}"
            )
        if self.batch_first:
            data = data.transpose(0, 1)  # (N, T, I) -> (T, N, I)
        steps, n = data.shape[0], data.shape[1]
        if steps == 0:  # PyTorch's kernel refuses it; run on, the output would lose its batch dim
            raise ShapeError(
                f"Expected sequence length to be larger than 0 in RNN ({type(self).__name__}: got input "
                f"{tuple(data.shape)} as (T, N, I))"
            )
        return data.reshape(steps * n, self.input_size), (n,) * steps  # -> (T * N, I)

    def _state(self, hx: Any, want: tuple[int, int, int], dtype: Any, checked: bool) -> Tensor:
        """The prepared state ``(L*D, N, width)``, looked at again where no check has (an
        override of the checks, LSTM's packed path)."""
        if not isinstance(hx, Tensor):
            raise TypeError(f"{type(self).__name__}: expected the state as a Tensor, got {type(hx).__name__}")
        if not checked and tuple(hx.shape) != want:
            raise ShapeError(f"Expected hidden size {want}, got {list(hx.shape)}")
        if hx.dtype != dtype:
            raise DTypeError(
                f"{type(self).__name__}: expected a hidden state of the input's dtype {dtype}, got {hx.dtype}"
            )
        return hx

    def _run(self, data: Tensor, packed: Any, h0: Any, c0: Any, checked: bool) -> tuple[Any, Tensor, Any]:
        """The layers on a prepared state (in a packed batch's sorted order): ``(output, h_n,
        c_n or None)``, output packed data or ``(T, N, D*P)`` (``(N, T, D*P)`` with batch_first)."""
        x, sizes = self._layout(data, packed, checked)
        flat = self._flat_weights  # as PyTorch, forward runs with this list (assignable)
        w = flat[0]
        if x.dtype != w.dtype:  # checked here as well: LSTM's packed path has no check_forward_args
            raise RNNInputDTypeError(
                f"RNN input dtype ({x.dtype}) does not match weight dtype ({w.dtype}). "
                f"Convert input: input.to({w.dtype}), or convert model: model.to({x.dtype})"
            )
        n = sizes[0] if sizes else 0
        real = self.proj_size or self.hidden_size
        lstm = self.mode == "LSTM"
        dirs = 2 if self.bidirectional else 1
        h0 = self._state(h0, (self.num_layers * dirs, n, real), x.dtype, checked)
        c0 = (
            self._state(c0, (self.num_layers * dirs, n, self.hidden_size), x.dtype, checked) if lstm else None
        )
        s = x.shape[0]
        per = len(flat) // (self.num_layers * dirs)
        weights = [flat[i : i + per] for i in range(0, len(flat), per)]
        # Every sequence runs every step and no projection: the feature-major dense op is faster.
        dense = lstm and not self.proj_size and n > 0 and all(b == n for b in sizes)
        half = x.dtype == _F16 and n > 0  # PyTorch's per-op float16 rounding (nn/rnn_half.py)
        # float16's first layer projects the (T, N, I) input as PyTorch does: a batch_first one is
        # a transposed view there, whose bias is added after the product is rounded (F.linear)
        first = (data.transpose(0, 1) if self.batch_first else data) if half and packed is None else x
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                w = weights[k]
                w_ih, w_hh = w[0], w[1]
                b_ih, b_hh = (w[2], w[3]) if self.bias else (None, None)
                w_hr = w[-1] if self.proj_size else None
                rev = d == 1
                if half:
                    ys, yh, yc = half_layer(self.mode, first if layer == 0 else x, h0[k], c0[k] if lstm else None,
                                            (w_ih, w_hh, b_ih, b_hh, w_hr), sizes, rev)  # fmt: skip
                    outs.append(ys)
                    h_n.append(yh)
                    if lstm:
                        c_n.append(yc)
                    continue
                if dense:
                    y = LSTMDense.apply(
                        x, h0[k], c0[k], w_ih, w_hh, b_ih, b_hh, steps=len(sizes), reverse=rev
                    )
                    ys, yh, yc = split(y, [s, n, n])  # one node: backward fills one buffer, not three
                    # a fresh output, not a piece of split: PyTorch's may change in place (squeeze_)
                    outs.append(ys.clone())
                    h_n.append(yh)
                    c_n.append(yc)
                    continue
                xg = F.linear(x, w_ih, b_ih)  # (S, I_k) -> (S, G*H): every step's input at once
                if lstm:
                    y = LSTMSeq.apply(xg, h0[k], c0[k], w_hh, b_hh, w_hr, batch_sizes=sizes, reverse=rev)
                    outs.append(y[:s, :real])
                    h_n.append(y[s:, :real])
                    c_n.append(y[s:, real:])
                else:
                    if self.mode == "GRU":
                        y = GRUSeq.apply(xg, h0[k], w_hh, b_hh, batch_sizes=sizes, reverse=rev)
                    else:
                        act = "tanh" if self.mode == "RNN_TANH" else "relu"
                        y = RNNSeq.apply(
                            xg, h0[k], w_hh, b_hh, batch_sizes=sizes, reverse=rev, nonlinearity=act
                        )
                    outs.append(y[:s])
                    h_n.append(y[s:])
            x = cat(outs, dim=1) if dirs == 2 else outs[0]  # D x (S, P) -> (S, D*P)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        hn = stack(h_n)  # (L*D, N, P)
        cn = stack(c_n) if lstm else None
        if packed is not None:
            return x, hn, cn
        out = x.reshape(len(sizes), n, x.shape[1])  # (T * N, D*P) -> (T, N, D*P)
        if self.batch_first:
            out = out.transpose(0, 1)  # (T, N, D*P) -> (N, T, D*P)
        return out, hn, cn


_UNSET = object()


def _no_projection(proj_size: Any) -> None:
    """PyTorch's refusal of ``proj_size`` (any value, 0 too) given to RNN or GRU."""
    if proj_size is not _UNSET:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")


class RNN(RNNBase):
    """Elman RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``, act = tanh or relu.

    Args:
        input_size, hidden_size, num_layers, nonlinearity ("tanh" or "relu"), bias, batch_first,
        dropout (between layers, in training), bidirectional: as ``torch.nn.RNN``.

    Shape:
        input ``(T, N, I)`` (``(N, T, I)`` with batch_first), ``(T, I)`` unbatched, or a
        ``PackedSequence``; h_0 ``(L*D, N, H)`` (zeros when omitted) -> ``(output, h_n)`` with output
        ``(T, N, D*H)`` (or packed) and h_n ``(L*D, N, H)``.

    >>> import glassgrad as gg
    >>> out, h = RNN(3, 5, num_layers=2)(gg.randn(7, 2, 3))
    >>> tuple(out.shape), tuple(h.shape)
    ((7, 2, 5), (2, 2, 5))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device: Any = None, dtype: Any = None,
                 *, proj_size: Any = _UNSET) -> None:  # fmt: skip
        _no_projection(proj_size)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)  # fmt: skip
        self.nonlinearity = nonlinearity

    def forward(self, input: Any, hx: Tensor | None = None) -> tuple[Any, Tensor]:  # noqa: A002
        return self._forward_single(input, hx)


class LSTM(LSTMChecks, RNNBase):
    """Long short-term memory, gate rows i, f, g, o (see ``LSTMCell``), optional projection
    ``h_t = (o * tanh(c_t)) W_hr^T`` of size ``proj_size``.

    Shape:
        input as ``RNN``; hx a pair ``(h_0 (L*D, N, P), c_0 (L*D, N, H))`` (zeros when omitted) ->
        ``(output, (h_n, c_n))`` with output ``(T, N, D*P)`` (or packed); P = proj_size or H.

    >>> import glassgrad as gg
    >>> out, (h, c) = LSTM(3, 5, batch_first=True, bidirectional=True)(gg.randn(2, 7, 3))
    >>> tuple(out.shape), tuple(h.shape), tuple(c.shape)
    ((2, 7, 10), (2, 2, 5), (2, 2, 5))
    """

    _checks_base = LSTMChecks

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device: Any = None, dtype: Any = None) -> None:  # fmt: skip
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)  # fmt: skip

    def forward(
        self,
        input: Any,  # noqa: A002 - PyTorch's name
        hx: tuple[Tensor, Tensor] | None = None,
    ) -> tuple[Any, tuple[Tensor, Tensor]]:
        return self._forward_pair(input, hx)


class GRU(RNNBase):
    """Gated recurrent unit, gate rows r, z, n (see ``GRUCell``).

    Shape:
        as ``RNN``: ``(output, h_n)``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: Any = None, dtype: Any = None, *, proj_size: Any = _UNSET) -> None:  # fmt: skip
        _no_projection(proj_size)
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)  # fmt: skip

    def forward(self, input: Any, hx: Tensor | None = None) -> tuple[Any, Tensor]:  # noqa: A002
        return self._forward_single(input, hx)
