"""Optimizer hooks: code that runs around ``step()``, ``state_dict()`` and ``load_state_dict()``.

Per optimizer (``opt.register_step_pre_hook(h)`` and the five others) and global, for every
optimizer (``register_optimizer_step_pre_hook(h)``, in ``torch.optim.optimizer``). Each register
call returns a ``RemovableHandle``. As in PyTorch, the step hooks come from wrapping the class's
``step`` once, when the first instance of that class is made, so a user's ``step`` is hooked too.
Hooks are not copied with the optimizer (``copy.deepcopy`` and pickling leave them behind).
"""

from __future__ import annotations

import functools
import warnings
from collections import OrderedDict
from collections.abc import Callable
from itertools import chain
from typing import Any

from glassgrad.nn.hooks import RemovableHandle

__all__ = ["OptimizerHooks", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]

_global_optimizer_pre_hooks: OrderedDict = OrderedDict()
_global_optimizer_post_hooks: OrderedDict = OrderedDict()

_TABLES = (
    "_optimizer_step_pre_hooks",
    "_optimizer_step_post_hooks",
    "_optimizer_state_dict_pre_hooks",
    "_optimizer_state_dict_post_hooks",
    "_optimizer_load_state_dict_pre_hooks",
    "_optimizer_load_state_dict_post_hooks",
)
_PICKLED = ("defaults", "state", "param_groups")


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """Run ``hook(optimizer, args, kwargs)`` before every optimizer's ``step``, before its own
    pre-hooks; it may return ``(new_args, new_kwargs)`` to replace the arguments of ``step``."""
    handle = RemovableHandle(_global_optimizer_pre_hooks)
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """Run ``hook(optimizer, args, kwargs)`` after every optimizer's ``step``, after its own post-hooks."""
    handle = RemovableHandle(_global_optimizer_post_hooks)
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


def _hooked_step(func: Callable) -> Callable:
    """``func`` (a ``step``) with the global and per-optimizer step hooks run around it."""

    @functools.wraps(func)
    def step(*args: Any, **kwargs: Any) -> Any:
        opt = args[0]
        pre = opt.__dict__.get("_optimizer_step_pre_hooks")
        post = opt.__dict__.get("_optimizer_step_post_hooks")
        # Without hooks (the usual case) the step runs as it is.
        if not (pre or post or _global_optimizer_pre_hooks or _global_optimizer_post_hooks):
            return func(*args, **kwargs)
        for hook in chain(list(_global_optimizer_pre_hooks.values()), list((pre or {}).values())):
            result = hook(opt, args, kwargs)
            if result is None:
                continue
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError(
                    f"{type(opt).__name__}.step: a step pre-hook must return None or a pair "
                    f"(new_args, new_kwargs), got {result!r}"
                )
            args, kwargs = result
        out = func(*args, **kwargs)
        for hook in chain(list((post or {}).values()), list(_global_optimizer_post_hooks.values())):
            hook(opt, args, kwargs)
        return out

    step.hooked = True  # type: ignore[attr-defined]
    return step


