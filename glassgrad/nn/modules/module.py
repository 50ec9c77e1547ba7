"""``torch.nn.modules.module``'s import path: the same classes as ``glassgrad.nn``, and the global
hooks that PyTorch's module holds for every module: forward (``register_module_forward_pre_hook``/
``_hook`` and their tables; nequip's test set-up calls them), backward and registration
(``nn/module_wide_hooks.py``)."""

from glassgrad.nn.hooks import (
    RemovableHandle,
    _global_forward_hooks,
    _global_forward_pre_hooks,
    register_module_forward_hook,
    register_module_forward_pre_hook,
)
from glassgrad.nn.module import Module, _addindent
from glassgrad.nn.module_wide_hooks import (
    register_module_backward_hook,
    register_module_buffer_registration_hook,
    register_module_full_backward_hook,
    register_module_full_backward_pre_hook,
    register_module_module_registration_hook,
    register_module_parameter_registration_hook,
)
from glassgrad.nn.parameter import Buffer, Parameter
from glassgrad.nn.state_dict import _IncompatibleKeys

__all__ = [
    "Module", "_IncompatibleKeys", "_addindent", "register_module_forward_pre_hook", "register_module_forward_hook",
    "RemovableHandle", "Parameter", "Buffer", "_global_forward_hooks", "_global_forward_pre_hooks",
    "register_module_full_backward_hook", "register_module_full_backward_pre_hook", "register_module_backward_hook",
    "register_module_parameter_registration_hook", "register_module_buffer_registration_hook",
    "register_module_module_registration_hook",
]  # fmt: skip
