"""``quantile`` and ``nanquantile``, as ``torch.quantile``/``torch.nanquantile``.

Built from differentiable ops: the input is sorted along ``dim`` (``sort``'s values carry the
gradient back to where each element came from), the quantile's rank ``q (n − 1)`` is read by
``gather`` at its floor and ceiling, and ``lerp`` mixes the two (``interpolation="linear"``).
So the gradient of a quantile lands on the one or two order statistics it is made of, as
PyTorch's. The ranks are computed in the input's dtype, as PyTorch's are (float32 ranks round
as PyTorch's do). ``quantile`` is NaN for a slice holding a NaN; ``nanquantile`` ranks the
non-NaN values only (NaN for a slice without any).
"""

from __future__ import annotations

from typing import Any

from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.ops.composite import lerp
from glassgrad.ops.indexing import gather
from glassgrad.ops.sorting import sort
from glassgrad.out_keyword import with_out
from glassgrad.tensor import Tensor

__all__ = ["quantile", "nanquantile"]

_MODES = ("linear", "lower", "higher", "midpoint", "nearest")


def _q_array(op: str, q: Any, x: Tensor) -> tuple[Any, bool]:
    """(q as a 1-D array of x's dtype, whether q was a scalar), after PyTorch's checks."""
    xp = array_module(x._data)
    if isinstance(q, Tensor):
        if q.dtype != x.dtype:
            raise DTypeError(f"{op}: expected q of the input's dtype {x.dtype}, got {q.dtype}")
        if q.ndim > 1:
            raise ShapeError(f"{op}: expected q to be a number, a 0-d or a 1-d tensor, got shape {q.shape}")
        scalar, arr = q.ndim == 0, q._data.reshape(-1)
    else:
        scalar, arr = isinstance(q, int | float), xp.asarray(q, dtype=x._data.dtype).reshape(-1)
    if arr.size and not bool(((arr >= 0) & (arr <= 1)).all()):
        raise ValueError(
            f"{op}: expected q in [0, 1], got {arr.tolist() if arr.size < 9 else 'values outside'}"
        )
    return arr.astype(x._data.dtype, copy=False), scalar


def _quantile(
    op: str, x: Tensor, q: Any, dim: Any, keepdim: bool, interpolation: str, out: Any, ignore_nan: bool
) -> Tensor:
    if x._data.dtype.kind != "f":
        raise DTypeError(f"{op}: expected a float32 or float64 input, got {x.dtype}")
    if interpolation not in _MODES:
        raise ValueError(f"{op}: expected interpolation to be one of {_MODES}, got {interpolation!r}")
    qs, scalar = _q_array(op, q, x)
    xp = array_module(x._data)
    if dim is None:
        flat, reduced = x.reshape(-1), (1,) * x.ndim if keepdim else ()
        d = 0
    else:
        if x.ndim == 0 and dim in (0, -1):
            flat, d, reduced = x.reshape(1), 0, ()
        else:
            if not -x.ndim <= dim < x.ndim:
                raise IndexError(f"{op}: dim {dim} is out of range for an input of {x.ndim} dims")
            d = dim % x.ndim
            flat = x
            reduced = (
                tuple(1 if k == d else s for k, s in enumerate(x.shape))
                if keepdim
                else tuple(s for k, s in enumerate(x.shape) if k != d)
            )
    n = flat.shape[d]
    if n == 0:
        raise ShapeError(f"{op}: expected a non-empty input along the reduced dim, got shape {x.shape}")
    rows = flat.movedim(d, -1)  # (..., n)
    values = sort(rows, -1).values  # NaN sorts last
    nan = xp.isnan(rows._data)
    # the rank of q among the (non-NaN) values of each slice: (..., Q)
    count = (n - nan.sum(-1, keepdims=True)).astype(x._data.dtype) if ignore_nan else x._data.dtype.type(n)
    rank = (
        qs * (count - 1) if ignore_nan else qs * (count - 1) + xp.zeros(rows.shape[:-1] + (1,), x._data.dtype)
    )
    rank = xp.maximum(rank, 0)  # (a slice of NaN only: count 0, ranked at 0 and made NaN below)
    if interpolation == "nearest":
        rank = xp.round(rank)  # half to even, as PyTorch's round
    lo, hi = xp.floor(rank).astype(xp.int64), xp.ceil(rank).astype(xp.int64)
    low = gather(values, -1, Tensor(lo, _wrap=True))
    if interpolation in ("lower", "nearest"):
        result = low
    else:
        high = gather(values, -1, Tensor(hi, _wrap=True))
        if interpolation == "higher":
            result = high
        elif interpolation == "midpoint":
            result = lerp(low, high, 0.5)
        else:
            result = lerp(low, high, Tensor((rank - lo).astype(x._data.dtype), _wrap=True))
    bad = (count < 1) if ignore_nan else nan.any(-1, keepdims=True)
    if bool(bad.any()):
        result = result.masked_fill(Tensor(xp.broadcast_to(bad, result.shape), _wrap=True), float("nan"))
    result = result.movedim(-1, 0)  # (Q, ...)
    result = result.reshape((len(qs),) + reduced)
    return with_out(result[0] if scalar else result, out, op)


def quantile(
    input: Tensor,  # noqa: A002 - PyTorch's name
    q: Any,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    interpolation: str = "linear",
    out: Any = None,
) -> Tensor:
    """The q-th quantiles of ``input`` along ``dim`` (all elements when None).

    Shape:
        ``input`` without ``dim`` (kept as 1 with ``keepdim``); a 1-D ``q`` of length Q adds a
        leading dim of Q.
    """
    return _quantile("quantile", input, q, dim, keepdim, interpolation, out, ignore_nan=False)


def nanquantile(
    input: Tensor,  # noqa: A002
    q: Any,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    interpolation: str = "linear",
    out: Any = None,
) -> Tensor:
    """``quantile`` over the non-NaN values of each slice (NaN where a slice has none).

    Shape: as ``quantile``'s.
    """
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, out, ignore_nan=True)
