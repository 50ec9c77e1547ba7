"""The front and back of ``RNN``/``GRU``/``LSTM``'s forward, step for step as PyTorch's.

PyTorch's forward prepares the state and then calls two overridable methods at fixed points:
``self.permute_hidden(hx, sorted_indices)`` (the given state into a packed batch's sorted order;
``None`` for a padded batch) and ``self.check_forward_args(input, hx, batch_sizes)`` (the input's
dtype, rank and feature size and the state's shape), and at the end
``self.permute_hidden(hidden, unsorted_indices)``. Recurrent variants (weight-dropped LSTMs,
batch-first states, quantized or traced RNNs) override them, so glassgrad's forward calls them at
the same points, in the same order, with PyTorch's messages and exception classes:

* RNN/GRU: packed -> ``permute_hidden`` of a given state; padded -> rank checks, then
  ``permute_hidden(hx, None)``; both -> ``check_forward_args`` (zeros are checked too).
* LSTM: packed -> ``permute_hidden`` of a given state and no ``check_forward_args`` (as PyTorch);
  padded -> rank checks of ``hx[0]``/``hx[1]``, ``check_forward_args``, ``permute_hidden(hx, None)``.

``RNNBase._run`` then runs the layers on the prepared state, in the packed (sorted) order.

Example:
    >>> import glassgrad as gg
    >>> class BatchFirstState(gg.nn.GRU):  # the state given and returned as (N, L*D, H)
    ...     def permute_hidden(self, hx, permutation):
    ...         return hx.transpose(0, 1)
    >>> out, h = BatchFirstState(3, 4, num_layers=2)(gg.zeros(5, 7, 3), gg.zeros(7, 2, 4))
    >>> tuple(h.shape)
    (7, 2, 4)
"""

from __future__ import annotations

from typing import Any

from glassgrad.errors import ShapeError
from glassgrad.factories import zeros
from glassgrad.nn.utils.rnn import PackedSequence
from glassgrad.tensor import Tensor

__all__ = ["RNNForward"]

_HOOKS = ("check_forward_args", "check_input", "check_hidden_size", "get_expected_hidden_size",
          "get_expected_cell_size")  # fmt: skip
_OWN: dict[type, bool] = {}  # per class: does it keep every checking helper of its base?
_LABEL = {"RNN_TANH": "RNN", "RNN_RELU": "RNN", "GRU": "GRU", "LSTM": "LSTM"}


