"""Counting values into bins: ``torch.histogram``, ``torch.histc`` and ``torch.bincount`` (and
their ``Tensor`` methods), with PyTorch's rules, and the binary searches ``torch.searchsorted`` and
``torch.bucketize``. None of them is differentiable (counts are
piecewise constant), so they return tensors that carry no gradient, as PyTorch's do.

- ``histogram(input, bins=100, *, range=None, weight=None, density=False)``: ``bins`` equal bins
  between ``range`` (default: the input's min and max; widened by 0.5 each side when they are
  equal) or the edges given as a 1-D tensor; a value lands in the bin ``[e_i, e_{i+1})`` (the last
  bin also holds ``e_bins``), values outside the edges are not counted. Returns
  ``(hist, bin_edges)``; the edges are PyTorch's ``linspace`` in the input's dtype (computed as
  its kernel computes them, so values on an edge fall in the same bin).
- ``histc(input, bins=100, min=0, max=0)``: the counts only, bins between ``min`` and ``max``
  (equal, e.g. both 0: the data's min and max; widened by 1 each side when equal), a value's bin computed as
  ``int((x - min) * bins / (max - min))`` in the input's dtype, as PyTorch's kernel does.
- ``bincount(input, weights=None, minlength=0)``: occurrences of each value of a 1-D int tensor.
- ``searchsorted(sorted_sequence, input, *, right=False, side=None, sorter=None)`` and
  ``bucketize(input, boundaries, *, right=False)``: NumPy's ``searchsorted`` per row (``right``:
  its ``side="right"``), int64 indices (int32 with ``out_int32``).

Example:
    >>> import glassgrad as gg
    >>> hist, edges = gg.histogram(gg.tensor([0.0, 1.0, 1.0, 3.0]), bins=3)
    >>> hist.tolist(), edges.tolist()
    ([1.0, 2.0, 1.0], [0.0, 1.0, 2.0, 3.0])
    >>> gg.bincount(gg.tensor([0, 2, 2])).tolist()
    [1, 0, 2]
"""

from __future__ import annotations

import builtins
from fractions import Fraction
from typing import Any

import numpy as np

from glassgrad.backend import array_module
from glassgrad.errors import ArgumentError, DTypeError, IndexOutOfRangeError, ShapeError, kernel_dtype_error
from glassgrad.operand_errors import int_arg, number_arg
from glassgrad.ops.carried import underived
from glassgrad.ops.composite import with_out
from glassgrad.return_types import return_type
from glassgrad.tensor import Tensor

__all__ = ["Histogram", "METHODS", "bincount", "bucketize", "histc", "histogram", "searchsorted"]

#: ``hist, bin_edges = torch.histogram(...)``, by position or by field, as ``torch.return_types``.
Histogram = return_type("histogram", ["hist", "bin_edges"])


#: the PyTorch CPU kernel each op's "not implemented for" message names (histc of a bool input
#: fails earlier, building its bin edges)
_KERNELS = {"histc": "histogram_cpu", "histogram": "histogramdd", "histogramdd": "histogramdd"}


def _float_input(op: str, x: Any) -> Any:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    dt = x._data.dtype
    # PyTorch's kernels are floating point only (histogramdd's not half precision either), and
    # it raises NotImplementedError for the others
    if dt.kind != "f" or (dt.itemsize < 4 and op != "histc"):
        kernel = "linspace_cpu" if op == "histc" and dt.kind == "b" else _KERNELS.get(op, op)
        raise kernel_dtype_error(op, kernel, dt)
    return x._data


def _int_arg(op: str, name: str, value: Any) -> int:
    """An int argument, as PyTorch's parser takes it: a float or a bool is a TypeError (it would
    otherwise be truncated to a bin count silently); an integer 0-d tensor passes
    (``bincount(y, minlength=num_classes)`` with a count kept as a tensor)."""
    return int_arg(op, name, value)


def _add_at(out: Any, pos: Any, weights: Any) -> Any:
    """``out[pos[i]] += weights[i]`` one by one in ``out``'s dtype, as PyTorch's CPU kernels add
    weights (one thread; a float64 ``bincount`` rounded at the end differs from it in the last
    bits, or more when large weights cancel)."""
    xp = array_module(out)
    xp.add.at(out, pos, weights.astype(out.dtype, copy=False))
    return out


