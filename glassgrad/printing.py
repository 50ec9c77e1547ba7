"""How tensors print: PyTorch's layout and number formatting, so that output in a tutorial reads
the same here (``tensor([1.0000e-05, 2.0000e-05])``, ``tensor([1., 2.], grad_fn=<AddBackward0>)``).

The rules for floating values, written from PyTorch's documented behaviour:
- if every finite value is an integer, print them as ``1.`` (scientific if the largest is > 1e8);
- else, fixed point with 4 decimals, unless the finite non-zero magnitudes span more than 1000x,
  or exceed 1e8, or go below 1e-4: then scientific with 4 decimals (``1.0000e-05``);
- ``set_printoptions(sci_mode=True/False)`` forces one of the two modes for any tensor with a
  non-zero finite entry (PyTorch's override; an all-zero or non-finite tensor keeps ``0.``/``nan``);
- every entry is right-aligned to the widest one; more than 1000 entries are summarised with
  ``...`` keeping 3 at each edge (none: ``[...]``); lines wrap at 80 characters.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import dtypes

__all__ = ["array_str", "tensor_repr", "meta_repr", "size_shown"]

PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80
SCI_MODE: bool | None = None  # None: PyTorch's automatic choice above


def _float_formatter(arr: np.ndarray):
    shown = _summarised(arr)
    finite = shown[np.isfinite(shown)]  # as PyTorch: the mode is chosen from the entries shown
    nonzero = np.abs(finite[finite != 0]).astype(np.float64)  # float16 would overflow at 1e8
    ints = bool(finite.size) and bool(np.all(finite == np.ceil(finite)))
    # max / 1000 > min, not max / min > 1000: the quotient of 1e300 and 1e-300 overflows (and warns)
    sci = nonzero.size > 0 and (nonzero.max() / 1000.0 > nonzero.min() or nonzero.max() > 1e8)
    if not ints:
        sci = sci or (nonzero.size > 0 and nonzero.min() < 1e-4)
    if SCI_MODE is not None and nonzero.size > 0:  # PyTorch's override, where it chooses a mode
        sci = bool(SCI_MODE)

    def fmt(v: float) -> str:
        if not np.isfinite(v):
            return "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")
        if sci:
            return f"{v:.{PRECISION}e}"
        return f"{v:.0f}." if ints else f"{v:.{PRECISION}f}"

    # as PyTorch: the width of the non-zero finite entries (a -0. is not padded for)
    width = max((len(fmt(float(v))) for v in finite.flat if v != 0), default=0)
    out = lambda v: fmt(float(v)).rjust(width)  # noqa: E731
    # PyTorch's row length counts that width (at least 1, so all zeros, nan and inf count 1) + ", ",
    # not the printed text: 20 zeros fit one line, `0.` being two characters
    out.width = max(width, 1) + 2  # type: ignore[attr-defined]
    return out


def _complex_formatter(arr: np.ndarray):
    """PyTorch's complex layout: the real parts formatted as a float tensor of their own, then the
    imaginary parts likewise with a sign and ``j`` (``1.+2.j``, ``0.5000-1.2500j``). A row holds
    as many entries as fit at the real width + the imaginary width + 3 (PyTorch's count)."""
    real, imag = _float_formatter(arr.real), _float_formatter(arr.imag)

    def fmt(v: complex) -> str:
        im = (imag(v.imag) + "j").lstrip()
        return real(v.real) + (im if im[0] in "+-" else "+" + im)

    def width(part: np.ndarray, f: Any) -> int:  # PyTorch's: that of its non-zero finite entries, or 1
        shown = _summarised(part)
        nonzero = shown[np.isfinite(shown) & (shown != 0)]
        return len(f(nonzero.flat[0])) if nonzero.size else 1

    fmt.width = width(arr.real, real) + width(arr.imag, imag) + 3  # type: ignore[attr-defined]
    return fmt


def _summarised(arr: np.ndarray) -> np.ndarray:
    """The entries that will be printed (the edges only, when the tensor is summarised)."""
    if arr.size <= THRESHOLD or not EDGEITEMS:  # no edge items: only a 0-d tensor is formatted
        return arr
    for axis in range(arr.ndim):
        if arr.shape[axis] > 2 * EDGEITEMS:
            idx = np.r_[0:EDGEITEMS, arr.shape[axis] - EDGEITEMS : arr.shape[axis]]
            arr = np.take(arr, idx, axis=axis)
    return arr


def array_str(arr: np.ndarray, prefix: str = "tensor(") -> str:
    """The body of a tensor's repr: nested brackets with PyTorch's number formatting."""
    kind = arr.dtype.kind
    if arr.ndim == 0:
        if kind == "f":
            return _float_formatter(arr.reshape(1))(arr.item()).strip()
        if kind == "c":
            return _complex_formatter(arr.reshape(1))(arr.item()).strip()
        return str(arr.item())
    if arr.size == 0:
        return "[]"
    if arr.size > THRESHOLD and not EDGEITEMS:  # PyTorch's: summarised with no edge items at all
        return "[...]"
    if kind == "c":
        fmt = _complex_formatter(arr)
    elif kind == "f":
        fmt = _float_formatter(arr)
    else:
        shown = _summarised(arr)
        width = max(len(str(v)) for v in shown.flat)
        fmt = lambda v: str(v).rjust(width)  # noqa: E731
    return _nested(arr, fmt, len(prefix), arr.size > THRESHOLD)


def _nested(arr: np.ndarray, fmt: Any, indent: int, summarize: bool) -> str:
    """PyTorch's layout: a row wraps after as many entries as fit in the width left of ``indent``
    (an elided run counts as one entry); inner blocks are separated by ndim - 1 newlines."""
    cut = summarize and arr.shape[0] > 2 * EDGEITEMS
    if arr.ndim == 1:
        ends = (arr[:EDGEITEMS], arr[-EDGEITEMS:]) if cut else (arr, arr[:0])
        head, tail = ([fmt(v) for v in part] for part in ends)
        items = head + [" ..."] + tail if cut else head
        width = getattr(fmt, "width", None) or max(len(t) for t in head + tail) + 2  # complex: its own
        per_line = max(1, (LINEWIDTH - indent) // width)
        lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = (
        [*range(EDGEITEMS), None, *range(arr.shape[0] - EDGEITEMS, arr.shape[0])]
        if cut
        else range(arr.shape[0])
    )
    blocks = ["..." if i is None else _nested(arr[i], fmt, indent + 1, summarize) for i in rows]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(blocks) + "]"


def size_shown(arr: np.ndarray) -> bool:
    """Whether a dense tensor's repr ends with ``size=``, as PyTorch's: when its body ``[]`` does not
    show the shape (empty, not 1-D), or when ``set_printoptions(edgeitems=0)`` is in force."""
    return arr.ndim != 1 if arr.size == 0 else not EDGEITEMS


def tensor_repr(arr: np.ndarray, extras: list[str], prefix: str = "tensor(") -> str:
    """``tensor(<body>, <extras>)``: extras such as ``dtype=...``, ``grad_fn=<...>``."""
    text = prefix + array_str(arr, prefix)
    line = len(text.rsplit("\n", 1)[-1]) + 2  # PyTorch's count: two more until a suffix wraps
    for e in extras:  # on the last line while it fits, else on a new line under the first bracket
        if line + _torch_len(e) + 2 > LINEWIDTH:
            text += ",\n" + " " * len(prefix) + e
            line = len(prefix) + _torch_len(e)
        else:
            text += ", " + e
            line += _torch_len(e) + 2
    return text + ")"


def _torch_len(suffix: str) -> int:
    """A suffix's length as PyTorch measures it, ``dtype=torch.float16``: the same tensors wrap
    their suffixes at the same places (the text may pass the width by the longer name)."""
    return len(suffix) - (len("glassgrad.") - len("torch.")) * suffix.count("glassgrad.")


def meta_repr(t: Any) -> str:
    """A meta tensor's repr, as PyTorch prints one: no values, its size always, its dtype unless
    it is the default float dtype (an int64 one included), then grad_fn or requires_grad."""
    arr = t._data
    extras = ["device='meta'", f"size={tuple(arr.shape)}"]
    if arr.dtype != dtypes.get_default_dtype().np:
        extras.append(f"dtype={dtypes.from_np_dtype(arr.dtype)}")
    if t._node is not None:
        extras.append(f"grad_fn=<{t._node.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    text, line = "tensor(...", len("tensor(...") + 2  # PyTorch counts two more on the first line
    for e in extras:  # PyTorch's rule for the suffixes: wrap once a line would pass the width
        if line + _torch_len(e) + 2 > LINEWIDTH:
            text, line = text + ",\n" + " " * len("tensor(") + e, len("tensor(") + _torch_len(e)
        else:
            text, line = text + ", " + e, line + _torch_len(e) + 2
    return text + ")"
