"""``torch.distributed.algorithms._checkpoint.checkpoint_wrapper``: modules that run a wrapped
module under ``utils.checkpoint.checkpoint`` (``CheckpointWrapper``) or ``autograd.graph.save_on_cpu``
(``OffloadWrapper``), and ``apply_activation_checkpointing``, which puts such wrappers around the
submodules an auto-wrap policy picks (``distributed/fsdp/wrap.py``). Nothing here is distributed;
torchtune's recipes reach activation checkpointing through it.

As PyTorch's, a wrapper holds the module as ``_checkpoint_wrapped_module``, forwards missing
attributes and indexing to it, and hides that name from ``named_parameters`` and ``state_dict``
(a hook strips the prefix on save and puts it back on load), so a checkpoint moves between a wrapped
and an unwrapped model.

>>> import glassgrad as gg
>>> lin = gg.nn.Linear(2, 2)
>>> w = checkpoint_wrapper(lin)
>>> sorted(w.state_dict()), w.in_features
(['bias', 'weight'], 2)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from enum import Enum, auto
from functools import partial
from typing import Any

from glassgrad.autograd.graph import save_on_cpu
from glassgrad.nn.module import Module
from glassgrad.utils.checkpoint import checkpoint as _utils_checkpoint

__all__ = [
    "ActivationWrapper",
    "CheckpointImpl",
    "CheckpointWrapper",
    "OffloadWrapper",
    "apply_activation_checkpointing",
    "checkpoint_wrapper",
    "offload_wrapper",
]

_CHECKPOINT_WRAPPED_MODULE = "_checkpoint_wrapped_module"
_CHECKPOINT_PREFIX = _CHECKPOINT_WRAPPED_MODULE + "."


class CheckpointImpl(Enum):
    """Which ``utils.checkpoint`` variant a ``CheckpointWrapper`` uses."""

    REENTRANT = auto()
    NO_REENTRANT = auto()


def _replace_by_prefix(state_dict: dict[str, Any], old_prefix: str, new_prefix: str) -> None:
    if old_prefix == new_prefix:
        raise ValueError("old_prefix and new_prefix must be distinct")
    for key in list(state_dict):
        if key.startswith(old_prefix):
            state_dict[new_prefix + key[len(old_prefix) :]] = state_dict.pop(key)


class ActivationWrapper(Module):
    """The base of the two wrappers (not meant to be made directly)."""

    def __init__(self, mod: Module) -> None:
        super().__init__()
        self._checkpoint_wrapped_module = mod
        self._register_state_dict_hook(self._post_state_dict_hook)
        self.register_load_state_dict_pre_hook(self._pre_load_state_dict_hook)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("Subclasses should implement forward().")

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._checkpoint_wrapped_module, name)

    def __getitem__(self, key: int) -> Any:
        return self._checkpoint_wrapped_module.__getitem__(key)  # type: ignore[operator]

    def named_parameters(self, *args: Any, **kwargs: Any) -> Iterator[tuple[str, Any]]:
        """The wrapped module's parameters, without the ``_checkpoint_wrapped_module.`` prefix."""
        for name, param in super().named_parameters(*args, **kwargs):
            yield name.replace(_CHECKPOINT_PREFIX, ""), param

    @staticmethod
    def _post_state_dict_hook(
        module: Module, state_dict: dict[str, Any], prefix: str, *args: Any
    ) -> dict[str, Any]:
        _replace_by_prefix(state_dict, f"{prefix}{_CHECKPOINT_PREFIX}", prefix)
        return state_dict

    @staticmethod
    def _pre_load_state_dict_hook(
        module: Module, state_dict: dict[str, Any], prefix: str, *args: Any
    ) -> None:
        _replace_by_prefix(state_dict, prefix, prefix + _CHECKPOINT_PREFIX)


class OffloadWrapper(ActivationWrapper):
    """Runs the module with its saved activations kept on the CPU (where glassgrad keeps them)."""

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        with save_on_cpu(pin_memory=True):
            return self._checkpoint_wrapped_module(*args, **kwargs)


class CheckpointWrapper(ActivationWrapper):
    """Runs the module under ``utils.checkpoint.checkpoint`` (or ``checkpoint_fn``), so its
    activations are recomputed in backward."""

    def __init__(
        self,
        mod: Module,
        checkpoint_impl: CheckpointImpl = CheckpointImpl.NO_REENTRANT,
        checkpoint_fn: Callable | None = None,
        **checkpoint_fn_kwargs: Any,
    ) -> None:
        super().__init__(mod)
        self.checkpoint_impl = checkpoint_impl
        if checkpoint_fn is None:
            reentrant = checkpoint_impl == CheckpointImpl.REENTRANT
            self.checkpoint_fn = partial(_utils_checkpoint, use_reentrant=reentrant, **checkpoint_fn_kwargs)
        else:
            self.checkpoint_fn = partial(checkpoint_fn, **checkpoint_fn_kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if self.checkpoint_impl == CheckpointImpl.REENTRANT and kwargs:
            # the reentrant variant takes positional tensors only: pack the keywords after them
            keys = tuple(kwargs)
            n = len(args)

            def run(*inputs: Any) -> Any:
                return self._checkpoint_wrapped_module(
                    *inputs[:n], **dict(zip(keys, inputs[n:], strict=True))
                )

            return self.checkpoint_fn(run, *args, *kwargs.values())
        return self.checkpoint_fn(self._checkpoint_wrapped_module, *args, **kwargs)


def offload_wrapper(module: Module) -> Module:
    """``module`` wrapped for activation offloading (``OffloadWrapper``)."""
    return OffloadWrapper(module)


def checkpoint_wrapper(
    module: Module,
    checkpoint_impl: CheckpointImpl = CheckpointImpl.NO_REENTRANT,
    checkpoint_fn: Callable | None = None,
    **checkpoint_fn_kwargs: Any,
) -> Module:
    """``module`` wrapped for activation checkpointing (``CheckpointWrapper``)."""
    return CheckpointWrapper(module, checkpoint_impl, checkpoint_fn, **checkpoint_fn_kwargs)


def apply_activation_checkpointing(
    model: Module,
    checkpoint_wrapper_fn: Callable = checkpoint_wrapper,
    check_fn: Callable[[Module], bool] = lambda _: True,
    auto_wrap_policy: Any = None,
) -> None:
    """Replace, in place, the submodules of ``model`` that ``auto_wrap_policy`` (or else
    ``check_fn``) picks by ``checkpoint_wrapper_fn(submodule)``; the root is never wrapped."""
    from glassgrad.distributed.fsdp.wrap import (
        _construct_wrap_fn,
        _Policy,
        _post_order_apply,
        _recursive_wrap,
        lambda_auto_wrap_policy,
    )

    policy = (
        auto_wrap_policy
        if auto_wrap_policy is not None
        else partial(lambda_auto_wrap_policy, lambda_fn=check_fn)
    )
    if not callable(policy):
        if not isinstance(policy, _Policy):
            raise ValueError(f"Expected {policy} to be callable or be a pre-defined wrap policy")
        targets = policy._run_policy(model, ignored_modules=set(), root_kwargs={})
        _post_order_apply(model, _construct_wrap_fn(model, targets, checkpoint_wrapper_fn))
        return
    _recursive_wrap(model, policy, checkpoint_wrapper_fn, set(), set(), only_wrap_children=True)
