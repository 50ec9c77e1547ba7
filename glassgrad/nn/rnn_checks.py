"""``RNNBase``'s public checking helpers, as PyTorch's: ``check_input``, ``get_expected_hidden_size``,
``check_hidden_size``, ``check_forward_args``, ``permute_hidden`` (and LSTM's
``get_expected_cell_size`` and pair forms).

Recurrent variants built on ``nn.LSTM`` (layer-normalised or weight-dropped LSTMs that copy
PyTorch's ``forward``) call these from their own ``forward`` or through ``super()``. glassgrad's own
forward calls ``check_forward_args`` and ``permute_hidden`` at PyTorch's points (``rnn_forward.py``),
so a subclass's override takes effect; these helpers raise PyTorch's exception classes and
messages, since programs match them.

Example:
    >>> import glassgrad as gg
    >>> lstm = gg.nn.LSTM(3, 4, num_layers=2, proj_size=2)
    >>> lstm.get_expected_hidden_size(gg.zeros(5, 7, 3), None), lstm.get_expected_cell_size(gg.zeros(5, 7, 3), None)
    ((2, 7, 2), (2, 7, 4))
"""

from __future__ import annotations

from typing import Any

from glassgrad.errors import DTypeError, ShapeError
from glassgrad.ops.indexing import index_select
from glassgrad.tensor import Tensor

__all__ = ["RNNChecks", "LSTMChecks", "RNNInputDTypeError"]


class RNNInputDTypeError(DTypeError, ValueError):
    """An RNN's input is not of its weights' dtype: a ``ValueError`` too, as PyTorch raises there."""


def _apply_permutation(tensor: Tensor, permutation: Tensor, dim: int = 1) -> Tensor:
    return index_select(tensor, dim, permutation)  # the batch dim of (L*D, N, H)


class RNNChecks:
    """The helpers of ``RNN``/``GRU`` (and the base of LSTM's): a mixin placed before ``Module``."""

    def check_input(self, input: Tensor, batch_sizes: Tensor | None) -> None:  # noqa: A002
        """Refuse an input of another dtype than the weights (ValueError), of the wrong rank or
        feature size (RuntimeError; glassgrad's ShapeError is both); ``batch_sizes`` not None means
        packed data ``(S, I)``."""
        weight = self._flat_weights[0]
        if input.dtype != weight.dtype:
            raise RNNInputDTypeError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). "
                f"Convert input: input.to({weight.dtype}), or convert model: model.to({input.dtype})"
            )
        expected_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_dim:
            raise ShapeError(f"input must have {expected_dim} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise ShapeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.size(-1)}"
            )

    def get_expected_hidden_size(self, input: Tensor, batch_sizes: Tensor | None) -> tuple[int, int, int]:  # noqa: A002
        """``(num_layers * D, N, proj_size or hidden_size)``; N from ``batch_sizes[0]`` when packed."""
        if batch_sizes is not None:
            batch = int(batch_sizes[0])
        else:
            batch = input.size(0) if self.batch_first else input.size(1)
        dirs = 2 if self.bidirectional else 1
        return (self.num_layers * dirs, batch, self.proj_size if self.proj_size > 0 else self.hidden_size)

    def check_hidden_size(
        self, hx: Tensor, expected_hidden_size: Any, msg: str = "Expected hidden size {}, got {}"
    ) -> None:
        """RuntimeError ``msg.format(expected, list(hx.size()))`` when ``hx`` has another shape."""
        if tuple(hx.size()) != tuple(expected_hidden_size):
            raise ShapeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(self, input: Tensor, hidden: Tensor, batch_sizes: Tensor | None) -> None:  # noqa: A002
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx: Tensor, permutation: Tensor | None) -> Tensor:
        """``hx`` with its batch dim (1) reordered by ``permutation``; None leaves it as it is."""
        if permutation is None:
            return hx
        return _apply_permutation(hx, permutation)


class LSTMChecks(RNNChecks):
    """LSTM's forms: the state is a pair ``(h, c)``, and the cell has its own expected size."""

    def get_expected_cell_size(self, input: Tensor, batch_sizes: Tensor | None) -> tuple[int, int, int]:  # noqa: A002
        """``(num_layers * D, N, hidden_size)``: the cell state is never projected."""
        layers, batch, _ = self.get_expected_hidden_size(input, batch_sizes)
        return (layers, batch, self.hidden_size)

    def check_forward_args(  # type: ignore[override]
        self,
        input: Tensor,  # noqa: A002
        hidden: tuple[Tensor, Tensor],
        batch_sizes: Tensor | None,
    ) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(
            hidden[0], self.get_expected_hidden_size(input, batch_sizes), "Expected hidden[0] size {}, got {}"
        )
        self.check_hidden_size(
            hidden[1], self.get_expected_cell_size(input, batch_sizes), "Expected hidden[1] size {}, got {}"
        )

    def permute_hidden(  # type: ignore[override]
        self, hx: tuple[Tensor, Tensor], permutation: Tensor | None
    ) -> tuple[Tensor, Tensor]:
        if permutation is None:
            return hx
        return _apply_permutation(hx[0], permutation), _apply_permutation(hx[1], permutation)
