"""``Dropout``: zero each element with probability ``p`` while training, scaling the rest by
``1 / (1 - p)`` so that the expected value is unchanged; the identity in eval mode. ``Dropout1d``/``2d``/``3d``
drop whole channels instead of single elements."""

from __future__ import annotations

import numbers

from glassgrad.nn import functional as F
from glassgrad.nn.module import Module
from glassgrad.tensor import Tensor

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"]


class _DropoutNd(Module):
    """What every dropout layer shares: ``p`` and ``inplace``. The channel dropouts derive from this,
    not from ``Dropout``, as in PyTorch, so that ``isinstance(m, Dropout)`` answers as there."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        # a 0-d tensor compares as its value, as in PyTorch's check (and F.dropout reads it so)
        q = p.item() if isinstance(p, Tensor) and p.ndim == 0 and not p.requires_grad else p
        if not isinstance(q, numbers.Real) or isinstance(q, bool) or not 0.0 <= q <= 1.0:
            raise ValueError(f"{type(self).__name__}: expected a probability p in [0, 1], got {p!r}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Randomly zero elements with probability ``p`` during training (inverted dropout).

    Masks are drawn from ``glassgrad.random`` (``manual_seed`` repeats them). ``inplace=True``
    writes the result into the input, as PyTorch (the rules of ``relu_``).

    Shape:
        input ``(*)``, output ``(*)``.

    >>> import glassgrad as gg
    >>> d = Dropout(0.25)
    >>> d
    Dropout(p=0.25, inplace=False)
    >>> d.eval()(gg.ones(4)).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        return F.dropout(input, self.p, self.training, self.inplace)


class _ChannelDropout(_DropoutNd):
    """Shared code of the channel dropouts: the mask has one draw per (sample, channel)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        return self._fn(input, self.p, self.training, self.inplace)


class Dropout1d(_ChannelDropout):
    """Zero whole channels of a 1-D signal with probability ``p`` while training (inverted scaling).

    Adjacent positions of a channel are strongly correlated, so dropping single elements barely
    regularises; dropping the whole channel does.

    Shape:
        input ``(N, C, L)`` or ``(C, L)``, output the same.
    """

    _fn = staticmethod(F.dropout1d)


class Dropout2d(_ChannelDropout):
    """Zero whole feature maps with probability ``p`` while training (inverted scaling).

    Shape:
        input ``(N, C, H, W)`` (or ``(N, C, L)``), output the same.

    >>> Dropout2d(0.2)
    Dropout2d(p=0.2, inplace=False)
    """

    _fn = staticmethod(F.dropout2d)


class Dropout3d(_ChannelDropout):
    """Zero whole channels of a volume with probability ``p`` while training (inverted scaling).

    Shape:
        input ``(N, C, D, H, W)`` or ``(C, D, H, W)``, output the same.
    """

    _fn = staticmethod(F.dropout3d)


class AlphaDropout(_ChannelDropout):
    """Alpha dropout for self-normalising (SELU) networks while training: a dropped unit takes
    SELU's saturation value and an affine map keeps mean 0 and variance 1 (``F.alpha_dropout``).

    Shape:
        input ``(*)``, output the same.

    >>> AlphaDropout(0.2)
    AlphaDropout(p=0.2, inplace=False)
    """

    _fn = staticmethod(F.alpha_dropout)


class FeatureAlphaDropout(_ChannelDropout):
    """Alpha dropout of whole channels while training (``F.feature_alpha_dropout``).

    Shape:
        input ``(N, C, *)``, output the same.
    """

    _fn = staticmethod(F.feature_alpha_dropout)
