"""``torch.utils.hooks``: ``RemovableHandle``, what every ``register_*_hook`` returns (modules,
tensors, optimizers), at PyTorch's module path for code that imports or annotates with it;
``unserializable_hook`` and ``warn_if_has_hooks``, PyTorch's check that a tensor about to be
saved has no tensor hooks (``register_hook``) that saving would lose, save those marked as not
meant to be saved; ``BackwardHook``, the helper behind ``Module.register_full_backward_hook``, for
code that wires module-style backward hooks around its own calls."""

from __future__ import annotations

import warnings
from typing import Any, Callable

from glassgrad.nn.backward_hooks import BackwardHookCall
from glassgrad.nn.hooks import RemovableHandle

__all__ = ["RemovableHandle", "unserializable_hook", "warn_if_has_hooks", "BackwardHook"]


def unserializable_hook(f: Callable) -> Callable:
    """Mark ``f``, a tensor hook, as one that is not meant to be saved: ``warn_if_has_hooks``
    stays quiet about it. Returns ``f``."""
    f.__torch_unserializable__ = True  # type: ignore[attr-defined]
    return f


def warn_if_has_hooks(tensor: Any) -> None:
    """Warn (``UserWarning``) once per hook of ``tensor`` (``register_hook``; ``retain_grad``'s is
    not one) that saving the tensor will not keep it, unless ``unserializable_hook`` marked it."""
    hooks = tensor._hooks if tensor._node is None else tensor._node.hooks
    for hook in hooks or ():
        if getattr(hook, "retains_grad", False):
            continue
        if not hasattr(hook, "__torch_unserializable__"):
            warnings.warn(
                f"backward hook {hook!r} on tensor will not be serialized.  If this is expected, you "
                "can decorate the function with @torch.utils.hooks.unserializable_hook to suppress "
                "this warning",
                stacklevel=2,
            )


class BackwardHook(BackwardHookCall):
    """PyTorch's ``BackwardHook(module, user_hooks, user_pre_hooks)``: ``args =
    setup_input_hook(args)`` before a call and ``out = setup_output_hook(out)`` after it route the
    tensors through joining nodes, so that at backward each ``user_pre_hooks`` entry runs as
    ``hook(module, grad_output)`` and each ``user_hooks`` entry as ``hook(module, grad_input,
    grad_output)`` once the inputs' gradients are known; either may return replacements (a tuple
    of the same length). The semantics are ``Module.register_full_backward_hook``'s
    (``nn/backward_hooks.py``); the hooks are the lists given, not the module's."""

    def __init__(self, module: Any, user_hooks: list, user_pre_hooks: list) -> None:
        super().__init__(module)
        self.user_hooks, self.user_pre_hooks = user_hooks, user_pre_hooks
        self.hooks, self.pre_hooks = user_hooks, user_pre_hooks
        self.n_inputs = self.n_outputs = -1
        self.input_tensors_index: list | None = None
        self.output_tensors_index: list | None = None

    def setup_input_hook(self, args: tuple) -> tuple:
        """``args`` with the tensors that require grad routed (see the class)."""
        out = self.setup_inputs(args)
        self.input_tensors_index = _tensor_positions(args) if self.input_blanks is not None else None
        return out

    def setup_output_hook(self, args: Any) -> Any:
        """The output (a tensor or a tuple) with its tensors that require grad routed."""
        out = self.setup_outputs(args)
        given = args if isinstance(args, tuple) else (args,)
        self.output_tensors_index = _tensor_positions(given) if self.output_blanks is not None else None
        return out


def _tensor_positions(values: tuple) -> list:
    """PyTorch's ``*_tensors_index``: where the tensors are among ``values``."""
    from glassgrad.tensor import Tensor

    return [i for i, v in enumerate(values) if isinstance(v, Tensor)]
