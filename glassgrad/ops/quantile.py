# ruff: noqa: A002 - PyTorch's parameter name (input) is the API
"""``quantile`` and ``nanquantile`` with PyTorch's signature and rounding.

Both are composites of differentiable ops: sort the reduced dim (NaN sorts last), pick the
element at rank ``q * (n - 1)`` (``n`` counts the non-NaN elements for ``nanquantile``) and, for
``linear``/``midpoint``, ``lerp`` towards the next one. The gradient reaches the input through
the sort's gather and, for ``linear``, reaches a tensor ``q`` through the interpolation weight
``rank - floor(rank)``, as PyTorch's does. ``quantile`` gives NaN for a slice holding a NaN (its
rank is moved onto the NaNs at the end); ``nanquantile`` gives NaN only for an all-NaN slice.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.ops.composite import lerp, with_out
from glassgrad.ops.reduce_more import _dim
from glassgrad.tensor import Tensor

__all__ = ["METHODS", "quantile", "nanquantile"]

_MODES = ("linear", "lower", "higher", "midpoint", "nearest")


def _checked_q(op: str, x: Tensor, q: Any) -> tuple[Tensor, bool]:
    """``q`` as a tensor of shape ``()`` or ``(Q,)`` of x's dtype, and whether it is 1-D."""
    xp = array_module(x._data)
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise ShapeError(f"{op}: expected q to be a number or a 0-d/1-D tensor, got shape {q.shape}")
        if q.dtype != x.dtype:
            raise DTypeError(f"{op}: expected q of the input's dtype {x.dtype}, got {q.dtype}")
        if not bool(xp.all((q._data >= 0) & (q._data <= 1))):
            raise RuntimeError(
                f"{op}: expected every q in [0, 1], got q of shape {tuple(q.shape)} outside it"
            )
        return q, q.ndim == 1
    if not isinstance(q, numbers.Real):
        raise TypeError(f"{op}: expected q to be a float or a tensor, got {type(q).__name__}")
    if not 0 <= q <= 1:
        raise RuntimeError(f"{op}: expected q in [0, 1], got {q}")
    return Tensor(xp.asarray(float(q), dtype=x._data.dtype), _wrap=True), False


def _quantile(
    op: str, x: Tensor, q: Any, dim: Any, keepdim: bool, interpolation: str, out: Any, ignore_nan: bool
) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(x).__name__}")
    if x._data.dtype not in (np.float32, np.float64):
        raise DTypeError(f"{op}: expected a float32 or float64 input, got {x.dtype}")
    if x._data.size == 0:
        raise ShapeError(f"{op}: expected a non-empty input, got shape {tuple(x.shape)}")
    if interpolation not in _MODES:
        raise RuntimeError(
            f"{op}: expected interpolation to be one of {', '.join(_MODES)}, got {interpolation!r}"
        )
    q, q_vector = _checked_q(op, x, q)
    xp = array_module(x._data)
    if dim is None:
        values = x.reshape(-1)
        kept = (1,) * x.ndim if keepdim else ()
    else:
        a = _dim(op, x, dim)
        values = x.movedim(a, -1) if x.ndim else x.reshape(1)
        kept = (
            tuple(1 if i == a else s for i, s in enumerate(x.shape))
            if keepdim
            else x.shape[:a] + x.shape[a + 1 :]
        )
    ordered = values.sort(dim=-1).values  # (..., n), NaN last
    n = ordered.shape[-1]
    nans = xp.isnan(ordered._data)
    if ignore_nan:  # an all-NaN slice has last -1
        last = (n - 1 - nans.sum(axis=-1, keepdims=True)).astype(ordered._data.dtype)  # (..., 1)
    else:
        last = xp.asarray(float(n - 1), dtype=ordered._data.dtype)
    ranks = q.reshape(-1).expand(*ordered.shape[:-1], q.numel()) * Tensor(last, _wrap=True)  # (..., Q)
    if not ignore_nan:  # a slice with a NaN points at its last element, a NaN
        ranks = ranks.masked_fill(Tensor(nans.any(axis=-1, keepdims=True), _wrap=True), float(n - 1))
    else:
        # an all-NaN slice: rank 0, its first NaN, and q's gradient cut, as PyTorch's
        # masked_fill(ranks < 0, 0): q = 0 gives -0.0, not below 0, so there the NaN's
        # interpolation slope (NaN) reaches q as in PyTorch
        ranks = ranks.masked_fill(Tensor(ranks._data < 0, _wrap=True), 0.0)
    rounded = {"lower": xp.floor, "higher": xp.ceil, "nearest": xp.round}.get(interpolation, xp.floor)
    below = rounded(ranks._data).astype(np.int64)
    result = ordered.gather(-1, Tensor(below, _wrap=True))
    if interpolation in ("linear", "midpoint"):
        above = ordered.gather(-1, Tensor(xp.ceil(ranks._data).astype(np.int64), _wrap=True))
        weight = (
            0.5
            if interpolation == "midpoint"
            else ranks - Tensor(below.astype(ranks._data.dtype), _wrap=True)
        )
        result = lerp(result, above, weight)
    # (..., Q) -> (Q, *kept) for a 1-D q, else kept
    result = result.movedim(-1, 0).reshape((q.shape[0], *kept) if q_vector else kept)
    return with_out(result, out, op)


def quantile(
    input: Tensor,
    q: Any,
    dim: Any = None,
    keepdim: bool = False,
    *,
    interpolation: str = "linear",
    out: Any = None,
) -> Tensor:
    """The ``q``-th quantiles of ``input`` (all of it for ``dim`` None) with PyTorch's
    ``interpolation`` (linear, lower, higher, midpoint or nearest, which rounds half to even).
    A slice holding a NaN gives NaN. Differentiable in ``input`` and, for linear, in a tensor ``q``.

    Shape:
        ``input (*)``, ``q`` a number or ``()``: the reduced shape (``()`` for dim None; the dim
        kept as 1 with ``keepdim``); ``q (Q,)``: ``(Q, *reduced shape)``.

    >>> import glassgrad as gg
    >>> gg.quantile(gg.tensor([0.0, 1.0, 2.0, 3.0]), gg.tensor([0.25, 0.5]))
    tensor([0.7500, 1.5000])
    """
    return _quantile("quantile", input, q, dim, keepdim, interpolation, out, ignore_nan=False)


def nanquantile(
    input: Tensor,
    q: Any,
    dim: Any = None,
    keepdim: bool = False,
    *,
    interpolation: str = "linear",
    out: Any = None,
) -> Tensor:
    """:func:`quantile` of the non-NaN elements: NaN only for a slice of NaNs alone.

    Shape:
        as :func:`quantile`.
    """
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, out, ignore_nan=True)


#: The Tensor methods (attached by ``methods.py``).
METHODS = {"quantile": quantile, "nanquantile": nanquantile}