def _linspace(lo: Any, hi: Any, steps: int, dtype: Any) -> Any:
    """PyTorch's CPU ``linspace`` kernel in ``dtype``: the first half counts up from ``lo``, the
    second half down from ``hi`` (so both ends are exact), each point rounded once from the exact
    value of ``lo + step * i`` (the kernel's fused multiply-add). (steps,)"""
    t = np.dtype(dtype).type
    lo, hi = t(lo), t(hi)
    if steps == 1:
        return np.array([lo], dtype)
    step = Fraction(float((hi - lo) / t(steps - 1)))  # the step as the kernel rounds it
    half = steps // 2
    exact = [
        Fraction(float(lo)) + step * i if i < half else Fraction(float(hi)) - step * (steps - i - 1)
        for i in range(steps)
    ]
    return np.array([float(v) for v in exact], np.float64).astype(dtype)


def _outer_edges(data: Any, range: Any, widen: float, op: str = "histogram") -> tuple[float, float]:  # noqa: A002
    if range is not None:
        lo, hi = (float(v) for v in range)
    elif data.size:
        lo, hi = float(data.min()), float(data.max())
    else:
        lo = hi = 0.0
    if lo > hi or not (np.isfinite(lo) and np.isfinite(hi)):
        raise ShapeError(f"{op}: expected a finite range with min <= max, got ({lo}, {hi})")
    if lo == hi:
        lo, hi = lo - widen, hi + widen
    return lo, hi


def histogram(
    input: Tensor,  # noqa: A002 - PyTorch's name
    bins: Any = 100,
    *,
    range: Any = None,  # noqa: A002
    weight: Tensor | None = None,
    density: bool = False,
    out: Any = None,
) -> Histogram:
    """Counts (or summed ``weight``) of ``input``'s values in ``bins`` bins (see the module docstring).

    Shape:
        input: any shape, floating point (flattened); weight: ``input``'s shape;
        returns hist ``(bins,)`` and bin_edges ``(bins + 1,)``, both of ``input``'s dtype.
    """
    data = _float_input("histogram", input)
    xp = array_module(data)
    flat = data.reshape(-1)  # (N,)
    if isinstance(bins, Tensor):
        # PyTorch has no signature with both: its argument parser refuses before any shape check
        if range is not None:
            raise TypeError("histogram(): expected range only with bins as a number, got bins as a tensor")
        edges = bins._data
        if edges.ndim != 1 or edges.shape[0] < 2 or edges.dtype != data.dtype:
            raise ShapeError(
                f"histogram: expected bins as a 1-D tensor of {input.dtype} with at least two edges, "
                f"got shape {tuple(edges.shape)} of {bins.dtype}"
            )
        n_bins = edges.shape[0] - 1
    else:
        n_bins = _int_arg("histogram", "bins", bins)
        if n_bins < 1:
            raise ShapeError(f"histogram: expected bins >= 1, got {bins}")
        given = (0.0, 1.0) if range is None and not flat.size else range  # no data: PyTorch's [0, 1]
        edges = xp.asarray(_linspace(*_outer_edges(flat, given, 0.5), n_bins + 1, data.dtype))
    weights = None
    if weight is not None:
        # any shape of input's size (PyTorch flattens both), of input's dtype (PyTorch adds in it)
        if (
            not isinstance(weight, Tensor)
            or weight._data.size != data.size
            or weight._data.dtype != data.dtype
        ):
            raise ShapeError(
                f"histogram: expected weight of input's size {data.size} and dtype {input.dtype}, got "
                f"{type(weight).__name__} of shape {tuple(getattr(weight, 'shape', ()))} and dtype "
                f"{getattr(weight, 'dtype', None)}"
            )
        weights = weight._data.reshape(-1)
    inside = (flat >= edges[0]) & (flat <= edges[-1])  # (N,) NaN and outside values are not counted
    pos = xp.minimum(xp.searchsorted(edges, flat[inside], side="right") - 1, builtins.max(n_bins - 1, 0))
    if weights is None:
        hist = xp.bincount(pos, minlength=n_bins)[:n_bins].astype(data.dtype)  # (bins,)
    else:
        hist = _add_at(xp.zeros(n_bins, data.dtype), pos, weights[inside])
    if density:
        with np.errstate(invalid="ignore", divide="ignore"):  # no data: nan, without NumPy's warning
            hist = hist / hist.sum() / xp.diff(edges)  # in the input's dtype and order, as PyTorch
    # PyTorch records both outputs, with a derivative that raises (written into out=: not recorded)
    operands = (input, bins, weight) if out is None else ()
    result = Histogram(
        underived(hist, *operands, op="aten::histogram"),
        underived(xp.asarray(edges, dtype=data.dtype), *operands, op="aten::histogram"),
    )
    if out is not None:
        for dst, src in zip(out, result):
            _check_out("histogram", dst, src)
            with_out(src, dst, "histogram")
        return Histogram(*out)
    return result


