"""``default_collate`` and ``default_convert``: a list of samples into one batch, and NumPy data
inside one sample into tensors, with ``torch.utils.data``'s rules.

Leaves: tensors and NumPy arrays are stacked along a new first dimension in PyTorch's promoted
dtype (``torch.stack``'s: an int64 sample meeting a float32 one gives float32, not NumPy's float64);
Python floats become float64, ints int64; strings and bytes stay a list. Containers are rebuilt
around their collated fields as PyTorch rebuilds them: a mutable mapping or sequence is copied and
filled (so ``OrderedDict``, ``defaultdict`` and ``list`` subclasses keep their type and attributes),
another one is called with the collated items, a tuple becomes a list, a namedtuple stays one.
"""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from glassgrad.data.dataset import BatchedSamples
from glassgrad.dtypes import note_complex
from glassgrad.ops.joining import stack, torch_layout
from glassgrad.tensor import Tensor, tensor
from glassgrad.type_promotion import promote_np

__all__ = ["collate_builtin", "collate_fields", "default_collate", "default_convert"]

# NumPy dtypes that cannot become tensors: strings (S, a, U) and objects (O), as in PyTorch.
_NP_STR_OBJ = re.compile("[SaUO]")
_COLLATE_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _stack(arrays: list[np.ndarray], what: str) -> np.ndarray:
    """``B`` arrays of shape ``(*)`` -> ``(B, *)`` in PyTorch's promoted dtype, laid out as
    ``torch.stack`` lays it out (contiguous for non-contiguous images)."""
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise RuntimeError(
            f"default_collate: expected {what} of equal shape to stack, got shapes {sorted(shapes)}"
        )
    first = arrays[0].dtype
    target = first
    for a in arrays:
        if a.dtype != first:  # rare: samples of one field usually share a dtype
            target = promote_np(target, a.dtype, "default_collate")
    if target != first or any(a.dtype != target for a in arrays):
        arrays = [a.astype(target, copy=False) for a in arrays]
    return torch_layout(np.stack(arrays), arrays, stacked=True)


def _not_a_tensor(batch: Any) -> None:
    """PyTorch's ``torch.stack`` refusal of a batch whose first sample is a tensor and another not."""
    for k, t in enumerate(batch):
        if not isinstance(t, Tensor):
            kind = type(t)
            name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
            raise TypeError(f"default_collate: expected Tensor as element {k} in argument 0, but got {name}")


def default_collate(batch: Any) -> Any:
    """Stack a list of samples into a batch, as ``torch.utils.data.default_collate`` does.

    Tensors and NumPy arrays are stacked along a new first dimension (dtype kept, or promoted as
    ``torch.stack`` promotes mixed ones); Python floats become a float64 tensor and ints an int64
    tensor (PyTorch's rule); strings stay a list; dicts, namedtuples and lists/tuples are collated
    field by field (tuples come back as lists, other containers keep their type).

    Shape:
        - batch: ``B`` samples, each a (nested) structure of ``(*)`` leaves.
        - output: the same structure with ``(B, *)`` tensors.

    >>> default_collate([(1.0, 0), (2.0, 1)])
    [tensor([1., 2.], dtype=glassgrad.float64), tensor([0, 1])]
    >>> default_collate([{"x": [1, 2]}, {"x": [3, 4]}])
    {'x': [tensor([1, 3]), tensor([2, 4])]}
    """
    if isinstance(batch, BatchedSamples):
        return list(batch.columns)  # already batched by __getitems__: nothing to stack
    elem = batch[0]
    from glassgrad.data._utils import collate  # (it imports this module)

    fn = collate.registered_fn(elem)  # a library's own type in default_collate_fn_map (MONAI's MetaTensor)
    if fn is not None:
        return fn(batch, collate_fn_map=collate.default_collate_fn_map)
    return collate_builtin(batch)


