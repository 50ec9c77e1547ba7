"""``glassgrad.testing._comparison``: the tolerance helpers, mismatch messages and value comparison
of PyTorch's private ``torch.testing._comparison``, which ``assert_close`` is built on and which
libraries' test helpers import (torchopt's ``helpers.py``: ``from torch.testing._comparison import
get_tolerances``, to scale ``assert_close``'s defaults).

>>> import glassgrad as gg
>>> from glassgrad.testing._comparison import get_tolerances
>>> get_tolerances(gg.float32, gg.ones(2, dtype=gg.float64), rtol=None, atol=None)
(1.3e-06, 1e-05)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.errors import ArgumentError
from glassgrad.ops.closeness import isclose_array
from glassgrad.tensor import Tensor

__all__ = [
    "ErrorMeta", "compare_regular_values", "default_tolerances", "get_tolerances", "make_scalar_mismatch_msg",
    "make_tensor_mismatch_msg",
]  # fmt: skip


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


class ErrorMeta(Exception):  # noqa: N818 - PyTorch's name (torch.testing._comparison.ErrorMeta)
    """A failed comparison, carried to ``assert_close``'s top: ``type`` is the exception class to
    raise, ``msg`` the text, ``id`` the path of keys and indices to the failing item (as PyTorch's)."""

    def __init__(self, type: type, msg: str, *, id: tuple = ()) -> None:  # noqa: A002
        super().__init__(msg)
        self.type, self.msg, self.id = type, msg, id

    def to_error(self, msg: Any = None) -> Exception:
        """The exception to raise: ``msg`` replaces the text, or (callable) maps it; the item path
        is appended to the generated text only."""
        if isinstance(msg, str):
            return self.type(msg)
        text = self.msg
        if self.id:
            text += f"\n\nThe failure occurred for item {''.join(str([item]) for item in self.id)}"
        return self.type(msg(text) if callable(msg) else text)


def _mismatch_msg(identifier: str, extra: str | None, diffs: tuple, rtol: Any, atol: Any) -> str:
    """PyTorch's layout: a header, ``extra``, then the absolute and relative differences, each with
    its index where given and its allowance unless both tolerances are zero."""
    equality = rtol == 0 and atol == 0
    lines = [f"{identifier} are not {'equal' if equality else 'close'}!", ""]
    if extra:
        lines.append(extra.strip())
    for kind, (diff, idx), tol in zip(("absolute", "relative"), diffs, (atol, rtol), strict=True):
        line = (
            f"{kind.title()} difference: {diff}"
            if idx is None
            else f"Greatest {kind} difference: {diff} at index {idx}"
        )
        lines.append(line if equality else f"{line} (up to {tol} allowed)")
    return "\n".join(lines).strip()


def make_scalar_mismatch_msg(
    actual: Any, expected: Any, *, rtol: Any, atol: Any, identifier: str | None = None
) -> str:
    """The message for two numbers that are not close (differences as Python numbers)."""
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    extra = f"Expected {expected} but got {actual}."
    return _mismatch_msg(identifier or "Scalars", extra, ((abs_diff, None), (rel_diff, None)), rtol, atol)


def make_tensor_mismatch_msg(
    actual: np.ndarray,
    expected: np.ndarray,
    matches: np.ndarray,
    *,
    rtol: Any,
    atol: Any,
    identifier: str | None = None,
) -> str:
    """The message for two arrays of one shape and dtype: mismatch count, greatest absolute and
    relative differences over the mismatched elements (integers differ as int64 and divide in the
    default float dtype, as PyTorch's; the first NaN wins, as its ``max``)."""
    total, bad = matches.size, int(matches.size - matches.sum())
    extra = f"Mismatched elements: {bad} / {total} ({bad / total:.1%})"
    a, e = actual.reshape(-1), expected.reshape(-1)
    if a.dtype.kind not in "fc":
        a, e = a.astype(np.int64), e.astype(np.int64)
    flat = matches.reshape(-1)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        abs_diff = np.abs(a - e)
        abs_diff[flat] = 0
        ratio = abs_diff, np.abs(e)
        if a.dtype.kind == "i":  # int64 / int64: a true division in the default float dtype
            ratio = tuple(v.astype(dtypes.get_default_dtype().np) for v in ratio)
        rel_diff = ratio[0] / ratio[1]
        rel_diff[flat] = 0

    def greatest(d: np.ndarray) -> tuple:
        nans = np.flatnonzero(np.isnan(d)) if d.dtype.kind in "fc" else ()
        i = int(nans[0]) if len(nans) else int(np.argmax(d))
        return d[i].item(), tuple(int(j) for j in np.unravel_index(i, matches.shape))

    return _mismatch_msg(
        identifier or "Tensor-likes", extra, (greatest(abs_diff), greatest(rel_diff)), rtol, atol
    )


def compare_regular_values(
    actual: np.ndarray,
    expected: np.ndarray,
    *,
    rtol: Any,
    atol: Any,
    equal_nan: bool,
    id: tuple = (),  # noqa: A002
    identifier: str | None = None,
) -> None:
    """Raise ``ErrorMeta(AssertionError)`` unless the arrays (one shape, one dtype) are close
    elementwise by ``isclose``'s rule; a 0-d pair gets the scalar message."""
    if rtol < 0 or atol < 0:  # PyTorch's isclose refuses them (every comparison would fail)
        raise ArgumentError(f"assert_close: expected rtol and atol >= 0, got rtol={rtol}, atol={atol}")
    matches = isclose_array(actual, expected, rtol, atol, equal_nan)
    if matches.all():
        return
    if actual.ndim == 0:
        msg = make_scalar_mismatch_msg(
            actual.item(), expected.item(), rtol=rtol, atol=atol, identifier=identifier
        )
    else:
        msg = make_tensor_mismatch_msg(actual, expected, matches, rtol=rtol, atol=atol, identifier=identifier)
    raise ErrorMeta(AssertionError, msg, id=id)
