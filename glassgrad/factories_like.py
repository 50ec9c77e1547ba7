"""The ``*_like`` factories (``zeros_like`` ... ``randint_like``) and ``empty_strided``.

``memory_format=`` is PyTorch's: ``preserve_format`` (the default) gives the new tensor the input's
strides when the input is dense (a channels-last input gives a channels-last result), else dense
strides in the input's order; ``contiguous_format``, ``channels_last`` (4-D) and
``channels_last_3d`` (5-D) ask for that layout. The layout never changes a value.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.deterministic import fill_uninitialized
from glassgrad.factories import _check, _float, _make, _size, empty, full, ones, zeros
from glassgrad.factories_random import rand, randint, randn
from glassgrad.memory_formats import (
    check_format,
    contiguous_format,
    empty_format,
    empty_preserving,
    plain,
    preserve_format,
    strided_zeros,
)
from glassgrad.meta_array import meta_array
from glassgrad.tensor import Tensor

__all__ = [
    "zeros_like", "ones_like", "empty_like", "full_like", "rand_like", "randn_like", "randint_like",
    "empty_strided",
]  # fmt: skip


def _like(op: str, x: Tensor, dtype: Any, device: Any, layout: Any, memory_format: Any, pin: Any) -> Any:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    coo = str(layout).endswith("sparse_coo")  # layout=sparse_coo: only zeros_like makes one of a dense x
    if coo and x.is_sparse is not True and op != "zeros_like":
        raise NotImplementedError(
            f"{op}: layout=sparse_coo of a dense tensor is not supported (PyTorch has no kernel)"
        )
    _check(op, device, None if coo else layout, pin)
    if memory_format is not None and (coo or (x.is_sparse is True and layout is None)):
        raise RuntimeError(
            f"{op}: memory format option is only supported by strided tensors (got a sparse COO result)"
        )
    if x.is_sparse is True and (layout is None or coo) and op not in ("zeros_like", "empty_like"):
        raise NotImplementedError(  # PyTorch has no kernel that fills a sparse COO tensor
            f"{op}: not supported for sparse COO tensors (layout=glassgrad.sparse_coo); only zeros_like "
            "and empty_like keep that layout: pass layout=glassgrad.strided or call .to_dense() first"
        )
    return dtype or x.dtype, check_format(op, memory_format, x._data.ndim)


def _sparse_zeros(x: Tensor, dtype: Any, requires_grad: bool) -> Tensor:
    """``zeros_like`` / ``empty_like`` of a sparse COO tensor, as PyTorch's: sparse, no stored entry
    (coalesced), ``x``'s shape and ``sparse_dim``; values ``(0, *dense_dims)``."""
    from glassgrad.sparse_tensor import _make as sparse_make  # (sparse_tensor builds on the factories)

    sd = x.sparse_dim() if x.is_sparse is True else x._data.ndim  # a dense x: every dim sparse
    vals = zeros((0,) + tuple(x.shape[sd:]), dtype=dtype, requires_grad=requires_grad)
    return sparse_make(np.zeros((sd, 0), np.int64), vals, tuple(x.shape), True)


def _laid(t: Tensor, x: Tensor, fmt: Any) -> Tensor:
    """``t`` (new, C-ordered, of ``x``'s shape) laid out as ``fmt``; ``preserve_format`` keeps
    ``x``'s strides when ``x`` is dense, else its stride order (``preserved_strides``, as PyTorch)."""
    arr, src = t._data, x._data
    if arr.__class__ is not np.ndarray or fmt is contiguous_format:
        return t  # a meta tensor has no memory to lay out
    if fmt is preserve_format:
        if src.__class__ is not np.ndarray or plain(src):
            return t
        out = empty_preserving(src, arr.dtype)
    else:
        out = empty_format(arr.shape, arr.dtype, fmt)
    out[...] = arr
    t._data = out
    return t


def _like_device(x: Tensor, device: Any) -> Any:
    """A ``*_like`` factory's device: the one given, else ``x``'s (not the default device)."""
    return x.device if device is None else device


