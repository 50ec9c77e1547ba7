"""``Tensor``'s Python operators (``+``, ``@``, ``<``, ``&``, ``t[i]`` ...), each one line over an op,
attached to the class when ``tensor.py`` finishes loading.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import torch_function_foreign
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

#: Operands every binary operator but ``==``/``!=`` declines, as PyTorch's do (a constant: a tuple
#: written in the test is rebuilt on every call, which costs more than the test on ``t * x``'s hot
#: path). Python then repeats the sequence for ``t * [0]`` and raises "unsupported operand type(s)"
#: for ``t + [1]``; the functions (``t.add([1])``, ``torch.eq(t, (1, 2))``) still read a sequence
#: as a tensor. An ndarray goes to NumPy: ``t + a`` runs ``a.__radd__``, which computes with NumPy's
#: dtype rules (a float32 tensor times an int64 or a 0-d float64 array is float64) and hands back a
#: tensor outside any graph (``__array_wrap__``; one that requires grad raises, as ``numpy()``);
#: ``a + t`` and ``t < a`` raise "unsupported operand"; ``t += a`` rebinds ``t`` to that new tensor,
#: leaving the old memory unchanged. ``t == [1, 2]`` compares identities (False: Avalanche's tests
#: compare ``argsort()`` results with lists); ``t == a`` compares the elements.
_DECLINED = (list, tuple, np.ndarray)

#: What an operator takes as its other operand; anything else it declines when the op cannot
#: take it (a ``TypeError``, ``_FAILED``): the operator returns ``NotImplemented``, as PyTorch's, so that Python
#: tries the other operand's reflected method (``tensor + metric`` runs torchmetrics'
#: ``Metric.__radd__``), or raises "unsupported operand type(s)"; ``t == object()`` is False.
_OPERANDS = (Tensor, int, float, complex, np.ndarray, np.generic, list, tuple)


#: What an operator's failure on a declined operand may be: a ``TypeError``, or a ``ValueError``
#: when the operand iterates like a sequence of tensors (curvlinops' block-diagonal operator, whose
#: ``__rmatmul__`` then runs: PyTorch declines every operand that is not a tensor or a number)
_FAILED = (TypeError, ValueError)


def declined(other: Any) -> bool:
    """Whether a binary operator that failed with a ``TypeError`` on ``other`` should return
    ``NotImplemented`` (``other`` is not a tensor, number, array or sequence) rather than raise."""
    return not isinstance(other, _OPERANDS)


def _decline(other: Any, this: Any = None, dunder: str = "") -> Any:
    """In operator ``dunder``'s ``except _FAILED``: ``NotImplemented`` for a declined operand, else
    the error being handled, raised again (a bare ``raise`` re-raises it from here too). A declined
    operand whose type implements ``__torch_function__`` (not asked while the protocol is off)
    switches it on, and the operator runs again asking it, as PyTorch's would have first."""
    if declined(other):
        if dunder and torch_function_foreign.switched_on_for(other):
            return getattr(Tensor, dunder)(this, other)
        return NotImplemented
    raise  # (called only while handling the operator's TypeError)


