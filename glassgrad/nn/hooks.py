"""Forward hooks: per-module and global (every module) pre-hooks and hooks, and their handles.

Hooks are the seam that tracers and ``summary`` use; a module without hooks pays one truth test per
hook table on each call.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from glassgrad.autograd.hooks import RemovableHandle  # one class for every hook's handle, as PyTorch's
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "RemovableHandle",
    "ForwardHooks",
    "register_module_forward_pre_hook",
    "register_module_forward_hook",
]


# Hooks that run for every module (tracers use these), before each module's own hooks.
_global_forward_pre_hooks: OrderedDict = OrderedDict()
_global_forward_hooks: OrderedDict = OrderedDict()
_global_forward_hooks_with_kwargs: set = set()
_global_forward_hooks_always_called: set = set()


def register_module_forward_pre_hook(hook: Callable) -> RemovableHandle:
    """Run ``hook(module, args)`` before every module's forward (as the PyTorch function)."""
    handle = RemovableHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    return handle


def register_module_forward_hook(
    hook: Callable, *, with_kwargs: bool = False, always_call: bool = False
) -> RemovableHandle:
    """Run ``hook(module, args, output)`` after every module's forward (as the PyTorch function)."""
    handle = RemovableHandle(
        _global_forward_hooks, _global_forward_hooks_with_kwargs, _global_forward_hooks_always_called
    )
    _global_forward_hooks[handle.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs.add(handle.id)
    if always_call:
        _global_forward_hooks_always_called.add(handle.id)
    return handle


class ForwardHooks:
    """The hook half of ``Module``: registering hooks and running them around ``forward``."""

    def _call_with_hooks(self, args: tuple, kwargs: dict, backward: Any = None) -> Any:
        """Forward with the hooks; ``backward`` (a ``BackwardHookCall``, for modules with backward
        hooks) routes the inputs after the pre-hooks and the output after the forward hooks.

        As PyTorch's ``_call_impl``: when anything here raises (a pre-hook, forward, a forward
        hook), each ``always_call`` hook that has not run yet runs with the args so far and the
        output so far (None until forward returned), and then the error propagates."""
        result, called = None, set()
        try:
            pre_kw = self._forward_pre_hooks_with_kwargs
            for hid, hook in (*_global_forward_pre_hooks.items(), *self._forward_pre_hooks.items()):
                if hid in pre_kw:
                    res = hook(self, args, kwargs)
                    if res is not None:
                        if not (isinstance(res, tuple) and len(res) == 2):
                            raise RuntimeError(
                                "forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                f"but got {type(res).__name__}"
                            )
                        args, kwargs = res
                else:
                    res = hook(self, args)
                    if res is not None:
                        args = res if isinstance(res, tuple) else (res,)
            if backward is not None:
                args = backward.setup_inputs(args)
            result = self.forward(*args, **kwargs)
            with_kw = self._forward_hooks_with_kwargs | _global_forward_hooks_with_kwargs
            for hid, hook in (*_global_forward_hooks.items(), *self._forward_hooks.items()):
                called.add(hid)
                res = hook(self, args, kwargs, result) if hid in with_kw else hook(self, args, result)
                if res is not None:
                    result = res
            if backward is not None:
                result = backward.setup_outputs(result)
            return result
        except Exception:
            always = self._forward_hooks_always_called | _global_forward_hooks_always_called
            with_kw = self._forward_hooks_with_kwargs | _global_forward_hooks_with_kwargs
            for hid, hook in (*_global_forward_hooks.items(), *self._forward_hooks.items()):
                if hid in always and hid not in called:
                    try:
                        res = hook(self, args, kwargs, result) if hid in with_kw else hook(self, args, result)
                    except Exception as e:  # the first error is the one to report (PyTorch warns so)
                        warnings.warn(
                            "module forward hook with ``always_call=True`` raised an exception that was "
                            f"silenced as another error was raised in forward: {e}",
                            stacklevel=user_stacklevel(),
                        )
                        continue
                    if res is not None:
                        result = res
            raise

    def register_forward_pre_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Run ``hook(module, args)`` before ``forward``; a returned value replaces ``args``.

        With ``with_kwargs=True`` the hook is ``hook(module, args, kwargs) -> (args, kwargs) | None``.
        """
        handle = RemovableHandle(self._forward_pre_hooks, self._forward_pre_hooks_with_kwargs)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(handle.id)
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False, always_call: bool = False
    ) -> RemovableHandle:
        """Run ``hook(module, args, output)`` after ``forward``; a returned value replaces the output.

        With ``with_kwargs=True`` the hook is ``hook(module, args, kwargs, output)``; with
        ``always_call=True`` it also runs (with output None) when forward raises.
        """
        handle = RemovableHandle(
            self._forward_hooks, self._forward_hooks_with_kwargs, self._forward_hooks_always_called
        )
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(handle.id)
        if always_call:
            self._forward_hooks_always_called.add(handle.id)
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle
