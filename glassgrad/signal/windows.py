"""``torch.signal.windows``: the window functions of SciPy's ``scipy.signal.windows`` under
PyTorch's names and keywords (``sym=True``: a symmetric window for filter design; ``sym=False``:
a periodic one, for spectral analysis).

Each is built the way PyTorch builds it, from ``linspace`` and elementwise ops, so the result is
the same to rounding, in ``dtype`` (float32 or float64 only, default: the default dtype), and
``requires_grad=True`` gives a tensor in the graph (the linspace is the leaf), as PyTorch's.
Not to be confused with the top-level ``hann_window``/``kaiser_window`` (``periodic=True`` by
default), which glassgrad has too.

>>> from glassgrad.signal import windows
>>> windows.hann(5).tolist()
[0.0, 0.5, 1.0, 0.5, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import glassgrad
from glassgrad.dtypes import float32, float64, get_default_dtype
from glassgrad.sparse_tensor import strided
from glassgrad.tensor import Tensor

__all__ = [
    "bartlett",
    "blackman",
    "cosine",
    "exponential",
    "gaussian",
    "general_cosine",
    "general_hamming",
    "hamming",
    "hann",
    "kaiser",
    "nuttall",
]


def _checks(name: str, M: int, dtype: Any, layout: Any) -> Any:
    """PyTorch's checks, with its messages (ValueError); returns the dtype (None: the default)."""
    dtype = get_default_dtype() if dtype is None else dtype
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if dtype not in (float32, float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    return dtype


def _short(M: int, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    """The window of length 0 (empty) or 1 (a one)."""
    make = glassgrad.empty if M == 0 else glassgrad.ones
    return make((M,), dtype=dtype, device=device, requires_grad=requires_grad)


def _line(start: Any, end: Any, M: int, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    return glassgrad.linspace(start, end, M, dtype=dtype, device=device, requires_grad=requires_grad)


def exponential(
    M: int, *, center: float | None = None, tau: float = 1.0, sym: bool = True, dtype: Any = None,
    layout: Any = strided, device: Any = None, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """``exp(-|n - center| / tau)``; ``center`` (default the middle) only for ``sym=False``."""
    dtype = _checks("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if M == 0:
        return _short(M, dtype, device, requires_grad)
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2.0
    c = 1 / tau
    k = _line(-center * c, (-center + (M - 1)) * c, M, dtype, device, requires_grad)
    return glassgrad.exp(-glassgrad.abs(k))


def cosine(
    M: int, *, sym: bool = True, dtype: Any = None, layout: Any = strided, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """The sine window ``sin(pi (n + 1/2) / M)``."""
    dtype = _checks("cosine", M, dtype, layout)
    if M == 0:
        return _short(M, dtype, device, requires_grad)
    c = math.pi / (M + 1 if not sym and M > 1 else M)
    return glassgrad.sin(_line(0.5 * c, (0.5 + (M - 1)) * c, M, dtype, device, requires_grad))


def gaussian(
    M: int, *, std: float = 1.0, sym: bool = True, dtype: Any = None, layout: Any = strided,
    device: Any = None, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """``exp(-(n - center)^2 / (2 std^2))``."""
    dtype = _checks("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    if M == 0:
        return _short(M, dtype, device, requires_grad)
    start = -(M if not sym and M > 1 else M - 1) / 2.0
    c = 1 / (std * math.sqrt(2))
    k = _line(start * c, (start + (M - 1)) * c, M, dtype, device, requires_grad)
    return glassgrad.exp(-(k**2))


def kaiser(
    M: int, *, beta: float = 12.0, sym: bool = True, dtype: Any = None, layout: Any = strided,
    device: Any = None, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """``I0(beta sqrt(1 - (2n / (M - 1) - 1)^2)) / I0(beta)``."""
    dtype = _checks("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    if M <= 1:
        return _short(M, dtype, device, requires_grad)
    b = glassgrad.tensor(beta, dtype=dtype, device=device)
    c = 2.0 * b / (M if not sym else M - 1)
    end = glassgrad.minimum(b, -b + (M - 1) * c)
    k = _line(-b, end, M, dtype, device, requires_grad)
    return glassgrad.i0(glassgrad.sqrt(b * b - glassgrad.pow(k, 2))) / glassgrad.i0(b)


def hamming(
    M: int, *, sym: bool = True, dtype: Any = None, layout: Any = strided, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """``general_hamming`` with ``alpha=0.54``."""
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)


def hann(
    M: int, *, sym: bool = True, dtype: Any = None, layout: Any = strided, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """``general_hamming`` with ``alpha=0.5``."""
    return general_hamming(
        M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad
    )


def blackman(
    M: int, *, sym: bool = True, dtype: Any = None, layout: Any = strided, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """``general_cosine`` with ``a=[0.42, 0.5, 0.08]``."""
    dtype = _checks("blackman", M, dtype, layout)
    return general_cosine(
        M,
        a=[0.42, 0.5, 0.08],
        sym=sym,
        dtype=dtype,
        layout=layout,
        device=device,
        requires_grad=requires_grad,
    )


def bartlett(
    M: int, *, sym: bool = True, dtype: Any = None, layout: Any = strided, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """The triangular window ``1 - |2n / (M - 1) - 1|``."""
    dtype = _checks("bartlett", M, dtype, layout)
    if M <= 1:
        return _short(M, dtype, device, requires_grad)
    c = 2 / (M if not sym else M - 1)
    return 1 - glassgrad.abs(_line(-1, -1 + (M - 1) * c, M, dtype, device, requires_grad))


def general_cosine(
    M: int, *, a: Iterable, sym: bool = True, dtype: Any = None, layout: Any = strided,
    device: Any = None, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """``sum_i (-1)^i a_i cos(2 pi i n / (M - 1))``: a weighted sum of cosines."""
    dtype = _checks("general_cosine", M, dtype, layout)
    if M <= 1:
        return _short(M, dtype, device, requires_grad)
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    c = 2 * math.pi / (M if not sym else M - 1)
    k = _line(0, (M - 1) * c, M, dtype, device, requires_grad)
    a_i = glassgrad.tensor(
        [(-1) ** i * w for i, w in enumerate(a)], device=device, dtype=dtype, requires_grad=requires_grad
    )
    i = glassgrad.arange(a_i.shape[0], dtype=a_i.dtype, device=a_i.device, requires_grad=a_i.requires_grad)
    return (a_i.unsqueeze(-1) * glassgrad.cos(i.unsqueeze(-1) * k)).sum(0)


def general_hamming(
    M: int, *, alpha: float = 0.54, sym: bool = True, dtype: Any = None, layout: Any = strided,
    device: Any = None, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """``alpha - (1 - alpha) cos(2 pi n / (M - 1))``."""
    return general_cosine(
        M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout, device=device,
        requires_grad=requires_grad,
    )  # fmt: skip


def nuttall(
    M: int, *, sym: bool = True, dtype: Any = None, layout: Any = strided, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """Nuttall's minimum 4-term Blackman-Harris window."""
    return general_cosine(
        M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym, dtype=dtype, layout=layout,
        device=device, requires_grad=requires_grad,
    )  # fmt: skip
