"""Movement primitives: reshape, permute, expand, repeat, flip, roll, tril/triu.

Each backward is the inverse movement: reshape back, permute by the inverse permutation, flip
again, roll back. ``expand``'s backward is the identity because the engine's ``unbroadcast``
sums the gradient over the expanded dims. squeeze/unsqueeze/flatten/unflatten are reshapes;
split/chunk/unbind are in ``pieces.py``. Joining (cat, stack) is in ``joining.py``, padding in ``padding.py``.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.autograd.function import named
from glassgrad.backend import array_module, c_layout, may_share_memory
from glassgrad.errors import DTypeError, IndexOutOfRangeError, ShapeError
from glassgrad.memory_formats import empty_preserving, is_channels_last_like, suggest_format, to_format
from glassgrad.meta_array import MetaArray
from glassgrad.operand_errors import int_arg
from glassgrad.ops.indexing import normalize_dim
from glassgrad.tensor import Tensor

__all__ = [
    "reshape", "transpose", "t", "permute", "expand", "squeeze", "unsqueeze", "flatten", "unflatten",
    "repeat", "flip", "roll", "tril", "triu", "view",
]  # fmt: skip


def _ints(args: tuple, op: str) -> tuple[int, ...]:
    """Sizes/dims given as varargs ``f(x, 2, 3)`` or as one sequence ``f(x, (2, 3))``."""
    if len(args) == 1 and isinstance(args[0], tuple | list):
        args = tuple(args[0])
    if all(type(s) is int for s in args):
        return args
    try:
        out = tuple(operator.index(s) for s in args)
    except TypeError:
        raise DTypeError(f"{op}: expected integer sizes, got {args!r}") from None
    if any(s.__class__ is bool for s in args):  # PyTorch's parser refuses a bool where an int belongs
        raise DTypeError(f"{op}: expected integer sizes or dims, got a bool in {args!r}")
    return out


def _dims(dims: Any, x: Tensor, op: str) -> tuple[int, ...]:
    dims = (dims,) if not isinstance(dims, tuple | list) else dims
    out = tuple(normalize_dim(d, x.ndim, op, x.shape) for d in dims)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: expected distinct dims, got {tuple(dims)} for shape {x.shape}")
    return out


# ------------------------------------------------------------------ primitives
class Reshape(Function):
    """z = x viewed with a new shape (same elements, row-major order).   VJP: g reshaped to x's shape."""

    @staticmethod
    def forward(ctx, a, shape=()):
        return a.reshape(shape)  # (x.shape) -> (shape), a view when NumPy can

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shapes[0])  # (shape) -> (x.shape)


class Permute(Function):
    """z = x with its dims reordered: z.shape[i] = x.shape[dims[i]].
    VJP: g permuted by the inverse permutation (argsort of dims)."""

    @staticmethod
    def forward(ctx, a, dims=()):
        return a.transpose(dims)  # (s_0, .., s_n) -> (s_dims[0], .., s_dims[n])

    @staticmethod
    def backward(ctx, g):
        return g.transpose(np.argsort(ctx.attrs["dims"]))  # back to x's dim order


class Expand(Function):
    """z = x broadcast to ``shape`` (a view, no copy): read-only where a dim stretches, since its
    elements then share memory; writable where none does (new leading dims of size 1, sizes kept),
    as PyTorch, whose in-place ops refuse only the overlapping case.
    VJP: g itself; the engine's unbroadcast sums it over the new and stretched dims."""

    @staticmethod
    def forward(ctx, a, shape=()):
        if a.shape == tuple(shape[len(shape) - a.ndim :]) and all(
            s == 1 for s in shape[: len(shape) - a.ndim]
        ):
            return a.reshape(shape)  # nothing stretches: a plain view, writable as its input
        return array_module(a).broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, g):
        return g


