"""The recurrent layers as the functions under them: ``torch.lstm``, ``torch.gru``,
``torch.rnn_tanh``, ``torch.rnn_relu`` (a whole multi-layer network from a flat list of weights,
what ``nn.LSTM`` hands ATen) and the one-step cells ``torch.lstm_cell``, ``torch.gru_cell``,
``torch.rnn_tanh_cell``, ``torch.rnn_relu_cell``. Older programs and hand-rolled layers call
them directly (``torch._VF.lstm(...)``); here they run the same ops as ``nn.LSTM`` & co.

Argument orders are ATen's:

- ``lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)``
  -> ``(output, h_n, c_n)``; ``hx = (h_0, c_0)``; a projection (``proj_size``) is read from
  ``h_0`` being narrower than ``c_0``;
- ``lstm(data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional)``
  for packed input (``PackedSequence``'s two fields) -> ``(output_data, h_n, c_n)``;
- ``gru``/``rnn_tanh``/``rnn_relu`` alike with ``hx`` one tensor -> ``(output, h_n)``.

``params`` holds, for each layer and direction in turn, ``w_ih, w_hh`` then ``b_ih, b_hh`` (with
``has_biases``) then ``w_hr`` (with a projection), as ``nn.LSTM._flat_weights``.

Example:
    >>> import glassgrad as gg
    >>> m = gg.nn.GRU(3, 4)
    >>> out, h = gg.gru(gg.randn(5, 2, 3), gg.zeros(1, 2, 4), m._flat_weights, True, 1, 0.0, False, False, False)
    >>> tuple(out.shape), tuple(h.shape)
    ((5, 2, 4), (1, 2, 4))
"""

from __future__ import annotations

from typing import Any

import glassgrad.nn.functional as F
from glassgrad.errors import ShapeError
from glassgrad.nn.rnn import _GATES, RNNBase
from glassgrad.nn.utils.rnn import PackedSequence
from glassgrad.tensor import Tensor

__all__ = ["gru", "gru_cell", "lstm", "lstm_cell", "rnn_relu", "rnn_relu_cell", "rnn_tanh", "rnn_tanh_cell"]

_MODES = {"lstm": "LSTM", "gru": "GRU", "rnn_tanh": "RNN_TANH", "rnn_relu": "RNN_RELU"}
# One plain class per function borrowing RNNBase's forward, so that its messages name the function;
# its ``_flat_weights`` are the weights given, so there is nothing to bring up to date.
_SPECS = {
    name: type(
        name,
        (),
        {
            **{k: getattr(RNNBase, k) for k in ("_run", "_layout", "_state")},
            "_update_flat_weights": lambda self: None,
        },
    )
    for name in _MODES
}


def _what(x: Any) -> str:
    return f"shape {tuple(x.shape)}" if isinstance(x, Tensor) else type(x).__name__


_DENSE = (
    "input",
    "hx",
    "params",
    "has_biases",
    "num_layers",
    "dropout",
    "train",
    "bidirectional",
    "batch_first",
)
_PACKED = (
    "data",
    "batch_sizes",
    "hx",
    "params",
    "has_biases",
    "num_layers",
    "dropout",
    "train",
    "bidirectional",
)


def _bind(name: str, args: tuple, kwargs: dict) -> tuple[bool, dict]:
    """ATen's two argument lists, by position or keyword: ``(packed, {name: value})``."""
    # A dense call's second argument is hx (a pair or a 3-D state), a packed one's the 1-D batch_sizes.
    packed = (
        "data" in kwargs
        or "batch_sizes" in kwargs
        or (len(args) > 1 and isinstance(args[1], Tensor) and args[1].dim() == 1)
        or (len(args) > 3 and isinstance(args[3], (list, tuple)))
    )
    names = _PACKED if packed else _DENSE
    bound = dict(zip(names, args))
    for key, value in kwargs.items():
        if key not in names or key in bound:
            why = "got multiple values for" if key in bound else "got an unexpected keyword"
            raise TypeError(f"{name}(): {why} argument {key!r}")
        bound[key] = value
    if len(args) > len(names) or len(bound) != len(names):
        raise TypeError(
            f"{name}(): expected the 9 arguments ({', '.join(_DENSE)}) or ({', '.join(_PACKED)}), got "
            f"{len(args)} positional and {sorted(kwargs)} by keyword"
        )
    return packed, bound


