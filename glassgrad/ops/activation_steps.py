"""The step functions: ``torch.heaviside`` and the perceptron's step (no gradient: constants),
kept apart from the differentiable activations of ``activation.py``, which re-exports them."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.backend import array_module
from glassgrad.tensor import Tensor

__all__ = ["heaviside", "step"]


def heaviside(x: Tensor, values: Any) -> Tensor:
    """``torch.heaviside``: 0 where x < 0, ``values`` where x == 0, 1 where x > 0 (nan gives 0).

    A step has derivative 0 almost everywhere, so the result is a constant (no gradient).

    Shape:
        ``x`` and ``values`` broadcast together.
    """
    data = x._data if isinstance(x, Tensor) else np.asarray(x)
    vals = values._data if isinstance(values, Tensor) else values
    xp = array_module(data)
    return Tensor(xp.asarray(xp.where(data == 0, vals, data > 0).astype(data.dtype, copy=False)), _wrap=True)


def step(x: Tensor) -> Tensor:
    """The perceptron's step: 1 where x >= 0, else 0, in x's dtype.

    Its derivative is 0 wherever it exists, so the result is a constant tensor that carries no
    gradient (a perceptron learns by its own rule, not by backpropagation through the step).

    Shape:
        Any shape; the output has the input's shape.

    >>> import glassgrad as gg
    >>> y = step(gg.tensor([-0.5, 0.0, 2.0], requires_grad=True))
    >>> y, y.requires_grad
    (tensor([0., 1., 1.]), False)
    """
    data = x._data
    return Tensor(array_module(data).asarray((data >= 0).astype(data.dtype)), _wrap=True)