class Repeat(Function):
    """z = x tiled ``sizes[i]`` times along dim i (x first gets leading 1-dims up to len(sizes)), a new
    row-major tensor as PyTorch's (NumPy's ``tile`` with every size 1 copies in x's own layout, so a
    transposed x gave a transposed result that ``view`` refused).
    VJP: g viewed as (r0, s0, r1, s1, ...) and summed over the r axes: each copy sends its gradient."""

    @staticmethod
    def forward(ctx, a, sizes=()):
        out = c_layout(array_module(a).tile(a, sizes))
        # NumPy's tile of an empty array is a reshape of it: a view, which would make an in-place
        # change of the result one of a view of x (refused for a leaf); PyTorch's is a new tensor
        return out.copy() if out.base is not None and not out.size else out

    @staticmethod
    def backward(ctx, g):
        sizes, shape = ctx.attrs["sizes"], ctx.shapes[0]
        full = (1,) * (len(sizes) - len(shape)) + tuple(shape)
        g = g.reshape([v for r, s in zip(sizes, full) for v in (r, s)])  # (r0*s0, ...) -> (r0, s0, ...)
        return g.sum(axis=tuple(range(0, 2 * len(sizes), 2))).reshape(shape)  # (1.., *s) -> x's shape


class Flip(Function):
    """z = x reversed along ``dims`` (a copy, as PyTorch's: NumPy's reversed view would share x's
    memory, so a change of either would show in the other), laid out as ``preserve_format`` lays out
    a copy of x (PyTorch's ``empty_like``: a transposed x gives a transposed result, so ``rot90`` of
    it is contiguous as PyTorch's).   VJP: g reversed along the same dims."""

    @staticmethod
    def forward(ctx, a, dims=()):
        xp = array_module(a)
        if a.__class__ is MetaArray or a.flags.c_contiguous:
            return xp.flip(a, dims).copy()
        out = empty_preserving(a, xp=xp)
        out[...] = xp.flip(a, dims)
        return out

    @staticmethod
    def backward(ctx, g):
        return array_module(g).flip(g, ctx.attrs["dims"])


class Roll(Function):
    """z = x shifted cyclically by ``shifts`` along ``dims`` (flattened if dims is None).
    VJP: g rolled back by -shifts."""

    @staticmethod
    def forward(ctx, a, shifts=(), dims=None):
        out = array_module(a).roll(a, shifts, axis=dims)
        if dims is not None and is_channels_last_like(a):  # PyTorch's empty_like(a, suggested format)
            return to_format(out, suggest_format(a))
        return c_layout(out)  # row-major, as PyTorch's copy (dims None: a roll of the flattened a)

    @staticmethod
    def backward(ctx, g):
        back = tuple(-s for s in ctx.attrs["shifts"])
        return array_module(g).roll(g, back, axis=ctx.attrs["dims"])


class Tril(Function):
    """z = x with entries above the ``diagonal``-th diagonal set to 0 (last two dims).   VJP: tril(g)."""

    @staticmethod
    def forward(ctx, a, diagonal=0):
        return c_layout(array_module(a).tril(a, diagonal))  # row-major, as PyTorch's result

    @staticmethod
    def backward(ctx, g):
        return array_module(g).tril(g, ctx.attrs["diagonal"])


class Triu(Function):
    """z = x with entries below the ``diagonal``-th diagonal set to 0 (last two dims).   VJP: triu(g)."""

    @staticmethod
    def forward(ctx, a, diagonal=0):
        return c_layout(array_module(a).triu(a, diagonal))  # row-major, as PyTorch's result

    @staticmethod
    def backward(ctx, g):
        return array_module(g).triu(g, ctx.attrs["diagonal"])


