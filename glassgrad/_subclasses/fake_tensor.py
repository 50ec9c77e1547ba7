"""``torch._subclasses.fake_tensor``: the names exist so that code importing them imports; making
a ``FakeTensorMode``, a ``FakeTensorConverter`` or a ``FakeTensor`` raises ``NotImplementedError``,
saying why: a fake tensor is a ``__torch_dispatch__`` subclass, and glassgrad has no dispatcher
(design.md's differences). Tensors with a shape and a dtype but no data are the meta device's
(``device="meta"``, ``Tensor.to("meta")``).
"""

from __future__ import annotations

from typing import Any

from glassgrad.tensor import Tensor
from glassgrad.torch_function import _disabled_torch_function_impl

__all__ = ["FakeTensor", "FakeTensorConverter", "FakeTensorMode", "UnsupportedFakeTensorException"]


def _refuse(what: str) -> NotImplementedError:
    return NotImplementedError(
        f"_subclasses.fake_tensor.{what}: glassgrad has no fake tensors (they need __torch_dispatch__, "
        "which glassgrad does not have); for tensors with a shape and a dtype but no data use the "
        "meta device (device='meta' or tensor.to('meta'))"
    )


class UnsupportedFakeTensorException(RuntimeError):  # noqa: N818 - PyTorch's name
    """PyTorch's error for an operator a fake tensor cannot run (never raised by glassgrad)."""


class FakeTensor(Tensor):
    """Not available: making one raises ``NotImplementedError`` (see the module's docstring)."""

    # PyTorch's FakeTensor does not take part in __torch_function__ either; taking part would
    # switch the protocol on for every program once `import torch` loads this module (round 56)
    __torch_function__ = _disabled_torch_function_impl

    def __new__(cls, *args: Any, **kwargs: Any) -> FakeTensor:
        raise _refuse("FakeTensor")


class FakeTensorMode:
    """Not available: making one raises ``NotImplementedError`` (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise _refuse("FakeTensorMode()")


class FakeTensorConverter:
    """Not available: making one raises ``NotImplementedError`` (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise _refuse("FakeTensorConverter()")
