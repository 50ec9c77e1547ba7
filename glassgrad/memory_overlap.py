"""Whether an in-place op's destination and one of its inputs partly share memory.

PyTorch refuses ``y[1:] += y[:-1]``, ``x.copy_(x.t())`` or ``x[1:] = x[:-1]`` ("some elements of
the input tensor and the written-to tensor refer to a single memory location"): its kernels read
and write the same elements in an order of their own, so the result would depend on that order.
glassgrad computes every in-place op out of place and writes the result back, so it would give
a well-defined answer where PyTorch raises; it raises instead, so that a program behaves the same
in both libraries. The rule is PyTorch's (``get_overlap_status``): two blocks that are each dense
and non-overlapping (a permutation of a contiguous layout) and cover intersecting byte ranges
overlap *partly* unless they are the same block with the same strides (``x.add_(x)`` is allowed).
Blocks that are not dense (steps, broadcast rows) are "too hard" for PyTorch and allowed here too.
PyTorch's indexed writes (``index_add_``, ``scatter_``, ``put_`` ...) check with ``assert_no_overlap``:
their index and source may not share self's memory at all, not even all of it (``x.index_add_(0, i,
x)``). Size-1 dimensions are left out of the stride comparison: their strides carry no meaning and NumPy
and PyTorch assign them differently, so this check never raises where PyTorch would not.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any

import numpy as np

from glassgrad.errors import ShapeError
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "EXPANDED_WRITES",
    "expanded_alias",
    "memory_from_first_element",
    "overlaps",
    "refuse_indexed_overlap",
    "refuse_partial_overlap",
    "reopen",
    "reopen_if_distinct",
    "warn_expanded_write",
    "writable_alias",
    "write_changed",
]

#: Ops whose tensor value is read as one number before anything is written (a 0-dim value of x
#: itself is fine there, as in PyTorch). PyTorch leaves ``masked_scatter_`` unchecked and its
#: result then depends on the order its kernel writes in; glassgrad refuses that one too.
_SCALAR_VALUE = frozenset({"fill_", "masked_fill_", "index_fill_"})
#: PyTorch's in-place matrix products (BLAS into self) make no overlap check at all.
_UNCHECKED = frozenset({"addmm_", "addbmm_", "addmv_", "baddbmm_"})
#: PyTorch's ``assert_no_overlap`` writes: an index or source that is self itself is refused too
_NO_OVERLAP = frozenset(
    {"index_add_", "index_copy_", "index_fill_", "index_put_", "index_reduce_", "put_", "scatter_"}
    | {"scatter_add_", "scatter_reduce_"}
    # and the out= of the gathering ops (PyTorch's error_inputs: ``gather(x, 0, i, out=x)``); their
    # results were right here, computed before the write, but a program relying on that fails there
    | {"gather", "index_select", "kthvalue", "masked_select", "take"}
    | {"cat", "dstack", "hstack", "vstack"}  # (cat(tensors, out=tensors[0]): ATen's cat.out checks it)
    | {"stack", "column_stack", "row_stack"}  # (joined by cat.out in ATen: the same check)
)


def _dense_block(a: Any) -> tuple[int, int, tuple] | None:
    """``(begin, end, strides of the dims larger than 1)`` of a dense, non-overlapping array;
    None when it is not one (or holds no elements or no addressable memory)."""
    if a.__class__.__name__ != "ndarray" or a.size == 0:
        return None
    dims = [(s, n) for s, n in zip(a.strides, a.shape, strict=True) if n != 1]
    expected = a.itemsize
    for stride, n in sorted(dims):
        if stride != expected:  # a gap, a repeat (stride 0) or a reversed axis (negative stride)
            return None
        expected *= n
    begin = a.__array_interface__["data"][0]
    return begin, begin + a.size * a.itemsize, tuple(dims)


def refuse_partial_overlap(op: str, dst: Any, src: Any, whole: bool = False) -> None:
    """Raise ``ShapeError`` when the arrays ``dst`` (written) and ``src`` (read) partly overlap, or
    (``whole``, or an op of ``_NO_OVERLAP``) are the same elements."""
    # NumPy points a view's .base at the array owning the memory: arrays with different owners
    # cannot overlap, which settles the common case (an optimizer's state and its gradient) cheaply.
    if (src.ndim == 0 and op in _SCALAR_VALUE) or op in _UNCHECKED:
        return
    dst_owner, src_owner = getattr(dst, "base", None), getattr(src, "base", None)
    if (dst if dst_owner is None else dst_owner) is not (src if src_owner is None else src_owner):
        return
    if src is dst:  # one tensor given twice: PyTorch's full overlap, whatever the layout
        if whole or op in _NO_OVERLAP:
            _refuse(op, dst, src, "at the same positions")
        return
    a = _dense_block(dst)
    if a is None:
        return
    b = _dense_block(src)
    if b is None or a[0] >= b[1] or b[0] >= a[1]:
        return
    if a != b:
        _refuse(op, dst, src, "at different positions")
    if whole or op in _NO_OVERLAP:  # (else the same elements at the same places: x.add_(x))
        _refuse(op, dst, src, "at the same positions")


def _refuse(op: str, dst: Any, src: Any, where: str) -> None:
    raise ShapeError(
        f"{op}: unsupported operation: some elements of the input tensor (shape {src.shape}) and the "
        f"written-to tensor (shape {dst.shape}) refer to the same memory {where}, a single memory "
        "location: clone() the input before performing the operation"
    )


#: The one-value indexed writes PyTorch still lets through expand's views, after a deprecation
#: warning, writing the shared memory wherever a place is written (``x[mask] = v``, its index_put_,
#: is in ops/setitem.py). ``index_put_`` itself is left refused: with ``accumulate=True`` PyTorch adds
#: every place's value into the shared element, which a write of the out-of-place result cannot give.
EXPANDED_WRITES = frozenset({"masked_fill_", "index_fill_"})


def expanded_alias(a: Any) -> Any:
    """A writable alias of ``a`` when ``a`` is a read-only view of expand's (places sharing memory
    that may be written), else None (``a`` writable, or a read-only NumPy array's view)."""
    if a.__class__.__name__ != "ndarray" or a.flags.writeable:
        return None
    return writable_alias(a)


def warn_expanded_write(op: str) -> None:
    """PyTorch's deprecation warning for ``op`` (``EXPANDED_WRITES``, or index_put_) on an expanded tensor."""
    example = "tensor[indices] = tensor" if op == "index_put_" else "tensor[mask] = scalar"
    warnings.warn(
        f"Use of {op} on expanded tensors is deprecated. Please clone() the tensor before performing "
        f"this operation. This also applies to advanced indexing e.g. {example}",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def write_changed(op: str, alias: Any, old: Any, new: Any) -> None:
    """``op``'s result ``new`` written into ``alias``, the writable alias of expand's view ``old``,
    after PyTorch's warning, at the places where it differs from ``old`` only: several places share
    one element there, and writing them all would let a place the op left alone put the old value
    back over a written one (PyTorch's indexed kernels write the selected places alone). NaN kept as
    NaN counts as unchanged. ``new`` is cast to ``old``'s dtype as a plain write would cast it."""
    warn_expanded_write(op)
    if new.dtype != old.dtype:
        with warnings.catch_warnings():  # (past the dtype's range: cast quietly, as PyTorch's kernels)
            warnings.simplefilter("ignore")
            new = new.astype(old.dtype)
    same = new == old
    if new.dtype.kind in "fc":
        same |= (new != new) & (old != old)
    changed = ~same
    alias[changed] = new[changed]


def refuse_indexed_overlap(op: str, dst: Any, args: tuple, kwargs: dict) -> None:
    """The overlap checks of an in-place method that ``Tensor._update`` (which checks the tensors
    among ``args``) cannot make: tensors passed by keyword, ``index_put_``'s tuple of indices, and
    ``masked_scatter_``'s source, refused even when it is self itself. PyTorch leaves that source
    unchecked, and its kernel then reads each value after the writes before it; glassgrad reads
    the source first, so it refuses instead of differing silently (a mask that is self is fine)."""
    for key, v in kwargs.items():
        if hasattr(v, "_data"):
            refuse_partial_overlap(op, dst, v._data, whole=key == "source" and op == "masked_scatter_")
    if op == "index_put_" and args and isinstance(args[0], tuple | list):
        for index in args[0]:
            if hasattr(index, "_data"):
                refuse_partial_overlap(op, dst, index._data)
    elif op == "masked_scatter_" and len(args) > 1 and hasattr(args[1], "_data"):
        refuse_partial_overlap(op, dst, args[1]._data, whole=True)


def overlaps(size: tuple, stride: tuple) -> bool:
    """Whether two indices of a view of ``size`` and element ``stride`` may reach one element (dims
    sorted by stride: each stride must pass the reach of the smaller ones; False is certain). An
    empty view has no two indices: ``zeros(3, 1, 0).expand(3, 3, 0)`` is written in place, as in
    PyTorch."""
    if 0 in size:
        return False
    reach = 0
    for s, n in sorted((abs(s), n) for n, s in zip(size, stride) if n > 1):
        if s <= reach:
            return True
        reach += s * (n - 1)
    return False


#: the most places ``reopen_if_distinct`` counts (their offsets are listed and sorted)
_COUNTED = 1 << 22


def reopen_if_distinct(a: Any) -> bool:
    """Make the read-only view ``a`` writable, and say so, when no two of its places reach one
    element after all: ``overlaps`` answers True for strides that interleave without meeting (as
    ``as_strided(x, (3, 2), (2, 3))``'s elements 0, 3, 2, 5, 4, 7), where PyTorch writes. Its places'
    offsets are counted, for up to ``_COUNTED`` places; False (left read-only) past that, for a zero
    stride, and for memory that may not be written (a read-only NumPy array's)."""
    if a.__class__ is not np.ndarray or a.base is None or a.size > _COUNTED or a.size == 0:
        return False  # (an array owning its memory is read-only by its owner's choice: from_numpy's)
    if any(s == 0 and n > 1 for s, n in zip(a.strides, a.shape)):
        return False  # (expand's views: the common case, answered without counting)
    offsets = np.zeros((), np.int64)
    for n, s in zip(a.shape, a.strides):
        offsets = offsets[..., None] + np.arange(n, dtype=np.int64) * s
    if np.unique(offsets).size != a.size:
        return False
    try:  # NumPy allows it only where the array owning the memory is writable
        a.flags.writeable = True
    except ValueError:
        return False
    return True


class _Interface:
    """What ``np.asarray`` builds an array from: an ``__array_interface__`` and the object kept alive."""

    def __init__(self, interface: dict, base: Any) -> None:
        self.__array_interface__ = interface
        self.base = base


def writable_alias(a: Any) -> Any:
    """A writable view of the read-only array ``a`` when its memory may be written (``a`` is a view
    of ``expand``'s and the like, not of a read-only NumPy array), else None."""
    if a.__class__.__name__ != "ndarray":
        return None
    alias = a.view()
    try:  # NumPy allows it only when the array owning the memory is writable
        alias.flags.writeable = True
    except ValueError:
        return _rebuilt_alias(a) if a.__class__ is np.ndarray else None
    return alias


def _rebuilt_alias(a: Any) -> Any:
    """``writable_alias`` of a view made by NumPy's stride tricks (unfold's overlapping windows,
    the diagonal of a read-only view): its chain of bases passes a ``DummyArray``, which NumPy
    cannot reopen, so the alias is built anew over the same addresses when the array owning the
    memory is writable (NumPy's own rule for reopening a view), else None."""
    owner = a
    while owner.base is not None:
        base = owner.base
        if base.__class__ is not a.__class__:  # stride_tricks' DummyArray: the array it wraps
            base = getattr(base, "base", None)
            if base is None or base.__class__ is not a.__class__:
                return None
        owner = base
    if not owner.flags.writeable:
        return None
    interface = dict(a.__array_interface__)
    interface["data"] = (interface["data"][0], False)
    return np.asarray(_Interface(interface, owner))


def reopen(a: Any) -> None:
    """Make the read-only view ``a`` writable when no two of its places share memory and its
    memory may be written: as PyTorch, ``x.expand(2, 3)[0]`` is written like ``x`` itself, while
    ``x.expand(2, 3)`` stays refused (only ``fill_``/``zero_`` write through it, as PyTorch)."""
    if a.__class__.__name__ == "ndarray" and not overlaps(a.shape, a.strides):
        # a view of a read-only NumPy array (from_numpy) stays read-only: NumPy refuses it
        with contextlib.suppress(ValueError):
            a.flags.writeable = True


def memory_from_first_element(arr: np.ndarray) -> np.ndarray | None:
    """A 1-D view of the memory from ``arr``'s first element to the end of the array owning it
    (PyTorch's storage from the storage offset), or None where that is not one plain run of
    ``arr``'s dtype (negative strides, a dtype view, an owner that is not contiguous), or not a
    NumPy array (a device or meta array)."""
    if not isinstance(arr, np.ndarray) or any(s < 0 for s in arr.strides):
        return None
    root = arr
    while True:
        base = root.base
        if base is not None and not isinstance(base, np.ndarray):
            # a stride-trick view (``as_strided``, ``empty_strided``'s buffer) has a DummyArray
            # base holding the array it views: its memory is that array's (PyTorch's storage)
            base = getattr(base, "base", None)
        if not isinstance(base, np.ndarray):
            break
        root = base
    if root.dtype != arr.dtype or not root.flags.c_contiguous:
        return None
    start = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    if start % arr.itemsize or not 0 <= start // arr.itemsize <= root.size:
        return None
    return root.reshape(-1)[start // arr.itemsize :]
