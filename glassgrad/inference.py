"""``as_array``: data of any kind to an ndarray with PyTorch's dtype inference (``tensor()``'s rules:
floats to the default dtype, complex numbers to its complex counterpart (complex64 under
float32), ints to int64 (refused past int64), bools to bool, ndarrays and tensors keep theirs).
Kept apart from ``factories.py`` for size; ``factories`` re-exports it."""

from __future__ import annotations

import numbers
import warnings
from collections import deque
from collections.abc import Iterable
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.errors import ConversionOverflowError, DTypeError, ShapeError
from glassgrad.half_rounding import half_source
from glassgrad.tensor import Tensor
from glassgrad.type_promotion import promote_np
from glassgrad.user_frames import user_stacklevel

__all__ = ["as_array", "check_numpy_source", "sequence_items", "warn_ndarray_list"]

#: PyTorch's warning (TORCH_WARN_ONCE) for ``tensor``/``Tensor``/``new_tensor`` of a list of ndarrays.
NDARRAY_LIST = (
    "Creating a tensor from a list of numpy.ndarrays is extremely slow. Please consider converting the "
    "list to a single numpy.ndarray with numpy.array() before converting to a tensor."
)
_NDARRAY_LIST_WARNED = [False]


def warn_ndarray_list(data: Any) -> None:
    """Give PyTorch's once-per-process warning, pointing at the user's line, when the list or tuple
    ``data`` (nested at any depth) holds an ndarray with elements (an empty one or a NumPy scalar
    does not warn in PyTorch either)."""
    if (
        not _NDARRAY_LIST_WARNED[0]
        and isinstance(data, list | tuple)
        and _holds(data, np.ndarray, filled=True)
    ):
        _NDARRAY_LIST_WARNED[0] = True
        warnings.warn(NDARRAY_LIST, UserWarning, stacklevel=user_stacklevel())


#: PyTorch's message for an ndarray of a dtype no tensor holds (``{}``: NumPy's scalar type name).
_NUMPY_TYPE = (
    "can't convert np.ndarray of type numpy.{}. The only supported types are: float64, float32, "
    "float16, complex64, complex128, int64, int32, int16, int8, uint64, uint32, uint16, uint8, and bool."
)


def check_numpy_source(arr: Any, op: str = "") -> None:
    """Refuse, as PyTorch's NumPy bridge (behind ``tensor``, ``as_tensor``, ``from_numpy``,
    ``asarray``, ``Tensor``, ``new_tensor``) does, an ndarray or NumPy scalar no tensor can hold:
    a dtype outside PyTorch's list (object, str, longdouble, datetime, records: ``TypeError``),
    strides that are not whole elements or are negative (``a[::-1]``: ``ValueError``; a copy
    reads it), bytes not in the machine's order (``>f8`` read from a file: ``ValueError``). Anything
    else passes; with ``op``, anything but an ndarray is a ``TypeError`` naming it."""
    if not isinstance(arr, np.ndarray):
        if op:
            raise TypeError(f"{op}: expected an ndarray, got {type(arr).__name__}")
        if not isinstance(arr, np.generic):
            return
    dt = arr.dtype
    if dt.kind not in "biufc" or dt.itemsize > (16 if dt.kind == "c" else 8):
        raise TypeError(_NUMPY_TYPE.format(dt.type.__name__))
    if any(s % dt.itemsize for s in arr.strides):  # a field of a record array
        raise ValueError(
            "given numpy array strides not a multiple of the element byte size. Copy the numpy array "
            "to reallocate the memory."
        )
    if any(s < 0 for s in arr.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with negative strides "
            "are not currently supported. (You can probably work around this by making a copy of your "
            "array  with array.copy().) "
        )
    if not dt.isnative:
        raise ValueError(
            "given numpy array has byte order different from the native byte order. Conversion between "
            "byte orders is currently not supported."
        )


#: Leaf types that make a nested list plain Python (no NumPy value to look at).
_PLAIN_LEAVES = frozenset({float, int, bool, complex})


