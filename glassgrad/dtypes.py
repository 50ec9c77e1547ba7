"""Dtypes: ``float32`` (the default), ``float64``, ``int64`` (alias ``long``) and ``bool``; the
complex ones, and ``bfloat16``, ``complex32``, the ``float8_*``/``float4`` family and the sub-byte
integers ``uint1``..``uint7``/``int1``..``int7`` as names only
(NumPy has no such types).

A :class:`DType` wraps a NumPy dtype so that ``repr`` reads ``glassgrad.float32`` as in PyTorch.
"""

from __future__ import annotations

import builtins
import numbers

import numpy as np

from glassgrad.errors import ConversionOverflowError, DTypeError
from glassgrad.half_rounding import half_scalar

__all__ = [
    "DType",
    "float32",
    "float64",
    "float16",
    "int32",
    "int64",
    "int16",
    "int8",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "long",
    "bool",
    "bool_",
    "bfloat16",
    "float8_e4m3fn",
    "float8_e5m2",
    "float8_e4m3fnuz",
    "float8_e5m2fnuz",
    "float8_e8m0fnu",
    "float4_e2m1fn_x2",
    "complex32",
    "chalf",
    "complex64",
    "complex128",
    "get_default_dtype",
    "set_default_dtype",
    "default_complex",
    "complex_of",
    "complex_result",
    "complex_seen",
    "note_complex",
    "check_complex_into",
    "complex_scalar",
    "scalar_into",
    "to_np_dtype",
    "from_np_dtype",
]


class DType:
    """A tensor element type; ``.np`` is the NumPy dtype behind it."""

    __slots__ = ("is_complex", "is_floating_point", "name", "np")

    def __init__(self, name: str, np_dtype: np.dtype) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.is_complex = self.np.kind == "c"

    def __repr__(self) -> str:
        return f"glassgrad.{self.name}"

    @property
    def itemsize(self) -> int:
        """Bytes per element, as ``torch.dtype.itemsize`` (gpt-fast sizes a model with it)."""
        return self.np.itemsize

    @property
    def is_signed(self) -> builtins.bool:
        """Whether the type holds negative values: floats, complex and signed ints (not bool or uint)."""
        return self.np.kind in "fci"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DType):
            return self.np == other.np
        if other is None or other is float or other is int or other is builtins.bool:
            # np.dtype(None) and np.dtype(float) are float64: float64 == None must not be True
            return False
        try:
            return self.np == np.dtype(other)  # type: ignore[arg-type]
        except TypeError:
            return False

    def __hash__(self) -> int:
        return hash(self.np)


class _NoNumPyDType(DType):
    """A PyTorch dtype NumPy has no type for (``bfloat16``, the ``float8_*`` family): it exists,
    so that tables such as ``{"bfloat16": torch.bfloat16, "float32": torch.float32}`` and class
    bodies such as transformers' ``fp8_dtype = torch.float8_e4m3fn`` port, compares equal to itself
    only, and making a tensor of it raises ``DTypeError`` saying why."""

    __slots__ = ("_signed", "itemsize")

    def __init__(
        self,
        name: str,
        itemsize: int,
        signed: builtins.bool = True,
        is_complex: builtins.bool = False,
        floating: builtins.bool = True,
    ) -> None:
        self.name = name
        self.itemsize = itemsize
        self.is_floating_point = floating and not is_complex
        self.is_complex = is_complex
        self._signed = signed

    @property
    def is_signed(self) -> builtins.bool:
        return self._signed

    @property
    def np(self) -> np.dtype:  # type: ignore[override]
        raise DTypeError(
            f"{self.name}: NumPy has no {self.name} type, so glassgrad has no {self.name} tensors; use float32"
        )

    def __eq__(self, other: object) -> bool:
        return other is self

    def __hash__(self) -> int:
        return hash(self.name)

    def __reduce__(self) -> str:
        return self.name  # pickle and copy give the one module-level object, as PyTorch's dtypes


