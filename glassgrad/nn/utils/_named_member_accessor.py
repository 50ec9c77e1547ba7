"""``torch.nn.utils._named_member_accessor``: put a tensor (or a submodule) in a module's slot and
get the old one back, by name or by dotted path. tensordict's ``TensorDict.to_module`` swaps
parameters in with :func:`swap_tensor`.

>>> import glassgrad as gg
>>> lin = gg.nn.Linear(2, 1)
>>> w = gg.zeros(1, 2)
>>> old = swap_tensor(lin, "weight", w)
>>> lin.weight is w, old.shape
(True, glassgrad.Size([1, 2]))
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from glassgrad.nn.module import Module
from glassgrad.nn.utils.stateless import _MISSING, swap_in_stores  # one "no such attribute" marker
from glassgrad.tensor import Tensor

__all__ = ["NamedMemberAccessor", "set_tensor", "swap_submodule", "swap_tensor"]


def _check_slot(op: str, module: Any, name: str, what: str = "tensor") -> None:
    if not isinstance(module, Module):
        raise TypeError(f"{op}: {module} is not an instance of torch.nn.Module")
    if "." in name:
        raise KeyError(f'{op}: {what} name can\'t contain "." (got {name!r})')
    if name == "":
        raise KeyError(f'{op}: {what} name can\'t be empty string ""')


def swap_tensor(module: Module, name: str, tensor: Any, allow_missing: bool = False) -> Any:
    """Put ``tensor`` in ``module``'s parameter, buffer or attribute ``name`` (``_MISSING`` removes
    it) and return what was there (``_MISSING`` when nothing was and ``allow_missing``)."""
    _check_slot("swap_tensor", module, name)
    if tensor is not _MISSING and tensor is not None and not isinstance(tensor, Tensor):
        raise TypeError(f"swap_tensor: {type(tensor).__name__} is not an instance of torch.Tensor")
    stored, orig = swap_in_stores(module, name, tensor)
    if stored:
        return orig
    if hasattr(module, name):
        orig = getattr(module, name)
    elif allow_missing:
        orig = _MISSING
    else:
        raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
    if orig is not _MISSING and orig is not None and not isinstance(orig, Tensor):
        raise TypeError(f"swap_tensor: attribute `{name}`: {orig} is not an instance of torch.Tensor")
    if tensor is not _MISSING:
        setattr(module, name, tensor)
    elif hasattr(module, name):
        delattr(module, name)
    return orig


def set_tensor(module: Module, name: str, tensor: Any) -> None:
    """Put ``tensor`` in ``module``'s parameter, buffer or attribute ``name``."""
    _check_slot("set_tensor", module, name)
    if tensor is not None and not isinstance(tensor, Tensor):
        raise TypeError(f"set_tensor: {type(tensor).__name__} is not an instance of torch.Tensor")
    if name in module._parameters:
        module._parameters[name] = tensor
    elif name in module._buffers:
        module._buffers[name] = tensor
    else:
        setattr(module, name, tensor)


def swap_submodule(module: Module, name: str, submodule: Module) -> Module:
    """Put ``submodule`` in ``module``'s existing child slot ``name`` and return the old child."""
    _check_slot("swap_submodule", module, name, "submodule")
    if not isinstance(submodule, Module):
        raise TypeError(f"swap_submodule: {submodule} is not an instance of torch.nn.Module")
    if name not in module._modules:
        raise KeyError(f"submodule {name} does not exist")
    orig = module._modules[name]
    if not isinstance(orig, Module):
        raise TypeError(f"swap_submodule: {name} attribute is not an instance of torch.nn.Module")
    module._modules[name] = submodule
    return orig


class NamedMemberAccessor:
    """The same swaps by dotted path (``"layer1.conv1.weight"``), caching the submodule lookups."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.memo: dict[str, Module] = {}

    def get_submodule(self, name: str) -> Module:
        if not name:
            return self.module
        if name not in self.memo:
            prefix, _, attr = name.rpartition(".")
            parent = self.get_submodule(prefix)
            try:
                sub = getattr(parent, attr)
            except AttributeError as ex:
                raise AttributeError(f"{parent._get_name()} has no attribute `{attr}`") from ex
            if not isinstance(sub, Module):
                raise TypeError(f"submodule `{name}`: {sub} is not an instance of torch.nn.Module")
            self.memo[name] = sub
        return self.memo[name]

    def _split(self, path: str) -> tuple[Module, str]:
        prefix, _, attr = path.rpartition(".")
        return self.get_submodule(prefix), attr

    def swap_submodule(self, path: str, value: Module) -> Module:
        return swap_submodule(*self._split(path), value)

    def get_tensor(self, name: str) -> Any:
        sub, attr = self._split(name)
        try:
            tensor = getattr(sub, attr)
        except AttributeError as ex:
            raise AttributeError(f"{sub._get_name()} has no attribute `{name}`") from ex
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"get_tensor: {tensor} is not an instance of torch.Tensor")
        return tensor

    def set_tensor(self, name: str, value: Any) -> None:
        set_tensor(*self._split(name), value)

    def del_tensor(self, name: str) -> None:
        sub, attr = self._split(name)
        try:
            delattr(sub, attr)
        except AttributeError as ex:
            raise AttributeError(f"{sub._get_name()} has no attribute `{name}`") from ex

    def swap_tensor(self, name: str, value: Any, allow_missing: bool = False) -> Any:
        sub, attr = self._split(name)
        return swap_tensor(sub, attr, value, allow_missing=allow_missing)

    def get_tensors(self, names: Iterable[str]) -> list[Any]:
        return [self.get_tensor(n) for n in names]

    def _pairs(self, op: str, names: Iterable[str], values: Iterable[Any]) -> list[tuple[str, Any]]:
        names, values = list(names), list(values)
        if len(names) != len(values):
            raise ValueError(
                f"{op}: names and values must have the same length, got {len(names)} and {len(values)}"
            )
        return list(zip(names, values))

    def set_tensors(self, names: Iterable[str], values: Iterable[Any]) -> None:
        for n, v in self._pairs("set_tensors", names, values):
            self.set_tensor(n, v)

    def swap_tensors(
        self, names: Iterable[str], values: Iterable[Any], allow_missing: bool = False
    ) -> list[Any]:
        return [self.swap_tensor(n, v, allow_missing) for n, v in self._pairs("swap_tensors", names, values)]