# ------------------------------------------------------------------ shape changes (reshapes)
def _infer(shape: tuple[int, ...], n: int) -> tuple[int, ...] | None:
    """``shape`` with its -1 (if any) filled in so that it holds ``n`` elements; None if impossible."""
    known = math.prod(s for s in shape if s != -1)
    if shape.count(-1) > 1 or any(s < -1 for s in shape):
        return None
    if -1 in shape:
        if known == 0 or n % known:
            return None
        return tuple(n // known if s == -1 else s for s in shape)
    return shape if known == n else None


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """``x`` with a new shape of the same number of elements; one size may be -1 (inferred).

    >>> import glassgrad as gg
    >>> gg.arange(6).reshape(2, -1).shape
    glassgrad.Size([2, 3])
    """
    shape = _ints(shape, "reshape")
    n = x._data.size
    new = (
        shape
        if -1 not in shape and math.prod(shape) == n and min(shape, default=0) >= 0
        else _infer(shape, n)
    )
    if new is None:
        raise ShapeError(
            f"reshape: expected a shape with {n} elements, got {shape} for input of shape {x.shape}"
        )
    return _viewed(Reshape.apply(x, shape=new), x)


def _viewed(out: Tensor, x: Tensor) -> Tensor:
    """``out`` of a reshape of ``x``, its node named as PyTorch's: a view, or a copy (``UnsafeView``)."""
    if out._node is not None:  # (NumPy gives a view the memory's owner as its base, a copy another)
        owner = x._data if x._data.base is None else x._data.base  # (meta arrays hold no memory: views)
        view = out._data.base is owner or out._data.__class__ is MetaArray
        named(out, "ViewBackward0" if view else "UnsafeViewBackward0")
    return out


def view(x: Tensor, *shape: Any) -> Tensor:
    """``x`` with a new shape, sharing its memory: writes through one show in the other.

    Unlike ``reshape``, never copies: a shape that the tensor's strides cannot express (after a
    transpose, say) is an error, as in PyTorch; use ``reshape`` or ``contiguous().view(...)``.
    """
    out = reshape(x, *shape)
    if out._data.size and not may_share_memory(out._data, x._data):
        raise ShapeError(
            f"view: expected a shape expressible over the input's strides, got {out.shape} for a "
            f"non-contiguous input of shape {x.shape} (strides {x._data.strides}); use "
            ".reshape(...) or .contiguous().view(...)"
        )
    return out


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    """Remove size-1 dims (all, or those in ``dim``; a named dim of another size is kept, as PyTorch)."""
    dims = range(x.ndim) if dim is None else _dims(dim, x, "squeeze")
    drop = {d for d in dims if x.ndim and x.shape[d] == 1}
    out = Reshape.apply(x, shape=tuple(s for i, s in enumerate(x.shape) if i not in drop))
    # PyTorch's squeeze(), squeeze(int), squeeze(tuple) are three ops
    return named(out, f"SqueezeBackward{0 if dim is None else 2 if isinstance(dim, tuple | list) else 1}")


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at ``dim`` (in [-ndim-1, ndim])."""
    d = normalize_dim(dim, x.ndim + 1, "unsqueeze", x.shape)
    return named(Reshape.apply(x, shape=x.shape[:d] + (1,) + x.shape[d:]), "UnsqueezeBackward0")


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one: ``(N, C, H, W) -> (N, C*H*W)`` for start_dim=1."""
    s = normalize_dim(start_dim, x.ndim, "flatten", x.shape)
    e = normalize_dim(end_dim, x.ndim, "flatten", x.shape)
    if s > e:
        raise ShapeError(
            f"flatten: expected start_dim <= end_dim, got {start_dim} and {end_dim} for {x.shape}"
        )
    if s == e and x.ndim:
        return x  # PyTorch returns the tensor itself (no view, no graph node): ``x.flatten(1, 1) is x``
    shape = x.shape[:s] + (math.prod(x.shape[s : e + 1]),) + x.shape[e + 1 :]
    return _viewed(Reshape.apply(x, shape=shape), x)


def unflatten(x: Tensor, dim: int, sizes: Any) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one may be -1): ``(N, C*H*W) -> (N, C, H, W)``."""
    if x.ndim == 0:
        raise ShapeError("unflatten: expected a tensor with at least 1 dim, got shape ()")
    d = normalize_dim(dim, x.ndim, "unflatten", x.shape)
    sizes = _ints((sizes,), "unflatten")
    if not sizes:  # PyTorch refuses it even on a size-1 dim (it would vanish)
        raise ShapeError(f"unflatten: sizes must be non-empty (dim {dim} of {x.shape})")
    inner = _infer(sizes, x.shape[d])
    if inner is None:
        raise ShapeError(
            f"unflatten: expected sizes with product {x.shape[d]} (dim {dim} of {x.shape}), got {sizes}"
        )
    return _viewed(Reshape.apply(x, shape=x.shape[:d] + inner + x.shape[d + 1 :]), x)


# ------------------------------------------------------------------ dim orders and broadcasts
def permute(x: Tensor, *dims: Any) -> Tensor:
    """Reorder dims: ``permute(x, 0, 2, 1)``: ``(N, L, E) -> (N, E, L)``."""
    dims = _ints(dims, "permute")
    if len(dims) != x.ndim:
        raise ShapeError(f"permute: expected a permutation of {x.ndim} dims, got {dims} for shape {x.shape}")
    return Permute.apply(x, dims=_dims(dims, x, "permute"))


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims: ``transpose(x, -2, -1)``: ``(..., n, m) -> (..., m, n)``."""
    d0 = normalize_dim(dim0, x.ndim, "transpose", x.shape)
    d1 = normalize_dim(dim1, x.ndim, "transpose", x.shape)
    dims = list(range(x.ndim))
    if x.ndim:
        dims[d0], dims[d1] = dims[d1], dims[d0]
    return named(Permute.apply(x, dims=tuple(dims)), "TransposeBackward0")


