"""``Dropout``: zero each element with probability ``p`` while training, scaling the rest by
``1 / (1 - p)`` so that the expected value is unchanged; the identity in eval mode."""

from __future__ import annotations

import numbers

from glassgrad.nn import functional as F
from glassgrad.nn.module import Module
from glassgrad.tensor import Tensor

__all__ = ["Dropout"]


class Dropout(Module):
    """Randomly zero elements with probability ``p`` during training (inverted dropout).

    Masks are drawn from ``glassgrad.random`` (``manual_seed`` repeats them). ``inplace`` is accepted
    for PyTorch compatibility; the result is always a new tensor.

    Shape:
        input ``(*)``, output ``(*)``.

    >>> import glassgrad as gg
    >>> d = Dropout(0.25)
    >>> d
    Dropout(p=0.25, inplace=False)
    >>> d.eval()(gg.ones(4)).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: expected a probability p in [0, 1], got {p!r}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
