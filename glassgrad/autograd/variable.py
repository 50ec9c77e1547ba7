"""``Variable``: PyTorch's pre-0.4 wrapper, long merged into Tensor. Old tutorials still write
``Variable(x, requires_grad=True)``; here, as in PyTorch today, it returns a tensor.

>>> import glassgrad as gg
>>> from glassgrad.autograd import Variable
>>> v = Variable(gg.tensor([1.0, 2.0]), requires_grad=True)
>>> isinstance(v, gg.Tensor), v.requires_grad
(True, True)
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import _tensor_cls

__all__ = ["Variable"]


def Variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Any:  # noqa: N802
    """``data`` as a tensor (the same object when it already is one), requiring grad if asked."""
    tensor_cls = _tensor_cls[0]
    t = data if isinstance(data, tensor_cls) else tensor_cls(data)
    if requires_grad:
        t.requires_grad_(True)
    return t