def _network(name: str, args: tuple, kwargs: dict) -> tuple[Any, ...]:
    """Run ``RNNBase``'s layers over the weights given, with ATen's two argument lists."""
    packed, a = _bind(name, args, kwargs)
    data = a["data"] if packed else a["input"]
    batch_sizes = a["batch_sizes"] if packed else None
    hx, params, has_biases, num_layers = a["hx"], a["params"], a["has_biases"], a["num_layers"]
    dropout, train, bidirectional = a["dropout"], a["train"], a["bidirectional"]
    batch_first = False if packed else a["batch_first"]
    lstm = name == "lstm"
    if lstm and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
        raise TypeError(f"lstm(): expected hx as a pair (h_0, c_0), got {type(hx).__name__}")
    h0, c0 = hx if lstm else (hx, None)
    if not isinstance(h0, Tensor) or h0.dim() != 3:
        raise ShapeError(
            f"{name}: expected h_0 of shape (layers * directions, N, H), got {getattr(h0, 'shape', h0)}"
        )
    if not isinstance(data, Tensor) or data.dim() != (2 if packed else 3):
        want = "(S, I) packed data" if packed else "(T, N, I) input"
        raise ShapeError(f"{name}: expected {want}, got {_what(data)}")
    params = list(params)
    dirs = 2 if bidirectional else 1
    hidden = c0.shape[-1] if lstm else h0.shape[-1]
    proj = h0.shape[-1] if lstm and h0.shape[-1] != hidden else 0
    per = 2 + 2 * bool(has_biases) + bool(proj)
    if len(params) != per * num_layers * dirs:
        raise ShapeError(
            f"{name}: expected {per * num_layers * dirs} weights ({per} for each of {num_layers} layers x {dirs} "
            f"directions), got {len(params)}"
        )
    if params[0].dim() != 2 or params[0].shape[0] != _GATES[_MODES[name]] * hidden:
        raise ShapeError(
            f"{name}: expected w_ih of the first layer of shape ({_GATES[_MODES[name]] * hidden}, I), got "
            f"{tuple(params[0].shape)}"
        )
    spec = _SPECS[name]()
    spec.__dict__.update(
        mode=_MODES[name], input_size=params[0].shape[1], hidden_size=hidden, proj_size=proj,
        num_layers=num_layers, bias=bool(has_biases), batch_first=bool(batch_first), dropout=float(dropout),
        bidirectional=bool(bidirectional), training=bool(train), weight_ih_l0=params[0],
        _flat_weights=params,
    )  # fmt: skip
    # the state is checked there (ATen checks it: no check_forward_args hook on this path)
    out, hn, cn = spec._run(data, PackedSequence(data, batch_sizes) if packed else None, h0, c0, False)
    return (out, hn, cn) if lstm else (out, hn)


def lstm(*args: Any, **kwargs: Any) -> tuple[Tensor, Tensor, Tensor]:
    """ATen's LSTM network (module docstring).

    Shape:
        input ``(T, N, I)`` (``(N, T, I)`` with batch_first) or packed data ``(S, I)`` with
        batch_sizes ``(T,)``; h_0 ``(L*D, N, P)``, c_0 ``(L*D, N, H)`` -> output ``(T, N, D*P)``
        (or ``(S, D*P)``), h_n, c_n like h_0, c_0.
    """
    return _network("lstm", args, kwargs)


