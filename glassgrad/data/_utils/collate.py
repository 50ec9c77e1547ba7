"""``torch.utils.data._utils.collate``: ``collate`` driven by a map from a sample's type to the
function that batches it, PyTorch's ``collate_*_fn`` and ``default_collate_fn_map``.

A library may register its own types in ``default_collate_fn_map`` (MONAI adds its ``MetaTensor``);
``default_collate`` then batches those samples with the registered function, as PyTorch's does.
The built-in entries batch as :func:`glassgrad.data.default_collate` does, without asking the map
again (a registered function may call them: MONAI's ``collate_meta_tensor_fn`` calls
``collate_tensor_fn``); a batch of Tensor subclass instances is stacked by the public ``torch.stack``,
so the subclass's ``__torch_function__`` makes the batch, as in PyTorch.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from glassgrad.data.collation import collate_builtin, collate_fields, default_collate, default_convert
from glassgrad.tensor import Tensor

__all__ = [
    "collate",
    "collate_float_fn",
    "collate_int_fn",
    "collate_numpy_array_fn",
    "collate_numpy_scalar_fn",
    "collate_str_fn",
    "collate_tensor_fn",
    "default_collate",
    "default_collate_fn_map",
    "default_convert",
    "np_str_obj_array_pattern",
]

# NumPy dtypes that cannot become tensors: strings (S, a, U) and objects (O)
np_str_obj_array_pattern = re.compile(r"[SaUO]")
default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def collate_tensor_fn(batch: Any, *, collate_fn_map: dict | None = None) -> Tensor:
    """Tensors ``(*)`` stacked into ``(B, *)``."""
    return collate_builtin(list(batch))


def collate_numpy_array_fn(batch: Any, *, collate_fn_map: dict | None = None) -> Tensor:
    """NumPy arrays ``(*)`` stacked into a ``(B, *)`` tensor (string/object arrays refused)."""
    return collate_builtin(list(batch))


def collate_numpy_scalar_fn(batch: Any, *, collate_fn_map: dict | None = None) -> Tensor:
    """NumPy scalars into a ``(B,)`` tensor of their dtype."""
    return collate_builtin(list(batch))


def collate_float_fn(batch: Any, *, collate_fn_map: dict | None = None) -> Tensor:
    """Python floats into a ``(B,)`` float64 tensor."""
    return collate_builtin(list(batch))


def collate_int_fn(batch: Any, *, collate_fn_map: dict | None = None) -> Tensor:
    """Python ints into a ``(B,)`` int64 tensor."""
    return collate_builtin(list(batch))


def collate_str_fn(batch: Any, *, collate_fn_map: dict | None = None) -> Any:
    """Strings stay as they are (the batch itself)."""
    return batch


default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}
_BUILTIN = frozenset(default_collate_fn_map.values())


def _lookup(elem: Any, collate_fn_map: dict) -> Callable | None:
    fn = collate_fn_map.get(type(elem))
    if fn is not None:
        return fn
    for key, fn in collate_fn_map.items():
        if isinstance(elem, key):
            return fn
    return None


def registered_fn(elem: Any) -> Callable | None:
    """The function a library registered in ``default_collate_fn_map`` for ``elem``'s type (None
    for the built-in entries: ``default_collate`` batches those itself)."""
    fn = _lookup(elem, default_collate_fn_map)
    return None if fn in _BUILTIN else fn


def collate(batch: Any, *, collate_fn_map: dict | None = None) -> Any:
    """Batch a list of samples: the first sample's type picks a function from ``collate_fn_map``
    (its exact type, else the first key it is an instance of); mappings, namedtuples and sequences
    are collated field by field; anything else is a ``TypeError``, as PyTorch's ``collate``.
    """
    elem = batch[0]
    if collate_fn_map is not None:
        fn = _lookup(elem, collate_fn_map)
        if fn is not None:
            return fn(batch, collate_fn_map=collate_fn_map)
    recurse = partial(collate, collate_fn_map=collate_fn_map)
    return collate_fields(batch, recurse, "collate", default_collate_err_msg_format)