def _check_out(op: str, out: Any, result: Tensor) -> None:
    if not isinstance(out, Tensor) or out.dtype != result.dtype:
        raise DTypeError(
            f"{op}: expected out= of the input's dtype {result.dtype}, got {getattr(out, 'dtype', type(out))}"
        )


def histc(input: Tensor, bins: int = 100, min: Any = 0, max: Any = 0, *, out: Any = None) -> Tensor:  # noqa: A002
    """Counts of ``input``'s values in ``bins`` equal bins between ``min`` and ``max``.

    Shape:
        input: any shape, floating point; returns ``(bins,)`` of its dtype.
    """
    data = _float_input("histc", input)
    xp = array_module(data)
    n_bins = _int_arg("histc", "bins", bins)
    if n_bins < 1:
        raise ShapeError(f"histc: expected bins >= 1, got {bins}")
    flat = data.reshape(-1)  # (N,)
    min, max = number_arg("histc", "min", min, "Number"), number_arg("histc", "max", max, "Number")  # noqa: A001
    given = None if float(min) == float(max) else (min, max)  # equal bounds: the data's, as PyTorch
    lo, hi = _outer_edges(flat, given, 1.0)
    lo_t, hi_t = np.asarray(lo, data.dtype), np.asarray(hi, data.dtype)
    kept = flat[(flat >= lo_t) & (flat <= hi_t)]
    with np.errstate(over="ignore", invalid="ignore"):
        width_t = hi_t - lo_t
        scaled = (kept - lo_t) * np.asarray(n_bins, data.dtype) / width_t
    if not (np.isfinite(width_t) and width_t > 0 and xp.isfinite(scaled).all()):
        # a range wider than the dtype holds (finfo.max - finfo.min is inf in float32; float16
        # from -6e4 to 6e4) put every value in bin 0 or cast NaN to an index, and widening equal
        # bounds at the dtype's extremes by 1 changes nothing (lo == hi): place the values in
        # float64 then, all in the first bin for an empty range
        wide = kept.astype(np.float64) - float(lo)
        width = float(hi) - float(lo)
        scaled = wide * (n_bins / width) if width > 0 else xp.zeros_like(wide)
    pos = xp.minimum(scaled.astype(np.int64), n_bins - 1)
    hist = Tensor(xp.bincount(pos, minlength=n_bins)[:n_bins].astype(data.dtype), _wrap=True)
    if out is None:
        return hist
    _check_out("histc", out, hist)
    return with_out(hist, out, "histc")


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:  # noqa: A002
    """How many times each value ``0 .. max(input)`` occurs in ``input`` (or the sum of its
    ``weights``). int64 counts; with weights, their dtype if floating point, else float64.

    Shape:
        input: ``(N,)`` non-negative integers; weights: ``(N,)``; returns
        ``(max(max(input) + 1, minlength),)``.
    """
    if isinstance(input, Tensor) and input._data.dtype.kind not in "iu":
        # PyTorch's kernel is dispatched on the dtype before any shape check: a float or bool input
        # of any shape is its NotImplementedError ("bincount_cpu" not implemented for 'Float')
        raise kernel_dtype_error("bincount", "bincount_cpu", input._data.dtype)
    if not isinstance(input, Tensor) or input._data.ndim != 1:
        shape = tuple(getattr(input, "shape", ()))
        raise ShapeError(
            f"bincount: expected a 1-D integer tensor, got shape {shape} of {getattr(input, 'dtype', type(input))}"
        )
    data = input._data
    xp = array_module(data)
    minlength = _int_arg("bincount", "minlength", minlength)
    if minlength < 0:
        raise ShapeError(f"bincount: expected minlength >= 0, got {minlength}")
    if data.size and data.min() < 0:
        raise ShapeError("bincount: expected non-negative values, got a negative one")
    if weights is None or not data.size:  # no values: int64 zeros, with weights too, as PyTorch
        return Tensor(xp.bincount(data, minlength=minlength).astype(np.int64), _wrap=True)
    w = weights._data if isinstance(weights, Tensor) else xp.asarray(weights)
    if w.shape != data.shape:
        raise ShapeError(f"bincount: expected weights of shape {tuple(data.shape)}, got {tuple(w.shape)}")
    dtype = np.float32 if w.dtype == np.float32 else np.float64  # PyTorch's two kernels: float, double
    out = xp.zeros(builtins.max(int(data.max()) + 1, minlength), dtype)
    return underived(_add_at(out, data, w), weights, op="aten::bincount")  # recorded, as PyTorch's


