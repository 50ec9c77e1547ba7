"""What the transforms of ``glassgrad.fft`` share: PyTorch's checks of their arguments (its error
classes and messages, each prefixed with the op's name), its dtype promotion, and the array helpers
of their backwards (the dual norm, cutting or zero-padding along dims).

The n-dimensional arguments follow PyTorch's ``_canonicalize_fft_shape_and_dim_args``: ``s`` alone
names the last ``len(s)`` dims, ``dim`` alone keeps their sizes, neither means every dim, and a
``-1`` in ``s`` keeps that dim's size.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.backend import array_module
from glassgrad.errors import DTypeError
from glassgrad.ops import elementwise
from glassgrad.tensor import Tensor

__all__: list[str] = []

#: the norm whose scaling makes a transform's adjoint out of the opposite transform
DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}
_TORCH_DTYPE = {"complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def prepare(name: str, input: Any, real_only: bool = False) -> Tensor:  # noqa: A002
    """``input`` checked and promoted as PyTorch does: integers and bools to the default float,
    float16 refused (NumPy has no half-precision transform); complex refused by a real-only op."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(input).__name__}")
    dt = input._data.dtype
    if dt == np.float16 or dt.kind not in "biufc":
        raise DTypeError(f"{name}: Unsupported dtype {input.dtype}")
    if real_only and dt.kind == "c":  # PyTorch's words: its n-d forms all run through rfftn/ihfftn
        got = _TORCH_DTYPE.get(dt.name, dt.name)
        if name in ("rfft", "ihfft"):
            raise RuntimeError(f"{name}: {name} expects a real input tensor, but got {got}")
        raise RuntimeError(f"{name}: {name[:-1]}n expects a real-valued input tensor, but got {got}")
    dtypes.note_complex()
    return input if dt.kind in "fc" else elementwise.floating(input)


def check_norm(name: str, norm: str | None) -> str:
    norm = "backward" if norm is None else norm
    if norm not in DUAL:
        raise RuntimeError(f'{name}: Invalid normalization mode: "{norm}"')
    return norm


def as_int(name: str, arg: str, value: Any, what: str = "int") -> int:
    # ints only, as in PyTorch (not n=4.7 cut to 4)
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        raise TypeError(f"{name}: argument '{arg}' must be {what}, not {type(value).__name__}")
    return operator.index(value)


def check_dim(name: str, d: int, ndim: int) -> int:
    if ndim == 0:
        raise IndexError(f"{name}: Dimension specified as {d} but tensor has no dimensions")
    if not -ndim <= d < ndim:
        raise IndexError(
            f"{name}: Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {d})"
        )
    return d % ndim


def points(name: str, n: int) -> int:
    if n < 1:
        raise RuntimeError(f"{name}: Invalid number of data points ({n}) specified")
    return n


def one_dim(name: str, x: Tensor, n: Any, dim: Any) -> tuple[int | None, int]:
    """(n, dim) of a one-dimensional transform: ``dim`` wrapped, ``n`` an int >= 1 or None."""
    dim = check_dim(name, as_int(name, "dim", dim), x.dim())
    if n is None:
        return None, dim
    return points(name, as_int(name, "n", n)), dim


def ints(name: str, arg: str, value: Any) -> tuple[int, ...]:
    seq = value if isinstance(value, list | tuple) else (value,)
    return tuple(as_int(name, arg, v, "tuple of ints") for v in seq)


def n_dims(name: str, x: Tensor, s: Any, dim: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(sizes, dims) of an n-dimensional transform, as PyTorch canonicalizes ``s`` and ``dim``."""
    ndim, shape = x.dim(), tuple(x.shape)
    dims = None
    if dim is not None:
        dims = tuple(check_dim(name, d, ndim) for d in ints(name, "dim", dim))
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"{name}: FFT dims must be unique")
    if s is not None:
        sizes = ints(name, "s", s)
        if dims is not None and len(dims) != len(sizes):
            raise RuntimeError(f"{name}: When given, dim and shape arguments must have the same length")
        if len(sizes) > ndim:
            raise RuntimeError(
                f"{name}: Got shape with {len(sizes)} values but input tensor only has {ndim} dimensions."
            )
        dims = tuple(range(ndim - len(sizes), ndim)) if dims is None else dims
        sizes = tuple(shape[d] if n == -1 else n for n, d in zip(sizes, dims))
    else:
        dims = tuple(range(ndim)) if dims is None else dims
        sizes = tuple(shape[d] for d in dims)
    for n in sizes:
        points(name, n)
    return sizes, dims


def c2r_dims(name: str, x: Tensor, s: Any, dim: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(output sizes, dims) of a complex-to-real transform: the last one's size defaults to
    2 * (m - 1) for an input of m bins there."""
    sizes, dims = n_dims(name, x, s, dim)
    if not dims:
        raise RuntimeError(f"{name}: must transform at least one axis")
    given = s is not None and ints(name, "s", s)[-1] != -1
    last = sizes[-1] if given else 2 * (x.shape[dims[-1]] - 1)
    return (*sizes[:-1], points(name, last)), dims


def real_of(dt: np.dtype) -> np.dtype:
    """The float dtype of ``dt``'s precision (complex64 and float32: float32)."""
    return np.dtype(np.float64 if dtypes.complex_of(dt) == np.complex128 else np.float32)


def resize(a: Any, lengths: tuple[int, ...], dims: tuple[int, ...]) -> Any:
    """``a`` cut or zero-padded (at the end) to ``lengths`` along ``dims``."""
    xp = array_module(a)
    pad = [(0, 0)] * a.ndim
    for length, d in zip(lengths, dims):
        if a.shape[d] > length:
            a = xp.take(a, xp.arange(length), axis=d)
        pad[d] = (0, max(length - a.shape[d], 0))
    return xp.pad(a, pad) if any(p[1] for p in pad) else a
