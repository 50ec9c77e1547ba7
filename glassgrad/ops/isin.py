"""``isin``: which entries of ``elements`` appear in ``test_elements`` (port round 26: Llama 3's
``generate`` stops a row when ``torch.isin(next_token, stop_tokens)``). Not differentiable: a bool
result, as PyTorch's."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.backend import array_module
from glassgrad.errors import DTypeError
from glassgrad.ops.composite import with_out
from glassgrad.tensor import Tensor

__all__ = ["isin"]


def isin(
    elements: Any = None,
    test_elements: Any = None,
    *,
    element: Any = None,
    test_element: Any = None,
    assume_unique: bool = False,
    invert: bool = False,
    out: Any = None,
) -> Tensor:
    """``True`` where an entry of ``elements`` equals some entry of ``test_elements`` (``invert``: where
    it equals none). Either argument may be a number, not both. Values compare after type promotion
    (``1`` is in ``[1.0]``), and NaN is in nothing, as PyTorch's. ``assume_unique`` is a speed hint.

    Shape:
        elements: any shape (a number: 0-dim); test_elements: any shape, read flattened;
        returns elements' shape, bool.
    """
    # element= / test_element=: PyTorch's keyword names for a number in either place
    elements = element if elements is None else elements
    test_elements = test_element if test_elements is None else test_elements
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError(
            "isin: expected elements or test_elements to be a Tensor, got "
            f"{type(elements).__name__} and {type(test_elements).__name__}"
        )
    like = elements if isinstance(elements, Tensor) else test_elements
    xp = array_module(like._data)
    a = elements._data if isinstance(elements, Tensor) else xp.asarray(elements)
    b = test_elements._data if isinstance(test_elements, Tensor) else xp.asarray(test_elements)
    for d in (a.dtype, b.dtype):
        if d.kind in "bc":  # PyTorch's RuntimeError; NumPy would match bools and complex numbers
            raise DTypeError(
                f"isin: Unsupported input type encountered for isin(): {d} (bool and complex are refused)"
            )
    # a sort-based membership test: O((n + m) log m), and NaN != NaN as IEEE (np.isin matches NaN)
    values = xp.sort(b.reshape(-1))
    if values.size == 0:
        found = xp.zeros(a.shape, dtype=bool)
    else:
        at = xp.clip(xp.searchsorted(values, a), 0, values.size - 1)
        found = values[at] == a
    result = Tensor(xp.asarray(xp.logical_not(found) if invert else found, dtype=np.bool_), _wrap=True)
    return result if out is None else with_out(result, out, "isin")
