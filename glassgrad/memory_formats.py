"""Memory formats: ``contiguous_format``, ``channels_last``, ``channels_last_3d``, ``preserve_format``.

A tensor's array is a NumPy array, which may have any strides, so PyTorch's memory formats are
real here: a ``channels_last`` tensor of shape ``(N, C, H, W)`` is an ``(N, H, W, C)`` C-ordered
buffer viewed as ``(N, C, H, W)``, and ``stride()`` reports ``(H*W*C, 1, W*C, C)`` as PyTorch does.
The layout never changes a value, only where the values sit in memory.

This module holds the format objects and the array-level rules (PyTorch's): the strides of each
format, whether an array is contiguous in a format (sizes of 1 are ignored), which format an
array's strides suggest, and copying an array into a format. ``Restride`` (``ops/layout.py``) is
the recorded copy that ``to``/``contiguous``/``clone`` use.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["memory_format", "contiguous_format", "channels_last", "channels_last_3d", "preserve_format"]


class memory_format:  # noqa: N801 - PyTorch's name
    """A memory format, ``glassgrad.channels_last`` ..., compared by identity as PyTorch's."""

    __slots__ = ("_name",)
    __module__ = "glassgrad"  # printed as glassgrad.memory_format; pickles by its glassgrad name

    def __new__(cls, *args: Any, **kwargs: Any) -> memory_format:
        if _FORMATS.get("_frozen"):
            raise TypeError("cannot create 'glassgrad.memory_format' instances")
        return super().__new__(cls)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"glassgrad.{self._name}"

    __str__ = __repr__

    def __reduce__(self) -> str:
        return self._name  # pickles as the module-level name, so the same object comes back


_FORMATS: dict[str, Any] = {}
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")
_FORMATS["_frozen"] = True
# PyTorch's old name, the same object (torch.legacy_contiguous_format is torch.contiguous_format):
# code copied from F.gumbel_softmax passes it to empty_like / zeros_like
legacy_contiguous_format = contiguous_format

#: the dims of a channels-last tensor from the fastest-moving to the slowest
_ORDER = {4: (1, 3, 2, 0), 5: (1, 4, 3, 2, 0)}
_RANK = {channels_last: 4, channels_last_3d: 5}


def check_format(op: str, fmt: Any, ndim: int | None = None, preserve: bool = True) -> Any:
    """``fmt`` (None meaning ``preserve_format``), checked: a memory format, of the right rank for
    the tensor (``RuntimeError``, as PyTorch), and not ``preserve_format`` where ``op`` has none."""
    if fmt is None:
        fmt = preserve_format
    if not isinstance(fmt, memory_format):
        raise TypeError(f"{op}: expected memory_format to be a glassgrad.memory_format, got {fmt!r}")
    if fmt is preserve_format and not preserve:
        raise RuntimeError(f"{op}: preserve memory format is unsupported by the {op} operator")
    rank = _RANK.get(fmt)
    if rank is not None and ndim is not None and ndim != rank:
        raise RuntimeError(f"{op}: required rank {rank} tensor to use {fmt._name} format, got rank {ndim}")
    return fmt


def format_strides(shape: tuple, fmt: Any) -> tuple[int, ...]:
    """The strides (in elements) of a fresh tensor of ``shape`` in ``fmt`` (sizes of 0 count as 1)."""
    order = _ORDER[len(shape)] if fmt in _RANK else tuple(range(len(shape) - 1, -1, -1))
    out, step = [0] * len(shape), 1
    for d in order:
        out[d] = step
        step *= max(shape[d], 1)
    return tuple(out)