def t(x: Tensor) -> Tensor:
    """Transpose of a tensor with at most 2 dims (0-d and 1-d come back unchanged), as PyTorch."""
    if x.ndim > 2:
        raise ShapeError(f"t: expected a tensor with at most 2 dims, got shape {x.shape}; use transpose")
    return named(Permute.apply(x, dims=tuple(range(x.ndim))[::-1]), "TBackward0")


def expand(x: Tensor, *sizes: Any) -> Tensor:
    """Broadcast ``x`` to ``sizes`` without copying; -1 keeps a size, new dims go in front.

    Only size-1 dims can grow (PyTorch's rule).
    """
    sizes = _ints(sizes, "expand")
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: expected at least {x.ndim} sizes for shape {x.shape}, got {sizes}")
    target = list(sizes[:lead])
    if any(s < 0 for s in target):
        raise ShapeError(f"expand: expected non-negative sizes for the new leading dims, got {sizes}")
    for s, old in zip(sizes[lead:], x.shape):
        if s == -1:
            s = old
        elif s != old and old != 1:
            raise ShapeError(
                f"expand: expected sizes that match {x.shape} or grow its size-1 dims, got {sizes}"
            )
        target.append(s)
    return Expand.apply(x, shape=tuple(target))


def repeat(x: Tensor, *sizes: Any) -> Tensor:
    """Tile ``x`` ``sizes[i]`` times along each dim (PyTorch's ``repeat``; extra sizes add leading dims)."""
    sizes = _ints(sizes, "repeat")
    if len(sizes) < x.ndim or any(s < 0 for s in sizes):
        raise ShapeError(
            f"repeat: expected at least {x.ndim} non-negative sizes for shape {x.shape}, got {sizes}"
        )
    return Repeat.apply(x, sizes=sizes)


def flip(x: Tensor, dims: Any) -> Tensor:
    """Reverse the order of entries along ``dims`` (int or sequence)."""
    dims = _dims(dims, x, "flip")  # checked for a 0-d tensor too (dims 0 and -1 only), as PyTorch
    return Flip.apply(x, dims=dims if x.ndim else ())


def roll(x: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Shift entries cyclically by ``shifts`` along ``dims``; with dims None, over the flattened tensor."""
    shifts = _ints((shifts,), "roll")
    if dims is None:
        if len(shifts) != 1:
            raise ShapeError(f"roll: expected one shift when dims is None, got {shifts}")
        return Roll.apply(x, shifts=shifts, dims=None)
    # PyTorch's IndexError for any dim of a 0-d tensor (normalize_dim takes 0 and -1 there)
    if x.ndim == 0 and _ints((dims,), "roll"):
        raise IndexOutOfRangeError(
            f"roll: Dimension specified as {dims} but tensor has no dimensions (shape ())"
        )
    dims = tuple(normalize_dim(d, x.ndim, "roll", x.shape) for d in _ints((dims,), "roll"))
    if len(dims) != len(shifts):
        raise ShapeError(f"roll: expected as many shifts as dims, got shifts {shifts} and dims {dims}")
    return Roll.apply(x, shifts=shifts, dims=dims)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """Lower triangle of the last two dims (entries above the ``diagonal``-th diagonal become 0)."""
    if x.ndim < 2:
        raise ShapeError(f"tril: expected a tensor with at least 2 dims, got shape {x.shape}")
    return Tril.apply(x, diagonal=int_arg("tril", "diagonal", diagonal))


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """Upper triangle of the last two dims (entries below the ``diagonal``-th diagonal become 0)."""
    if x.ndim < 2:
        raise ShapeError(f"triu: expected a tensor with at least 2 dims, got shape {x.shape}")
    return Triu.apply(x, diagonal=int_arg("triu", "diagonal", diagonal))