def _holds(data: list | tuple, types: Any, filled: bool = False) -> bool:
    """Whether the nested list ``data`` holds, at any depth, a leaf of ``types`` (``filled``: an
    ndarray with elements, PyTorch's test for its list-of-ndarrays warning)."""
    kinds = set(map(type, data))  # the types first: a row of floats costs one C pass and a test
    if kinds <= _PLAIN_LEAVES:
        return False
    if any(issubclass(k, types) for k in kinds):
        if not filled or any(isinstance(d, types) and d.size for d in data):
            return True
    return any(isinstance(d, list | tuple) and _holds(d, types, filled) for d in data)


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert ``data`` to an ndarray with PyTorch's dtype inference.

    Python floats become the default dtype (float32), ints int64, bools bool; NumPy arrays keep
    their dtype (float64 stays float64, as ``torch.tensor`` does). Any iterable of numbers works
    (lists, tuples, ranges, deques, generators), nested or mixed with tensors.
    """
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, np.ndarray | np.generic):
        arr = np.asarray(data)
        if arr.dtype.kind == "c":
            dtypes.note_complex()  # from now on, Function.apply checks ops for complex operands
    else:
        if not isinstance(data, list | tuple | numbers.Number) and isinstance(data, Iterable):
            data = _items(data)  # range, deque, pandas Series, generator ...
        seq = _is_tensor_seq(data)
        numbers_of = _tensor_seq(data) if seq else data  # (a tensor of more than one element: ValueError)
        try:
            arr = np.asarray(numbers_of)
        except ValueError:
            raise _ragged(numbers_of) from None
        seq = seq and all(isinstance(d, Tensor) for d in data)  # a list of tensors keeps their dtype
        arr = _check_int64(arr, data, dtype)
        leaf = None if dtype is not None else _numpy_leaf_dtype(data)
        if leaf is not None:  # NumPy values or tensors in the list: their own dtypes count, as in PyTorch
            arr = arr.astype(leaf)
            if leaf.kind == "c":
                dtypes.note_complex()
        elif arr.dtype.kind == "f" and dtype is None and not seq:
            with np.errstate(over="ignore"):  # 1e300 becomes inf in float32, as in PyTorch
                arr = arr.astype(dtypes.get_default_dtype().np)
        elif arr.dtype.kind in "iu" and dtype is None and not seq:
            if arr.dtype == np.uint64 and arr.size and arr.max() > np.iinfo(np.int64).max:
                raise ConversionOverflowError(f"tensor: expected integers that fit int64, got {arr.max()}")
            arr = arr.astype(np.int64)
        elif arr.dtype.kind == "c":
            dtypes.note_complex()  # from now on, Function.apply checks ops for complex operands
            if dtype is None and not seq:  # complex64 under the default float32, as PyTorch
                arr = arr.astype(dtypes.default_complex())
            elif dtype is not None and not seq and dtypes.to_np_dtype(dtype).kind not in "cb":
                # Python complex numbers for a real dtype: PyTorch refuses (NumPy would drop Im)
                raise TypeError(f"tensor: must be real number, not complex (for dtype {dtype})")
        elif arr.dtype.kind not in "fiub" and dtype is None:
            raise DTypeError(f"tensor: expected numbers or bools, got data of dtype {arr.dtype}")
        if dtype is not None and not seq:
            _check_int_range(arr, dtypes.to_np_dtype(dtype))
    if dtype is not None:
        # 1e30 becomes inf in float16, as in PyTorch; (nan, inf and floats past an integer type's
        # range give NumPy's values where PyTorch raises: see tests/ops/test_fp_warnings.py)
        with np.errstate(over="ignore", invalid="ignore"):
            want = dtypes.to_np_dtype(dtype)
            arr = half_source(arr, want).astype(want, copy=False)  # float16: through float32, as PyTorch
    return arr


_RAGGED = "tensor: expected a rectangular nested sequence (equal lengths per dim)"


class _NotASequenceError(ShapeError, TypeError):
    """A number where a nested list has sequences beside it: PyTorch's ``TypeError``."""


def _is_seq(obj: Any) -> bool:
    return isinstance(obj, list | tuple) or (isinstance(obj, np.ndarray | Tensor) and obj.ndim > 0)


def _ragged(data: Any) -> ShapeError:
    """PyTorch's error for a nested sequence that is not rectangular (read only when NumPy refused
    it): the sizes are the first element's at each depth, as PyTorch's; the first sequence of
    another length is a ``ValueError``, a number where a sequence belongs a ``TypeError``."""
    sizes, seq = [], data
    while _is_seq(seq):
        sizes.append(len(seq))
        if not len(seq):
            break
        seq = seq[0]

    return _first_error(data, 0, sizes) or ShapeError(_RAGGED)


