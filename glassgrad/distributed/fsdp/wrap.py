"""``torch.distributed.fsdp.wrap``: the auto-wrap policies, which decide which submodules a wrapper
goes around. FSDP1 itself is refused (``_fsdp1.py``), but the same policies drive activation
checkpointing (``distributed.algorithms._checkpoint.checkpoint_wrapper``'s
``apply_activation_checkpointing``; torchtune's ``training.set_activation_checkpointing`` passes a
``ModuleWrapPolicy``), so they are here with PyTorch's semantics: a callable policy is asked
``policy(module=, recurse=, nonwrapped_numel=)`` (recurse into the module's children? wrap it?); a
``_Policy`` object (``ModuleWrapPolicy``, ``CustomPolicy``) names the modules to wrap at once.

>>> import glassgrad.nn as nn
>>> net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
>>> wrap_in_list = lambda m: nn.ModuleList([m])
>>> _ = _recursive_wrap(net, ModuleWrapPolicy({nn.Linear}), wrap_in_list, set(), set(), only_wrap_children=True)
>>> [type(m).__name__ for m in net]
['ModuleList', 'ReLU', 'ModuleList']
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any

from glassgrad.nn.container import ModuleDict, ModuleList
from glassgrad.nn.module import Module

__all__ = [
    "always_wrap_policy",
    "lambda_auto_wrap_policy",
    "transformer_auto_wrap_policy",
    "size_based_auto_wrap_policy",
    "CustomPolicy",
    "ModuleWrapPolicy",
]


def always_wrap_policy(*args: Any, **kwargs: Any) -> bool:
    """Wrap every module."""
    return True


class _Policy(ABC):
    """A policy that maps each module to wrap to the keyword arguments of its wrapper."""

    @abstractmethod
    def _run_policy(
        self, root_module: Module, ignored_modules: set[Module], root_kwargs: dict[str, Any]
    ) -> dict[Module, dict[str, Any]]: ...


def _module_wrap_policy(module: Module, recurse: bool, nonwrapped_numel: int, module_classes: Any) -> bool:
    return True if recurse else isinstance(module, tuple(module_classes))


class ModuleWrapPolicy(_Policy):
    """Wrap every module that is an instance of one of ``module_classes``."""

    def __init__(self, module_classes: Iterable[type[Module]]) -> None:
        self._module_classes = set(module_classes)
        self._module_classes_str = str(self._module_classes)

    def _run_policy(
        self, root_module: Module, ignored_modules: set[Module], root_kwargs: dict[str, Any]
    ) -> dict[Module, dict[str, Any]]:
        classes = tuple(self._module_classes)
        return {
            m: copy.copy(root_kwargs)
            for m in root_module.modules()
            if m not in ignored_modules and isinstance(m, classes)
        }

    def __call__(self, module: Module, recurse: bool, *args: Any, **kwargs: Any) -> bool:
        return _module_wrap_policy(module, recurse, -1, self._module_classes)

    def __repr__(self) -> str:
        return super().__repr__() + f"({self._module_classes_str})"


class CustomPolicy(_Policy):
    """Wrap each module for which ``lambda_fn(module)`` is True or a dict (the wrapper's extra
    keyword arguments)."""

    def __init__(self, lambda_fn: Callable[[Module], bool | dict[str, Any]]) -> None:
        self._lambda_fn = lambda_fn

    def _run_policy(
        self, root_module: Module, ignored_modules: set[Module], root_kwargs: dict[str, Any]
    ) -> dict[Module, dict[str, Any]]:
        out: dict[Module, dict[str, Any]] = {}
        for module in root_module.modules():
            if module in ignored_modules:
                continue
            res = self._lambda_fn(module)
            if not isinstance(res, (dict, bool)):
                raise ValueError(
                    "The lambda_fn passed to CustomPolicy should return "
                    f"False/True or a kwarg dict, but it returned {res}"
                )
            if res:
                kwargs = copy.copy(root_kwargs)
                if isinstance(res, dict):
                    kwargs.update(res)
                out[module] = kwargs
        return out


def lambda_auto_wrap_policy(
    module: Module, recurse: bool, nonwrapped_numel: int, lambda_fn: Callable
) -> bool:
    """Recurse everywhere; wrap a module when ``lambda_fn(module)`` is true."""
    return True if recurse else lambda_fn(module)


def transformer_auto_wrap_policy(
    module: Module, recurse: bool, nonwrapped_numel: int, transformer_layer_cls: Any
) -> bool:
    """Recurse everywhere; wrap the instances of ``transformer_layer_cls``."""
    return _module_wrap_policy(module, recurse, nonwrapped_numel, transformer_layer_cls)


def size_based_auto_wrap_policy(
    module: Module,
    recurse: bool,
    nonwrapped_numel: int,
    min_num_params: int = int(1e8),
    force_leaf_modules: set[type[Module]] | None = None,
    exclude_wrap_modules: set[type[Module]] | None = None,
) -> bool:
    """Wrap a module whose parameters not yet wrapped number at least ``min_num_params``."""
    leaf = (
        size_based_auto_wrap_policy.FORCE_LEAF_MODULES if force_leaf_modules is None else force_leaf_modules
    )  # type: ignore[attr-defined]
    exclude = (
        size_based_auto_wrap_policy.EXCLUDE_WRAP_MODULES  # type: ignore[attr-defined]
        if exclude_wrap_modules is None
        else exclude_wrap_modules
    )
    is_large = nonwrapped_numel >= min_num_params
    if recurse:
        return is_large and not isinstance(module, tuple(leaf))
    return is_large and not isinstance(module, tuple(exclude))


def _leaf_modules() -> set[type[Module]]:
    from glassgrad.nn.attention import MultiheadAttention

    return {MultiheadAttention}


size_based_auto_wrap_policy.EXCLUDE_WRAP_MODULES = {ModuleList, ModuleDict}  # type: ignore[attr-defined]
size_based_auto_wrap_policy.FORCE_LEAF_MODULES = _leaf_modules()  # type: ignore[attr-defined]


def _wrap(module: Module, wrapper_cls: Callable, **kwargs: Any) -> Module:
    overrides = getattr(module, "_wrap_overrides", None)
    if overrides is not None:
        kwargs = {**kwargs, **overrides}
    return wrapper_cls(module, **kwargs)


def _recursive_wrap(
    module: Module,
    auto_wrap_policy: Callable,
    wrapper_cls: Callable,
    ignored_modules: set[Module],
    ignored_params: set[Any],
    only_wrap_children: bool = False,
    **kwargs: Any,
) -> tuple[Module, int]:
    """Wrap ``module``'s submodules bottom-up where the callable ``auto_wrap_policy`` says so, and
    ``module`` itself unless ``only_wrap_children``; returns the module and the number of parameters
    wrapped."""
    if auto_wrap_policy is None or wrapper_cls is None:
        raise ValueError("_recursive_wrap: both auto_wrap_policy and wrapper_cls must be given")
    if isinstance(wrapper_cls, type):
        for _, child in module.named_modules():
            if child not in ignored_modules and isinstance(child, wrapper_cls):
                raise ValueError(f"_recursive_wrap: child module {child} is already wrapped by {wrapper_cls}")
    numel = sum(p.numel() for p in module.parameters() if p not in ignored_params)
    if not auto_wrap_policy(module=module, recurse=True, nonwrapped_numel=numel):
        return module, 0
    wrapped = 0
    for name, child in module.named_children():
        if child in ignored_modules:
            continue
        new_child, n = _recursive_wrap(
            child, auto_wrap_policy, wrapper_cls, ignored_modules, ignored_params, **kwargs
        )
        setattr(module, name, new_child)
        wrapped += n
    if not only_wrap_children and auto_wrap_policy(
        module=module, recurse=False, nonwrapped_numel=numel - wrapped
    ):
        return _wrap(module, wrapper_cls, **kwargs), numel
    return module, wrapped


def _post_order_apply(root_module: Module, fn: Callable[[Module], Module | None]) -> None:
    """Call ``fn`` on every module, children first; where it returns a module, that replaces the
    module in its parent (never the root)."""
    visited = {root_module}

    def inner(module: Module, name: str, parent: Module | None) -> None:
        for child_name, child in module.named_children():
            if child not in visited:
                visited.add(child)
                inner(child, child_name, module)
        new = fn(module)
        if new is not None and parent is not None:
            if not isinstance(new, Module):
                raise TypeError(f"_post_order_apply: fn should return None or an nn.Module, got {new!r}")
            setattr(parent, name, new)

    inner(root_module, "", None)


def _construct_wrap_fn(
    root_module: Module, target_module_to_kwargs: dict[Module, dict[str, Any]], wrap_fn: Callable
) -> Callable[[Module], Module | None]:
    def fn(module: Module) -> Module | None:
        if module in target_module_to_kwargs and module is not root_module:
            return wrap_fn(module, **target_module_to_kwargs[module])
        return None

    return fn
