"""How PyTorch reads an indexing key: a list that stands for a tuple of indices, and slice steps.

PyTorch keeps NumPy's old rule (``treatSequenceAsTuple``): a list shorter than 32 that holds a
tensor, a sequence (list, tuple, range ...), a slice, ``None`` or ``...`` is read as the tuple of
those indices, so ``x[[rows, cols]]`` is ``x[rows, cols]`` and ``x[[[0, 1], [1, 2]]]`` is
``x[[0, 1], [1, 2]]``. NumPy 1.23+ reads such a list as one array index instead (a different
shape, silently), so the key is rewritten here before NumPy sees it. A list of plain numbers or
bools stays one index, and so does a NumPy array (PyTorch excludes arrays from the rule). As in
PyTorch, reading a list as a tuple warns (PyTorch has deprecated it). Any other sequence (an object
with ``__len__`` and ``__getitem__``, such as a ``Subset``) is read as the list of its items.
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, IndexDTypeError, IndexOutOfRangeError
from glassgrad.meta_array import MetaArray
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "check_masks", "check_slice_step", "data_index", "int_list", "key_parts", "list_index", "tensor_index",
    "INT32_64", "refuse_byte_fill", "refuse_index_dtype", "int_vector", "one_index_axis", "torch_words", "key_error", "int_slice",
]  # fmt: skip


# The index tensor dtypes of PyTorch's gather, scatter, index_select, index_add, index_reduce and
# embedding; take, take_along_dim, put_, index_copy, index_fill and one_hot take int64 alone.
INT32_64 = ("int64", "int32")


def _int_array(index: Any, op: str, allowed: tuple = INT32_64) -> Any:
    idx = array_module(a := getattr(index, "_data", index)).array(
        a
    )  # a copy (a Tensor's data or the index); meta stays
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"{op}: expected an integer index, got {idx.dtype}")
    refuse_index_dtype(op, index, allowed)
    return idx


def refuse_index_dtype(op: str, index: Any, allowed: tuple = INT32_64) -> None:
    """PyTorch's RuntimeError for an integer index tensor of a dtype ``op`` does not take: an int8,
    int16 or uint8 one was read as positions, silently, and int32 where PyTorch wants int64."""
    dt = getattr(getattr(index, "_data", None), "dtype", None)
    if dt is not None and dt.kind in "iu" and dt.name not in allowed:
        raise DTypeError(f"{op}: expected an index tensor of dtype {' or '.join(allowed)}, got {dt}")


def _check_range(idx: Any, n: int, op: str, dim: int, shape: tuple) -> None:
    if idx.size and idx.__class__ is not MetaArray and (idx.min() < 0 or idx.max() >= n):  # meta: no values
        raise IndexOutOfRangeError(
            f"{op}: expected indices in [0, {n}) along dim {dim} of shape {shape}, "
            f"got values in [{idx.min()}, {idx.max()}]"
        )


def torch_words(e: Exception) -> str:
    """NumPy's IndexError text in PyTorch's words (its "dimension" for NumPy's "axis"), so that a
    program matching PyTorch's message matches glassgrad's."""
    text = str(e).replace(" for axis ", " for dimension ")
    if "non-empty take from an empty axes" in text:
        text += " (index is out of bounds for dimension with size 0)"
    return text


def key_error(op: str, shape: tuple, e: Exception) -> IndexOutOfRangeError:
    """The IndexError of a key that does not fit ``shape``, NumPy's reason in PyTorch's words."""
    return IndexOutOfRangeError(f"{op}: expected a key that fits shape {tuple(shape)}, got {torch_words(e)}")


def int_vector(k: Any) -> bool:
    """Whether ``k`` is a 1-D integer array."""
    return getattr(k, "ndim", 0) == 1 and k.dtype.kind in "iu"


def one_index_axis(key: tuple) -> int:
    """The axis of the one integer array of a key of whole slices then that array; else 0."""
    last = key[-1] if key else None
    if getattr(getattr(last, "dtype", None), "kind", "-") not in "iu":
        return 0
    return len(key) - 1 if all(k.__class__ is slice and k == slice(None) for k in key[:-1]) else 0


def _tuple_like(item: Any) -> bool:
    from glassgrad.tensor import Tensor  # (a module-level import would be circular)

    if item is None or item is Ellipsis or isinstance(item, slice | Tensor):
        return True
    # NumPy arrays count: they are sequences to Python, as in PyTorch's check of the items
    return isinstance(item, Sequence) or type(item).__name__ == "ndarray"


def key_parts(key: Any, warn: bool = True) -> tuple:
    """The indices ``x[key]`` stands for, one per indexed dim, as PyTorch reads ``key``; ``warn``
    False for a second reading of the same key (the meta device's check), so it warns once."""
    if isinstance(key, tuple):
        return key
    if _other_sequence(key):  # a Subset of random_split(torch.arange(n), ...), say: read as the list
        key = [key[i] for i in range(len(key))]  # of its items, as PyTorch's PySequence_GetItem
    if isinstance(key, list) and len(key) < 32 and any(_tuple_like(k) for k in key):
        if warn:
            warnings.warn(  # PyTorch warns here too: it plans to read the list as one index
                "indexing with a list that holds tensors, sequences, slices, None or ... reads it as a "
                "tuple of indices, as PyTorch does (deprecated there); write x[tuple(key)]",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        return tuple(key)
    return (key,)


def list_index(seq: list | tuple, op: str) -> Any:
    """A list or tuple entry of an indexing key as an index array (tensors inside as their data, an
    empty one int64, floats as :func:`int_list` reads them)."""
    from glassgrad.tensor import Tensor  # (a module-level import would be circular)

    arr = array_module().asarray([e._data if isinstance(e, Tensor) else e for e in int_list(seq, op)])
    return arr.astype("int64") if arr.size == 0 else arr


# The tensor dtypes PyTorch indexes with; another integer one (int8, int16 ...) is its IndexError,
# but for a 0-d one, which indexes as the int it holds.
_TENSOR_INDEX = frozenset(np.dtype(t) for t in ("int64", "int32", "uint8", "bool"))


def tensor_index(t: Any, op: str) -> Any:
    """A tensor entry of a key as the array NumPy indexes with: a copy (kept for backward, where
    an in-place change must not move the gradient), a uint8 one as the bool mask PyTorch reads it
    as (deprecated there, so warned; a 0-d one silently, as there)."""
    a = t._data.copy()
    if a.dtype not in _TENSOR_INDEX and a.dtype.kind in "iu" and a.ndim:
        raise IndexDTypeError(
            f"{op}: tensors used as indices must be long, int, byte or bool tensors, got {a.dtype}"
        )
    return _byte_mask(a, op, "tensor")


def data_index(a: Any, op: str, floats: bool = True) -> Any:
    """An index given as data (a NumPy array, or a list as :func:`list_index` made it) as PyTorch
    reads it (``indexing_tensor_from_data``): uint8 data as a mask, like a uint8 tensor (NumPy read
    it as integer positions: ``x[np.array([0, 2, 1], np.uint8)]`` gave 3 rows where PyTorch gives
    2), and, for an array (``floats``), float data as a long index truncated toward zero
    (``x[np.linspace(0, 8, 3)]``: rows 0, 4 and 8)."""
    if a.dtype == np.uint8:
        return _byte_mask(a, op, "array")
    if floats and a.dtype.kind == "f":
        xp = array_module(a)
        if a.size and a.__class__ is not MetaArray and not (xp.abs(a) < 2.0**63).all():  # nan too
            raise RuntimeError(f"{op}: value cannot be converted to type int64 without overflow, got {a}")
        return a.astype(np.int64)
    return a


def refuse_byte_fill(op: str, key: Any, value: Any) -> None:
    """PyTorch writes one number through a lone mask with ``masked_fill_``, which refuses a uint8
    mask (its getitem still reads one, deprecated): ``x[m] = 0`` or ``x.index_put_((m,), v)`` with
    a uint8 ``m`` (a tensor or a NumPy array) is its RuntimeError, not a write through the mask."""
    parts = key if isinstance(key, tuple) else (key,)
    arrays = [getattr(k, "_data", k) for k in parts if hasattr(k, "_data") or isinstance(k, np.ndarray)]
    if not (len(arrays) == 1 and arrays[0].dtype == np.uint8 and arrays[0].ndim):
        return
    v = getattr(value, "_data", value)  # (a list is refused after, as PyTorch refuses one)
    if not isinstance(v, list | tuple) and (v.size if hasattr(v, "ndim") else 1) == 1:
        raise RuntimeError(
            f"{op}: masked_fill_ only supports boolean masks, but got mask with dtype uint8 (PyTorch "
            "writes one value through a mask with it); use a bool mask"
        )


def _byte_mask(a: Any, op: str, what: str) -> Any:
    if a.dtype != np.uint8:
        return a
    if a.ndim:
        warnings.warn(
            f"{op}: indexing with a uint8 {what} reads it as a mask, as PyTorch does (deprecated "
            "there too); use a bool one",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    return a.astype(bool)


def int_list(seq: list | tuple, op: str) -> list | tuple:
    """A list (or tuple) index of Python numbers with a float among them, as PyTorch reads it: a long
    index (``indexing_tensor_from_data`` makes one of any list that is not all bools), each float
    truncated toward zero, so ``x[:, [2.0]]`` is ``x[:, [2]]`` (pykan adds NumPy's sum of an empty
    list, a float). A NumPy float32 or a tensor inside stays as it is (refused after, as PyTorch refuses it)."""
    if not _numbers_with_float(seq):
        return seq
    return [int_list(e, op) if isinstance(e, list | tuple) else _float_as_index(e, op) for e in seq]


def _numbers_with_float(seq: list | tuple) -> bool:
    """Whether the nested ``seq`` holds only Python floats and integers, one float at least."""
    leaves = list(_leaves(seq))
    return any(isinstance(e, float) for e in leaves) and all(_number(e) for e in leaves)


def _number(e: Any) -> bool:
    """A Python float, or an integer PyTorch's long index takes (a bool, a NumPy integer: ``__index__``)."""
    return isinstance(e, int | float) or hasattr(type(e), "__index__")


def _leaves(seq: list | tuple) -> Any:
    for e in seq:
        if isinstance(e, list | tuple):
            yield from _leaves(e)
        else:
            yield e


def _float_as_index(e: Any, op: str) -> Any:
    if not isinstance(e, float):
        return operator.index(e)  # a bool beside a float is its int, as PyTorch's long index holds it
    if not -(2.0**63) <= e < 2.0**63:  # nan too
        raise RuntimeError(f"{op}: value cannot be converted to type int64 without overflow, got index {e}")
    return int(e)


def _other_sequence(key: Any) -> bool:
    """Whether ``key`` is a sequence PyTorch indexes with as it would with the list of its items:
    an object whose class has ``__len__`` and ``__getitem__`` (a ``Subset``, a user's sequence),
    not a list, a range, a tensor or an array (each read as itself), a string or a mapping."""
    cls = type(key)  # ints, slices, None and ...: out at the first test (this runs on every key)
    if (
        cls is list
        or not (hasattr(cls, "__len__") and hasattr(cls, "__getitem__"))
        or hasattr(cls, "__array__")
    ):
        return False  # not a sequence, or an array (a NumPy one, a tensor): read as itself
    from glassgrad.tensor import Tensor  # (a module-level import would be circular)

    return not isinstance(key, list | range | str | bytes | Mapping | Tensor)


def int_slice(k: slice, op: str) -> slice:
    """``k`` with its bounds as Python ints (a tensor bound read now, as PyTorch reads it); a bound
    that is no integer (a str, a float) is the TypeError of Python's list slicing, in its words."""
    try:
        return slice(*(None if b is None else operator.index(b) for b in (k.start, k.stop, k.step)))
    except TypeError as e:  # (a tensor bound's own reason kept: a float or a 1-D tensor)
        raise TypeError(
            f"{op}: expected slice bounds that are integers or None, got {k!r}: {e} (slice indices "
            "must be integers or None or have an __index__ method)"
        ) from None


def check_slice_step(step: Any, op: str, key: Any, shape: tuple | None) -> None:
    """PyTorch refuses a slice step below 1 (a tensor view cannot run backwards): ``x[::-1]`` is a
    ValueError there, so it is here too, rather than NumPy's reversed view."""
    try:
        step = operator.index(step)
    except TypeError:
        return  # not an integer: NumPy's own refusal names it
    if step <= 0:
        what = "zero" if step == 0 else "negative"
        raise ValueError(
            f"{op}: expected slice steps greater than zero, got a {what} step {step} in key {key!r}"
            + (f" for shape {tuple(shape)}" if shape is not None else "")
            + ("; reverse a dim with torch.flip" if step < 0 else "")
        )


def _bool_array(k: Any) -> bool:
    return getattr(getattr(k, "dtype", None), "kind", "") == "b"


def _is_mask(k: Any) -> bool:
    return _bool_array(k) and k.ndim > 0


def check_masks(key: Any, shape: tuple, op: str) -> Any:
    """``key`` (normalised, in PyTorch's order: a ``SplitKey`` applies its ints first) unchanged; a bool
    mask whose shape differs from the dims it indexes is refused as PyTorch refuses it, naming both
    shapes (the tensor's with a 1 for each None or 0-d bool of the key, as PyTorch reports it)."""
    rest = getattr(key, "rest", key)
    if not any(_is_mask(k) for k in rest):
        return key
    shape = tuple(shape)
    if rest is not key:  # the dims left once the ints of key.basic have selected
        basic = [k for k in key.basic if k is not Ellipsis]
        shape = tuple(n for k, n in zip(basic, shape) if not isinstance(k, int)) + shape[len(basic) :]
    full, d = [], 0  # the indexed shape as PyTorch sees it: None and 0-d bools are size-1 dims there
    for k in rest:
        new = k is None or isinstance(k, bool) or (_bool_array(k) and not k.ndim)
        n = k.ndim if _is_mask(k) else 1
        full.extend((1,) if new else shape[d : d + n])
        d += 0 if new else n
    full = (*full, *shape[d:])
    p = 0
    for k in rest:
        n = k.ndim if _is_mask(k) else 1
        if _is_mask(k) and p + n <= len(full):  # (more dims than there are: NumPy's "too many indices")
            for j, (m, size) in enumerate(zip(k.shape, full[p : p + n])):
                if m != size:
                    raise IndexOutOfRangeError(
                        f"{op}: expected a bool mask of the shape of the dims it indexes: the shape of the "
                        f"mask {tuple(k.shape)} at index {j} does not match the shape of the indexed tensor "
                        f"{full} at index {p + j}"
                    )
        p += n
    return key
