"""The size arguments of layer constructors (``Linear(in_features, out_features)``,
``Conv2d(in_channels, ...)``, ``Embedding``, ``PReLU``), checked as PyTorch checks them when it
makes the parameter: a size that is not an integer is a ``TypeError`` (PyTorch's ``empty()``
refuses a float), a negative one a ``ShapeError`` (a ``RuntimeError``, as PyTorch's "negative
dimension", and a ``ValueError``). NumPy integers are accepted, as PyTorch does (``y.max() + 1``)."""

from __future__ import annotations

import numbers

from glassgrad.errors import ShapeError

__all__ = ["layer_sizes"]


def layer_sizes(owner: str, **sizes: object) -> tuple[int, ...]:
    """The sizes as Python ints, in the order given; errors name ``owner`` and the argument."""
    for key, v in sizes.items():
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise TypeError(f"{owner}: expected {key} to be a non-negative int, got {v!r}")
        if v < 0:
            raise ShapeError(f"{owner}: expected {key} to be a non-negative int, got {v!r}")
    return tuple(int(v) for v in sizes.values())
