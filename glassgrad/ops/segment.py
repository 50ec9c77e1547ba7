"""``segment_reduce``: reduce runs of consecutive entries along a dim (graph pooling over a batch of
graphs stored one after another), given the runs' ``lengths`` or ``offsets``; it composes
``scatter_reduce`` (``ops/scatter.py``), so its gradient is that op's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.backend import array_module
from glassgrad.errors import ShapeError
from glassgrad.ops.indexing import normalize_dim
from glassgrad.ops.scatter import scatter_reduce
from glassgrad.tensor import Tensor

__all__ = ["segment_reduce"]

SEGMENT_REDUCTIONS = {"sum": "sum", "mean": "sum", "prod": "prod", "max": "amax", "min": "amin"}


def segment_reduce(
    data: Tensor, reduce: str, *, lengths: Any = None, indices: Any = None, offsets: Any = None,
    axis: int = 0, unsafe: bool = False, initial: Any = None,
) -> Tensor:  # fmt: skip
    """Each run of consecutive entries of ``data`` along ``axis`` reduced to one ('sum', 'mean',
    'prod', 'max', 'min'; also 'amax' / 'amin'); the runs' sizes are ``lengths``, or the differences
    of ``offsets``. ``initial`` takes part in every run, and is an empty run's value (else 0 for
    'sum', 1 for 'prod', nan for 'mean', -inf / inf for 'max' / 'min'); as PyTorch, 'mean' divides
    by the run's size, initial or not, and max / min send no gradient to ``initial``.

    Shape:
        data ``(*A, n, *B)`` with ``len(A) == axis``; lengths ``(*A, k)`` summing to n along the
        last dim (at most n with ``unsafe=True``), or non-decreasing offsets ``(*A, k + 1)``
        between 0 and n: the entries before the first offset and after the last take no part, as
        PyTorch's -> ``(*A, k, *B)``.
    """
    op = "segment_reduce"
    red = {"amax": "max", "amin": "min"}.get(reduce, reduce)
    if red not in SEGMENT_REDUCTIONS:
        raise ValueError(f"{op}: expected reduce to be one of sum, prod, mean, max or min, got {reduce!r}")
    if indices is not None:
        raise NotImplementedError(f"{op}: indices= is not supported (PyTorch has no kernel for it either)")
    if data._data.dtype.kind not in "fc":
        raise NotImplementedError(f"{op}: expected floating-point data (as PyTorch), got {data.dtype}")
    xp = array_module(data._data)
    start = None  # entries before the first run: offsets need not start at 0 (PyTorch's skip them)
    if lengths is not None:
        lens = xp.asarray(lengths._data if isinstance(lengths, Tensor) else lengths).astype(np.int64)
    elif offsets is not None:
        offs = xp.asarray(offsets._data if isinstance(offsets, Tensor) else offsets).astype(np.int64)
        lens, start = xp.diff(offs, axis=-1), offs[..., :1]
    else:
        raise ValueError(f"{op}: expected lengths= or offsets=")
    ax = normalize_dim(axis, data.ndim, op, data.shape)
    n = data.shape[ax]
    if lens.ndim != ax + 1 or tuple(lens.shape[:-1]) != tuple(data.shape[:ax]):
        raise ShapeError(
            f"{op}: expected lengths of shape {tuple(data.shape[:ax])} + (k,) for data {data.shape} "
            f"reduced along axis {axis}, got {tuple(lens.shape)}"
        )
    if start is None:
        start = xp.zeros_like(lens[..., :1])
    rest = n - start - lens.sum(axis=-1, keepdims=True)
    # PyTorch checks that lengths cover the dim (unless unsafe) but lets offsets stop short
    if (
        (lens < 0).any()
        or (start < 0).any()
        or (rest < 0).any()
        or (not unsafe and offsets is None and (rest != 0).any())
    ):
        what = (
            f"non-decreasing offsets from 0 up to {n}"
            if offsets is not None
            else "non-negative lengths summing to "
        )
        raise ValueError(f"{op}: expected {what}{'' if offsets is not None else (f'at most {n}' if unsafe else n)} "
                         f"along their last dim, got {offs if offsets is not None else lens}")  # fmt: skip
    k = lens.shape[-1]
    # the run of each entry: run 0 for the entries before the first offset, each row's runs 1..k, and
    # k + 1 for the entries after them (unsafe=True lengths may stop short); repeat over the flattened
    # rows, then take each row's offset r * (k + 2) off; runs 0 and k + 1 are dropped below
    rows = xp.concatenate([start, lens, rest], axis=-1).reshape(-1, k + 2)
    seg = xp.repeat(xp.arange(rows.size), rows.reshape(-1)).reshape(rows.shape[0], n)
    seg = (seg - (xp.arange(rows.shape[0]) * (k + 2))[:, None]).reshape(data.shape[: ax + 1])
    index = xp.broadcast_to(seg.reshape(seg.shape + (1,) * (data.ndim - ax - 1)), data.shape)
    out_shape = data.shape[:ax] + (k + 2,) + data.shape[ax + 1 :]
    dt = data._data.dtype
    fill = {"sum": 0.0, "mean": 0.0, "prod": 1.0, "max": -np.inf, "min": np.inf}[red]
    has_init = initial is not None
    base = Tensor(
        xp.full(out_shape, initial if has_init and red not in ("max", "min") else fill, dt), _wrap=True
    )
    idx = Tensor(xp.ascontiguousarray(index), _wrap=True)
    out = scatter_reduce(base, ax, idx, data, SEGMENT_REDUCTIONS[red], include_self=red not in ("max", "min"))
    out = out.narrow(ax, 1, k)  # the entries before the first run and after the last dropped
    if red == "mean":
        size = lens.reshape(lens.shape + (1,) * (data.ndim - ax - 1)).astype(dt)
        with np.errstate(divide="ignore", invalid="ignore"):  # an empty run: 0 / 0 = nan, as PyTorch
            out = out / Tensor(xp.where(size == 0, 1, size) if has_init else size, _wrap=True)
    elif has_init and red in ("max", "min"):
        # initial in the max / min but outside its gradient: a tie with it still sends g to the data
        keep = out >= initial if red == "max" else out <= initial
        out = out.masked_fill(~keep, initial)
    return out