float16 = DType("float16", np.float16)
bfloat16 = _NoNumPyDType("bfloat16", 2)
# PyTorch's 8-bit floats (names only, as bfloat16; finfo has their limits, legacy.py)
float8_e4m3fn = _NoNumPyDType("float8_e4m3fn", 1)
float8_e5m2 = _NoNumPyDType("float8_e5m2", 1)
float8_e4m3fnuz = _NoNumPyDType("float8_e4m3fnuz", 1)
float8_e5m2fnuz = _NoNumPyDType("float8_e5m2fnuz", 1)
float8_e8m0fnu = _NoNumPyDType("float8_e8m0fnu", 1, signed=False)  # exponent only: no sign bit
float4_e2m1fn_x2 = _NoNumPyDType("float4_e2m1fn_x2", 1)  # two 4-bit floats in a byte
complex32 = _NoNumPyDType("complex32", 4, is_complex=True)  # two float16s (PyTorch's chalf)
chalf = complex32
complex64 = DType("complex64", np.complex64)
complex128 = DType("complex128", np.complex128)
float32 = DType("float32", np.float32)
float64 = DType("float64", np.float64)
int32 = DType("int32", np.int32)
int64 = DType("int64", np.int64)
int16 = DType("int16", np.int16)
int8 = DType("int8", np.int8)
uint8 = DType("uint8", np.uint8)
# PyTorch's "limited support" unsigned dtypes (torch.uint16/32/64, 2.3+): torchvision's
# _max_value compares a dtype with them (port round 37)
uint16 = DType("uint16", np.uint16)
uint32 = DType("uint32", np.uint32)
uint64 = DType("uint64", np.uint64)
# PyTorch's sub-byte integer dtypes (torch.uint1..uint7, int1..int7, 2.6+; names only, as bfloat16):
# diffusers' torchao quantizer lists them in a tuple at import (port round 39)
uint1 = _NoNumPyDType("uint1", 1, signed=False, floating=False)
uint2 = _NoNumPyDType("uint2", 1, signed=False, floating=False)
uint3 = _NoNumPyDType("uint3", 1, signed=False, floating=False)
uint4 = _NoNumPyDType("uint4", 1, signed=False, floating=False)
uint5 = _NoNumPyDType("uint5", 1, signed=False, floating=False)
uint6 = _NoNumPyDType("uint6", 1, signed=False, floating=False)
uint7 = _NoNumPyDType("uint7", 1, signed=False, floating=False)
int1 = _NoNumPyDType("int1", 1, floating=False)
int2 = _NoNumPyDType("int2", 1, floating=False)
int3 = _NoNumPyDType("int3", 1, floating=False)
int4 = _NoNumPyDType("int4", 1, floating=False)
int5 = _NoNumPyDType("int5", 1, floating=False)
int6 = _NoNumPyDType("int6", 1, floating=False)
int7 = _NoNumPyDType("int7", 1, floating=False)
_SUB_BYTE = ["uint1", "uint2", "uint3", "uint4", "uint5", "uint6", "uint7"]
_SUB_BYTE += ["int1", "int2", "int3", "int4", "int5", "int6", "int7"]
__all__ += _SUB_BYTE


class _QuantizedDType(_NoNumPyDType):
    """PyTorch's quantized dtypes (``qint8``, ``quint8``, ``qint32``, ``quint4x2``, ``quint2x4``):
    names only, as bfloat16 (tensordict lists them in a tuple at import); ``is_signed`` raises as
    PyTorch's does."""

    __slots__ = ()

    @property
    def is_signed(self) -> builtins.bool:
        raise RuntimeError("isSignedType not supported for quantized types")


qint8 = _QuantizedDType("qint8", 1, floating=False)
quint8 = _QuantizedDType("quint8", 1, signed=False, floating=False)
qint32 = _QuantizedDType("qint32", 4, floating=False)
quint4x2 = _QuantizedDType("quint4x2", 1, signed=False, floating=False)
quint2x4 = _QuantizedDType("quint2x4", 1, signed=False, floating=False)
__all__ += ["qint8", "quint8", "qint32", "quint4x2", "quint2x4"]
bool_ = DType("bool", np.bool_)
long = int64
bool = bool_  # noqa: A001 - PyTorch's public name

_BY_NP = {
    d.np: d
    for d in (
        float16,
        float32,
        float64,
        int32,
        int64,
        int16,
        int8,
        uint8,
        uint16,
        uint32,
        uint64,
        bool_,
        complex64,
        complex128,
    )
}
_default = float32


