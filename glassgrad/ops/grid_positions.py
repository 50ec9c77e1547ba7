"""Flat positions for ``gather`` / ``scatter`` / ``scatter_add`` / ``scatter_reduce``.

Those ops reach ``x[i, index[i, j, k], k]`` (dim=1) for every position of index. NumPy reads
such a key (an open grid of aranges with ``index`` in place of ``dim``) through its general
multi-array indexing, and ``ufunc.at`` with it takes its slow unbuffered path. The same places as
row-major positions in the flattened array, ``index * stride(dim) + i * stride(0) + k *
stride(2)``, are read by one ``take`` and updated by one 1-D ``ufunc.at`` (NumPy's fast path): for
a (256, 256) gather 45 us against 225 us, and its backward's ``add.at`` 90 us against 940 us. The
positions come in the grid's order, so repeated places are reduced in the same order (the same
rounding) as before.

``key_positions`` does the same for any NumPy key (integer arrays with slices, None, masks), for
the ``add.at`` of getitem's backward, ``take``'s and ``index_put(accumulate=True)``: a (100, 256)
table's ``add.at`` through two index arrays 99 us, through their flat positions 16 us.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.backend import array_module

__all__ = [
    "grid_positions",
    "read_positions",
    "write_positions",
    "reduce_positions",
    "key_positions",
    "add_at",
]


def grid_positions(index: Any, dim: int, shape: tuple) -> Any:
    """The row-major positions in a C-contiguous array of ``shape`` of ``x[i][index[i][j][k]][k]``
    (dim=1), for an index with as many dims as ``shape``, values in range, sizes <= shape's.

    Shape:
        index ``(*I)`` -> int64 ``(*I)``.
    """
    xp = array_module(index)
    if index.size == 0:  # (an empty dim after k makes k's stride 0, which arange refuses)
        return xp.zeros(index.shape, dtype=np.int64)
    strides = [1] * len(shape)
    for k in range(len(shape) - 2, -1, -1):
        strides[k] = strides[k + 1] * shape[k + 1]
    nd = index.ndim
    base = 0  # the other dims' offsets, broadcast: small, index's shape with 1 along dim
    for k, n in enumerate(index.shape):
        if k != dim and n > 1:
            base = base + xp.arange(0, n * strides[k], strides[k], dtype=np.int64).reshape(
                (1,) * k + (n,) + (1,) * (nd - k - 1)
            )
    return xp.multiply(index, strides[dim], dtype=np.int64) + base


def read_positions(a: Any, pos: Any) -> Any:
    """``a``'s entries at the flat positions ``pos`` (any layout of ``a``), of ``pos``'s shape."""
    return array_module(a).take(a, pos)


def write_positions(out: Any, pos: Any, values: Any) -> None:
    """``out[pos] = values`` on a C-contiguous ``out`` (values broadcast to pos's shape)."""
    _flat(out, "write_positions")[pos] = values


def reduce_positions(ufunc: Any, out: Any, pos: Any, values: Any) -> None:
    """``ufunc.at`` of ``values`` (broadcast to pos's shape) into a C-contiguous ``out`` at the flat
    positions ``pos``, in pos's row-major order."""
    values = array_module(out).broadcast_to(values, pos.shape)
    ufunc.at(_flat(out, "reduce_positions"), pos.reshape(-1), values.reshape(-1))


def key_positions(key: tuple, shape: tuple) -> Any:
    """The row-major positions, in a C-contiguous array of ``shape``, of the entries ``x[key]`` reads,
    in ``x[key]``'s order, for a key of integer arrays (or masks) next to each other among slices
    (and an Ellipsis); None for any other key (None entries, ints, indices split by a slice, whose
    layout NumPy moves). The indices broadcast into one block of ``sum(index * stride)`` (negative
    ones wrapped), placed between the slices' dims, which add ``arange * stride`` along theirs.

    Shape:
        key into ``shape`` -> int64 of ``x[key]``'s shape.
    """
    xp = array_module(next((k for k in key if hasattr(k, "dtype")), None))
    entries = _entries(key, len(shape), xp)
    if entries is None:
        return None
    strides = [1] * len(shape)
    for k in range(len(shape) - 2, -1, -1):
        strides[k] = strides[k + 1] * shape[k + 1]
    arrays = [k for k, e in enumerate(entries) if e.__class__ is not slice]
    if not arrays or arrays[-1] - arrays[0] != len(arrays) - 1:
        return None
    block = 0
    for k in arrays:
        i = entries[k]
        block = block + xp.where(i < 0, i + shape[k], i) * strides[k]
    first, after = arrays[0], len(shape) - arrays[-1] - 1
    block = xp.asarray(block, dtype=np.int64)
    pos = block.reshape((1,) * first + block.shape + (1,) * after)
    for k, e in enumerate(entries):
        if e.__class__ is slice:
            dim = k if k < first else pos.ndim - (len(shape) - k)
            along = xp.arange(*e.indices(shape[k]), dtype=np.int64) * strides[k]
            pos = pos + along.reshape((1,) * dim + (-1,) + (1,) * (pos.ndim - dim - 1))
    return pos


def _entries(key: tuple, ndim: int, xp: Any) -> list | None:
    """``key`` as one entry per dim: masks as their nonzero index arrays, Ellipsis and the implicit
    trailing dims as whole slices; None where an entry is neither a slice nor an integer array."""
    flat: list = []
    for e in key:
        if getattr(e, "dtype", None) == np.bool_:
            flat.extend(xp.nonzero(e))
        elif e is Ellipsis or e.__class__ is slice or getattr(getattr(e, "dtype", None), "kind", "-") in "iu":
            flat.append(e)
        else:
            return None
    dots = [k for k, e in enumerate(flat) if e is Ellipsis]
    if len(dots) > 1 or len(flat) - len(dots) > ndim:
        return None
    at = dots[0] if dots else len(flat)
    return flat[:at] + [slice(None)] * (ndim - len(flat) + len(dots)) + flat[at + len(dots) :]


_AT_LEAST = 2048  # values: below, the positions' Python steps cost more than add.at's slow loop saves


def add_at(out: Any, key: tuple, values: Any) -> None:
    """``xp.add.at(out, key, values)`` (repeats adding up, in the same order) through the flat
    positions of an advanced key: NumPy's 1-D fast path instead of its general unbuffered loop.
    Arrays of other kinds (meta), non-C-contiguous ones and keys ``key_positions`` leaves keep
    ``add.at``."""
    fast = out.__class__ is np.ndarray and out.flags.c_contiguous and getattr(values, "size", 0) >= _AT_LEAST
    pos = key_positions(key, out.shape) if fast else None
    if pos is None:
        array_module(out).add.at(out, key, values)
    else:
        reduce_positions(np.add, out, pos, values)


def _flat(out: Any, op: str) -> Any:
    """A 1-D view of ``out``: a reshape of a non-C-contiguous array would copy, losing the writes."""
    if out.__class__ is np.ndarray and not out.flags.c_contiguous:
        raise RuntimeError(f"{op}: expected a C-contiguous array to write into, got strides {out.strides}")
    return out.reshape(-1)