def gru(*args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    """ATen's GRU network: as ``lstm`` with one state ``h_0 (L*D, N, H)`` -> ``(output, h_n)``."""
    return _network("gru", args, kwargs)


def rnn_tanh(*args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    """ATen's Elman network with tanh: as ``gru``."""
    return _network("rnn_tanh", args, kwargs)


def rnn_relu(*args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    """ATen's Elman network with relu: as ``gru``."""
    return _network("rnn_relu", args, kwargs)


def _cell_inputs(name: str, x: Any, h: Any, w_ih: Any, w_hh: Any, gates: int) -> None:
    if not isinstance(x, Tensor) or x.dim() != 2:
        raise ShapeError(f"{name}: expected input of shape (N, I), got {_what(x)}")
    if not isinstance(h, Tensor) or h.dim() != 2 or h.shape[0] != x.shape[0]:
        raise ShapeError(
            f"{name}: expected a state of shape ({x.shape[0]}, H) for input {tuple(x.shape)}, got {_what(h)}"
        )
    want_ih, want_hh = (gates * h.shape[1], x.shape[1]), (gates * h.shape[1], h.shape[1])
    if tuple(w_ih.shape) != want_ih or tuple(w_hh.shape) != want_hh:
        raise ShapeError(
            f"{name}: expected w_ih {want_ih} and w_hh {want_hh} for input {tuple(x.shape)} and state "
            f"{tuple(h.shape)}, got {tuple(w_ih.shape)} and {tuple(w_hh.shape)}"
        )


def lstm_cell(
    input: Tensor,  # noqa: A002 - ATen's names
    hx: Any,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step, gate rows i, f, g, o: ``c' = s(f) c + s(i) tanh(g)``, ``h' = s(o) tanh(c')``.

    Shape:
        input ``(N, I)``; hx ``(h (N, H), c (N, H))``; w_ih ``(4H, I)``; w_hh ``(4H, H)`` -> (h', c').
    """
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        got = f"{len(hx)} states" if isinstance(hx, (tuple, list)) else type(hx).__name__
        raise TypeError(f"lstm_cell(): expected hx as a pair (h, c), got {got}")
    h, c = hx
    _cell_inputs("lstm_cell", input, h, w_ih, w_hh, 4)
    if not isinstance(c, Tensor) or tuple(c.shape) != tuple(h.shape):  # a (1, H) c would broadcast
        raise ShapeError(f"lstm_cell: expected c of h's shape {tuple(h.shape)}, got {_what(c)}")
    i, f, g, o = (F.linear(input, w_ih, b_ih) + F.linear(h, w_hh, b_hh)).chunk(4, 1)  # 4 x (N, H)
    c_new = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)
    return F.sigmoid(o) * F.tanh(c_new), c_new


def gru_cell(
    input: Tensor,  # noqa: A002
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """One GRU step, gate rows r, z, n: ``n = tanh(x_n + s(r) * h_n)``, ``h' = (1 - s(z)) n + s(z) h``.

    Shape:
        input ``(N, I)``; hx ``(N, H)``; w_ih ``(3H, I)``; w_hh ``(3H, H)`` -> h' ``(N, H)``.
    """
    _cell_inputs("gru_cell", input, hx, w_ih, w_hh, 3)
    xr, xz, xn = F.linear(input, w_ih, b_ih).chunk(3, 1)
    hr, hz, hn = F.linear(hx, w_hh, b_hh).chunk(3, 1)
    z = F.sigmoid(xz + hz)
    n = F.tanh(xn + F.sigmoid(xr + hr) * hn)
    return (1 - z) * n + z * hx


def _elman_cell(
    name: str, act: Any, x: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Any, b_hh: Any
) -> Tensor:
    _cell_inputs(name, x, hx, w_ih, w_hh, 1)
    return act(F.linear(x, w_ih, b_ih) + F.linear(hx, w_hh, b_hh))


def rnn_tanh_cell(
    input: Tensor,  # noqa: A002
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Any = None,
    b_hh: Any = None,
) -> Tensor:
    """One Elman step ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``: (N, I), (N, H) -> (N, H)."""
    return _elman_cell("rnn_tanh_cell", F.tanh, input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(
    input: Tensor,  # noqa: A002
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Any = None,
    b_hh: Any = None,
) -> Tensor:
    """One Elman step with relu: as ``rnn_tanh_cell``."""
    return _elman_cell("rnn_relu_cell", F.relu, input, hx, w_ih, w_hh, b_ih, b_hh)
