"""Extremes: the maximum and minimum over dims (``amax``/``amin``), PyTorch's ``max``/``min``
(of everything, or values and indices along one dim, or elementwise against a tensor), and the
positions ``argmax``/``argmin``.

Ties: a full ``max`` and ``amax``/``amin`` split the gradient evenly among the tied extremes
(:func:`_even_split`); ``max(dim)``/``min(dim)`` route it to the returned index (the first
extreme, as PyTorch). Indices are int64 and carry no gradient. Reducing over nothing is an error:
an extreme has no identity.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.complex_gate import refuse_unordered
from glassgrad.autograd.function import Primitive as Function
from glassgrad.autograd.function import named
from glassgrad.backend import array_module, c_layout
from glassgrad.errors import DTypeError
from glassgrad.ops import conversion as _K
from glassgrad.ops import elementwise as _E
from glassgrad.ops.reduce import _constant, _nonempty, _unsqueeze, normalize_dims
from glassgrad.return_types import return_type
from glassgrad.tensor import Tensor

__all__ = ["max", "min", "amax", "amin", "argmax", "argmin", "extreme_mask"]


# ------------------------------------------------------------------ primitives
def extreme_mask(x, out, axis, keepdims, full=False):
    """Where ``x`` holds the extreme ``out``; ``full`` (``max()``/``min()`` of everything, PyTorch's
    evenly-distributing backward): a NaN extreme is held by the NaNs. ``amax``/``amin`` match
    nothing there (their gradient is NaN, as PyTorch's)."""
    xp = array_module(x)
    if full and out.dtype.kind in "fc" and xp.isnan(out):
        return xp.isnan(x)
    return x == _unsqueeze(out, axis, keepdims)


def _even_split(g, x, out, axis, keepdims, full=False):
    """g shared evenly among the elements equal to the extreme ``out`` (ties split, as PyTorch)."""
    mask = extreme_mask(x, out, axis, keepdims, full)
    count = mask.sum(axis=axis, keepdims=True, dtype=g.dtype)  # in g's dtype: float32 / int64 is float64
    with np.errstate(invalid="ignore", divide="ignore"):  # a NaN extreme matches nothing: nan, as PyTorch
        if (
            full and not array_module(g).isfinite(g).all()
        ):  # PyTorch's evenly_distribute_backward fills the mask:
            # an inf or NaN g stays there (a finite one: the product below, the same values, faster)
            return array_module(g).where(mask, g / count, 0).astype(g.dtype, copy=False)
        return _unsqueeze(g, axis, keepdims) * mask / count  # amax/amin: a product, as PyTorch's


class Amax(Function):
    """z = max of x over ``axis``.   VJP: g / (number of maxima) to each maximum, 0 elsewhere."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, full=False):
        out = c_layout(array_module(x).max(x, axis=axis, keepdims=keepdims))  # row-major, as PyTorch's
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a = ctx.attrs
        return _even_split(g, *ctx.saved, a["axis"], a["keepdims"], a.get("full", False))


class Amin(Function):
    """z = min of x over ``axis``.   VJP: g / (number of minima) to each minimum, 0 elsewhere."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False, full=False):
        out = c_layout(array_module(x).min(x, axis=axis, keepdims=keepdims))  # row-major, as PyTorch's
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a = ctx.attrs
        return _even_split(g, *ctx.saved, a["axis"], a["keepdims"], a.get("full", False))


class MaxMinDim(Function):
    """z = x[..., idx, ...] along ``axis``, where idx (argmax or argmin, given) has size 1 there.

    VJP: (g placed at idx along ``axis``, zeros elsewhere; None for idx).
    """

    name = "maxmin_dim"

    @staticmethod
    def forward(ctx, x, idx, axis=0, keepdims=False):
        ctx.save_for_backward(idx)
        out = c_layout(array_module(x).take_along_axis(x, idx, axis=axis))  # row-major, as PyTorch's
        return out if keepdims else out.squeeze(axis)

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved
        xp, axis = array_module(g), ctx.attrs["axis"]
        gx = xp.zeros(ctx.shapes[0], dtype=g.dtype)
        xp.put_along_axis(gx, idx, g if ctx.attrs["keepdims"] else xp.expand_dims(g, axis), axis=axis)
        return gx, None


# ------------------------------------------------------------------ tensor-level functions
#: ``(values, indices)`` from ``max``/``min`` along a dim, as ``torch.return_types.max``/``min``.
_RESULTS = {op: return_type(op, ["values", "indices"]) for op in ("max", "min")}


def _extreme(op: str, x: Tensor, dim: Any, keepdim: bool) -> Any:
    largest = op == "max"
    if isinstance(dim, Tensor):  # torch.max(a, other): the elementwise maximum
        return _E.maximum(x, dim) if largest else _E.minimum(x, dim)
    refuse_unordered(op, x)  # (its ops would refuse too, under their own names)
    if dim is None:
        if keepdim:
            raise TypeError(f"{op}() got keepdim without dim: PyTorch's {op} takes keepdim with a dim")
        _nonempty(op, x, None)
        out = (Amax if largest else Amin).apply(x, axis=None, keepdims=False, full=True)
        return named(out, "MaxBackward1" if largest else "MinBackward1")  # PyTorch's names for max()
    if isinstance(dim, tuple | list | bool):
        raise DTypeError(f"{op}: expected dim to be an int (amax/amin take a tuple), got {dim!r}")
    axis = normalize_dims(op, x._data.ndim, dim)
    if not axis:  # a 0-d tensor: its only element, at index 0
        return _RESULTS[op](_K.clone(x), Tensor(np.zeros((), dtype=np.int64), _wrap=True))
    _nonempty(op, x, axis)
    xp, a = array_module(x._data), axis[0]
    idx = (xp.argmax if largest else xp.argmin)(x._data, axis=a, keepdims=True)  # first extreme, as PyTorch
    values = named(
        MaxMinDim.apply(x, idx, axis=a, keepdims=keepdim), "MaxBackward0" if largest else "MinBackward0"
    )
    idx = c_layout(idx.astype(np.int64))  # a copy: MaxMinDim saved idx, and the user may change the indices
    return _RESULTS[op](values, Tensor(idx if keepdim else idx.squeeze(a), _wrap=True))


def max(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """The maximum: of every element (dim None: a 0-d tensor, ties share the gradient evenly), or
    ``(values, indices)`` along an int ``dim`` (the gradient goes to the returned index), or, when
    ``dim`` is a Tensor, the elementwise maximum of ``x`` and it (``torch.max(a, b)``).

    Shape:
        dim None: ``()``; dim int: ``x.shape`` without ``dim`` (kept as 1 with ``keepdim``).

    >>> import glassgrad as gg
    >>> gg.tensor([[1.0, 5.0], [7.0, 2.0]]).max(1).indices
    tensor([1, 0])
    """
    return _extreme("max", x, dim, keepdim)


def min(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """The minimum; see :func:`max`.

    Shape:
        dim None: ``()``; dim int: ``x.shape`` without ``dim`` (kept as 1 with ``keepdim``).
    """
    return _extreme("min", x, dim, keepdim)


def amax(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (None, int or tuple); ties share the gradient evenly.

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).
    """
    axis = normalize_dims("amax", x._data.ndim, dim)
    _nonempty("amax", x, axis)
    return Amax.apply(x, axis=axis, keepdims=keepdim)


def amin(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (None, int or tuple); ties share the gradient evenly.

    Shape:
        ``x.shape`` with the reduced dims removed (kept as 1 with ``keepdim``).
    """
    axis = normalize_dims("amin", x._data.ndim, dim)
    _nonempty("amin", x, axis)
    return Amin.apply(x, axis=axis, keepdims=keepdim)


def _arg(op: str, x: Tensor, dim: int | None, keepdim: bool) -> Tensor:
    if isinstance(dim, tuple | list | bool):
        raise DTypeError(f"{op}: expected dim to be None or an int, got {dim!r}")
    refuse_unordered(op, x)  # (NumPy would order complex numbers lexicographically)
    axis = normalize_dims(op, x._data.ndim, dim)
    _nonempty(op, x, axis)
    xp, find = array_module(x._data), getattr(array_module(x._data), op)
    if axis is None:  # the index into the flattened tensor
        out = xp.asarray(find(x._data)).reshape((1,) * x._data.ndim if keepdim else ())
    elif not axis:  # 0-d
        out = xp.zeros((), dtype=np.int64)
    else:
        out = find(x._data, axis=axis[0], keepdims=keepdim)
    return _constant(out.astype(np.int64, copy=False))


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the (first) maximum along ``dim``, or into the flattened tensor; int64, no gradient.

    Shape:
        dim None: ``()``; else ``x.shape`` without ``dim`` (kept as 1 with ``keepdim``).
    """
    return _arg("argmax", x, dim, keepdim)


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the (first) minimum; see :func:`argmax`.

    Shape:
        dim None: ``()``; else ``x.shape`` without ``dim`` (kept as 1 with ``keepdim``).
    """
    return _arg("argmin", x, dim, keepdim)