def collate_builtin(batch: Any) -> Any:
    """:func:`default_collate` without asking ``default_collate_fn_map``: the built-in
    ``collate_*_fn`` of ``_utils.collate`` call it, so that a registered function that calls them
    (MONAI's ``collate_meta_tensor_fn`` calls ``collate_tensor_fn``) does not come back to itself."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        if type(elem) is not Tensor:
            # a Tensor subclass: the public torch.stack, so that its __torch_function__ makes the
            # batch (PyTorch's collate_tensor_fn; MONAI's MetaTensor stays a MetaTensor)
            import glassgrad

            return glassgrad.stack(list(batch), 0)
        _not_a_tensor(batch)
        if any(t.requires_grad for t in batch):
            return stack(list(batch), 0)  # the stack op, so the graph is kept
        return Tensor(_stack([t._data for t in batch], "tensors"), _wrap=True)
    if isinstance(elem, np.ndarray):
        if _NP_STR_OBJ.search(elem.dtype.str) is not None:
            raise TypeError(_COLLATE_ERR.format(elem.dtype))
        return _wrapped(_stack([np.asarray(a) for a in batch], "arrays"))
    if isinstance(elem, np.bool_ | np.number):
        return tensor(batch)  # (B,): torch.as_tensor's dtype for a list of NumPy scalars
    if isinstance(elem, float):
        return Tensor(np.asarray(batch, dtype=np.float64), _wrap=True)  # (B,)
    if isinstance(elem, int):
        return tensor(batch)  # (B,) int64, or bool for bools
    if isinstance(elem, str | bytes):
        return batch
    return collate_fields(batch, default_collate, "default_collate")


def collate_fields(batch: list, recurse: Callable, op: str, err: str = _COLLATE_ERR) -> Any:
    """A batch of mappings, namedtuples or sequences collated field by field with ``recurse``
    (``default_collate``, or ``_utils.collate``'s map-driven ``collate``); else a TypeError (``err``)."""
    elem = batch[0]
    if isinstance(elem, collections.abc.Mapping):
        return _rebuilt_mapping(elem, {key: recurse([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(recurse(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError(f"{op}: each element in list of batch should be of equal size")
        items = [recurse(samples) for samples in zip(*batch)]  # strings stay tuples, as in PyTorch
        return items if isinstance(elem, tuple) else _rebuilt_sequence(elem, items)
    raise TypeError(err.format(type(elem)))


def _rebuilt_mapping(like: Any, items: dict) -> Any:
    """``items`` in ``like``'s mapping type, as PyTorch rebuilds it: a mutable mapping copied and
    updated (a ``defaultdict`` keeps its factory), another called with the dict; a plain dict when
    the type cannot be made either way."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(items)
            return clone
        return type(like)(items)
    except TypeError:
        return items


def _rebuilt_sequence(like: Any, items: list) -> Any:
    """``items`` in ``like``'s sequence type (not a tuple), as PyTorch rebuilds it: a mutable one
    copied and filled, another called with the list; a list when neither works (``range``)."""
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(like)(items)
    except TypeError:
        return items


def _wrapped(arr: np.ndarray) -> Tensor:
    """A tensor holding a sample's array; complex data turns on the complex gate (``dtypes.complex_seen``),
    as ``from_numpy`` does, so that every op on it is judged (its twin, or refused)."""
    if arr.dtype.kind not in "biufc":  # dates, raw bytes, records: no tensor dtype holds them
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{arr.dtype.type.__name__}. The only supported types "
            "are: float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint64, "
            "uint32, uint16, uint8, and bool."
        )
    if arr.dtype.kind == "c":
        note_complex()
    return Tensor(arr, _wrap=True)


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays and scalars inside ``data`` into tensors, leaving everything else.

    Used instead of :func:`default_collate` when automatic batching is off (``batch_size=None``).
    Containers keep their type as in :func:`default_collate` (a plain tuple becomes a list).
    """
    if isinstance(data, Tensor):
        return data
    kind = type(data)
    # PyTorch's test: any NumPy object but a string one goes to as_tensor (np.bytes_ is refused)
    if kind.__module__ == "numpy" and kind.__name__ not in ("str_", "string_"):
        if kind is np.ndarray and _NP_STR_OBJ.search(data.dtype.str) is not None:
            return data
        return _wrapped(np.asarray(data))
    if isinstance(data, str | bytes):
        return data
    if isinstance(data, collections.abc.Mapping):
        return _rebuilt_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        return _rebuilt_sequence(data, [default_convert(d) for d in data])
    return data
