"""The random factories: ``rand``, ``randn`` (drawn directly in the requested float dtype),
``randint`` and ``randperm`` (their bounds checked against the dtype as PyTorch's ``random_``:
``randint(0, 300, (2,), dtype=torch.uint8)`` and ``randperm(300, dtype=torch.uint8)`` are errors,
not integers wrapped silently into the dtype). They draw from the generator ``manual_seed`` seeds,
or ``generator=``; on the meta device nothing is drawn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.errors import ArgumentError, KernelDTypeError
from glassgrad.factories import _check, _float, _make, _size, _size_arg, out_dtype
from glassgrad.meta_array import meta_array
from glassgrad.operand_errors import int_arg
from glassgrad.random import get_generator
from glassgrad.random_fills import random_range
from glassgrad.tensor import Tensor

__all__ = ["rand", "randn", "randint", "randperm"]


def _random_float(op: str, dtype: Any) -> np.dtype:
    dt = _float(dtype)
    if dt.kind not in "fc":  # PyTorch: NotImplementedError ("normal_kernel_cpu" not implemented for 'Long')
        raise KernelDTypeError(f"{op}: expected a floating or complex dtype, got {dtypes.from_np_dtype(dt)}")
    return dt


def _draw(draw: Any, shape: tuple, dt: np.dtype, scale: float = 1.0) -> np.ndarray:
    """``draw(shape, float dtype)`` in ``dt``; a complex ``dt`` draws its real and imaginary parts
    (each times ``scale``) as one float array of shape ``(*shape, 2)`` viewed as complex, as
    PyTorch's complex ``rand``/``randn`` (which scales both parts of a normal draw by sqrt(1/2))."""
    if dt.kind == "c":
        part = np.dtype(np.float32 if dt == np.complex64 else np.float64)
        pairs = draw((*shape, 2), part)  # (*shape, 2) -> (*shape) complex, parts side by side
        if scale != 1.0:
            pairs *= part.type(scale)
        return pairs.view(dt)[..., 0]
    return draw(shape, dt) if dt in (np.float32, np.float64) else draw(shape, np.float64).astype(dt)


def rand(
    *sizes: Any, size: Any = None, generator: Any = None, out: Any = None, dtype: Any = None, layout: Any = None,
    device: Any = None, requires_grad: bool = False, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    """Uniform samples on [0, 1), drawn directly in the requested float dtype (complex: the real
    and the imaginary part each uniform on [0, 1), as PyTorch)."""
    meta = _check("rand", device, layout, pin_memory, out, dtype)
    dtype = out_dtype(out, dtype)
    dt = _random_float("rand", dtype)
    gen = get_generator(generator)
    shape = _size_arg(sizes, size, "rand")
    if meta:  # no values: nothing is drawn
        return _make(meta_array(shape, dt), requires_grad, out, "rand")
    arr = _draw(lambda s, d: gen.random(s, dtype=d), shape, dt)
    return _make(arr, requires_grad, out, "rand")


def randn(
    *sizes: Any, size: Any = None, generator: Any = None, out: Any = None, dtype: Any = None, layout: Any = None,
    device: Any = None, requires_grad: bool = False, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    """Standard normal samples, drawn directly in the requested float dtype (no float64 detour);
    complex: the real and the imaginary part each of variance 1/2 (E|z|^2 = 1), as PyTorch."""
    meta = _check("randn", device, layout, pin_memory, out, dtype)
    dtype = out_dtype(out, dtype)
    dt = _random_float("randn", dtype)
    gen = get_generator(generator)
    shape = _size_arg(sizes, size, "randn")
    if meta:  # no values: nothing is drawn
        return _make(meta_array(shape, dt), requires_grad, out, "randn")
    arr = _draw(lambda s, d: gen.standard_normal(s, dtype=d), shape, dt, scale=0.5**0.5)
    return _make(arr, requires_grad, out, "randn")


def randint(
    low: Any = None, high: Any = None, size: Any = None, *, generator: Any = None, out: Any = None,
    dtype: Any = None, layout: Any = None, device: Any = None, requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    """Integers uniform on [low, high); ``randint(high, size)`` and ``randint(low, high, size)``."""
    meta = _check("randint", device, layout, pin_memory, out, dtype)
    if low is None:  # randint(high=2, size=(n,)), as stylegan2-pytorch's ADA augment calls it
        if high is None:
            raise TypeError("randint: expected high (the exclusive upper bound), got neither low nor high")
        low = 0
    if size is None:
        if not isinstance(high, tuple | list):
            raise ValueError(f"randint: expected a size tuple, got {high!r}")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low  # randint(high, size=(...))
    low, high = int_arg("randint", "low", low), int_arg("randint", "high", high)
    if low >= high:  # (a RuntimeError too, as PyTorch's random_ raises)
        raise ArgumentError(f"randint: expected low < high, got low={low} and high={high}")
    shape, dt = _size((tuple(size),), "randint"), dtypes.to_np_dtype(dtype or dtypes.int64)
    low, top = random_range("randint", low, high, dt)  # bounds the dtype cannot hold are refused
    if meta:  # no values: nothing is drawn
        return _make(meta_array(shape, dt), requires_grad, out, "randint")
    arr = get_generator(generator).integers(low, top, size=shape, endpoint=True)
    return _make(arr.astype(dt), requires_grad, out, "randint")


def randperm(
    n: int, *, generator: Any = None, out: Any = None, dtype: Any = None, layout: Any = None,
    device: Any = None, requires_grad: bool = False, pin_memory: bool = False,
) -> Tensor:  # fmt: skip
    """A random permutation of 0..n-1."""
    # an out= of a narrow dtype is checked as a dtype= (randperm(300, out=uint8) would wrap silently)
    n, dt = int_arg("randperm", "n", n), dtypes.to_np_dtype(out_dtype(out, dtype) or dtypes.int64)
    _check_randperm(n, dt)
    if _check("randperm", device, layout, pin_memory, out, dtype):  # no values: nothing is drawn
        return _make(meta_array((n,), dt), requires_grad)
    return _make(get_generator(generator).permutation(n).astype(dt), requires_grad, out, "randperm")


def _check_randperm(n: int, dt: np.dtype) -> None:
    """PyTorch's refusals: a negative ``n``, a bool dtype, and an ``n`` whose values ``0..n-1`` the
    dtype cannot all hold exactly (a float: up to ``2^digits + 1``), which NumPy would wrap or round."""
    if n < 0:
        raise ArgumentError(f"randperm: Trying to create tensor with negative dimension {n}: [{n}]")
    if dt.kind == "b" or dt.kind not in "iuf":
        raise NotImplementedError(f'"randperm" not implemented for {dtypes.from_np_dtype(dt)}')
    if dt.kind == "f":
        limit = 2 ** (np.finfo(dt).nmant + 1) + 1
        if n > limit:
            name = {"float16": "Half", "float32": "Float"}.get(dt.name, dt.name)
            raise ArgumentError(f"randperm: n cannot be greater than {limit} for {name} type.")
    elif n - 1 > np.iinfo(dt).max:
        raise ArgumentError(f"randperm: value cannot be converted to type {dt.name}_t without overflow")
