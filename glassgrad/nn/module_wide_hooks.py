"""Hooks that apply to every module: backward hooks and registration hooks (PyTorch's
``register_module_full_backward_hook`` and friends in ``torch.nn.modules.module``).

- Backward: ``register_module_full_backward_hook(hook)`` and ``..._pre_hook`` run for every module
  called while they are registered, before the module's own hooks, with the same arguments as a
  module's ``register_full_backward_hook`` (``backward_hooks.py`` reads these tables).
  ``register_module_backward_hook`` is PyTorch's deprecated non-full form; as
  ``Module.register_backward_hook`` here, it acts as the full hook (with a warning).
- Registration: ``register_module_{parameter,buffer,module}_registration_hook(hook)`` run
  ``hook(module, name, value)`` whenever a parameter, buffer or submodule is registered or
  assigned; a hook that returns something other than None replaces the value stored.

Also ``check_name``, the naming rule that registration enforces.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from glassgrad.legacy import typename
from glassgrad.nn.hooks import RemovableHandle
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "register_module_full_backward_hook",
    "register_module_full_backward_pre_hook",
    "register_module_backward_hook",
    "register_module_parameter_registration_hook",
    "register_module_buffer_registration_hook",
    "register_module_module_registration_hook",
]

_global_backward_hooks: OrderedDict = OrderedDict()
_global_backward_pre_hooks: OrderedDict = OrderedDict()
_global_parameter_registration_hooks: OrderedDict = OrderedDict()
_global_buffer_registration_hooks: OrderedDict = OrderedDict()
_global_module_registration_hooks: OrderedDict = OrderedDict()


def _add(table: OrderedDict, hook: Callable) -> RemovableHandle:
    handle = RemovableHandle(table)
    table[handle.id] = hook
    return handle


def register_module_full_backward_hook(hook: Callable) -> RemovableHandle:
    """Run ``hook(module, grad_input, grad_output)`` in every module's backward (before its own)."""
    return _add(_global_backward_hooks, hook)


def register_module_full_backward_pre_hook(hook: Callable) -> RemovableHandle:
    """Run ``hook(module, grad_output)`` before every module's backward (before its own)."""
    return _add(_global_backward_pre_hooks, hook)


def register_module_backward_hook(hook: Callable) -> RemovableHandle:
    """PyTorch's deprecated module-wide backward hook; registered as the full one, with a warning
    (PyTorch's saw the gradients of each module's last op, not of its inputs)."""
    warnings.warn(
        "register_module_backward_hook is deprecated; it acts as register_module_full_backward_hook "
        "(gradients w.r.t. each module's inputs)",
        FutureWarning,
        stacklevel=user_stacklevel(),
    )
    return register_module_full_backward_hook(hook)


def register_module_parameter_registration_hook(hook: Callable) -> RemovableHandle:
    """Run ``hook(module, name, param)`` whenever a parameter is registered; a non-None result is stored instead."""
    return _add(_global_parameter_registration_hooks, hook)


def register_module_buffer_registration_hook(hook: Callable) -> RemovableHandle:
    """Run ``hook(module, name, buffer)`` whenever a buffer is registered or assigned; a non-None result is stored instead."""
    return _add(_global_buffer_registration_hooks, hook)


def register_module_module_registration_hook(hook: Callable) -> RemovableHandle:
    """Run ``hook(module, name, submodule)`` whenever a submodule is registered or assigned; a non-None result is stored instead."""
    return _add(_global_module_registration_hooks, hook)


def registered(table: OrderedDict, module: Any, name: str, value: Any) -> Any:
    """``value`` after the registration hooks of ``table`` (each may replace it)."""
    if not table:  # the usual case: no copy of the (empty) table per registration
        return value
    for hook in tuple(table.values()):
        output = hook(module, name, value)
        if output is not None:
            value = output
    return value


def check_name(module: Any, kind: str, name: Any, store: dict) -> None:
    """Refuse a registration name that is not a string, is empty, has a dot, or is taken by
    another kind of member or a plain attribute (PyTorch's rules and KeyError/TypeError)."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {typename(name)}")
    if "." in name:  # PyTorch's texts, which name the module's offending name only
        raise KeyError(
            f'{kind} name can\'t contain ".", got: {name}'
            if kind == "module"
            else f'{kind} name can\'t contain "."'
        )
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if name in store:
        return  # re-registering under the same kind replaces the old value
    d = module.__dict__
    # a parameter, buffer or submodule under this name too would make state_dict keys collide
    taken = name in d["_parameters"] or name in d["_buffers"] or name in d["_modules"]
    # PyTorch asks ``hasattr(self, name)``: a property that raises AttributeError (it reads
    # state not set yet: snntorch's StateLeaky.beta before its buffer) leaves the name free
    if taken or name in d or hasattr(module, name):
        raise KeyError(f"attribute '{name}' already exists")
