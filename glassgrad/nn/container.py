"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList``, ``ParameterDict``.

Children are registered under their index as a string (``"0"``, ``"1"``...) or their key, which is
what makes PyTorch's state-dict keys (``"net.0.weight"``) come out the same here.
"""

from __future__ import annotations

import operator
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from glassgrad.nn.module import Module, _addindent
from glassgrad.user_frames import user_stacklevel

__all__ = ["Sequential", "ModuleList", "ModuleDict", "Container"]


def _abs_index(idx: Any, size: int) -> int:
    idx = operator.index(idx)
    if not -size <= idx < size:
        raise IndexError(f"index {idx} is out of range for a container of length {size}")
    return idx + size if idx < 0 else idx


def _update_pairs(owner: str, pairs: Any) -> Iterator[tuple[Any, Any]]:
    """The (key, value) pairs of ``ModuleDict.update``/``ParameterDict.update`` given a sequence,
    each checked with PyTorch's error types and texts (``owner`` names the container)."""
    for j, pair in enumerate(pairs):
        if not isinstance(pair, Iterable):
            raise TypeError(
                f"{owner} update sequence element #{j} should be Iterable; is{type(pair).__name__}"
            )
        if len(pair) != 2:
            raise ValueError(f"{owner} update sequence element #{j} has length {len(pair)}; 2 is required")
        yield pair[0], pair[1]


def _repeats(seq: Any, n: Any) -> int:
    """``n`` of ``seq * n``, checked to be a positive int (PyTorch's error types and texts)."""
    if not isinstance(n, int):
        raise TypeError(f"unsupported operand type(s) for *: {type(seq)} and {type(n)}")
    if n <= 0:
        raise ValueError(f"Non-positive multiplication factor {n} for {type(seq)}")
    return n


def _only_sequential(other: Any) -> None:
    if not isinstance(other, Sequential):
        raise ValueError(
            f"add operator supports only objects of Sequential class, but {type(other)} is given."
        )


class _NotAModuleError(TypeError, AssertionError):
    """``Sequential.insert`` of a non-Module: PyTorch's AssertionError, and a TypeError (its kind)."""


