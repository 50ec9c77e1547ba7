"""``torch.fft``'s helpers (names of ``glassgrad.fft``): the sample frequencies of a transform's
bins (``fftfreq``, ``rfftfreq``) and the shifts that move the zero frequency to the middle and back
(``fftshift``, ``ifftshift``: rolls, so they differentiate as ``roll``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.errors import DTypeError
from glassgrad.factories import _check, _make
from glassgrad.fft_common import as_int, check_dim, ints
from glassgrad.meta_array import meta_array
from glassgrad.ops.movement import roll
from glassgrad.tensor import Tensor

__all__ = ["fftfreq", "rfftfreq", "fftshift", "ifftshift"]


def _freq(
    name: str, n: Any, d: Any, full: bool, dtype: Any, layout: Any, device: Any, requires_grad: bool
) -> Tensor:
    meta = _check(name, device, layout)
    n = as_int(name, "n", n)
    count = n if full else int(n / 2) + 1  # (C++'s division, as PyTorch: rfftfreq(-1) has one entry)
    if count < 0:
        raise RuntimeError(f"{name}: Trying to create tensor with negative dimension {count}: [{count}]")
    dt = dtypes.get_default_dtype().np if dtype is None else dtypes.to_np_dtype(dtype)
    if dt.kind == "c":
        raise NotImplementedError(f'{name}: "arange_cpu" not implemented for {dtypes.from_np_dtype(dt)}')
    if dt.kind != "f":
        raise DTypeError(
            f"{name}: requires a floating point or complex dtype, got {dtypes.from_np_dtype(dt)}"
        )
    d = float(d.item() if isinstance(d, Tensor) else d)
    # PyTorch's arithmetic, in dt: arange, the upper half shifted down by n, times 1 / (n d)
    k = np.arange(count).astype(dt)
    if full:
        k[(n + 1) // 2 :] -= n
    with np.errstate(divide="ignore", invalid="ignore"):  # d = 0: inf and nan, as PyTorch
        k *= dt.type(1.0 / (n * d)) if n * d != 0 else dt.type(np.inf)
    if meta:
        k = meta_array(k.shape, k.dtype)
    return _make(k, requires_grad, None, name)


def fftfreq(
    n: int, d: float = 1.0, *, dtype: Any = None, layout: Any = None, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """The sample frequencies of ``fft``'s n bins for a spacing ``d``, as ``torch.fft.fftfreq``.

    Shape:
        ``(n,)`` of the default float dtype: ``[0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (d n)``.
    """
    return _freq("fftfreq", n, d, True, dtype, layout, device, requires_grad)


def rfftfreq(
    n: int, d: float = 1.0, *, dtype: Any = None, layout: Any = None, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """The sample frequencies of ``rfft``'s bins for an n-point signal of spacing ``d``, as ``torch.fft.rfftfreq``.

    Shape:
        ``(n // 2 + 1,)``: ``[0, 1, ..., n // 2] / (d n)``.
    """
    return _freq("rfftfreq", n, d, False, dtype, layout, device, requires_grad)


def _shift(name: str, input: Tensor, dim: Any, up: bool) -> Tensor:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(input).__name__}")
    dims = (
        tuple(range(input.dim()))
        if dim is None
        else tuple(check_dim(name, d, input.dim()) for d in ints(name, "dim", dim))
    )
    if not dims:
        raise RuntimeError(f"{name}: `shifts` required (no dims to shift)")
    shifts = tuple((input.shape[d] + up) // 2 for d in dims)
    return roll(input, shifts, dims)


def fftshift(input: Tensor, dim: Any = None) -> Tensor:  # noqa: A002
    """``input`` rolled by half its size along ``dim`` (default: every dim), so that the zero
    frequency of a spectrum is in the middle, as ``torch.fft.fftshift``.

    Shape:
        ``(*)`` -> ``(*)``, any dtype.
    """
    return _shift("fftshift", input, dim, False)


def ifftshift(input: Tensor, dim: Any = None) -> Tensor:  # noqa: A002
    """The inverse of ``fftshift`` (they differ for odd sizes), as ``torch.fft.ifftshift``.

    Shape:
        ``(*)`` -> ``(*)``, any dtype.
    """
    return _shift("ifftshift", input, dim, True)
