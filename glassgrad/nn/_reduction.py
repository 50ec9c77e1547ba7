"""``torch.nn._reduction`` (also ``F._Reduction`` and ``nn.modules.loss._Reduction``): the
reduction names as PyTorch's ATen enum (``'none'`` 0, ``'mean'`` 1, ``'sum'`` 2) and the deprecated
``size_average``/``reduce`` pair read as a reduction name. Loss code written against PyTorch's
internals calls them (BasicSR's ``reduce_loss``: ``F._Reduction.get_enum(reduction)``).

>>> import glassgrad.nn.functional as F
>>> F._Reduction.get_enum("sum"), F._Reduction.legacy_get_string(None, False, emit_warning=False)
(2, 'none')
"""

from __future__ import annotations

import warnings

from glassgrad.user_frames import user_stacklevel

__all__ = ["get_enum", "legacy_get_string", "legacy_get_enum"]

_ENUM = {"none": 0, "mean": 1, "sum": 2}


def get_enum(reduction: str) -> int:
    """0, 1 or 2 for ``'none'``, ``'mean'``, ``'sum'`` (the deprecated ``'elementwise_mean'`` is 1,
    with PyTorch's warning); any other value raises PyTorch's ``ValueError``."""
    if reduction == "elementwise_mean":
        warnings.warn(
            "reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
        return 1
    if not isinstance(reduction, str) or reduction not in _ENUM:
        raise ValueError(f"{reduction} is not a valid value for reduction (expected 'none', 'mean' or 'sum')")
    return _ENUM[reduction]


def legacy_get_string(size_average: bool | None, reduce: bool | None, emit_warning: bool = True) -> str:
    """The reduction PyTorch reads from the deprecated pair (None counts as True): both true is
    ``'mean'``, ``reduce`` alone ``'sum'``, no ``reduce`` ``'none'``; warns unless ``emit_warning``
    is False."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else ("sum" if reduce else "none")
    if emit_warning:
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    return ret


def legacy_get_enum(size_average: bool | None, reduce: bool | None, emit_warning: bool = True) -> int:
    """``get_enum(legacy_get_string(...))``."""
    return get_enum(legacy_get_string(size_average, reduce, emit_warning))
