"""``load_state_dict`` under ``torch.__future__.set_swap_module_params_on_conversion(True)``."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.nn.parameter import Parameter
from glassgrad.tensor import Tensor
from glassgrad.utils.swap import swap_tensors

__all__ = ["swap_in"]


def swap_in(target: Tensor, value: Any, arr: np.ndarray, assign: bool) -> None:
    """The load under ``__future__.set_swap_module_params_on_conversion(True)``, as PyTorch's:
    ``target.module_load(value, assign=assign)`` (a subclass may answer it), made a Parameter
    where ``target`` is one, then swapped into ``target``'s object (optimizers keep it)."""
    value = value if isinstance(value, Tensor) else Tensor(np.array(arr, copy=True), _wrap=True)
    with no_grad():  # (module_load's copy_ into a parameter)
        new = target.module_load(value, assign=assign)
        if new is value or new is target:
            raise RuntimeError(
                "module_load returned one of self or other, please .detach() the result if "
                "returning one of the inputs in module_load"
            )
        if isinstance(target, Parameter):
            if isinstance(new, Parameter):
                new.requires_grad_(target.requires_grad)
            else:
                new = Parameter(new, requires_grad=target.requires_grad)
        swap_tensors(target, new)
