# ruff: noqa: A002 - PyTorch's parameter names (input) are the API
"""More of PyTorch's movement ops: broadcasting (``broadcast_tensors``, ``broadcast_shapes``, in
broadcasting.py), the ``atleast_*d`` family, the stacks (``column_stack``, ``dstack``, ``row_stack``), ``fliplr``/
``flipud``/``rot90``, ``tensor_split``, ``diff``, ``diag_embed``/``diagflat``, and
``Tensor.unfold`` (sliding windows as a strided view), and the reads ``take`` / ``take_along_dim``.

All but ``unfold`` and ``diag_embed`` are compositions of existing primitives (expand, reshape,
flip, permute, cat, getitem, sub), so their gradients come for free.
"""

from __future__ import annotations

import itertools
import operator
from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.errors import ArgumentError, DTypeError, IndexOutOfRangeError, ShapeError
from glassgrad.memory_overlap import overlaps
from glassgrad.meta_array import MetaArray
from glassgrad.operand_errors import int_arg
from glassgrad.ops import compare, indexing, joining, movement
from glassgrad.ops.broadcasting import broadcast_shapes, broadcast_tensors
from glassgrad.ops.composite import vstack
from glassgrad.ops.indexing import GetItem, normalize_dim
from glassgrad.ops.pieces import _pieces
from glassgrad.ops.views import _diagonal_view
from glassgrad.tensor import Tensor

__all__ = [
    "broadcast_tensors", "broadcast_shapes", "atleast_1d", "atleast_2d", "atleast_3d", "column_stack",
    "dstack", "row_stack", "fliplr", "flipud", "rot90", "tensor_split", "diff", "diag_embed", "diagflat",
    "unfold", "take", "take_along_dim",
]  # fmt: skip


# ------------------------------------------------------------------ atleast_*d and the stacks
def _atleast(n: int, tensors: tuple) -> Any:
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], list | tuple) else tensors
    out = []
    for t in ts:
        if not isinstance(t, Tensor):
            raise DTypeError(f"atleast_{n}d: expected tensors, got {type(t).__name__}")
        s = tuple(t.shape)
        if t.ndim < n:
            s = {0: (1,) * n, 1: (1, *s, 1) if n == 3 else (1, *s), 2: (*s, 1)}[t.ndim]
        out.append(t if s == tuple(t.shape) else movement.reshape(t, s))
    return out[0] if single else tuple(out)


def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least 1 dim (a 0-d tensor becomes shape ``(1,)``)."""
    return _atleast(1, tensors)


def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least 2 dims: ``() -> (1, 1)``, ``(n,) -> (1, n)``."""
    return _atleast(2, tensors)


