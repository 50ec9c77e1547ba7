"""``torch.utils.weak``: weak references and a weak-keyed dict that go by identity, for tensors.

``weakref.WeakKeyDictionary`` finds a key by ``==``, and a tensor's ``==`` is elementwise; these
go by ``id`` instead, as PyTorch's: ``WeakIdRef`` hashes as its object's id and equals another
while both live only when they point at one object, and ``WeakIdKeyDictionary`` (also named
``WeakTensorKeyDictionary``) keys its values by such references, so an entry goes when its
tensor dies and two tensors of equal values are two keys.

>>> import glassgrad as gg
>>> from glassgrad.utils.weak import WeakTensorKeyDictionary
>>> d = WeakTensorKeyDictionary()
>>> t = gg.zeros(2)
>>> d[t] = "state"; d[t.clone()] = "other"
>>> len(d), d[t]
(1, 'state')
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from glassgrad.tensor import Tensor

__all__ = ["TensorWeakRef", "WeakIdRef", "WeakIdKeyDictionary", "WeakTensorKeyDictionary"]

WeakRef = weakref.ref


class WeakIdRef(weakref.ref):
    """A weak reference that hashes as its object's ``id`` and equals another only when both point
    at the same live object (a dead one equals only itself)."""

    __slots__ = ("_id",)

    def __init__(self, key: Any, callback: Any = None) -> None:
        self._id = self._key(key)
        super().__init__(key, callback)

    @staticmethod
    def _key(obj: Any) -> int:
        return id(obj)

    @staticmethod
    def _same(a: Any, b: Any) -> bool:
        return a is b

    def __hash__(self) -> int:
        return self._id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, weakref.ref):
            return NotImplemented
        a, b = self(), other()
        return self._same(a, b) if a is not None and b is not None else self is other


class _WeakHashRef(WeakIdRef):
    """As ``WeakIdRef``, but keyed by the object's ``hash`` (PyTorch's, for symbolic ints)."""

    __slots__ = ()

    @staticmethod
    def _key(obj: Any) -> int:
        return hash(obj)

    @staticmethod
    def _same(a: Any, b: Any) -> bool:
        return hash(a) == hash(b)


def _dropper(table: WeakIdKeyDictionary) -> Any:
    """The callback of the table's references: drops a dead key's entry. It holds the table weakly
    (a strong reference would make table -> callback -> table a cycle, freed only by the GC)."""
    ref = weakref.ref(table)

    def drop(key_ref: Any) -> None:
        owner = ref()
        if owner is not None:
            owner.data.pop(key_ref, None)

    return drop


class WeakIdKeyDictionary(MutableMapping):
    """A dict whose keys are held weakly and compared by identity (``ref_type``, ``WeakIdRef`` by
    default): an entry goes when its key dies. Iterating walks a snapshot, so keys that die
    meanwhile (or the loop's own deletions) do not break it."""

    def __init__(self, dict: Any = None, ref_type: type = WeakIdRef) -> None:  # noqa: A002 (PyTorch's name)
        self.data: dict = {}
        self.ref_type = ref_type
        self._remove = _dropper(self)
        if dict is not None:
            self.update(dict)

    def __getitem__(self, key: Any) -> Any:
        return self.data[self.ref_type(key)]

    def __setitem__(self, key: Any, value: Any) -> None:
        self.data[self.ref_type(key, self._remove)] = value

    def __delitem__(self, key: Any) -> None:
        del self.data[self.ref_type(key)]

    def __contains__(self, key: object) -> bool:
        try:
            return self.ref_type(key) in self.data
        except TypeError:  # an object that takes no weak reference (an int) is never a key
            return False

    def __len__(self) -> int:
        return sum(r() is not None for r in list(self.data))

    def __iter__(self) -> Iterator:
        return self.keys()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} at {id(self):#x}>"

    def keys(self) -> Iterator:  # type: ignore[override]
        for r in list(self.data):
            obj = r()
            if obj is not None:
                yield obj

    def values(self) -> Iterator:  # type: ignore[override]
        for _, value in self.items():
            yield value

    def items(self) -> Iterator:  # type: ignore[override]
        for r, value in list(self.data.items()):
            obj = r()
            if obj is not None:
                yield obj, value

    def keyrefs(self) -> list:
        """The weak references to the keys (some may be dead by the time they are called)."""
        return list(self.data)

    def get(self, key: Any, default: Any = None) -> Any:
        return self.data.get(self.ref_type(key), default)

    def pop(self, key: Any, *default: Any) -> Any:
        return self.data.pop(self.ref_type(key), *default)

    def popitem(self) -> tuple:
        while True:
            r, value = self.data.popitem()  # KeyError once empty, as a dict's
            obj = r()
            if obj is not None:
                return obj, value

    def setdefault(self, key: Any, default: Any = None) -> Any:
        return self.data.setdefault(self.ref_type(key, self._remove), default)

    def update(self, other: Any = None, **kwargs: Any) -> None:  # type: ignore[override]
        if other is not None:
            for key, value in other.items() if hasattr(other, "items") else other:
                self[key] = value
        for key, value in kwargs.items():
            self[key] = value

    def copy(self) -> WeakIdKeyDictionary:
        return type(self)(dict(self.items()), self.ref_type)

    __copy__ = copy

    def __deepcopy__(self, memo: dict) -> WeakIdKeyDictionary:
        new = type(self)(ref_type=self.ref_type)
        for key, value in self.items():  # the keys stay the same objects, as PyTorch's
            new[key] = copy.deepcopy(value, memo)
        return new

    def __ior__(self, other: Any) -> WeakIdKeyDictionary:
        self.update(other)
        return self

    def __or__(self, other: Any) -> Any:
        if not isinstance(other, Mapping):
            return NotImplemented
        new = self.copy()
        new.update(other)
        return new

    def __ror__(self, other: Any) -> Any:
        if not isinstance(other, Mapping):
            return NotImplemented
        new = type(self)(other, self.ref_type)
        new.update(self)
        return new

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return {id(k): v for k, v in self.items()} == {id(k): v for k, v in other.items()}


WeakTensorKeyDictionary = WeakIdKeyDictionary


class TensorWeakRef:
    """A weak reference to a tensor (PyTorch's wrapper); calling it gives the tensor or None."""

    def __init__(self, tensor: Any) -> None:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"TensorWeakRef: expected a glassgrad Tensor, got {type(tensor).__name__}")
        self.ref = weakref.ref(tensor)

    def __call__(self) -> Any:
        return self.ref()
