"""Adding a backward pass's gradient into a leaf's existing ``.grad``, as PyTorch's AccumulateGrad.

A first-order backward adds in place: ``.grad`` stays the same Tensor over the same memory and its
version goes up. Programs rely on it: apex/Megatron/DeepSpeed-style code makes each ``p.grad`` a
view into one flat buffer (``p.grad = flat[a:b].view_as(p)``) and reduces or steps on the buffer;
a ``g = p.grad`` held across a second backward, or a post-accumulate hook, sees the sum. (Under
``create_graph=True`` the sum is out of place instead, a new Tensor in the graph:
``recorded.store_grad``.) The ``.grad`` a leaf gets first is laid out as the leaf (``laid_as``).
"""

from __future__ import annotations

from typing import Any

from glassgrad.backend import array_module, asarray, ndarray, quiet_end, quiet_start
from glassgrad.memory_formats import element_strides, non_overlapping_and_dense, strided_zeros

__all__ = ["add_into", "laid_as"]


def add_into(t: Any, g: Any) -> None:
    """Add array ``g`` (leaf ``t``'s shape and dtype) into ``t``'s dense ``.grad``, in place.

    A ``.grad`` that cannot take it in place gets a new array laid out as the leaf instead: a
    read-only one (expand's view, a read-only NumPy array), one of another dtype (set through
    ``.grad.data``), one off the CPU array module."""
    grad = t._grad
    data = grad._data
    token = quiet_start()  # float16 sums past 65,504 are inf without a word, as PyTorch's
    try:
        if data.__class__ is ndarray and data.dtype == g.dtype and data.flags.writeable:
            data += g  # any strides: a transposed or sliced view of a buffer is written where it lies
            grad._version += 1  # (views of it made by split go stale, as after any in-place op)
            return
        new = asarray(data + g)
    finally:
        quiet_end(token)
    grad._data = new if t._data.flags.c_contiguous else laid_as(t._data, new)


def laid_as(data: Any, g: Any) -> Any:
    """``g`` in the memory layout of the leaf's ``data``, PyTorch's gradient layout contract: a
    dense leaf's ``.grad`` takes its strides (a channels-last weight gets a channels-last grad),
    any other leaf's is C-contiguous; ``g`` itself when it already is laid out so."""
    if g.strides == data.strides or g.shape != data.shape or data.__class__ is not ndarray:
        return g  # a meta leaf has no layout
    strides = element_strides(data)
    if not non_overlapping_and_dense(data.shape, strides):  # a sliced or expanded leaf
        return g if g.flags.c_contiguous else array_module(g).ascontiguousarray(g)
    out = strided_zeros(data.shape, strides, g.dtype, array_module(g))
    out[...] = g
    return out
