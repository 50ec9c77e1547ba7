"""``torch._dynamo._trace_wrapped_higher_order_op``: the one name programs import from it,
``TransformGetItemToIndex`` (transformers' ``masking_utils`` builds its attention masks under it).

PyTorch's is a ``TorchFunctionMode`` that turns ``A[q_idx]`` with 0-d index tensors into an
``index`` call instead of a view at ``q_idx.item()``, so that ``vmap`` and Dynamo can trace it.
glassgrad's indexing by 0-d integer tensors already gives those values, under ``vmap`` too, so
this is a context manager that changes nothing; it is not a mode, since entering a mode would
switch the ``__torch_function__`` protocol on for the rest of the process (design.md).

>>> import glassgrad as gg
>>> a = gg.arange(6).reshape(2, 3)
>>> with TransformGetItemToIndex():
...     a[gg.tensor(1), gg.tensor(2)].item()
5
"""

from __future__ import annotations

from typing import Any

__all__ = ["TransformGetItemToIndex"]


class TransformGetItemToIndex:
    """Index with 0-d integer tensors as ``index`` does: what glassgrad's indexing does already."""

    def __enter__(self) -> TransformGetItemToIndex:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None