class Sequential(Module):
    """Modules applied one after the other; ``forward`` chains each output into the next.

    Built from modules (named ``"0"``, ``"1"``...) or from an ``OrderedDict`` of named modules.

    >>> import glassgrad.nn as nn
    >>> net = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    >>> net
    Sequential(
      (0): Linear(in_features=2, out_features=3, bias=True)
      (1): ReLU()
    )
    >>> list(net.state_dict())
    ['0.weight', '0.bias']
    """

    def __init__(self, *args: Module) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for idx, module in enumerate(args):
                self.add_module(str(idx), module)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):  # keeps the original keys, as PyTorch
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[_abs_index(idx, len(self))]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[_abs_index(idx, len(self))]
        setattr(self, key, module)

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)
        for key in keys[idx] if isinstance(idx, slice) else [keys[_abs_index(idx, len(self))]]:
            delattr(self, key)
        # renumber so that the keys stay 0..n-1, as PyTorch
        self._modules = OrderedDict((str(i), m) for i, m in enumerate(self._modules.values()))

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __add__(self, other: Sequential) -> Sequential:
        _only_sequential(other)
        return Sequential(*self, *other)

    def __iadd__(self, other: Sequential) -> Sequential:
        """``seq += other``: other's modules appended to this Sequential itself (as PyTorch)."""
        _only_sequential(other)
        return self.extend(list(other))

    def __mul__(self, n: int) -> Sequential:
        """``seq * n``: a new Sequential holding the same modules n times over (shared, as PyTorch)."""
        return Sequential(*(list(self) * _repeats(self, n)))

    __rmul__ = __mul__

    def __imul__(self, n: int) -> Sequential:
        return self.extend(list(self) * (_repeats(self, n) - 1))

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        if not isinstance(module, Module):
            # PyTorch raises AssertionError here; a TypeError too, as this did before
            raise _NotAModuleError(
                f"module should be of type: Module (Sequential.insert got {type(module).__name__})"
            )
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Sequential.insert: index {index} is out of range for length {n}")
        index = index + n if index < 0 else index
        for i in range(n, index, -1):
            self._modules[str(i)] = self._modules[str(i - 1)]
        self._modules[str(index)] = module
        return self

    def pop(self, key: int | slice) -> Any:
        v = self[key]
        del self[key]
        return v

    def forward(self, input: Any) -> Any:  # noqa: A002 - PyTorch's name
        x = input
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(Module):
    """A list of modules, registered so that ``parameters()`` and ``state_dict()`` see them.

    >>> import glassgrad.nn as nn
    >>> layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
    >>> len(layers), list(layers.state_dict())[:2]
    (3, ['0.weight', '0.bias'])
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _get_abs_string_index(self, idx: Any) -> str:
        """The key of position ``idx`` (negative counts from the end): PyTorch's helper, which
        subclasses that index the list themselves call (Pyro's ``PyroModuleList``)."""
        return str(_abs_index(idx, len(self)))

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[self._get_abs_string_index(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        setattr(self, str(_abs_index(idx, len(self))), module)

    def __delitem__(self, idx: int | slice) -> None:
        for k in range(len(self._modules))[idx] if isinstance(idx, slice) else [_abs_index(idx, len(self))]:
            delattr(self, str(k))
        self._modules = OrderedDict((str(i), m) for i, m in enumerate(self._modules.values()))

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        if not isinstance(modules, Iterable):
            raise TypeError(f"ModuleList.extend: expected an iterable, got {type(modules).__name__}")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        n = len(self._modules)
        index = max(0, index + n) if index < 0 else min(index, n)
        for i in range(n, index, -1):
            self._modules[str(i)] = self._modules[str(i - 1)]
        self._modules[str(index)] = module

    def index(self, module: Module) -> int:
        """Position of ``module`` (by identity)."""
        for i, m in enumerate(self._modules.values()):
            if m is module:
                return i
        raise ValueError(f"ModuleList.index: {module._get_name()} is not in the list")

    def pop(self, key: int | slice) -> Any:
        v = self[key]
        del self[key]
        return v

    def __repr__(self) -> str:
        """Like PyTorch's: runs of identical children print once, as ``(0-2): 3 x Linear(...)``."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        runs: list[list] = []  # [start, end, repr]
        for i, r in enumerate(reprs):
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = []
        for start, end, r in runs:
            head = f"({start})" if start == end else f"({start}-{end}): {end - start + 1} x"
            lines.append(_addindent(f"{head}: {r}" if start == end else f"{head} {r}", 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """An ordered dict of modules, registered under their keys.

    >>> import glassgrad.nn as nn
    >>> heads = nn.ModuleDict({"cls": nn.Linear(4, 2), "reg": nn.Linear(4, 1)})
    >>> list(heads.keys()), "cls" in heads
    (['cls', 'reg'], True)
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        v = self[key]
        del self[key]
        return v

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def update(self, modules: Mapping[str, Module] | Iterable) -> None:
        if not isinstance(modules, Iterable):
            raise TypeError(
                "ModuleDict.update should be called with an iterable of key/value pairs, but got "
                + type(modules).__name__
            )
        pairs = (
            modules.items()
            if isinstance(modules, Mapping | ModuleDict)
            else _update_pairs("ModuleDict", modules)
        )
        for key, module in pairs:
            self[key] = module


class Container(Module):
    """PyTorch's deprecated ``nn.Container``: a Module whose keyword arguments become its children.
    Subclass ``Module`` instead; building one warns (FutureWarning), as PyTorch."""

    def __init__(self, **kwargs: Any) -> None:
        warnings.warn(
            "`nn.Container` is deprecated. All of its functionality is now implemented in `nn.Module`. "
            "Subclass that instead.",
            FutureWarning,
            stacklevel=user_stacklevel(),
        )
        super().__init__()
        for key, value in kwargs.items():
            self.add_module(key, value)
