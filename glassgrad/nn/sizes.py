"""The size arguments of layer constructors (``Linear(in_features, out_features)``,
``Conv2d(in_channels, ...)``, ``Embedding``, ``PReLU``), checked as PyTorch checks them when it
makes the parameter: a size that is not an integer is a ``TypeError`` (PyTorch's ``empty()``
refuses a float), a negative one a ``ShapeError`` (a ``RuntimeError``, as PyTorch's "negative
dimension", and a ``ValueError``). NumPy integers are accepted, as PyTorch does (``y.max() + 1``),
and so is anything with ``__index__``: a one-element integer tensor (sbi's ``CNNEmbedding`` passes
``channels * torch.prod(torch.tensor(output_size))`` as ``Linear``'s ``in_features``)."""

from __future__ import annotations

from glassgrad.errors import ShapeError
from glassgrad.operand_errors import size_int  # (shared with the ops' int arguments)

__all__ = ["layer_sizes", "size_int"]


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