def _first_error(obj: Any, dim: int, sizes: list) -> ShapeError | None:
    """The error for the first place in ``obj`` (at depth ``dim``) whose length is not ``sizes[dim]``,
    or where a number stands for a sequence; None if there is none."""
    if dim == len(sizes):
        return None
    if not _is_seq(obj):
        return _NotASequenceError(f"{_RAGGED}: not a sequence at dim {dim} (got {type(obj).__name__})")
    if len(obj) != sizes[dim]:
        return ShapeError(
            f"{_RAGGED}: expected sequence of length {sizes[dim]} at dim {dim} (got {len(obj)})"
        )
    return next((e for e in (_first_error(item, dim + 1, sizes) for item in obj) if e is not None), None)


def _check_int_range(arr: np.ndarray, want: np.dtype) -> None:
    """Refuse Python numbers that an integer ``want`` cannot hold, as PyTorch's ``tensor()``
    converts each one (NumPy would wrap them: ``tensor(300, dtype=uint8)`` was 44): an int
    within the type's range (an unsigned type but uint64 also takes -max..-1, wrapped: -1 is 255
    in uint8, as ``scalar_into``), a float within it (not NaN or inf; its fraction is dropped)."""
    if want.kind not in "iu" or not arr.size or arr.dtype.kind not in "iuf":
        return
    info = np.iinfo(want)
    lo, hi = int(info.min), int(info.max)
    if arr.dtype.kind == "f":
        fits = bool(arr.min() >= lo and arr.max() <= hi)  # (NaN compares False)
    else:
        # (PyTorch's uint64 reads the ints as unsigned: a negative one is its OverflowError)
        fits = (
            int(arr.min()) >= (-hi if want.kind == "u" and want.itemsize < 8 else lo) and int(arr.max()) <= hi
        )
    if not fits:
        raise ConversionOverflowError(
            f"tensor: value cannot be converted to type {dtypes.from_np_dtype(want)} without overflow "
            f"(got values from {arr.min()} to {arr.max()}; the type holds {lo} to {hi})"
        )


def sequence_items(data: Any) -> Any:
    """The list of ``data``'s items when it is a sequence that is not iterable, only ``len`` and
    ``[i]`` (a ``Subset`` of ``random_split``, a user's class), as PyTorch's constructors read it;
    anything else as it is."""
    cls = type(data)
    if isinstance(data, Iterable) or not (hasattr(cls, "__len__") and hasattr(cls, "__getitem__")):
        return data
    return data if hasattr(cls, "__array__") else [data[i] for i in range(len(data))]


def _items(data: Iterable) -> list:
    """The elements of an iterable that is not a list or tuple, read as PyTorch reads them.

    A sequence (``len`` and ``[i]``: range, deque, array, pandas Series) is read by position, so a
    float64 Series gives its NumPy scalars and stays float64 (iterating it boxes Python floats,
    which would make float32), and a Series whose index has labels, which PyTorch cannot read by
    position, is refused with PyTorch's ValueError. Anything else (a generator) is iterated.
    """
    if isinstance(data, range | deque) or not (hasattr(data, "__len__") and hasattr(data, "__getitem__")):
        return list(data)  # (a deque's [i] walks from an end: read it in order)
    try:
        return [data[i] for i in range(len(data))]
    except (KeyError, IndexError, TypeError):
        raise ValueError(f"could not determine the shape of object type '{type(data).__name__}'") from None


#: A Python number's dtype as a leaf beside NumPy values (floats and complex follow the default dtype).
_PY_LEAF = {
    bool: lambda: np.dtype(np.bool_),
    int: lambda: np.dtype(np.int64),
    float: lambda: dtypes.get_default_dtype().np,
    complex: dtypes.default_complex,
}


def _numpy_leaf_dtype(data: Any) -> np.dtype | None:
    """PyTorch's dtype for a nested list holding NumPy scalars or arrays: every leaf's own type
    (Python floats the default dtype, ints int64, NumPy values their dtype), promoted together
    (``[np.float64(1), 2.0]`` is float64, ``[np.int64(1), 2.5]`` float32); None without NumPy values."""
    if not isinstance(data, list | tuple) or not _holds(data, np.generic | np.ndarray | Tensor):
        return None  # a Python number or plain Python values: the plain rules
    found: list[np.dtype] = []
    out = _leaf_dtype(data, found)
    return out if found else None


