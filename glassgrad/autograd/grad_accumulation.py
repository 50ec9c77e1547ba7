"""Adding a backward pass's gradient into a leaf's existing ``.grad``, as PyTorch's AccumulateGrad.

A first-order backward adds in place: ``.grad`` stays the same Tensor over the same memory and its
version goes up. Programs rely on it: apex/Megatron/DeepSpeed-style code makes each ``p.grad`` a
view into one flat buffer (``p.grad = flat[a:b].view_as(p)``) and reduces or steps on the buffer;
a ``g = p.grad`` held across a second backward, or a post-accumulate hook, sees the sum. (Under
``create_graph=True`` the sum is out of place instead, a new Tensor in the graph:
``recorded.store_grad``.) The ``.grad`` a leaf gets first is laid out as the leaf (``laid_as``).

``accumulating``: the lock the engine holds while it stores a gradient into a leaf and runs the
leaf's post-accumulate hooks, as PyTorch's AccumulateGrad holds its mutex: threads running backward
through one model at once (Hogwild-style training, an ensemble on ``concurrent.futures``) must not
both find ``.grad`` None and keep one of the two gradients, nor interleave two in-place sums
(NumPy lets go of the GIL inside ``+=``). Reentrant: a post-accumulate hook may run a backward.
"""

from __future__ import annotations

import threading
from typing import Any

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.backend import array_module, asarray, ndarray, quiet_end, quiet_start
from glassgrad.memory_formats import element_strides, non_overlapping_and_dense, strided_zeros
from glassgrad.memory_overlap import writable_alias

__all__ = ["add_into", "laid_as", "zero_grad_of", "accumulating"]

accumulating = threading.RLock()


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


def zero_grad_of(p: Any) -> None:
    """``p.grad`` zeroed for ``zero_grad(set_to_none=False)``, in place as PyTorch's
    ``p.grad.zero_()``: a ``.grad`` viewing a flat buffer zeroes the buffer, and whoever holds the
    ``.grad`` sees the zeros. ``Optimizer.zero_grad`` and ``Module.zero_grad`` both use it."""
    grad = p.grad
    if grad.requires_grad:
        # a backward(create_graph=True) gradient: cut from its graph first, as PyTorch,
        # or the next create_graph backward would differentiate through the old one
        if grad.grad_fn is not None:
            grad.detach_()
        else:
            grad.requires_grad_(False)
    if grad.is_sparse:  # (Embedding(sparse=True)): a sparse gradient with no entries
        from glassgrad.optim.sparse_grads import zeroed  # (optim imports nn: not at module level)

        p._grad = zeroed(grad)
    elif grad._data.flags.writeable or writable_alias(grad._data) is not None:
        with no_grad():  # (never recorded)
            grad.zero_()  # (an expanded .grad: its shared memory, as PyTorch's zero_())
    else:  # over a read-only NumPy array's memory (from_numpy), which zero_() refuses
        grad._data = array_module(grad._data).zeros_like(grad._data)
