"""The in-place random fills beyond ``uniform_``/``normal_`` (``exponential_``, ``log_normal_``,
``cauchy_``, ``geometric_``, ``random_``) and the checks PyTorch's distribution kernels make before
drawing: a parameter outside its distribution's domain (``cauchy_(sigma=-1)``, ``geometric_(p=1)``),
a tensor dtype the distribution cannot fill (complex), and an integer range the tensor's dtype cannot
hold (``random_(0, 300)`` of an int8 tensor) are errors in PyTorch's words, where NumPy would draw
anyway, raise its own ``ValueError`` or wrap the integers silently into the dtype.

``random_range`` is also what ``randint``, ``randint_like`` and ``randperm`` check their bounds with.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from glassgrad.errors import ArgumentError, DTypeError
from glassgrad.random import check_floating, get_generator
from glassgrad.user_frames import user_stacklevel

__all__ = ["METHODS", "random_range", "check_std", "c_name", "c_number"]

# PyTorch's messages name the C++ scalar type ("to - 1 is out of bounds for signed char")
_C_NAMES = {
    "bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short int", "int32": "int",
    "int64": "long int", "float16": "c10::Half", "float32": "float", "float64": "double",
    "complex64": "c10::complex<float>", "complex128": "c10::complex<double>",
}  # fmt: skip


def c_name(dtype: np.dtype) -> str:
    """The C++ name PyTorch's messages give ``dtype`` (``float32`` -> ``float``)."""
    return _C_NAMES.get(np.dtype(dtype).name, np.dtype(dtype).name)


def c_number(x: Any) -> str:
    """``x`` as C++'s ostream prints a double (6 significant digits: ``1.0`` -> ``1``), as in
    PyTorch's messages."""
    return f"{float(x):g}"


def _limits(dtype: np.dtype) -> tuple[int, int, int]:
    """``(lowest, highest, top)``: the integers a ``dtype`` tensor can hold (for a float, those of
    its finite range) and the top of ``random_()``'s default range: the largest value of an integer
    dtype, 1 for bool, ``2^digits`` for a float (beyond, not every integer is representable)."""
    if dtype.kind == "b":
        return 0, 1, 1
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return int(info.min), int(info.max), int(info.max)
    info = np.finfo(dtype)
    return int(info.min), int(info.max), 2 ** (info.nmant + 1)


