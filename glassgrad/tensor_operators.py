"""``Tensor``'s Python operators (``+``, ``@``, ``<``, ``&``, ``t[i]`` ...), each one line over an op,
attached to the class when ``tensor.py`` finishes loading.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.errors import IndexOutOfRangeError
from glassgrad.meta_array import seen as _meta_seen
from glassgrad.ops import (
    compare,
    composite,
    elementwise,
    indexing,
    math_more,
    matmul,
    unary,
)
from glassgrad.tensor import Tensor, attach

__all__: list[str] = []

#: Operands every binary operator takes as they are; any other object is looked at by ``_foreign``
_TAKEN = (float, int, Tensor, complex, np.generic, np.ndarray, list, tuple)


def _foreign(other: Any) -> bool:
    """Whether an operator declines ``other`` (returns ``NotImplemented``), as PyTorch's do: an object
    that is neither a tensor, a number, a NumPy value nor array-like (``None``, a string, a
    ``Fraction``, ``pytest.approx(...)``). Python then tries ``other``'s reflected operator
    (``t == pytest.approx(0.64)`` compares as approx says), else ``==`` is False and ``+`` a TypeError."""
    return not hasattr(other, "__array__")


#: Operands ``*`` declines, so that Python repeats the sequence (a constant: ``list | tuple`` is
#: rebuilt on every call, which costs more than the test on ``t * x``'s hot path)
_SEQUENCES = (list, tuple)


class _Operators:
    def __add__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return elementwise.add(self, other)

    def __radd__(self, other: Any) -> Tensor:  # self first, as PyTorch records ``2 + t``
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return elementwise.add(self, other)

    def __sub__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return elementwise.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return elementwise.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        if isinstance(other, _SEQUENCES):
            return NotImplemented  # Python then repeats the sequence (``t * [0]``), as PyTorch does
        return elementwise.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:  # self first, as PyTorch records ``2 * t``
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        if isinstance(other, _SEQUENCES):
            # ``[0] * (T - 1)`` with a one-element integer T: a list repeated T - 1 times, as PyTorch
            return NotImplemented
        return elementwise.mul(self, other)

    def __truediv__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return elementwise.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return elementwise.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return elementwise.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return elementwise.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return matmul.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return matmul.matmul(other, self)

    def __neg__(self) -> Tensor:
        return elementwise.neg(self)

    def __pos__(self) -> Tensor:
        return composite.positive(self)  # self, but a bool tensor raises, as PyTorch

    def __abs__(self) -> Tensor:
        return unary.abs(self)

    def __floordiv__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return compare.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return compare.floor_divide(other, self)

    def __mod__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return compare.remainder(self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented  # Python then compares identities: t == None is False, as in PyTorch
        return compare.eq(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return compare.ne(self, other)

    def __lt__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return compare.lt(self, other)

    def __le__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return compare.le(self, other)

    def __gt__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return compare.gt(self, other)

    def __ge__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return compare.ge(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return compare.remainder(other, self)

    def __and__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return compare.bitwise_and(self, other)

    def __rand__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return compare.bitwise_and(other, self)

    def __or__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return compare.bitwise_or(self, other)

    def __ror__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return compare.bitwise_or(other, self)

    def __xor__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return compare.bitwise_xor(self, other)

    def __rxor__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return compare.bitwise_xor(other, self)

    def __invert__(self) -> Tensor:
        return compare.bitwise_not(self)

    def __lshift__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return math_more.bitwise_left_shift(self, other)

    def __rlshift__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return math_more.bitwise_left_shift(other, self)

    def __rshift__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return math_more.bitwise_right_shift(self, other)

    def __rrshift__(self, other: Any) -> Tensor:
        if other.__class__ is not Tensor and not isinstance(other, _TAKEN) and _foreign(other):
            return NotImplemented
        return math_more.bitwise_right_shift(other, self)

    def __ilshift__(self, other: Any) -> Tensor:
        return self._update("__ilshift__", math_more.bitwise_left_shift, other)

    def __irshift__(self, other: Any) -> Tensor:
        return self._update("__irshift__", math_more.bitwise_right_shift, other)

    def __getitem__(self, key: Any) -> Tensor:
        if _meta_seen[0]:  # one truth test until a meta tensor has ever been made
            check_meta_key(self, key)
        try:
            return indexing.getitem(self, key)
        except IndexOutOfRangeError as e:
            if self.ndim != 0:
                raise
            # old scripts read a loss as `loss.data[0]` (PyTorch < 0.4): say what to write instead
            raise IndexOutOfRangeError(
                f"{e}; a 0-dim tensor has no index: use tensor.item() for its number"
            ) from None


attach(_Operators)

from glassgrad.meta import check_meta_key  # noqa: E402 - meta.py imports Tensor