def zeros_like(
    input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,  # noqa: A002
    requires_grad: bool = False, memory_format: Any = None, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    dt, fmt = _like("zeros_like", input, dtype, device, layout, memory_format, pin_memory)
    if (input.is_sparse is True and layout is None) or str(layout).endswith("sparse_coo"):
        return _sparse_zeros(input, dt, requires_grad)
    return _laid(
        zeros(input.shape, dtype=dt, device=_like_device(input, device), requires_grad=requires_grad),
        input,
        fmt,
    )


def ones_like(
    input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,  # noqa: A002
    requires_grad: bool = False, memory_format: Any = None, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    dt, fmt = _like("ones_like", input, dtype, device, layout, memory_format, pin_memory)
    return _laid(
        ones(input.shape, dtype=dt, device=_like_device(input, device), requires_grad=requires_grad),
        input,
        fmt,
    )


def empty_like(
    input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,  # noqa: A002
    requires_grad: bool = False, memory_format: Any = None, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    dt, fmt = _like("empty_like", input, dtype, device, layout, memory_format, pin_memory)
    if input.is_sparse is True and (layout is None or str(layout).endswith("sparse_coo")):
        return _sparse_zeros(input, dt, requires_grad)
    return _laid(
        empty(input.shape, dtype=dt, device=_like_device(input, device), requires_grad=requires_grad),
        input,
        fmt,
    )


def full_like(
    input: Tensor, fill_value: Any, *, dtype: Any = None, layout: Any = None,  # noqa: A002
    device: Any = None, requires_grad: bool = False, memory_format: Any = None, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    dt, fmt = _like("full_like", input, dtype, device, layout, memory_format, pin_memory)
    return _laid(
        full(
            input.shape, fill_value, dtype=dt, device=_like_device(input, device), requires_grad=requires_grad
        ),
        input,
        fmt,
    )


def rand_like(
    input: Tensor, *, generator: Any = None, dtype: Any = None, layout: Any = None,  # noqa: A002
    device: Any = None, requires_grad: bool = False, memory_format: Any = None, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    dt, fmt = _like("rand_like", input, dtype, device, layout, memory_format, pin_memory)
    return _laid(
        rand(
            input.shape,
            dtype=dt,
            generator=generator,
            device=_like_device(input, device),
            requires_grad=requires_grad,
        ),
        input,
        fmt,
    )


def randn_like(
    input: Tensor, *, generator: Any = None, dtype: Any = None, layout: Any = None,  # noqa: A002
    device: Any = None, requires_grad: bool = False, memory_format: Any = None, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    dt, fmt = _like("randn_like", input, dtype, device, layout, memory_format, pin_memory)
    return _laid(
        randn(
            input.shape,
            dtype=dt,
            generator=generator,
            device=_like_device(input, device),
            requires_grad=requires_grad,
        ),
        input,
        fmt,
    )


def randint_like(
    input: Tensor, low: int = 0, high: int | None = None, *, generator: Any = None,  # noqa: A002
    dtype: Any = None, layout: Any = None, device: Any = None, memory_format: Any = None,
    requires_grad: bool = False, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    dt, fmt = _like("randint_like", input, dtype, device, layout, memory_format, pin_memory)
    if high is None:
        low, high = 0, low
    kw = {"dtype": dt, "generator": generator, "device": _like_device(input, device)}
    return _laid(randint(low, high, input.shape, **kw, requires_grad=requires_grad), input, fmt)


def empty_strided(
    size: Any, stride: Any, *, dtype: Any = None, layout: Any = None, device: Any = None,
    requires_grad: bool = False, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    """A tensor of ``size`` with the given ``stride`` (in elements) over a buffer just large enough;
    zeros, as ``empty`` here. Strides may overlap (a stride of 0 repeats one element)."""
    meta = _check("empty_strided", device, layout, pin_memory)
    shape = _size((tuple(size),), "empty_strided")
    strides = tuple(int(s) for s in stride)
    if len(strides) != len(shape):
        raise RuntimeError(
            f"empty_strided: mismatch in length of strides and shape, got size {shape} and stride {strides}"
        )
    if any(s < 0 for s in strides):
        raise RuntimeError(f"empty_strided: expected non-negative strides, got {strides}")
    dt = _float(dtype)
    if meta:
        return _make(meta_array(shape, dt), requires_grad)
    return _make(fill_uninitialized(strided_zeros(shape, strides, dt)), requires_grad)
