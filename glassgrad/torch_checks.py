"""``torch._check`` and its family: the Python forms of PyTorch's ``TORCH_CHECK`` macros, which
library code calls to state a condition (detectron2's ``ImageList.from_tensors`` and its Caffe2
export, torchvision's and transformers' shape checks under ``torch.compile``).

Each takes a Python ``bool`` (or a ``SymBool``) and an optional callable returning the message;
a false condition raises the family member's exception class with that message, or PyTorch's
default sentence. A tensor condition is refused with PyTorch's ``TypeError`` (use
``_check_tensor_all``), as is a message that is no callable.

>>> import glassgrad as gg
>>> gg._check(2 > 1)
>>> try:
...     gg._check_index(False, lambda: "index 5 is out of bounds")
... except IndexError as e:
...     print(e)
index 5 is out of bounds
"""

from __future__ import annotations

import builtins
import warnings
from typing import Any, Callable

from glassgrad.sym_types import SymBool
from glassgrad.tensor import Tensor

__all__ = [
    "_check",
    "_check_index",
    "_check_is_size",
    "_check_not_implemented",
    "_check_tensor_all",
    "_check_tensor_all_with",
    "_check_type",
    "_check_value",
    "_check_with",
]

_DEFAULT = (
    "Expected cond to be True, but got False. (Could this error message be improved? If so, "
    "please report an enhancement request to PyTorch.)"
)


def _check_with(error_type: type, cond: Any, message: Callable[[], Any] | None) -> None:
    """Raise ``error_type(message())`` (or PyTorch's default sentence) when ``cond`` is False.
    ``cond`` must be a Python bool or a SymBool, ``error_type`` an Exception class that is not a
    Warning, and ``message`` a callable or None (required here, as in PyTorch's signature), each
    refused as PyTorch 2.13 refuses it."""
    if not isinstance(cond, builtins.bool | SymBool):
        if isinstance(cond, Tensor):
            raise TypeError(
                "cond must be a bool, but got a Tensor. For tensor conditions, use "
                "torch._check_tensor_all() to assert that all elements are true."
            )
        raise TypeError(f"cond must be a bool, but got {type(cond)}")
    if bool(cond):
        return
    if not (isinstance(error_type, type) and issubclass(error_type, Exception)) or issubclass(
        error_type, Warning
    ):
        raise AssertionError(f"error_type must be a subclass of Exception but not Warning, got {error_type}")
    if message is None:
        raise error_type(_DEFAULT)
    if not callable(message):
        raise TypeError("message must be a callable")
    raise error_type(str(message()))


def _check(cond: Any, message: Callable[[], Any] | None = None) -> None:
    """``TORCH_CHECK``: a ``RuntimeError`` when ``cond`` is False."""
    _check_with(RuntimeError, cond, message)


def _check_index(cond: Any, message: Callable[[], Any] | None = None) -> None:
    """``TORCH_CHECK_INDEX``: an ``IndexError`` when ``cond`` is False."""
    _check_with(IndexError, cond, message)


def _check_value(cond: Any, message: Callable[[], Any] | None = None) -> None:
    """``TORCH_CHECK_VALUE``: a ``ValueError`` when ``cond`` is False."""
    _check_with(ValueError, cond, message)


def _check_type(cond: Any, message: Callable[[], Any] | None = None) -> None:
    """``TORCH_CHECK_TYPE``: a ``TypeError`` when ``cond`` is False."""
    _check_with(TypeError, cond, message)


def _check_not_implemented(cond: Any, message: Callable[[], Any] | None = None) -> None:
    """``TORCH_CHECK_NOT_IMPLEMENTED``: a ``NotImplementedError`` when ``cond`` is False."""
    _check_with(NotImplementedError, cond, message)


def _check_is_size(i: Any, message: Callable[[], Any] | None = None, *, max: Any = None) -> None:  # noqa: A002 - PyTorch's keyword
    """``i >= 0`` (and ``i <= max`` when given) as :func:`_check`; deprecated in PyTorch 2.13 with
    its ``FutureWarning``. Nothing is symbolic here, so there is no size hint to record."""
    warnings.warn(
        "_check_is_size will be removed in a future PyTorch release along with "
        "guard_size_oblivious.     Use _check(i >= 0) instead.",
        FutureWarning,
        stacklevel=2,
    )
    _check(i >= 0, message)
    if max is not None:
        _check(i <= max, message)


def _check_tensor_all_with(error_type: type, cond: Any, message: Callable[[], Any] | None = None) -> None:
    """:func:`_check_with` of "every element of the bool tensor ``cond`` is True"."""
    if not isinstance(cond, Tensor):
        raise TypeError(f"cond must be a tensor, but got {type(cond)}")
    import glassgrad

    if cond.dtype != glassgrad.bool:
        raise TypeError(f"cond tensor must have dtype torch.bool, but got {cond.dtype}")
    _check_with(error_type, builtins.bool(cond.all().item()), message)


def _check_tensor_all(cond: Any, message: Callable[[], Any] | None = None) -> None:
    """``TORCH_CHECK_TENSOR_ALL``: a ``RuntimeError`` unless every element of ``cond`` is True."""
    _check_tensor_all_with(RuntimeError, cond, message)
