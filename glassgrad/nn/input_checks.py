"""When a module's own input checks apply.

glassgrad's layers check their input's shape and dtype in Python before the functional runs, so a
mistake is named after the layer (``Linear(in_features=3, ...): expected input (..., 3)``).
PyTorch's layers mostly leave that to their C++ kernels, so an object that stands in for a tensor
(an fx ``Proxy`` while a layer is the traced root, linear_operator's ``LinearOperator``) reaches
the functional, whose ``__torch_function__`` takes it over. Such an object has no concrete shape
to check: asking a ``Proxy`` for one as a bool raises ``TraceError``. The checks therefore apply
to everything but these stand-ins.
"""

from __future__ import annotations

from typing import Any

from glassgrad.tensor import Tensor

__all__ = ["checkable"]


def checkable(*inputs: Any) -> bool:
    """Whether the layer's checks apply: no input is a non-Tensor object whose type implements
    ``__torch_function__`` (those are handed to the functional unchecked)."""
    return not any(not isinstance(x, Tensor) and hasattr(type(x), "__torch_function__") for x in inputs)