def _sorted_search(op: str, seq: Any, values: Any, right: bool, side: Any, out_int32: bool) -> Tensor:
    """``torch.searchsorted``'s rule: for each value, the index to insert it at in its row of
    ``seq`` (``side="left"``: the first ``i`` with ``seq[i] >= v``; ``"right"``: ``seq[i] > v``)."""
    if side is not None:
        if side not in ("left", "right"):
            raise ArgumentError(f"{op}: expected side 'left' or 'right', got {side!r}")
        if right and side == "left":  # PyTorch refuses the contradiction
            raise ArgumentError(
                f"{op}: side and right can't be set to opposites, got side of left while right was True"
            )
        right = side == "right"
    if not isinstance(seq, Tensor):
        raise TypeError(f"{op}: expected the sorted sequence as a Tensor, got {type(seq).__name__}")
    s = seq._data
    xp = array_module(s)
    v = values._data if isinstance(values, Tensor) else xp.asarray(values)
    common = xp.result_type(s, v)  # PyTorch's kernel runs in it: none for complex, nor for bool
    if common.kind == "c" or (common.kind == "b" and s.dtype.kind == "b"):  # (NumPy would run both)
        raise kernel_dtype_error(op, "searchsorted_out_cpu", common)
    if s.ndim > 1 and s.shape[:-1] != v.shape[:-1]:
        raise ShapeError(
            f"{op}: expected the sorted sequence and input to have the same leading dimensions, got "
            f"{tuple(s.shape)} and {tuple(v.shape)}"
        )
    nan = s.dtype.kind == "f" and bool(xp.isnan(s).any() or xp.isnan(v).any())
    if s.ndim <= 1 and not nan:  # NumPy's search gives PyTorch's answer for a NaN-free sequence
        found = xp.searchsorted(s.reshape(-1), v, side="right" if right else "left")
    else:
        found = _bisect(xp, s.reshape(-1) if s.ndim <= 1 else s, v, right)
    return Tensor(xp.asarray(found, dtype=np.int32 if out_int32 else np.int64), _wrap=True)


def _bisect(xp: Any, s: Any, v: Any, right: bool) -> Any:
    """PyTorch's binary search, run for every value at once (one loop step per halving, about
    log2 S of them): a row's ``start`` moves past ``mid`` unless ``s[mid] >= v`` (``> v`` for
    ``right``), so a NaN, which compares false, goes as PyTorch's kernel takes it.

    Shape: s ``(S,)`` or ``(*, S)``, v ``(*, M)`` -> ``(*, M)`` int64."""
    rows = xp.broadcast_to(s, (*v.shape[:-1], s.shape[-1])) if s.ndim > 1 else s
    start = xp.zeros(v.shape, dtype=np.int64)
    end = xp.full(v.shape, s.shape[-1], dtype=np.int64)
    while (live := start < end).any():
        mid = start + ((end - start) >> 1)
        at = xp.minimum(mid, s.shape[-1] - 1)
        mid_val = xp.take_along_axis(rows, at, axis=-1) if s.ndim > 1 else rows[at]
        past = ~(mid_val > v) if right else ~(mid_val >= v)
        start = xp.where(live & past, mid + 1, start)
        end = xp.where(live & ~past, mid, end)
    return start


