"""``nn.FractionalMaxPool2d`` and ``nn.FractionalMaxPool3d``: fractional max pooling as layers.

Each stores its arguments as PyTorch's does (``kernel_size``, ``output_size`` or ``output_ratio``
as tuples) and calls ``F.fractional_max_pool{2,3}d``. ``_random_samples`` is a buffer (in the
state_dict only when given), so a layer built with fixed samples pools the same windows each call;
without it each call draws new samples from the global generator.
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

from glassgrad.nn.functional.fractional_pool import fractional_max_pool2d, fractional_max_pool3d
from glassgrad.nn.module import Module
from glassgrad.tensor import Tensor

__all__ = ["FractionalMaxPool2d", "FractionalMaxPool3d"]


def _tuple(value: Any, nd: int) -> tuple:
    return tuple(value) if isinstance(value, tuple | list) else (value,) * nd


class _FractionalMaxPoolNd(Module):
    _nd = 2
    __constants__: ClassVar[list[str]] = ["kernel_size", "return_indices", "output_size", "output_ratio"]

    def __init__(
        self,
        kernel_size: Any,
        output_size: Any = None,
        output_ratio: Any = None,
        return_indices: bool = False,
        _random_samples: Tensor | None = None,
    ) -> None:
        super().__init__()
        name, nd = type(self).__name__, self._nd
        if nd == 3 and any(isinstance(k, numbers.Real) and k <= 0 for k in _tuple(kernel_size, nd)):
            raise ValueError(f"kernel_size must be greater than 0, but got {kernel_size}")
        self.kernel_size = _tuple(kernel_size, nd)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = _tuple(output_size, nd) if output_size is not None else None
        self.output_ratio = _tuple(output_ratio, nd) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        pool = fractional_max_pool2d if self._nd == 2 else fractional_max_pool3d
        return pool(
            input,
            self.kernel_size,
            self.output_size,
            self.output_ratio,
            self.return_indices,
            _random_samples=self._random_samples,
        )


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """2-D fractional max pooling (Graham, 2014): ``kernel_size`` windows at pseudo-random
    fractional strides, so that the output is ``output_size`` or ``output_ratio`` of the input.

    Shape:
        input ``(N, C, H, W)`` or ``(C, H, W)``; output ``(N, C, Ho, Wo)`` (and the flat indices of
        the maxima with ``return_indices=True``).

    >>> FractionalMaxPool2d(3, output_ratio=0.5)
    FractionalMaxPool2d()
    """


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """3-D fractional max pooling (see ``FractionalMaxPool2d``).

    Shape:
        input ``(N, C, T, H, W)`` or ``(C, T, H, W)``; output ``(N, C, To, Ho, Wo)``.
    """

    _nd = 3