class OptimizerHooks:
    """The hook registers and runners of ``Optimizer`` (its base class)."""

    def _patch_step_function(self) -> None:
        """Wrap ``type(self).step`` with the step hooks, once per class."""
        cls = type(self)
        if not getattr(cls.step, "hooked", False):
            cls.step = _hooked_step(cls.step)  # type: ignore[method-assign]

    def _hook_table(self, name: str) -> OrderedDict:
        # Made on first use, so that optimizers unpickled or copied without them still work.
        return self.__dict__.setdefault(name, OrderedDict())

    def _register(self, name: str, hook: Callable, prepend: bool = False) -> RemovableHandle:
        table = self._hook_table(name)
        handle = RemovableHandle(table)
        table[handle.id] = hook
        if prepend:
            table.move_to_end(handle.id, last=False)
        return handle

    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Run ``hook(optimizer, args, kwargs)`` before each ``step``; returning
        ``(new_args, new_kwargs)`` replaces the arguments (``args[0]`` is the optimizer)."""
        return self._register("_optimizer_step_pre_hooks", hook)

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """Run ``hook(optimizer, args, kwargs)`` after each ``step``."""
        return self._register("_optimizer_step_post_hooks", hook)

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Run ``hook(optimizer)`` at the start of ``state_dict()``; ``prepend`` runs it first."""
        return self._register("_optimizer_state_dict_pre_hooks", hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Run ``hook(optimizer, state_dict)`` on the dict ``state_dict()`` made; a dict it returns
        replaces it."""
        return self._register("_optimizer_state_dict_post_hooks", hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Run ``hook(optimizer, state_dict)`` on a shallow copy of the dict given to
        ``load_state_dict`` before it is read; a dict it returns is loaded instead."""
        return self._register("_optimizer_load_state_dict_pre_hooks", hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Run ``hook(optimizer)`` after ``load_state_dict`` has loaded."""
        return self._register("_optimizer_load_state_dict_post_hooks", hook, prepend)

    def _hooks(self, name: str) -> list:
        return list(self.__dict__.get(name, {}).values())

    def _state_dict_with_hooks(self, make: Callable[[], dict]) -> dict:
        for hook in self._hooks("_optimizer_state_dict_pre_hooks"):
            hook(self)
        state_dict = make()
        for hook in self._hooks("_optimizer_state_dict_post_hooks"):
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def _load_state_dict_pre(self, state_dict: Any) -> Any:
        if not isinstance(state_dict, dict):
            return state_dict  # refused by the loader itself, with its own message
        state_dict = state_dict.copy()
        for hook in self._hooks("_optimizer_load_state_dict_pre_hooks"):
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def _load_state_dict_post(self) -> None:
        for hook in self._hooks("_optimizer_load_state_dict_post_hooks"):
            hook(self)

    def __getstate__(self) -> dict[str, Any]:
        # As in PyTorch, only these three travel (pickle, copy.deepcopy): hooks (closures over this
        # optimizer, often) and an instance ``step`` (an LR scheduler's wrapper, holding a weak
        # reference to *this* optimizer: a copy keeping it would step the original) stay behind.
        return {k: self.__dict__[k] for k in _PICKLED if k in self.__dict__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickling (and ``copy.deepcopy``), as PyTorch's: the attributes back, the hook tables made
        on first use, ``step`` hooked, ``defaults["differentiable"]`` False if absent. Optimizers that
        fill in later options call it as ``super().__setstate__(state)`` (jettify's AdaBound, Yogi)."""
        self.__dict__.update(state)
        self._patch_step_function()
        defaults = self.__dict__.get("defaults")
        if isinstance(defaults, dict):
            defaults.setdefault("differentiable", False)

    def _optimizer_step_code(self) -> None:
        """PyTorch's entry point for profilers after each step: nothing to do here."""

    @staticmethod
    def profile_hook_step(func: Callable) -> Callable:
        """PyTorch's decorator of a ``step``: the step hooks run around it (``_optimizer_step_code``
        after it), as ``_patch_step_function`` gives every optimizer's ``step``."""

        @functools.wraps(func)
        def step(*args: Any, **kwargs: Any) -> Any:
            out = func(*args, **kwargs)
            args[0]._optimizer_step_code()
            return out

        return _hooked_step(step)

    def _accelerator_graph_capture_health_check(self) -> None:
        """PyTorch's check, at the top of a copied ``step``, that no CUDA/XPU graph capture meets a
        group with ``capturable=False``: nothing is ever captured here (as on a CPU-only PyTorch)."""

    def _cuda_graph_capture_health_check(self) -> None:
        """The check's older name (ADOPT's ``step`` calls it), deprecated as in PyTorch."""
        warnings.warn("Use _accelerator_graph_capture_health_check instead", DeprecationWarning, stacklevel=2)
        self._accelerator_graph_capture_health_check()

    @staticmethod
    def _group_tensors_by_device_and_dtype(tensorlistlist: list, with_indices: bool = False) -> dict:
        """Groups of the i-th entries of the lists by device and dtype (``optimizer_internals``)."""
        from glassgrad.optim.optimizer_internals import _group_tensors_by_device_and_dtype

        return _group_tensors_by_device_and_dtype(tensorlistlist, with_indices)
