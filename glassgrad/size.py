"""``Size``: the tuple type of ``Tensor.shape`` (``torch.Size``), kept apart from ``tensor.py``
so that its tuple arithmetic can grow without that file's size limit."""

from __future__ import annotations

import operator
from typing import Any

__all__ = ["Size"]


def _as_dims(items: tuple, op: str, offset: int = 0) -> tuple[int, ...]:
    """The items as ints (0-d integer tensors included, as PyTorch's ``Size`` takes them)."""
    if all(type(v) is int for v in items):  # the usual case: no conversion
        return items
    out = []
    for i, v in enumerate(items):
        try:
            out.append(operator.index(v))
        except TypeError:
            raise TypeError(
                f"Size {op}: every size must be an int, got {type(v).__name__} at position {offset + i}"
            ) from None
    return tuple(out)


class Size(tuple):
    """A tensor's shape: a tuple of ints with PyTorch's ``numel()`` (``torch.Size``).

    Slicing, ``+`` with a tuple (either side) and ``*`` by an int give a ``Size`` again, so
    ``t.size() + (n,)`` is a shape (``FloatTensor(t.size() + (n,))`` makes a tensor of that shape).

    >>> import glassgrad as gg
    >>> gg.zeros(2, 3).shape
    glassgrad.Size([2, 3])
    >>> print(gg.zeros(2, 3).shape), gg.zeros(2, 3).size() == (2, 3), gg.zeros(2, 3).shape.numel()
    (2, 3)
    (None, True, 6)
    >>> gg.zeros(2, 3).shape + (4,), (1,) + gg.zeros(2).shape
    (glassgrad.Size([2, 3, 4]), glassgrad.Size([1, 2]))
    """

    __slots__ = ()

    def __new__(cls, sizes: Any = ()) -> Size:
        # A user's Size([2.5]) is refused here; tensors build theirs through ``_of`` unchecked.
        return tuple.__new__(cls, _as_dims(tuple(sizes), "()"))

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, key: Any) -> Any:
        out = tuple.__getitem__(self, key)
        return Size(out) if isinstance(key, slice) else out

    def __add__(self, other: Any) -> Any:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple(self) + _as_dims(other, "+", len(self)))

    def __radd__(self, other: Any) -> Any:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(_as_dims(other, "+") + tuple(self))

    def __mul__(self, n: Any) -> Any:
        out = tuple.__mul__(self, n)
        return out if out is NotImplemented else Size(out)

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"glassgrad.Size({list(self)})"

    def __str__(self) -> str:
        return tuple.__repr__(self)  # "(2, 3)" in messages and f-strings; repr() names the type
