"""``glassgrad.testing._comparison``: the tolerance helpers of PyTorch's private
``torch.testing._comparison`` that libraries' test helpers import (torchopt's ``helpers.py``:
``from torch.testing._comparison import get_tolerances``, to scale ``assert_close``'s defaults).

>>> import glassgrad as gg
>>> from glassgrad.testing._comparison import get_tolerances
>>> get_tolerances(gg.float32, gg.ones(2, dtype=gg.float64), rtol=None, atol=None)
(1.3e-06, 1e-05)
"""

from __future__ import annotations

from typing import Any

from glassgrad import dtypes
from glassgrad.tensor import Tensor

__all__ = ["default_tolerances", "get_tolerances"]


def default_tolerances(*inputs: Any, dtype_precisions: dict | None = None) -> tuple[float, float]:
    """``(rtol, atol)``: the loosest of ``assert_close``'s default tolerances over the dtypes of
    ``inputs`` (tensors or dtypes); ``(0.0, 0.0)`` for integers and booleans."""
    from glassgrad.testing import _TOLERANCES

    found = []
    for x in inputs:
        if isinstance(x, Tensor):
            found.append(x.dtype)
        elif isinstance(x, dtypes.DType):
            found.append(x)
        else:
            raise TypeError(f"Expected a torch.Tensor or a torch.dtype, but got {type(x)} instead.")
    if dtype_precisions is not None:
        pairs = [dtype_precisions.get(d, (0.0, 0.0)) for d in found]
    else:
        pairs = [_TOLERANCES.get(str(d).rpartition(".")[2], (0.0, 0.0)) for d in found]
    if not pairs:
        raise ValueError("default_tolerances: expected at least one tensor or dtype, got none")
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def get_tolerances(
    *inputs: Any,
    rtol: float | None,
    atol: float | None,
    id: tuple = (),  # noqa: A002
) -> tuple[float, float]:
    """``(rtol, atol)`` as given, or both from ``default_tolerances(*inputs)`` when both are
    None; giving only one of them is a ``ValueError``, as PyTorch's."""
    if (rtol is None) != (atol is None):
        missing = "rtol" if rtol is None else "atol"
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no {missing}.")
    if rtol is not None:
        return rtol, atol
    return default_tolerances(*inputs)
