"""``torch.gradient``: the derivative of sampled values estimated by finite differences, one
tensor per dim asked for, as NumPy's ``gradient`` and PyTorch's compute it.

Along a dim of size n with sample spacing h, the interior points take the central difference
``(f[i+1] - f[i-1]) / 2h``; the two ends take a one-sided difference of first order
(``edge_order=1``: ``(f[1] - f[0]) / h``) or second order (``edge_order=2``:
``(-3 f[0] + 4 f[1] - f[2]) / 2h``). With coordinates instead of a spacing (``spacing`` as 1-D
tensors), the same differences are those of the second-order Lagrange polynomial through three
unevenly spaced samples. It is built from differentiable ops, so gradients flow to the input
and to the coordinates.

Example:
    >>> import glassgrad as gg
    >>> gg.gradient(gg.tensor([1.0, 2.0, 4.0, 8.0]))[0].tolist()
    [1.0, 1.5, 3.0, 4.0]
    >>> x, coords = gg.tensor([1.0, 2.0, 4.0, 8.0]), gg.tensor([0.0, 1.0, 3.0, 4.0])
    >>> [round(v, 4) for v in gg.gradient(x, spacing=(coords,))[0].tolist()]
    [1.0, 1.0, 3.0, 4.0]
"""

from __future__ import annotations

import numbers
import operator
from typing import Any

from glassgrad import dtypes
from glassgrad.errors import ArgumentError, DTypeError, ShapeError
from glassgrad.ops.joining import cat
from glassgrad.tensor import Tensor

__all__ = ["gradient"]


def _dims(x: Tensor, dim: Any) -> list[int]:
    nd = x.dim()
    given = list(range(nd)) if dim is None else [dim] if not isinstance(dim, (list, tuple)) else list(dim)
    out = []
    for d in given:
        d = operator.index(d)
        if not -nd <= d < nd:
            raise IndexError(
                f"gradient: dim {d} out of range for a tensor of {nd} dims (expected -{nd} to {nd - 1})"
            )
        d %= nd
        if d in out:
            raise ShapeError(f"gradient: dim {d} appears more than once in dim={list(given)}")
        out.append(d)
    return out


def _spacings(x: Tensor, spacing: Any, dims: list[int], dim_given: bool) -> list[Any]:
    """One spacing per dim: a number, or a 1-D tensor of coordinates of that dim's size."""
    if spacing is None:
        return [1.0] * len(dims)
    if isinstance(spacing, Tensor) and spacing.dim() == 0:  # a 0-d tensor is one number
        return [spacing] * len(dims)
    if isinstance(spacing, Tensor):
        raise TypeError(
            "gradient(): expected spacing as a number or a tuple of numbers or of 1-D tensors, got a Tensor "
            "(wrap coordinates in a tuple: spacing=(coords,))"
        )
    if isinstance(spacing, numbers.Number) and not isinstance(spacing, bool):
        return [spacing] * len(dims)
    items = list(spacing)
    if len(items) != len(dims):
        of = f"the {len(dims)} dims in dim" if dim_given else f"the input's {x.dim()} dims"
        raise ShapeError(f"gradient: expected one spacing for each of {of}, got {len(items)}")
    tensors = [isinstance(s, Tensor) for s in items]
    if any(tensors) and not all(tensors):
        raise TypeError("gradient(): expected spacing as all numbers or all 1-D tensors, got a mix")
    for s, d in zip(items, dims):
        if isinstance(s, Tensor) and (s.dim() != 1 or s.shape[0] != x.shape[d]):
            raise ShapeError(
                f"gradient: expected the coordinates of dim {d} as a 1-D tensor of size {x.shape[d]}, got "
                f"shape {tuple(s.shape)}"
            )
    return items


def _along(t: Tensor, d: int, start: int, stop: int | None = None) -> Tensor:
    n = t.shape[d]
    stop = n if stop is None else stop % n if stop < 0 else stop
    return t.narrow(d, start % n if start < 0 else start, stop - (start % n if start < 0 else start))