class RNNForward:
    """``_forward_single`` (RNN, GRU) and ``_forward_pair`` (LSTM): a mixin of ``RNNBase``."""

    def _zero_state(self, batch: int, width: int, dtype: Any) -> Tensor:
        dirs = 2 if self.bidirectional else 1
        # beside the weights' device (meta weights give a meta state), as PyTorch's input.device
        return zeros(self.num_layers * dirs, batch, width, dtype=dtype, device=self.weight_ih_l0.device)

    def _batched(self, input: Any) -> tuple[Tensor, bool]:  # noqa: A002
        """``(input as 3-D, is_batched)``: an unbatched ``(T, I)`` gains its batch dim of one."""
        if not isinstance(input, Tensor):
            raise ShapeError(
                f"{type(self).__name__}: expected input (T, N, {self.input_size}) or (T, {self.input_size}) "
                f"Tensor or a PackedSequence, got {type(input).__name__}"
            )
        dim = input.dim()
        if dim not in (2, 3):
            tail = " tensor instead" if self.mode.startswith("RNN") else " instead"
            raise ShapeError(f"{_LABEL[self.mode]}: Expected input to be 2D or 3D, got {dim}D{tail}")
        if dim == 2:
            return input.unsqueeze(0 if self.batch_first else 1), False
        return input, True

    def _own_checks(self) -> bool:
        """Whether ``check_forward_args`` and the helpers it calls are the class's own (no subclass
        overrides them): then the input and state were checked with PyTorch's messages and ``_run``
        need not look again; an override keeps ``_run``'s own checks (PyTorch's kernels check too)."""
        cls = type(self)
        own = _OWN.get(cls)
        if own is None:
            base = self._checks_base
            own = _OWN[cls] = all(getattr(cls, n, None) is getattr(base, n, None) for n in _HOOKS)
        return own

    def _forward_single(self, input: Any, hx: Tensor | None) -> tuple[Any, Tensor]:  # noqa: A002
        self._update_flat_weights()  # a weight swapped through _parameters: the list follows
        width = self.hidden_size
        if isinstance(input, PackedSequence):
            data, batch_sizes, sorted_indices, unsorted_indices = input
            if hx is None:
                hx = self._zero_state(int(batch_sizes._data[0]), width, data.dtype)
            else:
                hx = self.permute_hidden(hx, sorted_indices)
            is_batched = True
        else:
            data, is_batched = self._batched(input)
            batch_sizes = sorted_indices = unsorted_indices = None
            if hx is not None:
                want = 3 if is_batched else 2
                if hx.dim() != want:
                    kind = "batched 3-D" if is_batched else "unbatched 2-D"
                    raise ShapeError(
                        f"For {kind} input, hx should also be {want}-D but got {hx.dim()}-D tensor"
                    )
                if not is_batched:
                    hx = hx.unsqueeze(1)
                hx = self.permute_hidden(hx, sorted_indices)
            else:
                hx = self._zero_state(data.size(0) if self.batch_first else data.size(1), width, data.dtype)
        self.check_forward_args(data, hx, batch_sizes)
        out, hidden, _ = self._run(
            data, input if batch_sizes is not None else None, hx, None, self._own_checks()
        )
        if batch_sizes is not None:
            return PackedSequence(out, batch_sizes, sorted_indices, unsorted_indices), self.permute_hidden(
                hidden, unsorted_indices
            )
        if not is_batched:
            out, hidden = out.squeeze(0 if self.batch_first else 1), hidden.squeeze(1)
        return out, self.permute_hidden(hidden, unsorted_indices)

    def _forward_pair(self, input: Any, hx: Any) -> tuple[Any, tuple[Tensor, Tensor]]:  # noqa: A002
        self._update_flat_weights()
        real = self.proj_size if self.proj_size > 0 else self.hidden_size
        checked = False
        if isinstance(input, PackedSequence):
            data, batch_sizes, sorted_indices, unsorted_indices = input
            if hx is None:
                n = int(batch_sizes._data[0])
                hx = (
                    self._zero_state(n, real, data.dtype),
                    self._zero_state(n, self.hidden_size, data.dtype),
                )
            else:
                hx = self.permute_hidden(hx, sorted_indices)  # PyTorch checks no further here
            is_batched = True
        else:
            data, is_batched = self._batched(input)
            batch_sizes = sorted_indices = unsorted_indices = None
            if hx is None:
                n = data.size(0) if self.batch_first else data.size(1)
                hx = (
                    self._zero_state(n, real, data.dtype),
                    self._zero_state(n, self.hidden_size, data.dtype),
                )
                self.check_forward_args(data, hx, batch_sizes)
            else:
                want = 3 if is_batched else 2
                if hx[0].dim() != want or hx[1].dim() != want:
                    kind = "batched 3-D" if is_batched else "unbatched 2-D"
                    raise ShapeError(
                        f"For {kind} input, hx and cx should also be {want}-D but got "
                        f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors"
                    )
                if not is_batched:
                    hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
                self.check_forward_args(data, hx, batch_sizes)
                hx = self.permute_hidden(hx, sorted_indices)
            checked = self._own_checks()
        if isinstance(hx, (tuple, list)) and len(hx) != 2:  # PyTorch's RuntimeError and words
            raise ShapeError(f"lstm expects two hidden states ({type(self).__name__}: got {len(hx)})")
        if not isinstance(hx, (tuple, list)):
            got = type(hx).__name__
            raise TypeError(
                f"{type(self).__name__}: expected hx as a tuple of two tensors (h_0, c_0), got {got}"
            )
        out, hn, cn = self._run(data, input if batch_sizes is not None else None, hx[0], hx[1], checked)
        hidden = (hn, cn)
        if batch_sizes is not None:
            return PackedSequence(out, batch_sizes, sorted_indices, unsorted_indices), self.permute_hidden(
                hidden, unsorted_indices
            )
        if not is_batched:
            out, hidden = out.squeeze(0 if self.batch_first else 1), (hn.squeeze(1), cn.squeeze(1))
        return out, self.permute_hidden(hidden, unsorted_indices)
