"""The size arguments of layer constructors (``Linear(in_features, out_features)``,
``Conv2d(in_channels, ...)``, ``Embedding``, ``PReLU``), checked as PyTorch checks them when it
makes the parameter: a size that is not an integer is a ``TypeError`` (PyTorch's ``empty()``
refuses a float), a negative one a ``ShapeError`` (a ``RuntimeError``, as PyTorch's "negative
dimension", and a ``ValueError``). NumPy integers are accepted, as PyTorch does (``y.max() + 1``),
and so is anything with ``__index__``: a one-element integer tensor (sbi's ``CNNEmbedding`` passes
``channels * torch.prod(torch.tensor(output_size))`` as ``Linear``'s ``in_features``)."""

from __future__ import annotations

import numbers
import operator

from glassgrad.errors import ShapeError

__all__ = ["layer_sizes", "size_int"]


def size_int(v: object) -> int | None:
    """``v`` as a Python int when it is an integer (a bool is not; a tensor needs one integer
    element), else None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, numbers.Integral):
        return int(v)
    if hasattr(type(v), "__index__"):
        try:
            return operator.index(v)
        except TypeError:  # a float or bool tensor, several elements
            return None
    return None


def layer_sizes(owner: str, **sizes: object) -> tuple[int, ...]:
    """The sizes as Python ints, in the order given; errors name ``owner`` and the argument."""
    out = []
    for key, v in sizes.items():
        n = size_int(v)
        if n is None:
            raise TypeError(f"{owner}: expected {key} to be a non-negative int, got {v!r}")
        if n < 0:
            raise ShapeError(f"{owner}: expected {key} to be a non-negative int, got {v!r}")
        out.append(n)
    return tuple(out)