def random_range(op: str, low: int, high: int | None, dtype: np.dtype) -> tuple[int, int]:
    """The inclusive ``(low, high)`` that ``random_(low, high)`` draws from for a ``dtype`` tensor
    (``high`` None: up to the default top, ``random_(from)``), as PyTorch's ``check_from_to``:
    ``low >= high`` and a bound the dtype cannot hold are ``RuntimeError``s (``ArgumentError``);
    a float bound past ``2^digits`` warns, as there."""
    if dtype.kind not in "biuf":
        raise NotImplementedError(
            f"{op}: handles only integral, floating-point and boolean types, got {dtype}"
        )
    lowest, highest, top = _limits(dtype)
    if high is not None and low >= high:
        raise ArgumentError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    for name, value in (("from", low), ("to - 1", None if high is None else high - 1)):
        if value is None:
            continue
        if not lowest <= value <= highest:
            raise ArgumentError(f"{name} is out of bounds for {c_name(dtype)}")
        if dtype.kind == "f" and not -top <= value <= top:
            digits = top.bit_length() - 1
            warnings.warn(
                f"{name} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision limitations "
                f"{c_name(dtype)} can support discrete uniform distribution only within this range. "
                "This warning will become an error in version 1.7 release, please fix the code in advance",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
    return low, top if high is None else high - 1


def _random_(gen: Any, shape: tuple, dtype: np.dtype, *args: Any, **named: Any) -> np.ndarray:
    """``random_()``: [0, top]; ``random_(to)``: [0, to); ``random_(from, to)``: [from, to);
    ``random_(from, None)``: [from, top] (PyTorch's forms and keywords: from is a Python keyword)."""
    if len(args) > 2:
        raise TypeError(f"random_() takes at most 2 positional arguments (from, to), got {len(args)}")
    low, high = named.pop("from", None), named.pop("to", None)
    if named:
        raise TypeError(f"random_() got an unexpected keyword argument {next(iter(named))!r}")
    if len(args) == 2:
        low, high = args
    elif len(args) == 1 and low is None and high is None:
        high = args[0]  # random_(to)
    elif len(args) == 1:
        low = args[0]
    if low is None and high is None:
        low, high = random_range("random_", 0, None, dtype)
    else:
        low, high = random_range("random_", 0 if low is None else int(low), high and int(high), dtype)
    return gen.integers(low, high, size=shape, endpoint=True)


def check_std(op: str, std: Any, strict: bool = False, word: str = "std") -> None:
    """PyTorch's refusal of a negative (``strict``: non-positive) or NaN scale: ``normal expects
    std >= 0.0, but found std -1``; a tensor of stds: ``normal expects all elements of std >= 0.0``."""
    values = getattr(std, "_data", None)
    if values is not None:
        if values.dtype.kind == "c":  # NumPy orders complex numbers, so the test below would pass
            raise DTypeError(f"{op} expects standard deviation to be non-complex, got a {std.dtype} std")
        if std.is_meta:  # no values to check (PyTorch's meta kernel checks none)
            return
        if values.size and not bool((values >= 0).all()):
            raise ArgumentError(f"{op} expects all elements of {word} >= 0.0")
        return
    if not (std > 0.0 if strict else std >= 0.0):
        sep = "=" if strict else " "  # (PyTorch's two wordings)
        raise ArgumentError(
            f"{op} expects {word} {'>' if strict else '>='} 0.0, but found {word}{sep}{c_number(std)}"
        )


def _exponential(gen: Any, shape: tuple, dtype: np.dtype, lambd: float = 1.0) -> np.ndarray:
    if not lambd > 0.0:
        raise ArgumentError(f"exponential_ expects lambda > 0.0, but found lambda={c_number(lambd)}")
    return gen.exponential(1.0 / lambd, shape)


def _log_normal(gen: Any, shape: tuple, dtype: np.dtype, mean: float = 1.0, std: float = 2.0) -> np.ndarray:
    check_std("log_normal_", std, strict=True)
    return gen.lognormal(mean, std, shape)


def _cauchy(gen: Any, shape: tuple, dtype: np.dtype, median: float = 0.0, sigma: float = 1.0) -> np.ndarray:
    check_std("cauchy_", sigma, strict=True, word="sigma")
    return median + sigma * gen.standard_cauchy(shape)


def _geometric(gen: Any, shape: tuple, dtype: np.dtype, p: float) -> np.ndarray:
    if not 0 < p < 1:
        raise ArgumentError(f"geometric_ expects p to be in (0, 1), but got p={c_number(p)}")
    return gen.geometric(p, shape)


def _random_fill(name: str, draw: Any, kinds: str) -> Any:
    """The method ``name``: fills self with ``draw(generator, shape, dtype, *args, **kwargs)``
    (kwargs: PyTorch's names for the parameters, ``exponential_(lambd=2.0)``); ``kinds`` are the
    dtype kinds the distribution can fill (a continuous one: floats only; none takes complex)."""

    def method(self: Any, *args: Any, generator: Any = None, **kwargs: Any) -> Any:
        check_floating(name, self._data.dtype, kinds)
        return self._set(name, draw(get_generator(generator), self.shape, self._data.dtype, *args, **kwargs))

    method.__name__ = name
    return method


METHODS = {
    "exponential_": _random_fill("exponential_", _exponential, "f"),
    "log_normal_": _random_fill("log_normal_", _log_normal, "f"),
    "cauchy_": _random_fill("cauchy_", _cauchy, "f"),
    "geometric_": _random_fill("geometric_", _geometric, "fiu"),
    "random_": _random_fill("random_", _random_, "fiub"),
}