def searchsorted(
    sorted_sequence: Tensor,
    input: Any,  # noqa: A002 - PyTorch's name
    *,
    out_int32: bool = False,
    right: bool = False,
    side: Any = None,
    sorter: Tensor | None = None,
    out: Any = None,
) -> Tensor:
    """Indices that keep ``sorted_sequence`` sorted if each of ``input``'s values went there.

    Shape:
        sorted_sequence: ``(S,)`` or ``(*, S)``; input: any shape (a number: 0-dim), ``(*, M)``
        with the same leading dims when ``sorted_sequence`` has more than one; returns input's shape,
        int64 (int32 with ``out_int32``).
    """
    if sorter is not None:
        sorted_sequence = Tensor(_take_sorted(sorted_sequence, sorter), _wrap=True)
    result = _sorted_search("searchsorted", sorted_sequence, input, right, side, out_int32)
    return result if out is None else with_out(result, out, "searchsorted")


def _take_sorted(seq: Any, sorter: Any) -> Any:
    """``seq``'s data gathered along its last dim by ``sorter`` (searchsorted's ``sorter=``), which
    PyTorch checks: int64, of ``seq``'s shape, every index in ``[0, S)`` (a short or negative one
    would search another sequence silently).

    Shape: seq ``(*, S)``, sorter ``(*, S)`` -> ``(*, S)``."""
    if not isinstance(seq, Tensor) or not isinstance(sorter, Tensor):
        raise TypeError(
            f"searchsorted: expected sorted_sequence and sorter to be Tensors, got "
            f"{type(seq).__name__} and {type(sorter).__name__}"
        )
    data, order = seq._data, sorter._data
    if order.dtype != np.int64:
        raise DTypeError(f"searchsorted: sorter must be a tensor of long dtype but got dtype {sorter.dtype}")
    if order.shape != data.shape:
        raise ShapeError(
            f"searchsorted: boundary and sorter must have the same size, but got boundary tensor "
            f"{list(data.shape)} and sorter tensor {list(order.shape)}"
        )
    xp = array_module(data)
    if order.size and bool(xp.any((order < 0) | (order >= data.shape[-1]))):
        raise IndexOutOfRangeError(
            f"searchsorted: sorter index out of range: expected indices in [0, {data.shape[-1]})"
        )
    return xp.take_along_axis(data, order, axis=-1)


def bucketize(
    input: Any,  # noqa: A002 - PyTorch's name
    boundaries: Tensor,
    *,
    out_int32: bool = False,
    right: bool = False,
    out: Any = None,
) -> Tensor:
    """The bucket of each value: ``i`` with ``boundaries[i-1] < x <= boundaries[i]``
    (``right=True``: ``boundaries[i-1] <= x < boundaries[i]``).

    Shape:
        input: any shape (a number: 0-dim); boundaries: ``(B,)`` increasing; returns input's
        shape, int64 (int32 with ``out_int32``).
    """
    if not isinstance(boundaries, Tensor) or boundaries.ndim != 1:
        got = getattr(boundaries, "ndim", type(boundaries).__name__)
        raise ShapeError(f"bucketize: boundaries tensor must be 1 dimension, but got dim({got})")
    result = _sorted_search("bucketize", boundaries, input, right, None, out_int32)
    return result if out is None else with_out(result, out, "bucketize")


#: The Tensor methods (``x.histogram(...)``, ``x.histc(...)``, ``x.bincount(...)``), for methods.py.
METHODS = {"histogram": histogram, "histc": histc, "bincount": bincount}