def get_default_dtype() -> DType:
    """The dtype of new floating-point tensors (``float32`` unless changed)."""
    return _default


def set_default_dtype(dtype: DType) -> None:
    """Set the dtype of new floating-point tensors (``float32`` or ``float64``)."""
    global _default
    if not isinstance(dtype, DType) or not dtype.is_floating_point:
        raise DTypeError(f"set_default_dtype: expected a floating dtype, got {dtype!r}")
    dtype.np  # noqa: B018 - bfloat16 raises here, saying why, not at the next factory call
    _default = dtype


#: ``[True]`` once a complex dtype has been asked for or complex data seen in this process (a
#: factory's or a cast's dtype, complex data given to ``tensor()``, an op that makes complex
#: values): ``Function.apply`` checks ops for complex operands only then (its complex gate,
#: ``autograd/complex_gate.py``), so a real program pays one truth test per op.
complex_seen: list = [False]


def note_complex() -> None:
    """Record that complex tensors may exist from now on (see ``complex_seen``)."""
    complex_seen[0] = True


def default_complex() -> np.dtype:
    """The complex dtype of complex Python data: complex64 while the default dtype is float32
    (or float16), complex128 under float64, as PyTorch's ``torch.tensor(1 + 2j)``."""
    return np.dtype(np.complex128) if _default.np == np.float64 else np.dtype(np.complex64)


def complex_of(dt: np.dtype) -> np.dtype:
    """The complex dtype holding two of floating ``dt`` (float64: complex128; float32 and float16:
    complex64, NumPy has no complex32); a complex ``dt`` itself; the default complex otherwise."""
    if dt.kind == "c":
        return dt
    if dt == np.float64:
        return np.dtype(np.complex128)
    return np.dtype(np.complex64) if dt.kind == "f" else default_complex()


