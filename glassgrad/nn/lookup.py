"""Dotted-path access to a module tree: ``get_submodule``, ``set_submodule``, ``get_parameter``,
``get_buffer``, as PyTorch's ``Module`` has them. A mixin of ``Module`` (kept apart for size)."""

from __future__ import annotations

from typing import Any

__all__ = ["Lookup"]


def _owner(root: Any, target: str) -> tuple[Any, str]:
    """The submodule of ``root`` holding dotted path ``target``, and the path's last name."""
    mod_path, _, name = target.rpartition(".")
    return root.get_submodule(mod_path), name


class Lookup:
    """The path half of ``Module``: ``"encoder.layers.0.linear1"`` style names to modules and tensors."""

    def get_submodule(self, target: str) -> Any:
        """The submodule at dotted path ``target`` (``""`` is self)."""
        mod = self
        for item in target.split(".") if target else []:
            sub = mod._modules.get(item)
            if sub is None or not hasattr(sub, "_modules"):
                raise AttributeError(f"{mod._get_name()} has no submodule `{item}` (looking up {target!r})")
            mod = sub
        return mod

    def set_submodule(self, target: str, module: Any, strict: bool = False) -> None:
        """Put ``module`` at dotted path ``target``; its parent must exist. With ``strict``, the name
        must already be a submodule there (PyTorch's arguments)."""
        if not target:
            raise ValueError("set_submodule: expected a target name, got ''")
        parent, name = _owner(self, target)
        if name in parent._parameters or name in parent._buffers:
            raise AttributeError(f"set_submodule: `{name}` of {parent._get_name()} is not a submodule")
        if strict and name not in parent._modules:
            raise AttributeError(
                f"set_submodule: {parent._get_name()} has no submodule `{name}` (strict=True)"
            )
        parent.add_module(name, module)

    def get_parameter(self, target: str) -> Any:
        mod, name = _owner(self, target)
        if name not in mod._parameters:
            raise AttributeError(f"{mod._get_name()} has no parameter `{name}`")
        if mod._parameters[name] is None:  # registered as None (bias=False): PyTorch refuses it too
            raise AttributeError(f"`{name}` of {mod._get_name()} is not an nn.Parameter (it is None)")
        return mod._parameters[name]

    def get_buffer(self, target: str) -> Any:
        mod, name = _owner(self, target)
        if name not in mod._buffers:
            raise AttributeError(f"{mod._get_name()} has no buffer `{name}`")
        return mod._buffers[name]