def _leaf_dtype(data: list | tuple, found: list) -> np.dtype | None:
    out = None
    for kind in set(map(type, data)):  # the types first: a flat list of floats costs one C pass
        if issubclass(kind, list | tuple):
            dts = [_leaf_dtype(d, found) for d in data if isinstance(d, kind)]
        elif issubclass(kind, np.ndarray):
            dts = [d.dtype for d in data if isinstance(d, kind)]
            found.append(dts[0])
        elif issubclass(kind, np.generic):
            dts = [np.dtype(kind)]
            found.append(dts[0])
        elif issubclass(kind, Tensor):  # a tensor's dtype counts too: [x_float64, np.int16(1)] is float64
            dts = [d._data.dtype for d in data if isinstance(d, kind)]
            found.append(dts[0])
        elif kind in _PY_LEAF:
            dts = [_PY_LEAF[kind]()]
        else:
            continue
        for dt in dts:
            if dt is not None and dt.kind in "biufc":
                out = dt if out is None else promote_np(out, dt, "tensor")
    return out


def _ints(data: Any) -> bool:
    """Whether every number in the nested sequence ``data`` is a Python or NumPy integer."""
    if isinstance(data, list | tuple):
        return all(_ints(d) for d in data)
    return isinstance(data, numbers.Integral)


def _other_integral(data: Any) -> Any:
    """The first integer leaf of ``data`` that is neither a Python nor a NumPy integer, else None."""
    if isinstance(data, list | tuple):
        return next((o for o in map(_other_integral, data) if o is not None), None)
    return None if isinstance(data, int | np.integer) else data


def _reals(data: Any) -> bool:
    """Whether every leaf of the nested sequence ``data`` is a real number (bools and ints too)."""
    if isinstance(data, list | tuple):
        return all(_reals(d) for d in data)
    return isinstance(data, numbers.Real)


def _check_int64(arr: np.ndarray, data: Any, dtype: Any = None) -> np.ndarray:
    """Refuse Python ints outside int64, as PyTorch does: NumPy would make them float64 (beside
    smaller ints) or objects, and the tensor would hold rounded values or fail later. Beside a
    float they are floats, as in PyTorch (NumPy makes that an object array). Under a floating,
    complex or bool ``dtype=`` PyTorch reads each int as a double, so ``tensor(2**64, dtype=float32)``
    is 1.8e19 and only an int beyond float64's range raises (Python's OverflowError)."""
    big = arr.dtype == object or (arr.dtype.kind == "f" and arr.size and float(np.abs(arr).max()) >= 2.0**63)
    kind = dtypes.to_np_dtype(dtype).kind if big and dtype is not None else ""
    if kind in ("f", "c", "b") and _reals(data):  # bool: each number's truth, however large
        return np.asarray(data, dtype=object).astype(bool if kind == "b" else np.float64)
    if big and _ints(data):
        other = _other_integral(data)
        if other is not None:  # SymPy's Integer(5) fits, but is no int: PyTorch cannot infer its dtype
            raise DTypeError(
                f"tensor: could not infer the dtype of {type(other).__name__} {other!r:.40}: expected Python "
                "or NumPy numbers (int(x) converts it)"
            )
        raise ConversionOverflowError(
            "tensor: expected integers that fit int64 (|x| < 2**63), got a larger one"
        )
    if arr.dtype == object and _reals(data):
        return arr.astype(np.float64)
    return arr


def _is_tensor_seq(data: Any) -> bool:
    """Whether the nested list ``data`` holds a tensor at any depth."""
    return isinstance(data, list | tuple) and _holds(data, Tensor)


def _tensor_seq(data: Any) -> list:
    """``data`` with each tensor as the number it holds: PyTorch reads a tensor inside a list as a
    scalar (``tensor([t1, t2])`` of one-element tensors has shape (2,)), and refuses a larger one."""
    from glassgrad.ops.conversion import warn_grad_scalar  # (ops imports this module: no cycle at load)

    out = []
    for d in data:
        if isinstance(d, Tensor):
            warn_grad_scalar(d)  # the number leaves the graph, and PyTorch says so
            if d._data.size != 1:  # (PyTorch's kinds: an integer tensor is refused as an index)
                raise (TypeError if d._data.dtype.kind in "biu" else ValueError)(
                    f"tensor: a tensor inside a list stands for one number, got one of shape {tuple(d.shape)} "
                    "(PyTorch refuses it too); glassgrad.stack joins tensors"
                )
            out.append(d._data.reshape(()))
        elif isinstance(d, list | tuple):
            out.append(_tensor_seq(d))
        else:
            out.append(d)
    return out
