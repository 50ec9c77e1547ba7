"""``torch.nn.modules.module``'s import path: the same classes as ``glassgrad.nn``, and the global
hooks that PyTorch's module holds for every module: forward (``register_module_forward_pre_hook``/
``_hook`` and their tables; nequip's test set-up calls them), backward and registration
(``nn/module_wide_hooks.py``).

The tables are PyTorch's module globals (``_global_forward_hooks``, ``_global_backward_hooks``
...), and programs reset them by assigning this module's names (PyTorch's own hook tests do so
in ``tearDown``: ``nn.modules.module._global_forward_hooks = OrderedDict()``). glassgrad's code
holds each table under a name bound at import in the modules that read it (``Module.__call__``
tests them with no attribute lookup), so an assignment here rebinds every holder
(``_TableNames``); before, it replaced only this module's name and the old hooks kept running.
"""

import sys
import types
from typing import Any

from glassgrad.nn import backward_hooks as _bw
from glassgrad.nn import hooks as _fw
from glassgrad.nn import module as _module
from glassgrad.nn import module_wide_hooks as _wide
from glassgrad.nn.hooks import (
    RemovableHandle,
    _global_forward_hooks,
    _global_forward_hooks_always_called,
    _global_forward_hooks_with_kwargs,
    _global_forward_pre_hooks,
    register_module_forward_hook,
    register_module_forward_pre_hook,
)
from glassgrad.nn.module import Module, _addindent
from glassgrad.nn.module_wide_hooks import (
    _global_backward_hooks,
    _global_backward_pre_hooks,
    _global_buffer_registration_hooks,
    _global_module_registration_hooks,
    _global_parameter_registration_hooks,
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
    "register_module_module_registration_hook", "_global_backward_hooks", "_global_backward_pre_hooks",
    "_global_forward_hooks_with_kwargs", "_global_forward_hooks_always_called",
    "_global_parameter_registration_hooks", "_global_buffer_registration_hooks",
    "_global_module_registration_hooks",
]  # fmt: skip

# PyTorch's table name -> (module, name) of each place glassgrad reads that table from
_HOLDERS = {
    "_global_forward_pre_hooks": ((_fw, "_global_forward_pre_hooks"), (_module, "_global_forward_pre_hooks")),
    "_global_forward_hooks": ((_fw, "_global_forward_hooks"), (_module, "_global_forward_hooks")),
    "_global_forward_hooks_with_kwargs": ((_fw, "_global_forward_hooks_with_kwargs"),),
    "_global_forward_hooks_always_called": ((_fw, "_global_forward_hooks_always_called"),),
    "_global_backward_hooks": ((_wide, "_global_backward_hooks"), (_bw, "_global_backward_hooks"), (_module, "_g_bw")),
    "_global_backward_pre_hooks": (
        (_wide, "_global_backward_pre_hooks"), (_bw, "_global_backward_pre_hooks"), (_module, "_g_bw_pre"),
    ),
    "_global_parameter_registration_hooks": (
        (_wide, "_global_parameter_registration_hooks"), (_module, "_param_hooks"),
    ),
    "_global_buffer_registration_hooks": ((_wide, "_global_buffer_registration_hooks"), (_module, "_buffer_hooks")),
    "_global_module_registration_hooks": ((_wide, "_global_module_registration_hooks"), (_module, "_module_hooks")),
}  # fmt: skip
# glassgrad keeps these two as sets of handle ids; PyTorch's are OrderedDicts keyed by them
_ID_SETS = ("_global_forward_hooks_with_kwargs", "_global_forward_hooks_always_called")


class _TableNames(types.ModuleType):
    """This module's class: assigning one of the global hook tables rebinds it where it is read."""

    def __setattr__(self, name: str, value: Any) -> None:
        holders = _HOLDERS.get(name)
        if holders is not None:
            if name in _ID_SETS:
                value = set(value)  # (an OrderedDict given the PyTorch way: its keys are the ids)
            for holder, attr in holders:
                setattr(holder, attr, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _TableNames