def complex_result(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """The dtype of a binary op on a float array and a complex one (either order), as PyTorch: a
    0-d complex beside a float with dims gives the float's complex counterpart (float32 (3,) *
    complex128 () is complex64), a 0-d float beside a complex with dims the complex's dtype, else
    the wider precision of the two (complex64 (3,) * float64 (3,) is complex128)."""
    f, c = (a, b) if b.dtype.kind == "c" else (b, a)
    if c.ndim == 0 and f.ndim != 0:
        return complex_of(f.dtype)
    if f.ndim == 0 and c.ndim != 0:
        return c.dtype
    return np.result_type(f.dtype, c.dtype)


def to_np_dtype(dtype: object) -> np.dtype:
    """NumPy dtype for a glassgrad dtype, a NumPy dtype, a Python type or a string."""
    if isinstance(dtype, DType):
        if dtype.is_complex:
            complex_seen[0] = True
        return dtype.np
    # Python's types name fixed dtypes, as in PyTorch: float is float64 and complex complex128
    # whatever the default dtype (Captum's tests pin torch.tensor(3, dtype=float) to float64)
    if dtype is float:
        return float64.np
    if dtype is int:
        return int64.np
    if dtype is complex:
        complex_seen[0] = True
        return complex128.np
    try:
        out = np.dtype(dtype)  # type: ignore[arg-type]
    except TypeError:
        raise DTypeError(f"dtype: expected a glassgrad dtype, got {dtype!r}") from None
    if out.kind == "c":
        complex_seen[0] = True
    return out


def from_np_dtype(np_dtype: np.dtype) -> DType:
    """glassgrad dtype for a NumPy dtype (unknown ones are wrapped as they are)."""
    d = _BY_NP.get(np_dtype)
    if d is None:
        d = DType(str(np_dtype), np_dtype)
        _BY_NP[d.np] = d
    return d


def check_complex_into(op: str, src: np.dtype, dst: np.dtype) -> None:
    """Refuse a complex result written into a tensor of real dtype ``dst`` (``out=``, a backward
    seed), as PyTorch: NumPy would keep the real part and drop the imaginary one silently."""
    if src.kind == "c" and dst.kind != "c":
        raise DTypeError(
            f"{op}: result type {from_np_dtype(src)} can't be cast to the desired output type "
            f"{from_np_dtype(dst)} (its imaginary part would be lost)"
        )


# the largest finite value of the float dtypes narrower than a Python float (a lookup: np.finfo
# costs about 0.5 us, on every fill_ and masked_fill)
_NARROW_MAX = {
    np.dtype(np.float16): float(np.finfo(np.float16).max),
    np.dtype(np.float32): float(np.finfo(np.float32).max),
}
_INF = float("inf")


def complex_scalar(op: str, v: object, dt: np.dtype) -> object:
    """A number ``v`` to be written into a tensor of dtype ``dt``, checked as PyTorch converts a
    Scalar: a complex number into a real or integer tensor must have a zero imaginary part (its
    real part is written; NumPy would drop a non-zero one silently), into a bool tensor it is its
    truth. A finite real number past a float16 or float32 tensor's range is refused, as PyTorch
    refuses it (``full((2,), -2.4e38, dtype=float16)``), where NumPy would write inf: float16
    and float32 take nothing above their max (65504 and about 3.4e38; PyTorch's one-element
    float16 fill skips its check and rounds, so 65519 is 65504 there, 7e4 inf; glassgrad refuses
    at every size). Anything else is returned as it is."""
    if v.__class__ is not complex and not isinstance(v, np.complexfloating):
        top = _NARROW_MAX.get(dt)
        if top is not None and isinstance(v, int | float) and v.__class__ is not bool and top < abs(v) < _INF:
            raise DTypeError(
                f"{op}: value {v} cannot be converted to type {from_np_dtype(dt)} without overflow "
                f"(its largest finite value is {top})"
            )
        return v
    if dt.kind == "c":
        return v
    if dt.kind == "b":
        return builtins.bool(v)
    if v.imag != 0:
        raise DTypeError(
            f"{op}: value {v} cannot be converted to type {from_np_dtype(dt)} without overflow (a "
            "complex number with a non-zero imaginary part into a real tensor)"
        )
    return builtins.float(v.real)


_NUMBERS = (int, float, complex, np.generic)  # the numbers PyTorch's Scalar takes (a bool is an int)
_NOT_SCALARS = (str, bytes, list, tuple, numbers.Number)  # refused, unless one of _NUMBERS
_INT_RANGE: dict = {}  # integer dtype -> (min, max), filled on first use (np.iinfo costs about 0.5 us)


def scalar_into(op: str, v: object, dtype: np.dtype) -> object:
    """A number ``v`` to be written into a tensor of ``dtype`` (``full``, ``fill_``, ``masked_fill``,
    ``index_fill``, setitem, clamp bounds), converted as PyTorch converts a Scalar (a NumPy scalar as the
    number it holds): into an integer tensor an int must fit (an unsigned type also takes -max..-1: -1 is
    255 in uint8) and a float must lie in the type's range, else ``OverflowError`` (NumPy would wrap 256, or
    np.int64(256), to 0 in uint8); otherwise as :func:`complex_scalar`. ``None``, strings, bytes, lists and
    tuples (NumPy would write NaN, parse, broadcast) and numbers of other types (``Fraction``, ``Decimal``,
    SymPy's) are refused (``TypeError``, as PyTorch's). Other values pass through."""
    if v is None or (isinstance(v, _NOT_SCALARS) and not isinstance(v, _NUMBERS)):
        raise TypeError(f"{op}: expected a number (or a tensor) as the value, got {type(v).__name__} {v!r}")
    v = v.item() if v.__class__ not in (int, float) and isinstance(v, np.integer | np.floating) else v
    v = half_scalar(complex_scalar(op, v, dtype), dtype)  # float16: through float32, as PyTorch
    if dtype.kind not in "iu" or v.__class__ not in (int, float):
        return v
    lo, hi = _INT_RANGE.get(dtype) or _INT_RANGE.setdefault(dtype, _int_range(dtype))
    if v.__class__ is int and dtype.kind == "u" and -hi <= v < 0:
        return v % (hi + 1)
    if not lo <= v <= hi:
        raise ConversionOverflowError(
            f"{op}: value {v} cannot be converted to type {from_np_dtype(dtype)} without overflow"
        )
    return v


def _int_range(dtype: np.dtype) -> tuple[int, int]:
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)
