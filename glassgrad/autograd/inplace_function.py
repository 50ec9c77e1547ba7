"""PyTorch's legacy ``torch.autograd.function.InplaceFunction``: a :class:`Function` whose instance
carries an ``inplace`` flag. PyTorch keeps it for old code (stanza's constituency parser subclasses
it for its feature dropout); a subclass is used as any Function, through ``apply``."""

from __future__ import annotations

from glassgrad.autograd.custom import Function

__all__ = ["InplaceFunction"]


class InplaceFunction(Function):
    """A :class:`Function` built with ``InplaceFunction(inplace=False)`` keeps ``self.inplace``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace
