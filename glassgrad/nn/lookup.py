"""Dotted-path access to a module tree: ``get_submodule``, ``set_submodule``, ``get_parameter``,
``get_buffer``, as PyTorch's ``Module`` has them. A mixin of ``Module`` (kept apart for size)."""

from __future__ import annotations

from typing import Any

from glassgrad.nn.parameter import Parameter

__all__ = ["Lookup"]


def _owner(root: Any, target: str) -> tuple[Any, str]:
    """The submodule of ``root`` holding dotted path ``target``, and the path's last name."""
    mod_path, _, name = target.rpartition(".")
    return root.get_submodule(mod_path), name


class Lookup:
    """The path half of ``Module``: ``"encoder.layers.0.linear1"`` style names to modules and tensors."""

    # The lookups follow attributes (``getattr``), as PyTorch's do, so a submodule reached through
    # a property or a plain attribute is found; the errors are PyTorch's types and texts. Only
    # ``Module`` mixes in ``Lookup``, which stands for it here (this file is imported by module.py).
    def get_submodule(self, target: str) -> Any:
        """The submodule at dotted path ``target`` (``""`` is self)."""
        mod = self
        for item in target.split(".") if target else []:
            if not hasattr(mod, item):
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}`")
            mod = getattr(mod, item)
            if not isinstance(mod, Lookup):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return mod

    def set_submodule(self, target: str, module: Any, strict: bool = False) -> None:
        """Put ``module`` at dotted path ``target``; its parent must exist. With ``strict``, the name
        must already be an attribute there (PyTorch's arguments)."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Lookup):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        parent, name = _owner(self, target)
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{parent._get_name()} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Lookup):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def get_parameter(self, target: str) -> Any:
        mod, name = _owner(self, target)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        param = getattr(mod, name)
        if not isinstance(param, Parameter):  # None too (bias=False), as PyTorch
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Any:
        mod, name = _owner(self, target)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        if name not in mod._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return getattr(mod, name)
