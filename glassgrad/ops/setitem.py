"""``x[key] = value``: written in place, and recorded in the graph while a gradient can flow.

Outside the graph (grad mode off, or neither side requires grad) the array is written where it
is. While recording, ``SetItem`` computes the new value out of place and ``Tensor._update`` puts
it in ``x`` as every recorded in-place op does: refused for a leaf that requires grad (and a view
of one), written through to the base and its other views (their graphs rebased) when ``x`` shares
memory, as documented in docs/design.md; so ``y = x.clone(); y[0] = 0``, ``buf[1:] = w`` and
``forces[i][0] = f`` backpropagate.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.autograd.grad_mode import state as _grad_state
from glassgrad.backend import array_module
from glassgrad.dtypes import scalar_into
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.half_rounding import half_source
from glassgrad.memory_overlap import (
    expanded_alias,
    overlaps,
    refuse_partial_overlap,
    warn_expanded_write,
    writable_alias,
)
from glassgrad.meta_array import no_data
from glassgrad.ops.index_keys import key_error, refuse_byte_fill
from glassgrad.ops.indexing import SplitKey, _key, _split_view, read_at
from glassgrad.ops.node_names import setitem_name
from glassgrad.ops.overwrite import overwrite
from glassgrad.tensor import Tensor, as_array

__all__ = ["setitem"]


def _write(a: Any, key: Any, value: Any, shape: tuple) -> None:
    try:
        if isinstance(key, SplitKey):
            _split_view(a, key)[key.rest] = value  # the view writes into a
        else:
            a[key] = value
    except IndexError as e:
        raise key_error("__setitem__", shape, e) from None
    except ValueError as e:
        raise ShapeError(
            f"__setitem__: expected a value broadcastable to x[key]{_target(a, key)} of x with shape "
            f"{shape}, got shape {np.shape(value)} (shape mismatch: {e})"
        ) from None


def _target(a: Any, key: Any) -> str:
    """`` (shape (...))``: the shape of ``a[key]`` for the error message, or "" if it cannot be read."""
    try:
        view = _split_view(a, key)[key.rest] if isinstance(key, SplitKey) else a[key]
        return f" (shape {tuple(np.shape(view))})"
    except Exception:  # only a message detail
        return ""


class SetItem(Function):
    """z = x with z[key] = v (v broadcast to the shape of x[key]).

    VJP: (g with g[key] = 0, g[key]): the overwritten entries of x get no gradient; v gets the
    gradient of every place it was written to (the engine sums a broadcast v back to its shape).
    """

    name = "setitem"
    node_name_by = staticmethod(setitem_name)  # CopySlices, IndexPutBackward0 ... as PyTorch's

    @staticmethod
    def forward(ctx, a, v, key=(), advanced=False):
        out = a.copy()
        _write(out, key, v, a.shape)
        return out

    @staticmethod
    def backward(ctx, g):
        key, advanced = ctx.attrs["key"], ctx.attrs["advanced"]
        ga = None
        if ctx.needs_input_grad[0]:
            ga = array_module(g).array(g)  # a copy, and an array even for a 0-d NumPy scalar
            _write(ga, key, 0, g.shape)
        gv = read_at(g, key, advanced).copy() if ctx.needs_input_grad[1] else None
        return ga, gv


def _drop_leading_ones(v: Tensor) -> Tensor:
    n = 0
    while n < v.ndim and v.shape[n] == 1:
        n += 1
    return v.reshape(v.shape[n:]) if n else v


def _view(a: Any, key: Any) -> Any:
    """``a[key]`` for the checks before the write, an out-of-range key refused as ``_write`` does."""
    try:
        return a[key]
    except IndexError as e:
        raise key_error("__setitem__", np.shape(a), e) from None


def _written(a: Any, key: Any, advanced: bool) -> Any:
    """The array ``x[key] = v`` writes into, as PyTorch sees it: the view ``x[key]`` for a basic
    key (copy_), ``x`` (or its basic part) for an advanced one (index_put_)."""
    if isinstance(key, SplitKey):
        return _view(a, key.basic)
    return a if advanced else _view(a, key)


def _writable_part(a: Any, key: Any) -> Any:
    """``a`` read-only (a view of expand's): a writable alias of it when ``a[key]`` has no two places
    sharing memory (PyTorch writes ``x.expand(2, 3)[0, 1] = v``), else ``a`` (refused)."""
    alias = writable_alias(a)
    if alias is None or isinstance(key, SplitKey):
        return a
    part = _view(a, key)
    return a if overlaps(np.shape(part), getattr(part, "strides", ())) else alias


def _index_arrays(key: Any) -> list:
    """The array (and Python bool) entries of a normalised advanced key, which index_put_ reads."""
    entries = key.rest if isinstance(key, SplitKey) else key
    return [k for k in entries if isinstance(k, np.ndarray | bool)]


def _refuse_overlap(a: Any, key: Any, advanced: bool, v: Any) -> None:
    """PyTorch's overlap check of ``x[key] = v`` (memory_overlap.py), where it makes one: not for a
    value that a basic key repeats (``x[:] = x[0]``: copied from its broadcast, a "too hard" block),
    nor for one number written through a single bool mask (``x[x > 0] = x[0]``: its masked_fill_)."""
    if advanced:
        arrays = _index_arrays(key)
        if v.size == 1 and len(arrays) == 1 and getattr(arrays[0], "dtype", None) == np.bool_:
            return
    written = _written(a, key, advanced)
    if not advanced and v.size != written.size:
        return
    refuse_partial_overlap("__setitem__", written, v)


def _applies_as_self(key: Any, shape: tuple) -> bool:
    """Whether PyTorch's setitem applies basic ``key`` as ``x`` itself (its slice optimisation):
    Ellipsis, and slices from 0 to at least the dim's size by step 1 (``x[:]``, ``x[0:100]``, not
    ``x[-4:]``); an int or None makes a view, written through by ``CopySlices``."""
    if not isinstance(key, tuple):  # (a SplitKey: ints, then arrays)
        return False
    before = key.index(Ellipsis) if any(k is Ellipsis for k in key) else len(key)
    after = len(key) - before - 1 if before < len(key) else 0
    if before + after > len(shape):
        return False
    dims = [*range(before), None, *range(len(shape) - after, len(shape))]
    for k, d in zip(key, dims):
        if k is Ellipsis:
            continue
        if not isinstance(k, slice) or k.start not in (None, 0) or k.step not in (None, 1):
            return False
        if k.stop is not None and k.stop < shape[d]:
            return False
    return True


def _refuse_other_dtype(x: Tensor, key: Any, value: Tensor) -> None:
    """PyTorch writes through a tensor index with ``index_put_``, which converts nothing: a value
    tensor of another dtype is an error there, but for one number through a single bool mask
    (its ``masked_fill_``). Python bools and 0-D integer tensors in the key index as basic
    (``copy_``, which converts), so they never get here as arrays."""
    arrays = [k for k in _index_arrays(key) if isinstance(k, np.ndarray)]
    if not arrays or value.dtype == x.dtype:
        return
    if value.numel() == 1 and len(arrays) == 1 and arrays[0].dtype == np.bool_ and arrays[0].ndim:
        return  # (a 0-D bool tensor is no mask there: PyTorch indexes with it as a long tensor)
    # PyTorch checks the shapes first: a value that cannot fill x[key] is its shape mismatch
    target = np.shape(
        _split_view(x._data, key)[key.rest] if isinstance(key, SplitKey) else _view(x._data, key)
    )
    v = _drop_leading_ones(value).shape
    if len(v) > len(target) or any(m not in (1, n) for m, n in zip(v[::-1], target[::-1])):
        raise ShapeError(
            f"__setitem__: expected a value broadcastable to x[key] (shape {target}), got shape "
            f"{tuple(value.shape)} (shape mismatch: value tensor cannot be broadcast to indexing result)"
        )
    raise DTypeError(
        f"__setitem__: index put requires the source and destination dtypes match, got {x.dtype} "
        f"for the destination and {value.dtype} for the source (convert with value.to(x.dtype))"
    )


def setitem(x: Tensor, key: Any, value: Any) -> None:
    """``x[key] = value`` in place (value broadcast to ``x[key]``); recorded while recording (see
    the module docstring), so gradients reach both the kept entries of x and the written value."""
    refuse_byte_fill("__setitem__", key, value)
    key, advanced = _key(key, "__setitem__", x.ndim, x.shape)
    if isinstance(value, Tensor):
        if advanced:
            _refuse_other_dtype(x, key, value)
        if value.ndim > x.ndim or (value.ndim and value.shape[0] == 1):
            value = _drop_leading_ones(value)  # y[0] = t of shape (1, n): PyTorch drops leading 1s
        if value.ndim or advanced:  # x[:2] = x[1] reads one number first (PyTorch's fill_)
            _refuse_overlap(x._data, key, advanced, value._data)
    else:
        value = scalar_into("__setitem__", value, x._data.dtype)  # uint8 y[0] = -1 is 255, as PyTorch
    recording = _grad_state.enabled and (
        x.requires_grad or (isinstance(value, Tensor) and value.requires_grad)
    )
    if recording:
        v = value if isinstance(value, Tensor) else Tensor(as_array(value, dtype=x._data.dtype), _wrap=True)
        if v._data.dtype != x._data.dtype:
            v = v.to(x.dtype)
        if not advanced and _applies_as_self(key, x.shape):
            # PyTorch's setitem writes x itself here (x.fill_(v) or x.copy_(v), not through a
            # view): x's old values get a constant zero gradient, also under create_graph
            node = "FillBackward3" if v.ndim == 0 and x.ndim else "CopyBackwards"
            x._update("__setitem__", lambda t, val: overwrite(t, val, "__setitem__", node), v)
            return
        x._update("__setitem__", lambda t, val: SetItem.apply(t, val, key=key, advanced=advanced), v)
        return
    target = x._data if x._data.flags.writeable or advanced else _writable_part(x._data, key)
    if advanced and (alias := expanded_alias(target)) is not None:
        warn_expanded_write("index_put_")  # PyTorch's index_put_ writes expand's shared memory
        target = alias
    x._check_inplace("__setitem__", target)
    if isinstance(value, Tensor) and value.is_meta and not x.is_meta:
        raise no_data("__setitem__")  # a CPU tensor cannot take a meta tensor's (missing) values
    if isinstance(value, Tensor) and value._data.dtype.kind == "c" and x._data.dtype.kind != "c":
        value = value.to(x.dtype)  # the cast's PyTorch warning, not NumPy's ComplexWarning
    _write(
        target, key, half_source(value._data, target.dtype) if isinstance(value, Tensor) else value, x.shape
    )
