"""How ``Optimizer.load_state_dict`` reads one saved state entry (``Optimizer._cast_state``, which
LBFGS, Adafactor and SparseAdam extend).

As PyTorch's, a loaded state tensor that needs no cast is kept itself, not copied: PyTorch casts
with ``value.to(dtype=param.dtype, device=param.device)``, which returns the tensor when nothing
changes, and keeps a tensor ``step`` as given. So after ``opt.load_state_dict(sd)`` the optimizer
and ``sd`` hold the same tensors (``opt.state_dict() == sd`` is True, torchtune's
``OptimizerInBackward`` test asks it), and a step updates them in place.
"""

from __future__ import annotations

import copy
import numbers
from typing import Any

import numpy as np

from glassgrad.errors import ShapeError
from glassgrad.optim.optimizer_helpers import state_like
from glassgrad.optim.scalars import loaded_as_tensors, scalar_state, step_state
from glassgrad.tensor import Tensor

__all__ = ["cast_loaded_state", "kept_as_loaded", "family_state_keys"]


def kept_as_loaded(p: Tensor, value: Any, step: bool) -> bool:
    """Whether a loaded state tensor is kept itself: a plain glassgrad Tensor whose array the
    updates can write in place, of the dtype it would be cast to (a float array of ``p``'s dtype,
    or a non-float one), and not the state of a DTensor parameter (laid out as ``p``); a ``step``
    when it is 0-d and real."""
    if type(value) is not Tensor or not value._data.flags.writeable:
        return False
    arr = value._data
    if step:
        return arr.ndim == 0 and arr.dtype.kind in "iuf"
    if getattr(type(p), "_state_like", None) is not None:
        return False
    return arr.dtype == p._data.dtype or not arr.dtype.kind == "f" == p._data.dtype.kind


def cast_loaded_state(opt: Any, p: Tensor, index: int, key: str, value: Any) -> Any:
    """One loaded state entry of optimizer ``opt``: ``step`` -> a 0-d tensor (its dtype kept, as
    PyTorch keeps it; a number stays one for a user's own step() on Optimizer, whose int made
    float32 lost 7 digits of b1 ** step; not on Adam & co: ``loaded_as_tensors``), arrays -> a
    Tensor in a real param's dtype (PyTorch casts for those only; a DTensor's stays one): the
    loaded tensor itself where ``kept_as_loaded``, else a copy."""
    name = type(opt).__name__
    as_tensor = key in loaded_as_tensors(type(opt))
    own = type(opt).step.__module__.startswith("glassgrad.") or as_tensor
    if key == "step" and (own or isinstance(value, Tensor)):
        return value if kept_as_loaded(p, value, True) else step_state(value, f"{name}.load_state_dict")
    if as_tensor and isinstance(value, numbers.Real) and not isinstance(value, bool):
        return scalar_state(float(value))  # ASGD's eta and mu, NAdam's mu_product, as PyTorch
    if isinstance(value, numbers.Number) or value is None:
        return value
    if isinstance(value, Tensor):
        arr = value._data
    elif isinstance(value, np.ndarray) or hasattr(value, "__array__"):
        arr = np.asarray(value)  # a NumPy array, or a torch tensor from a PyTorch state_dict
    else:
        return copy.deepcopy(value)
    shaped = key in opt._param_shaped_state
    if shaped and arr.shape != p._data.shape:
        raise ShapeError(
            f"{name}.load_state_dict: expected state {key!r} of param {index} with "
            f"shape {p.shape}, got {arr.shape}"
        )
    if kept_as_loaded(p, value, False):
        return value  # PyTorch's .to() changes nothing here: the optimizer holds the loaded tensor
    arr = arr.astype(p._data.dtype) if arr.dtype.kind == "f" == p._data.dtype.kind else arr.copy()
    return state_like(p, arr) if shaped else Tensor(arr, _wrap=True)


def family_state_keys(base: type) -> frozenset[str]:
    """The parameter-shaped state names of glassgrad's own optimizers (subclasses of ``base``
    defined in ``glassgrad.optim``): ``momentum_buffer``, ``exp_avg``, ``square_avg``, ...

    ``load_state_dict`` refuses a param's state made only of another family's arrays (Adam's
    ``exp_avg`` given to SGD); any other name is a wrapper's own entry (ScheduleFreeWrapper's ``z``
    in its SGD's state, Lookahead's ``slow_buffer``), which PyTorch keeps, so glassgrad keeps it too.
    """
    keys: set[str] = set()
    todo = list(base.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("glassgrad.optim"):
            keys.update(getattr(cls, "_param_shaped_state", ()))
    return frozenset(keys)