def _uniform(f: Tensor, d: int, h: Any, edge_order: int) -> tuple[Tensor, Tensor, Tensor]:
    center = (_along(f, d, 2) - _along(f, d, 0, -2)) / (2 * h)
    if edge_order == 1:
        first = (_along(f, d, 1, 2) - _along(f, d, 0, 1)) / h
        last = (_along(f, d, -1) - _along(f, d, -2, -1)) / h
    else:
        first = (-1.5 * _along(f, d, 0, 1) + 2 * _along(f, d, 1, 2) - 0.5 * _along(f, d, 2, 3)) / h
        last = (0.5 * _along(f, d, -3, -2) - 2 * _along(f, d, -2, -1) + 1.5 * _along(f, d, -1)) / h
    return first, center, last


def _coordinates(f: Tensor, d: int, coords: Tensor, edge_order: int) -> tuple[Tensor, Tensor, Tensor]:
    shape = [1] * f.dim()
    shape[d] = -1
    dx = (coords[1:] - coords[:-1]).reshape(shape)  # (1, ..., n - 1, ..., 1): broadcasts along d
    dx1, dx2 = _along(dx, d, 0, -1), _along(dx, d, 1)  # the spacings left and right of each inner point
    center = (
        -dx2 / (dx1 * (dx1 + dx2)) * _along(f, d, 0, -2)
        + (dx2 - dx1) / (dx1 * dx2) * _along(f, d, 1, -1)
        + dx1 / (dx2 * (dx1 + dx2)) * _along(f, d, 2)
    )
    if edge_order == 1:
        first = (_along(f, d, 1, 2) - _along(f, d, 0, 1)) / _along(dx, d, 0, 1)
        last = (_along(f, d, -1) - _along(f, d, -2, -1)) / _along(dx, d, -1)
        return first, center, last
    a1, a2 = _along(dx, d, 0, 1), _along(dx, d, 1, 2)  # the first two spacings
    first = (
        -(2 * a1 + a2) / (a1 * (a1 + a2)) * _along(f, d, 0, 1)
        + (a1 + a2) / (a1 * a2) * _along(f, d, 1, 2)
        - a1 / (a2 * (a1 + a2)) * _along(f, d, 2, 3)
    )
    b1, b2 = _along(dx, d, -2, -1), _along(dx, d, -1)  # the last two spacings
    last = (
        b2 / (b1 * (b1 + b2)) * _along(f, d, -3, -2)
        - (b1 + b2) / (b1 * b2) * _along(f, d, -2, -1)
        + (2 * b2 + b1) / (b2 * (b1 + b2)) * _along(f, d, -1)
    )
    return first, center, last


def gradient(
    input: Tensor,  # noqa: A002 - PyTorch's name
    *,
    spacing: Any = None,
    dim: Any = None,
    edge_order: int = 1,
) -> tuple[Tensor, ...]:
    """Finite-difference derivatives of ``input`` along each dim in ``dim`` (default: every dim).

    Args:
        spacing: the distance between samples: one number for every dim, one number per dim, or one
            1-D tensor of coordinates per dim (uneven samples).
        dim: an int or a list of ints.
        edge_order: 1 or 2, the order of the one-sided differences at the two ends.

    Shape:
        input: any shape with at least ``edge_order + 1`` samples along each dim asked for; returns a
        tuple of tensors of ``input``'s shape (integer input gives the default float dtype).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"gradient(): expected input as a Tensor, got {type(input).__name__}")
    if isinstance(edge_order, bool) or edge_order not in (1, 2):
        raise ArgumentError(f"gradient: expected edge_order 1 or 2, got {edge_order!r}")
    if input.dtype in (dtypes.bool, dtypes.uint8):  # as PyTorch, which refuses these two
        raise DTypeError(f"gradient: expected a signed or floating input, got {input.dtype}")
    dims = _dims(input, dim)
    spacings = _spacings(input, spacing, dims, dim is not None)
    f = input
    if not (f.dtype.is_floating_point or f.dtype.is_complex):  # integers: the default float dtype
        f = f.to(dtypes.get_default_dtype())
    out = []
    for d, h in zip(dims, spacings):
        if f.shape[d] < edge_order + 1:
            raise ShapeError(
                f"gradient: expected at least edge_order + 1 = {edge_order + 1} samples along dim {d}, "
                f"got shape {tuple(input.shape)}"
            )
        if isinstance(h, Tensor) and h.dim() == 1:
            if not h.dtype.is_floating_point and not h.dtype.is_complex:
                h = h.to(f.dtype)
            first, center, last = _coordinates(f, d, h, edge_order)
        else:
            first, center, last = _uniform(f, d, h, edge_order)
        out.append(cat([first, center, last], d))
    return tuple(out)
