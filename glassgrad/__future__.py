"""``torch.__future__``: switches for behaviour PyTorch will make the default.

- ``set_swap_module_params_on_conversion(True)``: ``load_state_dict`` hands each parameter and
  buffer to ``Tensor.module_load(param, value, assign=...)`` and swaps the result into the
  module's tensor object (``utils.swap_tensors``), so the object optimizers hold stays the one
  in the module, and a Tensor subclass can convert what it loads through ``__torch_function__``.
  ``Module.to()``/``double()``/... keep each parameter's object either way here (see
  ``set_overwrite_module_params_on_conversion``).
- ``set_overwrite_module_params_on_conversion(True)``: ``Module.to()`` and the other conversions
  give each parameter a new ``Parameter`` object (and its gradient a new tensor) instead of
  changing it in place; optimizers built before then hold the old objects, as in PyTorch.
"""

from __future__ import annotations

__all__ = [
    "get_overwrite_module_params_on_conversion",
    "get_swap_module_params_on_conversion",
    "set_overwrite_module_params_on_conversion",
    "set_swap_module_params_on_conversion",
]

_overwrite_module_params_on_conversion: bool = False
_swap_module_params_on_conversion: bool = False


def set_overwrite_module_params_on_conversion(value: bool) -> None:
    """Whether module conversions (``to``, ``double`` ...) make new Parameter objects."""
    global _overwrite_module_params_on_conversion
    _overwrite_module_params_on_conversion = value


def get_overwrite_module_params_on_conversion() -> bool:
    return _overwrite_module_params_on_conversion


def set_swap_module_params_on_conversion(value: bool) -> None:
    """Whether ``load_state_dict`` loads through ``Tensor.module_load`` and ``swap_tensors``."""
    global _swap_module_params_on_conversion
    _swap_module_params_on_conversion = value


def get_swap_module_params_on_conversion() -> bool:
    return _swap_module_params_on_conversion