def element_strides(arr: Any) -> tuple[int, ...]:
    return tuple(s // arr.itemsize for s in arr.strides)


def is_contiguous_as(arr: Any, fmt: Any, strides: tuple | None = None) -> bool:
    """Whether ``arr`` is laid out as ``fmt`` (PyTorch's rule: dims of size 1 are skipped; an empty
    array is contiguous, but channels-last only if its strides say so). ``strides`` (in elements)
    stand in for the array's own (a meta array has none)."""
    if fmt not in _RANK and strides is None:
        return bool(arr.flags.c_contiguous)
    if fmt in _RANK and arr.ndim != _RANK[fmt]:
        return False
    strides, expected = strides or element_strides(arr), 1
    order = _ORDER[arr.ndim] if fmt in _RANK else range(arr.ndim - 1, -1, -1)
    for d in order:
        size = arr.shape[d]
        if size != 1:
            if strides[d] != expected:
                return False
            expected *= size
    return True


def _strides_like_channels_last(shape: tuple, strides: tuple) -> bool:
    """PyTorch's guess that strides mean channels-last: the dims grow in channels-last order, with
    its tie-breaks for sizes of 1 (an ``N111`` or ``N1H1`` tensor counts as contiguous)."""
    if strides[1] == 0:
        return False
    low = 0
    for d in _ORDER[len(shape)]:
        if shape[d] == 0 or strides[d] < low:
            return False
        if d == 0 and low == strides[1]:
            return False
        low = strides[d] * (shape[d] if shape[d] > 1 else 1)
    return True


def suggest_format(arr: Any) -> Any:
    """The format ``arr``'s strides suggest: channels-last (4-D) or channels-last-3d (5-D) when they
    look like it, else ``contiguous_format``."""
    if arr.ndim in _ORDER and _strides_like_channels_last(arr.shape, element_strides(arr)):
        return channels_last if arr.ndim == 4 else channels_last_3d
    return contiguous_format


def is_channels_last_like(arr: Any) -> bool:
    """Whether a layer given ``arr`` answers in channels-last (PyTorch's conv/norm/pool rule):
    ``channels_last`` for a 4-D ``arr``, ``channels_last_3d`` for a 5-D one."""
    return arr.__class__ is np.ndarray and arr.ndim in _ORDER and suggest_format(arr) is not contiguous_format


def non_overlapping_and_dense(shape: tuple, strides: tuple) -> bool:
    """PyTorch's ``is_non_overlapping_and_dense``: the elements fill their memory exactly once, in
    some order of the dims (dims of size 0 or 1 do not count)."""
    expected = 1
    for d in sorted(range(len(shape)), key=lambda d: (shape[d] < 2, strides[d])):
        if shape[d] < 2:
            return True
        if strides[d] != expected:
            return False
        expected *= shape[d]
    return True


def preserved_strides(shape: tuple, strides: tuple) -> tuple[int, ...]:
    """The strides ``preserve_format`` gives a new tensor like one of ``shape`` and ``strides``
    (PyTorch's ``empty_like``): the same ones when non-overlapping and dense, else dense strides in
    the same dim order (PyTorch's ``infer_dense_strides``: a stride of 0 and ties keep the order)."""
    if non_overlapping_and_dense(shape, strides):
        return tuple(strides)
    perm = list(range(len(shape) - 1, -1, -1))  # fastest dim first
    for i in range(1, len(perm)):
        j = i
        for k in range(i - 1, -1, -1):
            s0, s1 = strides[perm[k]], strides[perm[j]]
            if s0 == 0 or s1 == 0:
                continue
            if s0 < s1:
                break
            if s0 > s1 or shape[perm[k]] > shape[perm[j]]:
                perm[k], perm[j] = perm[j], perm[k]
                j = k
    out, step = [0] * len(shape), 1
    for d in perm:
        out[d] = step
        step *= shape[d] if shape[d] > 1 else 1
    return tuple(out)


def strided_zeros(shape: tuple, strides: tuple, dtype: Any, xp: Any = np) -> Any:
    """A zeroed array of ``shape`` with ``strides`` (in elements, non-negative; they may overlap)
    over a fresh buffer just large enough."""
    n = 0 if 0 in shape else 1 + sum((s - 1) * st for s, st in zip(shape, strides, strict=True))
    size = xp.dtype(dtype).itemsize
    return xp.lib.stride_tricks.as_strided(xp.zeros(n, dtype), shape, tuple(st * size for st in strides))


def plain(arr: Any) -> bool:
    """Whether ``arr`` has C-ordered strides throughout, so a ``preserve_format`` copy is a plain
    C-ordered one (a size-1 dim's stride is kept by PyTorch too: an ``N1HW`` channels-last one)."""
    if not arr.flags.c_contiguous:
        return False
    return 1 not in arr.shape or element_strides(arr) == format_strides(arr.shape, contiguous_format)


def empty_preserving(arr: Any, dtype: Any = None, xp: Any = np) -> Any:
    """A zeroed array of ``arr``'s shape laid out as ``preserve_format`` lays out a copy of it."""
    dtype = arr.dtype if dtype is None else dtype
    if plain(arr):
        return xp.zeros(arr.shape, dtype)
    return strided_zeros(arr.shape, preserved_strides(arr.shape, element_strides(arr)), dtype, xp)


def cast_preserving(src: Any, arr: Any, dtype: Any, xp: Any = np) -> Any:
    """``src`` (``arr``'s values) as ``dtype`` with ``arr``'s strides, as PyTorch's ``preserve_format``
    casts: NumPy's ``astype`` drops the stride of a size-1 dim (a channels-last ``(O, 1, kh, kw)``
    conv weight comes back with C-ordered strides), which changes the layout a conv answers in."""
    out = src.astype(dtype, copy=False)
    if out is arr or out.__class__ is not np.ndarray or element_strides(out) == element_strides(arr):
        return out
    kept = empty_preserving(arr, dtype, xp)
    kept[...] = out
    return kept


def to_format(arr: Any, fmt: Any, xp: Any = np) -> Any:
    """A copy of ``arr`` laid out as ``fmt``; ``preserve_format`` keeps ``arr``'s strides when it is
    dense, else its stride order (``preserved_strides``, as PyTorch)."""
    if fmt is preserve_format:
        if plain(arr):
            return xp.array(arr, copy=True, order="C")
        out = empty_preserving(arr, xp=xp)
        out[...] = arr
        return out
    if fmt not in _RANK:
        return xp.array(arr, copy=True, order="C")
    order = _ORDER[arr.ndim]
    perm = order[::-1]  # (0, 2, 3, 1) or (0, 2, 3, 4, 1): the buffer's dim order
    buf = xp.empty(tuple(arr.shape[d] for d in perm), dtype=arr.dtype)
    out = buf.transpose(tuple(perm.index(d) for d in range(arr.ndim)))
    out[...] = arr
    return out


def empty_format(shape: tuple, dtype: Any, fmt: Any, fill: Any = 0, xp: Any = np) -> Any:
    """A new array of ``shape`` in ``fmt`` filled with ``fill``.

    The default fill (int 0) takes ``zeros``: its pages are mapped lazily, so an ``empty`` that is
    never written (a layer built under ``init_empty_weights``, then moved to the meta device) costs
    no time, as PyTorch's uninitialised ``empty`` does; ``full`` would write every element."""

    def make(s: tuple) -> Any:
        return xp.zeros(s, dtype=dtype) if type(fill) is int and fill == 0 else xp.full(s, fill, dtype=dtype)

    if fmt not in _RANK:
        return make(shape)
    perm = _ORDER[len(shape)][::-1]
    buf = make(tuple(shape[d] for d in perm))
    return buf.transpose(tuple(perm.index(d) for d in range(len(shape))))
