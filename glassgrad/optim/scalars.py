"""The 0-d tensors an optimizer keeps in its state: the step count and scalar running quantities.

PyTorch keeps these as 0-d tensors of the default dtype (float32 unless changed), not Python
numbers: code that reads ``state["step"].item()``, or saves an optimizer's state tensor by tensor,
depends on it, and the float32 rounding of NAdam's ``mu_product`` or ASGD's ``eta`` shapes their
trajectories.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from glassgrad.dtypes import get_default_dtype
from glassgrad.tensor import Tensor

__all__ = ["bump_step", "loaded_as_tensors", "lr_of", "over", "power_of", "scalar_state", "step_state"]


def lr_of(lr: Any) -> Any:
    """A group's ``lr`` as the update formulas take it: a float, or a one-element tensor lr's value as
    a NumPy scalar of its dtype.

    PyTorch's steps keep a tensor lr a 0-d tensor, so the scalars made from it (Adam's
    ``lr / (1 − β₁ᵗ)``, Adagrad's ``lr / (1 + (t − 1) λ)``, ASGD's ``eta``, ``1 − lr λ``) are computed
    in its dtype: float32 for ``torch.tensor(1e-3)``, even on float64 parameters. NumPy scalars do
    the same arithmetic (a Python float does not widen them); callers take ``float()`` of the result
    before it meets an array, as PyTorch's ``.item()`` of it does.
    """
    if isinstance(lr, Tensor):
        return lr._data.reshape(())[()]
    return float(lr)


def power_of(base: Any, t: float) -> Any:
    """``base ** t`` for a step count ``t``, as PyTorch computes it: a float in Python, a NumPy scalar
    (``lr_of`` of a tensor hyperparameter) as PyTorch's pow kernel does a 0-d tensor's, which
    multiplies out an exponent of 3 (``x * x * x``, each product rounded in the dtype: one ulp from
    the correctly rounded power for some float32 betas) and calls ``pow`` otherwise."""
    if isinstance(base, np.generic) and t == 3:
        return base * base * base
    return base**t


def over(num: Any, den: Any) -> Any:
    """``num / den`` as PyTorch computes it when ``den`` is a 0-d tensor (here a NumPy scalar from
    ``lr_of``) and ``num`` a Python number: ``Tensor.__rtruediv__`` is ``den.reciprocal() * num``,
    two roundings in ``den``'s dtype, one ulp from the quotient at times; otherwise a division."""
    if isinstance(den, np.generic) and not isinstance(num, np.generic):
        return (1 / den) * num
    return num / den


def scalar_state(value: float) -> Tensor:
    """A 0-d Tensor of the default dtype (float32 unless changed) holding ``value``.

    PyTorch keeps an optimizer's scalar running quantities (NAdam's ``mu_product``, ASGD's ``eta``
    and ``mu``) in such tensors, so they are rounded to float32 at every update, and loading a
    state_dict casts them to the parameter's dtype like the other state. Keeping the same 0-d
    arrays (updated in place) gives the same trajectories bit for bit, before and after a load.
    """
    return Tensor(np.array(value, dtype=get_default_dtype().np), _wrap=True)


def bump_step(state: dict[str, Any]) -> float:
    """Count one more step in ``state["step"]``, in place, and return the new count as a float.

    The count is a 0-d tensor of the default dtype, as PyTorch keeps it, so code that reads
    ``state["step"].item()`` or saves the state with its tensors works unchanged; the update formulas
    take the float, as PyTorch's do.
    """
    step = state["step"]._data
    step += 1
    return float(step)


def step_state(value: Any, where: str) -> Tensor:
    """A loaded ``step``: a 0-d tensor copy of ``value`` (a tensor, array or number).

    A tensor (glassgrad's or torch's) keeps its dtype, float or integer, as PyTorch's
    ``load_state_dict`` keeps it, and so does a float NumPy array; a number (saved by glassgrad
    before steps became tensors, or written by hand) becomes one of the default dtype, as PyTorch's
    ``__setstate__`` makes ``torch.tensor(float(step))``, and so does an integer NumPy array.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return scalar_state(float(value))
    tensor = not isinstance(value, np.ndarray | np.generic)  # glassgrad's or torch's
    arr = value._data if isinstance(value, Tensor) else np.asarray(value)  # torch's via __array__
    if arr.size != 1 or arr.dtype.kind not in "iuf":
        raise ValueError(
            f"{where}: expected 'step' as a number or a 0-d tensor, got {arr.dtype} of shape {arr.shape}"
        )
    dtype = arr.dtype if tensor or arr.dtype.kind == "f" else get_default_dtype().np
    return Tensor(np.array(arr.reshape(()), dtype=dtype), _wrap=True)


#: The scalar state entries that PyTorch's ``__setstate__`` of each family (run by its
#: ``load_state_dict``) turns from numbers into 0-d tensors of the default dtype.
_LOADED_AS_TENSORS = {
    **dict.fromkeys(
        ("Adam", "Adamax", "Adadelta", "Adagrad", "RAdam", "RMSprop", "Rprop", "Adafactor"), ("step",)
    ),
    "ASGD": ("step", "eta", "mu"),
    "NAdam": ("step", "mu_product"),
}


def loaded_as_tensors(cls: type) -> tuple[str, ...]:
    """The state entries that ``cls.load_state_dict`` makes 0-d tensors when they were saved as
    numbers: those of its nearest glassgrad optimizer class, which a subclass with a ``step()`` of
    its own inherits, as it inherits PyTorch's ``__setstate__`` (geoopt's ``RiemannianAdam(Adam)``
    keeps an int ``step``, a tensor once loaded); none for a direct subclass of ``Optimizer``."""
    for c in cls.__mro__:
        if c.__module__.startswith("glassgrad.optim."):
            return _LOADED_AS_TENSORS.get(c.__name__, ())
    return ()
