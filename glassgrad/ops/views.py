"""More views of a tensor: ``narrow``, ``select``, ``diagonal``, ``movedim``/``swapaxes``.

Each result shares memory (and so the version counter) with its input, as in PyTorch: a write
through it shows in the input, and an in-place change of either is caught by any graph that saved
the other. ``narrow``/``select`` are basic slices (``GetItem``), ``movedim``/``swapaxes``
permutations; only ``diagonal`` needs a primitive of its own.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import Primitive as Function
from glassgrad.autograd.function import named
from glassgrad.backend import array_module
from glassgrad.errors import IndexOutOfRangeError, ShapeError
from glassgrad.operand_errors import int_arg
from glassgrad.ops.indexing import GetItem, normalize_dim
from glassgrad.ops.movement import Permute, _ints, transpose
from glassgrad.tensor import Tensor

__all__ = ["narrow", "select", "diagonal", "movedim", "swapaxes"]


def _diagonal_view(a: Any, offset: int, d1: int, d2: int) -> Any:
    """A writable strided view of the ``offset`` diagonal of dims d1, d2, moved to the last dim."""
    xp = array_module(a)
    start = [slice(None)] * a.ndim
    start[d1] = slice(max(0, -offset), None)
    start[d2] = slice(max(0, offset), None)
    sub = a[tuple(start)]
    n = max(0, min(sub.shape[d1], sub.shape[d2]))
    keep = [i for i in range(a.ndim) if i not in (d1, d2)]
    shape = tuple(sub.shape[i] for i in keep) + (n,)  # (..., n1, .., n2, ..) -> (..., L)
    strides = tuple(sub.strides[i] for i in keep) + (sub.strides[d1] + sub.strides[d2],)
    return xp.lib.stride_tricks.as_strided(sub, shape, strides, writeable=sub.flags.writeable)


class Diagonal(Function):
    """z[..., i] = x[.., i, .., i + offset, ..] over dims (dim1, dim2), a view with the diagonal last.
    VJP: zeros like x with g written on the same diagonal."""

    @staticmethod
    def forward(ctx, a, offset=0, dim1=0, dim2=1):
        return _diagonal_view(a, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, g):
        at = ctx.attrs
        out = array_module(g).zeros(ctx.shapes[0], dtype=g.dtype)
        _diagonal_view(out, at["offset"], at["dim1"], at["dim2"])[...] = g
        return out


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The ``offset`` diagonal of dims ``dim1``, ``dim2`` (above the main one for offset > 0).

    Shape:
        x ``(n, m)`` -> ``(L,)``; in general those two dims are removed and the diagonal is last.
    """
    if x.ndim < 2:
        # an IndexError, as PyTorch's: dims 0 and 1 are out of range there
        raise IndexOutOfRangeError(f"diagonal: expected a tensor with at least 2 dims, got shape {x.shape}")
    d1 = normalize_dim(dim1, x.ndim, "diagonal", x.shape)
    d2 = normalize_dim(dim2, x.ndim, "diagonal", x.shape)
    if d1 == d2:
        raise ShapeError(f"diagonal: expected two different dims, got {dim1} and {dim2} for {x.shape}")
    return Diagonal.apply(x, offset=int_arg("diagonal", "offset", offset), dim1=d1, dim2=d2)


def narrow(x: Tensor, dim: int, start: Any, length: int) -> Tensor:
    """``x`` restricted to ``start .. start + length`` along ``dim`` (a view).

    Shape:
        x ``(*A, n, *B)`` -> ``(*A, length, *B)``.
    """
    if x.ndim == 0:
        raise ShapeError("narrow: expected a tensor with at least 1 dim, got shape ()")
    d = normalize_dim(dim, x.ndim, "narrow", x.shape)
    n = x.shape[d]
    if isinstance(start, Tensor) and (start.ndim != 0 or start._data.dtype.kind not in "iu"):
        # PyTorch's narrow.Tensor overload: a RuntimeError, where a one-element 1-D or bool start
        # would pass int_arg (a script's ``except RuntimeError`` must see it)
        raise ShapeError(
            f"narrow: start must be an 0-dim integral Tensor, got shape {tuple(start.shape)} of {start.dtype}"
        )
    start, length = int_arg("narrow", "start", start), int_arg("narrow", "length", length)
    start = start + n if start < 0 else start
    if not (0 <= start <= n and length >= 0 and start + length <= n):
        raise IndexOutOfRangeError(
            f"narrow: expected 0 <= start and start + length <= {n} (dim {dim} of {x.shape}), "
            f"got start {start} and length {length}"
        )
    out = GetItem.apply(x, key=(slice(None),) * d + (slice(start, start + length),), advanced=False)
    return named(out, "SliceBackward0")  # PyTorch's narrow is a slice


def select(x: Tensor, dim: int, index: Any) -> Tensor:
    """``x[..., index, ...]`` at ``dim`` (that dim removed; a view)."""
    if x.ndim == 0:
        # an IndexError, as PyTorch's
        raise IndexOutOfRangeError("select: expected a tensor with at least 1 dim, got shape ()")
    d = normalize_dim(dim, x.ndim, "select", x.shape)
    i = int_arg("select", "index", index)
    if not -x.shape[d] <= i < x.shape[d]:
        raise IndexOutOfRangeError(
            f"select: expected index in [{-x.shape[d]}, {x.shape[d]}) for dim {dim} of {x.shape}, got {i}"
        )
    return GetItem.apply(x, key=(slice(None),) * d + (i,), advanced=False)


def movedim(x: Tensor, source: Any, destination: Any) -> Tensor:
    """Move dims ``source`` to positions ``destination`` (ints or sequences), keeping the others' order."""
    src = [normalize_dim(s, x.ndim, "movedim", x.shape) for s in _ints((source,), "movedim")]
    dst = [normalize_dim(s, x.ndim, "movedim", x.shape) for s in _ints((destination,), "movedim")]
    # PyTorch's three checks, in its order and words (its tests match them)
    if len(src) != len(dst):
        raise ShapeError(
            f"movedim: Invalid source or destination dims: source ({src} dims) should contain the same "
            f"number of dims as destination ({dst} dims)"
        )
    for what, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise ShapeError(f"movedim: repeated dim in `{what}` ({dims})")
    rest = iter(i for i in range(x.ndim) if i not in src)
    placed = dict(zip(dst, src))
    dims = tuple(placed[i] if i in placed else next(rest) for i in range(x.ndim))
    return Permute.apply(x, dims=dims)


def swapaxes(x: Tensor, axis0: int, axis1: int) -> Tensor:
    """Swap two dims (PyTorch's ``swapaxes``/``swapdims``, the same as ``transpose``)."""
    return transpose(x, axis0, axis1)
