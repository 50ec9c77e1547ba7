"""Conversions: ``cast`` (to another dtype) and ``clone`` (a copy: C-contiguous, or in a memory
format), both differentiable."""

from __future__ import annotations

import warnings
from typing import Any

from glassgrad import dtypes
from glassgrad.autograd.function import Primitive as Function
from glassgrad.autograd.grad_mode import state as _grad_state
from glassgrad.backend import array_module
from glassgrad.half_rounding import half_source
from glassgrad.iterator_layout import preserved_result
from glassgrad.memory_formats import to_format
from glassgrad.meta_array import MetaArray, meta_like, no_data
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["cast", "clone", "python_scalar", "real_scalar", "to_meta", "warn_grad_scalar"]


class Cast(Function):
    """z = a converted to ``dtype``; complex to real keeps the real part, with PyTorch's warning
    (complex to bool: whether either part is non-zero, no warning, as PyTorch).
    VJP: g converted back to a's dtype (its real part for a real a: a real change of a is all
    there is; g + 0i for a complex a cast to real: the imaginary part does not reach z)."""

    node_name = "ToCopyBackward0"  # PyTorch's node name

    @staticmethod
    def forward(ctx, a, dtype=None):
        ctx.attrs["from_dtype"] = a.dtype  # a plain value: only arrays go through save_for_backward
        if a.dtype.kind == "c" and dtype.kind == "b":
            return a != 0  # as PyTorch: a complex number is true when either part is non-zero
        if a.dtype.kind == "c" and dtype.kind != "c":
            msg = "Casting complex values to real discards the imaginary part"  # PyTorch's warning
            warnings.warn(msg, stacklevel=user_stacklevel())
            a = a.real
        out = half_source(a, dtype).astype(dtype)  # float64 -> float16 through float32, as PyTorch
        if a.__class__ is not MetaArray and not a.flags.c_contiguous:
            # NumPy's order="K" lays a broadcast input's copy out in Fortran order (an expanded
            # (3, 8) of strides (0, 1) gives (1, 3)); PyTorch's is empty_like's: dense, in the
            # input's dim order, a stride of 0 keeping its place, at every rank
            out = preserved_result(out, [a])
        return out

    @staticmethod
    def backward(ctx, g):
        src = ctx.attrs["from_dtype"]
        return (g.real if g.dtype.kind == "c" and src.kind != "c" else g).astype(src)


class Clone(Function):
    """z = a copy of a (C-contiguous, or laid out as memory format ``fmt``).   VJP: g."""

    @staticmethod
    def forward(ctx, a, fmt=None):
        if fmt is None or a.__class__ is MetaArray:  # a meta tensor has no memory to lay out
            return array_module(a).array(a, copy=True, order="C")
        return to_format(a, fmt, array_module(a))

    @staticmethod
    def backward(ctx, g):
        return g


class ToMeta(Function):
    """z = a moved to the meta device: a's shape and dtype, no data (``x.to("meta")``).

    VJP: none can be given: the gradient would be a meta tensor, which has no values to send back
    to a CPU input (backward raises ``NotImplementedError``)."""

    register = False  # no values to check a gradient on

    @staticmethod
    def forward(ctx, a):
        return meta_like(a)

    @staticmethod
    def backward(ctx, g):
        raise no_data("to('meta') backward")


def to_meta(a: Tensor) -> Tensor:
    """``a`` on the meta device (recorded, as PyTorch's copy to another device)."""
    return ToMeta.apply(a)


def cast(a: Tensor, dtype: Any) -> Tensor:
    """``a`` converted to ``dtype`` (a NumPy or glassgrad dtype)."""
    return Cast.apply(a, dtype=dtypes.to_np_dtype(dtype))


def clone(a: Tensor) -> Tensor:
    return Clone.apply(a)


_SCALAR_WARNED = [False]  # PyTorch warns once per process (TORCH_WARN_ONCE)


def python_scalar(a: Tensor, convert: Any) -> Any:
    """``float(a)`` / ``complex(a)``: ``convert(a.item())``, with PyTorch's UserWarning (once per
    process) when ``a`` requires grad while grad mode is on, since the number leaves the graph
    (``int``, ``item`` and ``format`` do not warn, and nothing warns under ``no_grad``, as in
    PyTorch; optimizers' and schedulers' ``float(loss)`` run there)."""
    warn_grad_scalar(a)
    return real_scalar(a.item(), convert)


def real_scalar(value: Any, convert: Any) -> Any:
    """``convert(value)`` where ``convert`` is ``float`` or ``int``: as PyTorch, a complex value with
    a zero imaginary part converts its real part (Python's ``float(1+0j)`` is a TypeError), and one
    with a non-zero imaginary part raises PyTorch's RuntimeError."""
    if isinstance(value, complex) and convert is not complex:
        if value.imag != 0:
            target = "double" if convert is float else "int64_t"
            raise RuntimeError(f"value cannot be converted to type {target} without overflow ({value})")
        value = value.real
    return convert(value)


def warn_grad_scalar(a: Tensor) -> None:
    """PyTorch's once-per-process UserWarning when ``a`` requires grad and grad mode is on, as its
    number leaves the graph: ``float(a)``, and each tensor read as a number inside
    ``tensor([a, b])``'s list."""
    if a.requires_grad and _grad_state.enabled and not _SCALAR_WARNED[0]:
        _SCALAR_WARNED[0] = True
        warnings.warn(
            "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
            "Consider using tensor.detach() first.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
