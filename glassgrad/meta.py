"""Tensor-level rules of the meta device that live outside the ops (see ``meta_array.py`` for
the storage and ``autograd/meta_apply.py`` for ops): indexing with meta tensors, and loading a
state dict into (or from) meta tensors.
"""

from __future__ import annotations

import warnings
from typing import Any

from glassgrad.meta_array import MetaArray, no_data
from glassgrad.ops.index_keys import key_parts
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["check_meta_key", "load_into", "warn_meta_noop"]


def check_meta_key(t: Tensor, key: Any) -> None:
    """Refuse an index that would read a meta tensor's values: a meta index into a CPU tensor, and
    a meta bool mask (the result's shape depends on its values; PyTorch's meta ``nonzero``
    raises). A meta integer index into a meta tensor gives a meta result, as PyTorch."""
    for k in key_parts(key, warn=False):  # indexing reads the key again, and warns there
        if isinstance(k, Tensor) and k._data.__class__ is MetaArray:
            if t._data.__class__ is not MetaArray:
                raise no_data("indexing a CPU tensor with a meta tensor")
            if k._data.dtype.kind == "b":
                raise NotImplementedError(
                    "indexing with a meta bool mask: the result's shape depends on the mask's values, "
                    "which a meta tensor does not have"
                )


def warn_meta_noop(target: Tensor, arr: Any, key: str) -> None:
    """PyTorch's warning for a load (without ``assign``) of data into a meta ``target``, which
    keeps no values: given before the copy and before the swap of ``module_load``, as there."""
    if target._data.__class__ is MetaArray and arr.__class__ is not MetaArray:
        warnings.warn(
            f"for {key}: copying from a non-meta parameter in the checkpoint to a meta parameter in "
            "the current model, which is a no-op. (Did you mean to pass `assign=True` to assign "
            "items in the state dictionary to their corresponding key in the module instead of "
            "copying them in place?)",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def load_into(target: Tensor, arr: Any, key: str, error_msgs: list) -> bool:
    """``load_state_dict`` (without ``assign``) of ``arr`` into ``target`` when either is meta,
    as PyTorch: into a meta target it is a no-op (with PyTorch's warning when the value has data);
    a meta value into a CPU target is an error (no data to copy). Returns whether it was handled."""
    if target._data.__class__ is MetaArray:
        warn_meta_noop(target, arr, key)
        return True
    if arr.__class__ is MetaArray:
        error_msgs.append(
            f'While copying the parameter named "{key}", whose dimensions in the model are '
            f"{tuple(target.shape)} and whose dimensions in the checkpoint are {tuple(arr.shape)}, an "
            "exception occurred : ('Cannot copy out of meta tensor; no data!',)."
        )
        return True
    return False