class _Operators:
    def __add__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return elementwise.add(self, other)
        except _FAILED:
            return _decline(other, self, "__add__")

    def __radd__(self, other: Any) -> Tensor:  # self first, as PyTorch records ``2 + t``
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return elementwise.add(self, other)
        except _FAILED:
            return _decline(other, self, "__radd__")

    def __sub__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return elementwise.sub(self, other)
        except _FAILED:
            return _decline(other, self, "__sub__")

    def __rsub__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return elementwise.sub(other, self)
        except _FAILED:
            return _decline(other, self, "__rsub__")

    def __mul__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented  # Python then repeats the sequence (``t * [0]``), as PyTorch does
        try:
            return elementwise.mul(self, other)
        except _FAILED:
            return _decline(other, self, "__mul__")

    def __rmul__(self, other: Any) -> Tensor:  # self first, as PyTorch records ``2 * t``
        if isinstance(other, _DECLINED):
            # ``[0] * (T - 1)`` with a one-element integer T: a list repeated T - 1 times, as PyTorch
            return NotImplemented
        try:
            return elementwise.mul(self, other)
        except _FAILED:
            return _decline(other, self, "__rmul__")

    def __truediv__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return elementwise.div(self, other)
        except _FAILED:
            return _decline(other, self, "__truediv__")

    def __rtruediv__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            if not isinstance(other, np.ndarray):
                return NotImplemented
            # PyTorch's ``a / t`` is ``t.reciprocal() * a``, whose ``*`` declines the array: NumPy's
            # ``a.__rmul__`` computes it (float64 for a float64 array, rounded twice)
            return composite.reciprocal(self) * other
        try:
            # PyTorch's ``number / t`` is ``t.reciprocal() * number`` (``Tensor.__rdiv__``): two
            # roundings, not a division (7.3 / t was an ulp off on a quarter of its elements), and
            # a MulBackward0 over a ReciprocalBackward0 in the graph
            return elementwise.mul(composite.reciprocal(self), other)
        except _FAILED:
            return _decline(other, self, "__rtruediv__")

    def reciprocal(self) -> Tensor:
        # torch.reciprocal's op, which saves its result (a division saved self: changing the
        # result in place computed here and raised in PyTorch, changing self the other way)
        return composite.reciprocal(self)

    def __pow__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return elementwise.pow(self, other)
        except _FAILED:
            return _decline(other, self, "__pow__")

    def __rpow__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return elementwise.pow(other, self)
        except _FAILED:
            return _decline(other, self, "__rpow__")

    def __matmul__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return matmul.matmul(self, other)
        except _FAILED:
            return _decline(other, self, "__matmul__")

    def __rmatmul__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return matmul.matmul(other, self)
        except _FAILED:
            return _decline(other, self, "__rmatmul__")

    def __neg__(self) -> Tensor:
        return elementwise.neg(self)

    def __pos__(self) -> Tensor:
        return composite.positive(self)  # self, but a bool tensor raises, as PyTorch

    def __abs__(self) -> Tensor:
        return unary.abs(self)

    def __floordiv__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return compare.floor_divide(self, other)
        except _FAILED:
            return _decline(other, self, "__floordiv__")

    def __rfloordiv__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return compare.floor_divide(other, self)
        except _FAILED:
            return _decline(other, self, "__rfloordiv__")

    def __mod__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return compare.remainder(self, other)
        except _FAILED:
            return _decline(other, self, "__mod__")

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        if other is None or isinstance(other, (str, list, tuple)):
            return NotImplemented  # Python then compares identities: t == None is False, as in PyTorch
        try:
            return compare.eq(self, other)
        except _FAILED:
            return _decline(other, self, "__eq__")

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        if other is None or isinstance(other, (str, list, tuple)):
            return NotImplemented
        try:
            return compare.ne(self, other)
        except _FAILED:
            return _decline(other, self, "__ne__")

    def __lt__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return compare.lt(self, other)
        except _FAILED:
            return _decline(other, self, "__lt__")

    def __le__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return compare.le(self, other)
        except _FAILED:
            return _decline(other, self, "__le__")

    def __gt__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return compare.gt(self, other)
        except _FAILED:
            return _decline(other, self, "__gt__")

    def __ge__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return compare.ge(self, other)
        except _FAILED:
            return _decline(other, self, "__ge__")

    def __rmod__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return compare.remainder(other, self)
        except _FAILED:
            return _decline(other, self, "__rmod__")

    def __and__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return compare.bitwise_and(self, other)
        except _FAILED:
            return _decline(other, self, "__and__")

    def __rand__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return compare.bitwise_and(other, self)
        except _FAILED:
            return _decline(other, self, "__rand__")

    def __or__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return compare.bitwise_or(self, other)
        except _FAILED:
            return _decline(other, self, "__or__")

    def __ror__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return compare.bitwise_or(other, self)
        except _FAILED:
            return _decline(other, self, "__ror__")

    def __xor__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return compare.bitwise_xor(self, other)
        except _FAILED:
            return _decline(other, self, "__xor__")

    def __rxor__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return compare.bitwise_xor(other, self)
        except _FAILED:
            return _decline(other, self, "__rxor__")

    def __invert__(self) -> Tensor:
        return compare.bitwise_not(self)

    def __lshift__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return math_more.bitwise_left_shift(self, other)
        except _FAILED:
            return _decline(other, self, "__lshift__")

    def __rlshift__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return math_more.bitwise_left_shift(other, self)
        except _FAILED:
            return _decline(other, self, "__rlshift__")

    def __rshift__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return math_more.bitwise_right_shift(self, other)
        except _FAILED:
            return _decline(other, self, "__rshift__")

    def __rrshift__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return math_more.bitwise_right_shift(other, self)
        except _FAILED:
            return _decline(other, self, "__rrshift__")

    def __ilshift__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return self._update("__ilshift__", math_more.bitwise_left_shift, other)
        except _FAILED:
            return _decline(other, self, "__ilshift__")

    def __irshift__(self, other: Any) -> Tensor:
        if isinstance(other, _DECLINED):
            return NotImplemented
        try:
            return self._update("__irshift__", math_more.bitwise_right_shift, other)
        except _FAILED:
            return _decline(other, self, "__irshift__")

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
                f"{e}; invalid index of a 0-dim tensor: use tensor.item() for its number"
            ) from None

    def __delitem__(self, key: Any) -> None:
        # Python's default is AttributeError: __delitem__; PyTorch's TypeError says what is wrong
        raise TypeError(f"Tensor does not support deleting items, got del x[{key!r}]")


attach(_Operators)
# Python 2's names, which PyTorch keeps as aliases (its OpInfo database and older code call
# ``Tensor.__rdiv__``): the same functions, so results, graphs and declined operands are the same
Tensor.__div__ = Tensor.__truediv__
Tensor.__rdiv__ = Tensor.__rtruediv__

from glassgrad.meta import check_meta_key  # noqa: E402 - meta.py imports Tensor
