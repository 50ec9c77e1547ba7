"""``Variable``: PyTorch's pre-0.4 wrapper, long merged into Tensor. Old tutorials still write
``Variable(x, requires_grad=True)``; here, as in PyTorch today, it returns a tensor: a detached alias
of ``data`` (same storage, its own ``requires_grad``), so ``data`` itself is left as it was.

>>> import glassgrad as gg
>>> from glassgrad.autograd import Variable
>>> x = gg.tensor([1.0, 2.0])
>>> v = Variable(x, requires_grad=True)
>>> isinstance(v, gg.Tensor), v.requires_grad, x.requires_grad, isinstance(x, Variable)
(True, True, False, True)
"""

from __future__ import annotations

import warnings
from typing import Any

from glassgrad.autograd.function import _tensor_cls
from glassgrad.user_frames import user_stacklevel

__all__ = ["Variable"]


class _VariableMeta(type):
    # PyTorch's Variable answers isinstance for every tensor (legacy `isinstance(x, Variable)` checks)
    def __instancecheck__(cls, other: Any) -> bool:
        return isinstance(other, _tensor_cls[0])


class Variable(metaclass=_VariableMeta):
    """PyTorch's legacy ``Variable(data, requires_grad=False)``: builds a plain tensor."""

    def __new__(cls, data: Any = None, requires_grad: bool = False, volatile: bool = False) -> Any:
        """``data.detach()`` with ``requires_grad`` as given (PyTorch's legacy constructor);
        ``Variable()`` is an empty float tensor."""
        if volatile:
            warnings.warn(
                "volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        if data is None:
            data = _tensor_cls[0]([])
        if not isinstance(data, _tensor_cls[0]):
            kind = type(data)
            name = (
                kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
            )
            raise TypeError(f"Variable data has to be a tensor, but got {name}")
        t = data.detach()
        t.requires_grad_(requires_grad)
        return t