def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least 3 dims: ``() -> (1, 1, 1)``, ``(n,) -> (1, n, 1)``, ``(m, n) -> (m, n, 1)``."""
    return _atleast(3, tensors)


def _seq(tensors: Any, op: str) -> list[Tensor]:
    joining.tensor_list(tensors, op)
    if not tensors:
        raise ShapeError(f"{op}: expected a non-empty sequence of tensors, got none")
    return list(tensors)


def column_stack(tensors: Any) -> Tensor:
    """Join along dim 1, 0-d and 1-D tensors first made columns ``(n,) -> (n, 1)``."""
    ts = [t.reshape(-1, 1) if t.ndim <= 1 else t for t in _seq(tensors, "column_stack")]
    return joining.cat(ts, 1)


def dstack(tensors: Any) -> Tensor:
    """Join along dim 2 (depth) after ``atleast_3d``."""
    return joining.cat(list(atleast_3d(_seq(tensors, "dstack"))), 2)


def row_stack(tensors: Any) -> Tensor:
    """``vstack``: join along dim 0 after ``atleast_2d``."""
    return vstack(list(atleast_2d(_seq(tensors, "row_stack"))))


# ------------------------------------------------------------------ flips and rotations
def fliplr(input: Tensor) -> Tensor:
    """Reverse dim 1 (left/right); needs at least 2 dims."""
    if input.ndim < 2:
        raise ShapeError(f"fliplr: Input must be >= 2-d. (got shape {input.shape})")  # PyTorch's words
    return movement.flip(input, 1)


def flipud(input: Tensor) -> Tensor:
    """Reverse dim 0 (up/down); needs at least 1 dim."""
    if input.ndim < 1:
        raise ShapeError(f"flipud: Input must be >= 1-d. (got shape {input.shape})")  # PyTorch's words
    return movement.flip(input, 0)


def rot90(input: Tensor, k: int = 1, dims: Any = (0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``, from the first dim towards the second."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise ShapeError(f"rot90: expected 2 rotation dims, got {dims}")
    if input.ndim < 2:
        raise ShapeError(f"rot90: expected a tensor with at least 2 dims, got shape {input.shape}")
    d0, d1 = (normalize_dim(d, input.ndim, "rot90", input.shape) for d in dims)
    if d0 == d1:
        raise ShapeError(f"rot90: expected two different rotation dims, got {dims} for shape {input.shape}")
    k = int_arg("rot90", "k", k) % 4
    if k == 1:
        return movement.transpose(movement.flip(input, d1), d0, d1)
    if k == 2:
        return movement.flip(input, (d0, d1))
    if k == 3:
        return movement.transpose(movement.flip(input, d0), d0, d1)
    return input.clone()  # k = 0: a copy, as PyTorch


# ------------------------------------------------------------------ tensor_split
def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Views of ``input`` along ``dim``: ``n`` near-equal sections (the first ``size % n`` one
    longer), or the pieces between the given indices (clamped to the dim, as slices are).

    Shape:
        x ``(*A, n, *B)`` -> pieces ``(*A, n_i, *B)``.
    """
    if input.ndim == 0:
        raise ShapeError("tensor_split: expected a tensor with at least 1 dim, got shape ()")
    d = normalize_dim(dim, input.ndim, "tensor_split", input.shape)
    n = input.shape[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios._data.dtype.kind not in "iu" or ios.ndim > 1:
            raise DTypeError(
                f"tensor_split: expected a 0-d or 1-D integer tensor, got {ios.dtype} of shape {ios.shape}"
            )
        ios = ios._data.item() if ios.ndim == 0 else ios._data.tolist()
    if isinstance(ios, int | np.integer):
        k = int(ios)
        if k <= 0:
            raise ShapeError(f"tensor_split: expected a positive number of sections, got {k}")
        sizes = [n // k + (i < n % k) for i in range(k)]
        bounds = np.cumsum([0, *sizes]).tolist()
    else:
        try:
            idx = [operator.index(i) for i in ios]
        except TypeError:
            raise DTypeError(f"tensor_split: expected an int or a sequence of ints, got {ios!r}") from None
        bounds = [0, *(min(max(i + n if i < 0 else i, 0), n) for i in idx), n]
    pre = (slice(None),) * d
    keys = [(*pre, slice(a, max(a, b))) for a, b in itertools.pairwise(bounds)]
    if all(a <= b for a, b in itertools.pairwise(bounds)):
        return _pieces(input, keys, multi=False, node="SliceBackward0")  # a partition: one hub, one buffer
    return tuple(GetItem.apply(input, key=key, advanced=False) for key in keys)  # overlapping pieces


# ------------------------------------------------------------------ diff
def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None) -> Tensor:
    """The ``n``-th forward difference along ``dim`` (``x[i + 1] - x[i]``; logical xor for bools),
    after joining ``prepend`` / ``append`` (same dims as input, same sizes outside ``dim``).

    Shape:
        ``(*A, m, *B) -> (*A, m - n, *B)`` (with prepend/append counted in m; 0 when n >= m);
        ``n = 0`` returns a copy of the input alone, ignoring prepend/append, as PyTorch does.
    """
    if input.ndim == 0:
        raise ShapeError("diff: expected a tensor with at least 1 dim, got shape ()")
    n = int_arg("diff", "n", n)
    if n < 0:
        raise ArgumentError(f"diff: expected order n >= 0, got {n}")  # PyTorch: RuntimeError
    d = normalize_dim(dim, input.ndim, "diff", input.shape)
    parts = []
    for name, t in (("prepend", prepend), (None, input), ("append", append)):
        if t is None:
            continue
        if name and not isinstance(t, Tensor):
            raise DTypeError(f"diff: expected {name} to be a Tensor, got {type(t).__name__}")
        if name and (
            t.ndim != input.ndim
            or any(a != b for i, (a, b) in enumerate(zip(t.shape, input.shape)) if i != d)
        ):
            raise ShapeError(
                f"diff: expected {name} with the input's {input.ndim} dims and sizes outside dim {dim} "
                f"(input {input.shape}), got {t.shape}"
            )
        parts.append(t)
    if n == 0:  # PyTorch's n=0 copies the input alone: prepend/append are checked, then dropped
        return input.clone()
    x = joining.cat(parts, d) if len(parts) > 1 else input
    pre = (slice(None),) * d
    for _ in range(n):
        if x.shape[d] == 0:
            break
        hi, lo = x[(*pre, slice(1, None))], x[(*pre, slice(None, -1))]
        x = compare.ne(hi, lo) if x._data.dtype == np.bool_ else hi - lo
    return x  # an empty dim hands back the (joined) input, as PyTorch's


# ------------------------------------------------------------------ diag_embed / diagflat
class DiagEmbed(Function):
    """z: zeros with x's last dim written on the ``offset`` diagonal of dims (dim1, dim2).
    VJP: g's diagonal (the same strided view of g)."""

    name = "diag_embed"

    @staticmethod
    def forward(ctx, a, offset=0, dim1=0, dim2=1, shape=()):
        out = array_module(a).zeros(shape, dtype=a.dtype)
        _diagonal_view(out, offset, dim1, dim2)[...] = a
        return out

    @staticmethod
    def backward(ctx, g):
        at = ctx.attrs
        return _diagonal_view(g, at["offset"], at["dim1"], at["dim2"]).copy()


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices with ``input``'s last dim on their ``offset`` diagonal over dims ``dim1``, ``dim2``
    of the result (one more dim than input).

    Shape:
        ``(*B, n) -> (*B, n + |offset|, n + |offset|)`` for the default dims.
    """
    if input.ndim == 0:
        # an IndexError, as PyTorch's
        raise IndexOutOfRangeError("diag_embed: expected a tensor with at least 1 dim, got shape ()")
    nd = input.ndim + 1
    d1 = normalize_dim(dim1, nd, "diag_embed", input.shape)
    d2 = normalize_dim(dim2, nd, "diag_embed", input.shape)
    if d1 == d2:
        raise ShapeError(f"diag_embed: expected two different dims, got {dim1} and {dim2}")
    offset = int_arg("diag_embed", "offset", offset)
    m = input.shape[-1] + abs(offset)
    rest = iter(input.shape[:-1])
    shape = tuple(m if i in (d1, d2) else next(rest) for i in range(nd))
    return DiagEmbed.apply(input, offset=offset, dim1=d1, dim2=d2, shape=shape)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """A square matrix with the flattened ``input`` on its ``offset`` diagonal."""
    return diag_embed(input.reshape(-1), offset, 0, 1)


# ------------------------------------------------------------------ unfold (sliding windows)
class TensorUnfold(Function):
    """z = the windows x[.., i*step : i*step + size, ..] along ``dim``, as a strided view with the
    window index in place of ``dim`` and the window's entries in a new last dim.
    VJP: each window's gradient added back to the entries it read (windows may overlap)."""

    name = "tensor_unfold"
    node_name = "UnfoldBackward0"  # PyTorch's grad_fn name for Tensor.unfold (F.unfold's is Im2Col)

    @staticmethod
    def forward(ctx, a, dim=0, size=1, step=1):
        xp = array_module(a)
        count = (a.shape[dim] - size) // step + 1
        shape = a.shape[:dim] + (count,) + a.shape[dim + 1 :] + (size,)
        st = a.strides
        strides = st[:dim] + (st[dim] * step,) + st[dim + 1 :] + (st[dim],)
        # writable only where no two places share memory (a write through them would be
        # ambiguous): windows that do not overlap, or a single window (count 1, step < size)
        return xp.lib.stride_tricks.as_strided(
            a, shape, strides, writeable=a.flags.writeable and not overlaps(shape, strides)
        )

    @staticmethod
    def backward(ctx, g):
        at = ctx.attrs
        d, size, step = at["dim"], at["size"], at["step"]
        xp = array_module(g)
        out = xp.zeros(ctx.shapes[0], dtype=g.dtype)
        count = g.shape[d]
        where = xp.arange(count)[:, None] * step + xp.arange(size)[None, :]  # (count, size)
        xp.add.at(out, (slice(None),) * d + (where,), xp.moveaxis(g, -1, d + 1))  # (.., count, size, ..)
        return out


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """``Tensor.unfold``: every slice of length ``size`` along ``dimension``, ``step`` apart, as a
    view; the windows' entries form a new last dim.

    Shape:
        ``(*A, n, *B) -> (*A, (n - size) // step + 1, *B, size)``.
    """
    size, step = int_arg("unfold", "size", size), int_arg("unfold", "step", step)
    # PyTorch's checks in its order and words (a 0-d tensor unfolds as one of shape (1,))
    d = normalize_dim(dimension, max(input.ndim, 1), "unfold", input.shape)  # 0-d: dims 0 and -1
    n = input.shape[d] if input.ndim else 1
    if size > n:
        raise ShapeError(f"unfold: maximum size for tensor at dimension {d} is {n} but size is {size}")
    if size < 0:
        raise ShapeError(f"unfold: size is {size} but must be >= 0")
    if step <= 0:
        raise ShapeError(f"unfold: step is {step} but must be > 0")
    if input.ndim == 0:
        return TensorUnfold.apply(input.reshape(1), dim=0, size=size, step=step).reshape(size)
    return TensorUnfold.apply(input, dim=d, size=size, step=step)


# ------------------------------------------------------------------ take / take_along_dim
def _wrapping_range(idx: Any, n: int, op: str, where: str) -> None:
    if idx.size and idx.__class__ is not MetaArray and (idx.min() < -n or idx.max() >= n):  # meta: no values
        raise IndexOutOfRangeError(
            f"{op}: expected indices in [{-n}, {n}) for {where}, got values in [{idx.min()}, {idx.max()}]"
        )


def take(x: Tensor, index: Any) -> Tensor:
    """The entries of ``x`` read as a 1-D tensor, at ``index`` (negative counts from the end).

    Shape:
        the result has index's shape.
    """
    idx = indexing._int_array(index, "take", ("int64",))
    _wrapping_range(idx, x.numel(), "take", f"the {x.numel()} entries of shape {x.shape}")
    return indexing.GetItem.apply(x.reshape(-1), key=(idx,), advanced=True)


def take_along_dim(x: Tensor, indices: Any, dim: int | None = None) -> Tensor:
    """``gather`` along ``dim`` with x and indices broadcast against each other in the other dims
    (negative indices count from the end); with ``dim=None`` over the flattened input.

    Shape:
        x and indices have the same number of dims; the result has the broadcast shape with
        indices' size along ``dim``.
    """
    if dim is None:  # PyTorch's gather(x.view(-1), 0, indices.view(-1)): int32 taken, negatives refused
        idx = indexing._int_array(indices, "take_along_dim")
        return indexing.gather(x.reshape(-1), 0, idx.reshape(-1))
    dt = getattr(getattr(indices, "_data", indices), "dtype", None)
    if dt is not None and dt != np.int64:  # PyTorch's words, so its messages match (bool/float/int32)
        raise DTypeError(f"take_along_dim: dtype of indices should be Long but got {dt} (expected int64)")
    idx = indexing._int_array(indices, "take_along_dim", ("int64",))
    if x.ndim != idx.ndim:
        raise ShapeError(
            f"take_along_dim: expected input and indices with the same number of dims, got {x.shape} "
            f"and {idx.shape} (input and indices should have the same number of dimensions)"
        )
    if x.ndim == 0:  # PyTorch: no dim to take along, its IndexError
        raise IndexOutOfRangeError(
            f"take_along_dim: Dimension specified as {dim} but tensor has no dimensions"
        )
    d = indexing.normalize_dim(dim, x.ndim, "take_along_dim", x.shape)
    n = x.shape[d]
    _wrapping_range(idx, n, "take_along_dim", f"dim {dim} of shape {x.shape}")
    idx = array_module(idx).where(idx < 0, idx + n, idx)
    sx, si = list(x.shape), list(idx.shape)
    sx[d] = si[d] = 1
    try:
        shape = list(np.broadcast_shapes(tuple(sx), tuple(si)))
    except ValueError:
        raise ShapeError(
            f"take_along_dim: expected input {x.shape} and indices {idx.shape} broadcastable outside "
            f"dim {dim}"
        ) from None
    shape[d] = idx.shape[d]
    idx = array_module(idx).broadcast_to(idx, tuple(shape))
    shape[d] = n
    if tuple(x.shape) != tuple(shape):
        x = x.expand(*shape)
    return indexing.Gather.apply(x, idx, dim=d)
