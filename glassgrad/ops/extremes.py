"""Extremes: the maximum and minimum over dims (``amax``/``amin``), PyTorch's ``max``/``min``
(of everything, or values and indices along one dim, or elementwise against a tensor), and the
positions ``argmax``/``argmin``.

Ties: a full ``max`` and ``amax``/``amin`` split the gradient evenly among the tied extremes
(:func:`_even_split`); ``max(dim)``/``min(dim)`` route it to the returned index (the first
extreme, as PyTorch). Indices are int64 and carry no gradient. Reducing over nothing is an error:
an extreme has no identity.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from glassgrad.autograd.complex_gate import refuse_unordered
from glassgrad.autograd.function import Primitive as Function
from glassgrad.autograd.function import named
from glassgrad.backend import array_module, c_layout
from glassgrad.errors import DTypeError
from glassgrad.operand_errors import bool_dim, flag
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


#: keepdim not given: a lone positional tensor is then PyTorch's ``max(other)`` overload.
NO_KEEPDIM: Any = object()


def _overload(op: str, args: tuple, dim: Any, keepdim: Any, other: Any) -> tuple[Any, Any, Any]:
    """``(dim, keepdim, other)`` as PyTorch's parser picks among ``max()``, ``max(Tensor other)`` and
    ``max(int dim, bool keepdim=False)``: a lone positional tensor is ``other``; one given as
    ``dim=`` or beside a keepdim is a dim (a 0-d integer tensor reads as its int)."""
    if dim is None and other is None:
        if len(args) == 1:
            if keepdim is NO_KEEPDIM and isinstance(args[0], Tensor):
                return None, False, args[0]
            return args[0], keepdim, None
        if len(args) == 2 and keepdim is NO_KEEPDIM:
            return args[0], args[1], None
    elif not args and (dim is None or other is None) and (other is None or keepdim is NO_KEEPDIM):
        if other is None or isinstance(other, Tensor):  # (PyTorch's other is a Tensor: not 1)
            return dim, keepdim, other
    given = [type(a).__name__ for a in args] + [
        f"{k}={type(v).__name__}" for k, v in (("dim", dim), ("keepdim", keepdim), ("other", other))
        if v is not None and v is not NO_KEEPDIM
    ]  # fmt: skip
    raise TypeError(
        f"{op}() received an invalid combination of arguments - got ({', '.join(given)}), but expected "
        f"one of: ({op}(), {op}(Tensor other), {op}(int dim, bool keepdim=False))"
    )


def _extreme(op: str, x: Tensor, dim: Any, keepdim: Any, other: Any = None) -> Any:
    largest = op == "max"
    if other is not None:  # torch.max(a, other): the elementwise maximum
        return _E.maximum(x, other) if largest else _E.minimum(x, other)
    if keepdim is NO_KEEPDIM:
        keepdim = False
    elif keepdim is not True and keepdim is not False:  # PyTorch's parser takes only a bool
        flag(op, "keepdim", keepdim)
    # (its ops would refuse too, under their own names); PyTorch's max() has no complex kernel
    # (NotImplementedError), its max(dim) a check of its own (RuntimeError)
    refuse_unordered(op, x, kernel=dim is None)
    if dim is None:
        if keepdim:
            raise TypeError(f"{op}() got keepdim without dim: PyTorch's {op} takes keepdim with a dim")
        _nonempty(op, x, None)
        out = (Amax if largest else Amin).apply(x, axis=None, keepdims=False, full=True)
        return named(out, "MaxBackward1" if largest else "MinBackward1")  # PyTorch's names for max()
    if dim.__class__ is bool:
        bool_dim(op, "dim", dim)
    if isinstance(dim, tuple | list) or (isinstance(dim, Tensor) and dim._data.ndim):
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


def max(input: Tensor, *args: Any, dim: Any = None, keepdim: Any = NO_KEEPDIM, other: Any = None) -> Any:  # noqa: A001, A002
    """The maximum: of every element (dim None: a 0-d tensor, ties share the gradient evenly), or
    ``(values, indices)`` along an int ``dim`` (the gradient goes to the returned index), or the
    elementwise maximum of ``input`` and a tensor given alone positionally or as ``other=``
    (``torch.max(a, b)``; ``a.max(dim=t)`` with a 0-d integer ``t`` is the dim form, as PyTorch's).

    Shape:
        dim None: ``()``; dim int: ``input.shape`` without ``dim`` (kept as 1 with ``keepdim``).

    >>> import glassgrad as gg
    >>> gg.tensor([[1.0, 5.0], [7.0, 2.0]]).max(1).indices
    tensor([1, 0])
    """
    if args or other is not None:  # PyTorch's overloads: the positional form decides
        dim, keepdim, other = _overload("max", args, dim, keepdim, other)
    return _extreme("max", input, dim, keepdim, other)


def min(input: Tensor, *args: Any, dim: Any = None, keepdim: Any = NO_KEEPDIM, other: Any = None) -> Any:  # noqa: A001, A002
    """The minimum; see :func:`max`.

    Shape:
        dim None: ``()``; dim int: ``input.shape`` without ``dim`` (kept as 1 with ``keepdim``).
    """
    if args or other is not None:
        dim, keepdim, other = _overload("min", args, dim, keepdim, other)
    return _extreme("min", input, dim, keepdim, other)


def _documented(input: Tensor, dim: Any = None, keepdim: bool = False) -> None:  # noqa: A002
    """PyTorch's documented parameters of max/min, which ``inspect.signature`` shows (the
    functions take ``*args`` to tell a positional tensor, ``other``, from ``dim=``)."""


SIGNATURE = inspect.signature(_documented).replace(return_annotation="Any")
max.__signature__ = min.__signature__ = SIGNATURE  # type: ignore[attr-defined]
max.__overloads__ = min.__overloads__ = True  # type: ignore[attr-defined]  # (numpy_names.taken_signature)
#: Tensor.max/min's, with ``self``
METHOD_SIGNATURE = SIGNATURE.replace(
    parameters=[
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        *list(SIGNATURE.parameters.values())[1:],
    ]
)


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
    refuse_unordered(op, x, kernel=False)  # (NumPy would order complex numbers lexicographically)
    if x._data.dtype == np.bool_:  # PyTorch: "argmax(): does not support bool input"
        raise DTypeError(f"{op}: expected a numeric tensor, got bool; x.int() converts one")
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
