"""``as_strided(x, size, stride, storage_offset=None)``: a view of the memory under ``x`` with the
given sizes and element strides, starting ``storage_offset`` elements into that memory (``x``'s own
offset when omitted), as PyTorch's ``torch.as_strided`` / ``Tensor.as_strided``.

Inside ``vmap`` an explicit ``storage_offset`` counts from the batch's first item, as PyTorch's
batching rule reads it (``vmap(lambda t: t.as_strided(size, stride, 1))`` gives each item its own
element 1, not item 0's), and a view reaching outside the item's memory raises, as PyTorch's.

The result shares memory (and the version counter) with ``x``. Its gradient reaches the elements
of ``x`` it reads (summed where it reads one element twice); memory it reads outside ``x``'s own
elements gets none, as in PyTorch. A view that reads one element twice is read-only: writing
into it raises, as PyTorch's in-place ops refuse an overlapping destination.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.engine_modes import vmap_loops
from glassgrad.autograd.view_rebase import AsStrided as _ViewNode
from glassgrad.autograd.view_rebase import overlaps
from glassgrad.backend import array_module
from glassgrad.errors import ShapeError
from glassgrad.tensor import Tensor

__all__ = ["as_strided", "memory_root"]


def memory_root(a: Any) -> Any:
    """The array at the end of ``a``'s chain of views: the one over the whole block of memory
    ``a`` views, through NumPy's stride-trick wrappers (``as_strided``'s, ``diagonal``'s), whose
    ``base`` is a ``DummyArray`` holding the array they view."""
    root = a
    while True:
        base = root.base
        if base is not None and base.__class__ is not a.__class__:  # stride_tricks' DummyArray
            base = getattr(base, "base", None)
        if base is None or base.__class__ is not a.__class__:
            return root
        root = base


def _memory(a: Any) -> Any:
    """The 1-D array over the whole block of memory ``a`` views, in memory order, or None."""
    root = memory_root(a)
    if root.flags.c_contiguous:
        return root.reshape(-1)
    if root.flags.f_contiguous:
        return root.reshape(-1, order="F")
    # one block in another dim order: NumPy lays an elementwise result of channels-last or permuted
    # operands out as they are (PyTorch's TensorIterator does too); read its dims largest stride first
    block = root.transpose(sorted(range(root.ndim), key=lambda d: -root.strides[d]))
    return block.reshape(-1) if block.flags.c_contiguous else None


class AsStridedView(_ViewNode):
    """z = the elements at ``storage_offset + sum(i_k * stride_k)`` of x's memory, shape ``size``.
    VJP: zeros laid out as x's memory with g added at those places, read at x's places."""

    name = "as_strided"  # the internal view node's name: its create_graph rule is this op's
    node_name = "AsStridedBackward0"  # PyTorch's grad_fn name
    register = False
    # a selection of elements with real coefficients: its VJP (g scattered back, summed where an
    # element is read twice) is the same for complex values, no conjugate needed
    complex_ok = True

    @staticmethod
    def meta_shape(a, size=(), stride=(), storage_offset=None):
        """The result's shape and dtype (a meta tensor has no memory to bound-check against)."""
        return size, a.dtype

    @staticmethod
    def forward(ctx, a, size=(), stride=(), storage_offset=None):
        xp = array_module(a)
        flat = _memory(a)
        k = a.itemsize
        if flat is None:  # (rare) memory not in one block: no storage to index, as PyTorch's has
            raise NotImplementedError(
                f"as_strided: the input's memory (shape {a.shape}, strides {a.strides}) is not one block"
            )
        base = (a.__array_interface__["data"][0] - flat.__array_interface__["data"][0]) // k
        start = base if storage_offset is None else storage_offset
        need = start + 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else 0
        if need > flat.size:
            raise ShapeError(
                f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {start},"
                f" and itemsize {k} requiring a storage size of {need * k} are out of bounds for"
                f" storage of size {flat.size * k}"
            )
        # made over the memory itself (not stride_tricks' wrapper), so that its base is that memory
        # and storage_offset() / the view bookkeeping see where it starts
        at = start if need else min(start, flat.size)  # (an empty view may start past the end)
        view = xp.ndarray(size, a.dtype, buffer=flat, offset=at * k, strides=tuple(s * k for s in stride))
        if not flat.flags.writeable or overlaps(size, stride):
            view.flags.writeable = False
        ctx.attrs["arrays"] = (a, view)  # geometry for the backward, worked out at first use
        return view


def as_strided(x: Tensor, size: Any, stride: Any, storage_offset: Any = None) -> Tensor:
    """A view of ``x``'s memory with sizes ``size`` and element strides ``stride``, starting at
    element ``storage_offset`` of that memory (``x.storage_offset()`` when None).

    Shape:
        x any shape -> ``size``.
    """
    size = tuple(int(n) for n in size)
    stride = tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise ShapeError(
            f"as_strided: mismatch in length of strides and shape, got size {list(size)} and"
            f" stride {list(stride)}"
        )
    if any(s < 0 for s in stride):
        raise ShapeError(
            f"as_strided: Negative strides are not supported at the moment, got strides: {list(stride)}"
        )
    if any(n < 0 for n in size):
        raise ShapeError(f"as_strided: expected sizes of at least 0, got size {list(size)}")
    if storage_offset is not None:
        storage_offset = int(storage_offset)
        if storage_offset < 0:
            raise ShapeError(f"as_strided: invalid storage offset {storage_offset}, expected at least 0")
        if vmap_loops.shifts:
            storage_offset = _in_item(x, size, stride, storage_offset)
    return AsStridedView.apply(x, size=size, stride=stride, storage_offset=storage_offset)


def _storage_size(size: tuple, stride: tuple) -> int:
    """Elements from the first to one past the last that ``(size, stride)`` reaches (0 if empty)."""
    return 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else 0


def _in_item(x: Tensor, size: tuple, stride: tuple, storage_offset: int) -> int:
    """``storage_offset`` for this item of the running vmap loops (``func/vmap.py``): glassgrad's
    loop hands ``func`` each item's slice, where an absolute offset would read item 0's memory for
    every item; PyTorch's batching rule adds ``i * batch_stride`` for each vmap level ``x`` is
    mapped at. Its check too: the view stays within the item's memory (what ``x`` reaches)."""
    matched = [level[id(x._vc)] for level in vmap_loops.shifts if id(x._vc) in level]
    if not matched:  # not a view of a mapped input (in_dim None, or a new tensor): absolute
        return storage_offset
    shifted = storage_offset + sum(matched)
    reach = _storage_size(size, stride)
    own = _storage_size(tuple(x.shape), tuple(x.stride()))
    base = x.storage_offset()
    if reach and (not own or shifted < base or shifted + reach > base + own):
        raise ShapeError(
            f"as_strided: result = tensor.as_strided({list(size)}, {list(stride)}, {storage_offset}) "
            f"inside vmap can access memory outside of `tensor` (shape {tuple(x.shape)}, strides "
            f"{tuple(x.stride())}): `result` reaches offsets [{storage_offset}, {storage_offset + reach - 1}] "
            f"of the batch's first item, `tensor` only [{base - sum(matched)}, "
            f"{base - sum(matched) + own - 1}]. This is not supported inside of vmap, as in PyTorch; "
            "rewrite the as_strided call as a sequence of view operations"
        )
    return shifted
