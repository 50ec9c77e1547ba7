"""How a sparse COO tensor prints, to PyTorch's character.

PyTorch's layout (``torch/_tensor_str.py``)::

    tensor(indices=tensor([[0, 1],
                           [2, 0]]),
           values=tensor([1., 2.]),
           size=(2, 3), nnz=2, layout=torch.sparse_coo)

- the indices' rows wrap at the line width less their own indent, ``len("tensor(indices=tensor(")``,
  and the values' at the width less ``len("       values=tensor(")``; an empty indices or values
  body reads ``[]`` followed by ``, size=(...)`` (its own shape);
- the suffixes are ``size=``, ``nnz=``, ``dtype=`` (unless the default float dtype, its complex
  counterpart, int64 or bool), ``layout=``, then ``grad_fn=<...>`` or ``requires_grad=True``; the
  first one always starts a new line, the others follow while the line stays within the width.

The print options (``set_printoptions``) are read when the repr is made, never copied.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import dtypes, printing

__all__ = ["sparse_repr"]

_PREFIX = "tensor("
_INDICES = "indices=tensor("
_VALUES = "values=tensor("


def _body(arr: Any, indent: int) -> str:
    """PyTorch's ``_tensor_str`` of a dense array whose first line starts at column ``indent``."""
    arr = np.asarray(arr)
    text = printing.array_str(arr, " " * indent)
    return text + (f", size={tuple(arr.shape)}" if arr.size == 0 else "")


def _default_dtypes() -> tuple:
    default = dtypes.get_default_dtype().np
    complex_default = np.complex128 if default == np.float64 else np.complex64
    return (default, complex_default, np.int64, np.bool_)


def sparse_repr(s: Any) -> str:
    """The repr of the ``SparseTensor`` ``s`` (indices ``s._ix``, values ``s._vals``)."""
    indent = len(_PREFIX)
    vals = s._vals
    text = _PREFIX + _INDICES + _body(s._ix, indent + len(_INDICES)) + "),\n"
    text += " " * indent + _VALUES + _body(vals._data, indent + len(_VALUES)) + ")"
    suffixes = [f"size={tuple(s._data.shape)}", f"nnz={s._ix.shape[1]}"]
    if vals._data.dtype not in _default_dtypes():
        suffixes.append(f"dtype={dtypes.from_np_dtype(vals._data.dtype)}")
    suffixes.append(f"layout={s.layout}")
    if vals._node is not None:
        suffixes.append(f"grad_fn=<{vals._node.name()}>")
    elif vals.requires_grad:
        suffixes.append("requires_grad=True")
    parts = [text]
    line = 0
    for i, suffix in enumerate(suffixes):  # PyTorch's _add_suffixes with force_newline=True
        n = printing._torch_len(suffix)
        if i == 0 or line + n + 2 > printing.LINEWIDTH:
            parts.append(",\n" + " " * indent + suffix)
            line = indent + n
        else:
            parts.append(", " + suffix)
            line += n + 2
    return "".join(parts) + ")"
