"""``torch.testing``: ``assert_close``, the comparison that PyTorch programs' own tests use
(normflows' ``core_test.py``: ``from torch.testing import assert_close``).

``actual`` and ``expected`` are tensors, NumPy arrays, Python numbers, or (nested) sequences and
mappings of them; two values are close where ``|actual - expected| <= atol + rtol * |expected|``.
Omitted tolerances come from the dtype, as PyTorch's: float16 ``(1e-3, 1e-5)``, bfloat16
``(1.6e-2, 1e-5)``, float32 and complex64 ``(1.3e-6, 1e-5)``, float64 and complex128 ``(1e-7, 1e-7)``,
exact for integers and booleans (rtol first). Python floats count as float64.

``make_tensor`` draws test inputs (from glassgrad's generator, so ``manual_seed`` repeats them);
``assert_allclose`` is PyTorch's deprecated form (it warns, then compares without checking dtypes).

>>> import glassgrad as gg
>>> gg.testing.assert_close(gg.tensor([1.0, 2.0]), gg.tensor([1.0, 2.0 + 1e-7]))
"""

from __future__ import annotations

import cmath
import contextlib
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.dtypes import int64
from glassgrad.sparse_tensor import sparse_coo, strided
from glassgrad.tensor import Tensor
from glassgrad.testing_comparison import (
    ErrorMeta,
    compare_regular_values,
    default_tolerances,
    get_tolerances,
    make_scalar_mismatch_msg,
)  # fmt: skip
from glassgrad.type_promotion import promote_types
from glassgrad.user_frames import user_stacklevel

__all__ = ["assert_allclose", "assert_close", "make_tensor"]

# (rtol, atol) by dtype name; anything else (integers, booleans) compares exactly
_TOLERANCES = {
    "float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7),
}  # fmt: skip


_NUMBER_DTYPES = {int: "int64", float: "float64", complex: "complex128"}  # tolerances of a number


def _unsupported(actual: Any, expected: Any, id: tuple) -> ErrorMeta:  # noqa: A002
    return ErrorMeta(
        TypeError,
        f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}.",
        id=id,
    )


def _tolerances(names: tuple, rtol: Any, atol: Any) -> tuple[Any, Any]:
    """``rtol``/``atol`` as given, or the loosest defaults of the dtypes named."""
    if rtol is not None:
        return rtol, atol
    pairs = [_TOLERANCES.get(n, (0.0, 0.0)) for n in names]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _compare_numbers(actual: Any, expected: Any, id: tuple, opts: dict) -> None:  # noqa: A002
    """Two Python or NumPy numbers (NumPy's as the Python numbers they hold), as PyTorch's NumberPair."""
    actual, expected = (v.item() if isinstance(v, np.generic) else v for v in (actual, expected))
    if opts["check_dtype"] and type(actual) is not type(expected):
        raise ErrorMeta(
            AssertionError, f"The (d)types do not match: {type(actual)} != {type(expected)}.", id=id
        )
    names = tuple(_NUMBER_DTYPES.get(type(v), "int64") for v in (actual, expected))  # (a bool: as int)
    rtol, atol = _tolerances(names, opts["rtol"], opts["atol"])
    if actual == expected:
        return
    if opts["equal_nan"] and cmath.isnan(actual) and cmath.isnan(expected):
        return
    abs_diff = abs(actual - expected)
    if cmath.isfinite(abs_diff) and abs_diff <= atol + rtol * abs(expected):
        return
    raise ErrorMeta(AssertionError, make_scalar_mismatch_msg(actual, expected, rtol=rtol, atol=atol), id=id)


def _compare_tensors(actual: Tensor, expected: Tensor, id: tuple, opts: dict) -> None:  # noqa: A002
    """Two tensors, as PyTorch's TensorLikePair: attributes first (shape; layout, or strides of
    strided tensors; device; dtype), then the values in the promoted dtype and dense layout. Sparse
    COO pairs compare their indices and values; meta tensors (no data) stop after the attributes.
    The arrays are read without a call that a subclass's ``__torch_function__`` would see (PyTorch's
    comparison asks only for attributes and isclose, all that torchlie's LieTensor allows)."""

    def mismatch(name: str, a: Any, e: Any) -> ErrorMeta:
        return ErrorMeta(
            AssertionError, f"The values for attribute '{name}' do not match: {a} != {e}.", id=id
        )

    if actual.shape != expected.shape:
        raise mismatch("shape", repr(actual.shape), repr(expected.shape))
    if actual.layout != expected.layout:
        if opts["check_layout"]:
            raise mismatch("layout", actual.layout, expected.layout)
    elif actual.layout is strided and opts["check_stride"] and actual.stride() != expected.stride():
        raise mismatch("stride()", actual.stride(), expected.stride())
    if opts["check_device"] and actual.device != expected.device:
        raise mismatch("device", actual.device, expected.device)
    if opts["check_dtype"] and actual.dtype != expected.dtype:
        raise mismatch("dtype", actual.dtype, expected.dtype)
    if "meta" in (actual.device.type, expected.device.type):
        return
    names = tuple(str(t.dtype).rpartition(".")[2] for t in (actual, expected))
    rtol, atol = _tolerances(names, opts["rtol"], opts["atol"])
    if actual.dtype != expected.dtype:  # unsigned wider than 8 bits as int64, as PyTorch's
        wide = ("uint16", "uint32", "uint64")
        common = promote_types(
            *(int64 if n in wide else t.dtype for n, t in zip(names, (actual, expected), strict=True))
        )
        actual, expected = actual.to(common), expected.to(common)
    if actual.layout is not expected.layout:
        actual, expected = (t.to_dense() if t.layout is not strided else t for t in (actual, expected))
    close = {"rtol": rtol, "atol": atol, "equal_nan": opts["equal_nan"], "id": id}
    if actual.layout is sparse_coo:
        _compare_sparse_coo(actual, expected, close)
        return
    compare_regular_values(actual._data, expected._data, **close)


def _compare_sparse_coo(actual: Any, expected: Any, close: dict) -> None:
    """As PyTorch's: sparse dims and the number of stored values must match, the indices exactly and
    the values by ``close`` (an uncoalesced tensor is compared as stored, not coalesced)."""
    for what, get in (("sparse dimensions", "sparse_dim"), ("specified values", "_nnz")):
        a, e = getattr(actual, get)(), getattr(expected, get)()
        if a != e:
            text = f"The number of {what} in sparse COO tensors does not match: {a} != {e}"
            raise ErrorMeta(AssertionError, text, id=close["id"])
    compare_regular_values(
        actual._indices()._data, expected._indices()._data, rtol=0, atol=0, equal_nan=False, id=close["id"],
        identifier="Sparse COO indices",
    )  # fmt: skip
    compare_regular_values(
        actual._values()._data, expected._values()._data, **close, identifier="Sparse COO values"
    )


def _as_tensors(actual: Any, expected: Any, id: tuple, opts: dict) -> tuple[Tensor, Tensor]:  # noqa: A002
    """Tensors for two tensor-likes of related types (a tensor and its subclass; two NumPy arrays),
    or the TypeError of two that no comparison handles (a tensor and an array, two strings)."""
    related = isinstance(actual, type(expected)) or isinstance(expected, type(actual))
    if not related or (not opts["allow_subclasses"] and type(actual) is not type(expected)):
        raise _unsupported(actual, expected, id)
    if isinstance(actual, Tensor):
        return actual, expected
    from glassgrad.factories import as_tensor

    try:
        return as_tensor(actual), as_tensor(expected)
    except Exception:
        raise _unsupported(actual, expected, id) from None


def _pair(actual: Any, expected: Any, id: tuple, opts: dict) -> Callable[[], None]:  # noqa: A002
    """The comparison of two leaves, found now, run later (PyTorch's pair types, in its order)."""
    if actual is None or expected is None:

        def none() -> None:
            if not (actual is None and expected is None):
                raise ErrorMeta(AssertionError, f"None mismatch: {actual} is not {expected}", id=id)

        return none
    bools = (bool, np.bool_)
    if isinstance(actual, bools) and isinstance(expected, bools):
        a, e = bool(actual), bool(expected)

        def booleans() -> None:
            if a is not e:
                raise ErrorMeta(AssertionError, f"Booleans mismatch: {a} is not {e}", id=id)

        return booleans
    numbers = (int, float, complex, np.number)
    if isinstance(actual, numbers) and isinstance(expected, numbers):
        return lambda: _compare_numbers(actual, expected, id, opts)
    a, e = _as_tensors(actual, expected, id, opts)
    return lambda: _compare_tensors(a, e, id, opts)


def _originate(actual: Any, expected: Any, id: tuple, opts: dict, out: list) -> None:  # noqa: A002
    """Walk matching sequences and mappings, appending one comparison per leaf pair to ``out``;
    a length, key or type mismatch raises at once, before any value is compared (as PyTorch's)."""

    def seq(v: Any) -> bool:
        return isinstance(v, Sequence) and not isinstance(v, str)

    if seq(actual) and seq(expected):
        if len(actual) != len(expected):
            text = f"The length of the sequences mismatch: {len(actual)} != {len(expected)}"
            raise ErrorMeta(AssertionError, text, id=id)
        for i, (x, y) in enumerate(zip(actual, expected, strict=True)):
            _originate(x, y, (*id, i), opts, out)
    elif isinstance(actual, Mapping) and isinstance(expected, Mapping):
        keys, other = set(actual.keys()), set(expected.keys())
        if keys != other:
            raise ErrorMeta(
                AssertionError,
                "The keys of the mappings do not match:\n"
                f"Missing keys in the actual mapping: {sorted(other - keys)}\n"
                f"Additional keys in the actual mapping: {sorted(keys - other)}",
                id=id,
            )
        with contextlib.suppress(TypeError):  # sorted where they allow it: the first failure is stable
            keys = sorted(keys)
        for k in keys:
            _originate(actual[k], expected[k], (*id, k), opts, out)
    else:
        out.append(_pair(actual, expected, id, opts))


def assert_close(
    actual: Any,
    expected: Any,
    *,
    allow_subclasses: bool = True,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = False,
    check_device: bool = True,
    check_dtype: bool = True,
    check_layout: bool = True,
    check_stride: bool = False,
    msg: str | Callable[[str], str] | None = None,
) -> None:
    """Raise ``AssertionError`` unless ``actual`` and ``expected`` agree (see the module docstring):
    same shapes, same dtypes (unless ``check_dtype=False``: both go to their common dtype) and
    values within tolerance; NaNs match only with ``equal_nan``. Inputs of kinds that cannot be
    compared (or of different types with ``allow_subclasses=False``) raise ``TypeError``, before any
    value is compared. ``msg`` replaces a comparison's message, or, if callable, maps it.
    ``check_layout``/``check_device``/``check_stride`` compare those attributes first (sparse
    tensors of different layouts compare by their dense values, meta tensors by shape and dtype)."""
    opts = {
        "allow_subclasses": allow_subclasses, "rtol": rtol, "atol": atol, "equal_nan": equal_nan,
        "check_dtype": check_dtype, "check_device": check_device, "check_layout": check_layout,
        "check_stride": check_stride,
    }  # fmt: skip
    if (rtol is None) != (atol is None):
        get_tolerances(rtol=rtol, atol=atol)  # PyTorch's ValueError: give both or neither
    comparisons: list = []
    try:
        _originate(actual, expected, (), opts, comparisons)
    except ErrorMeta as m:  # structure and types: PyTorch's own text, whatever ``msg`` says
        raise m.to_error() from None
    for compare in comparisons:
        try:
            compare()
        except ErrorMeta as m:
            raise m.to_error(msg) from None


def assert_allclose(
    actual: Any,
    expected: Any,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = True,
    msg: str = "",
) -> None:
    """Deprecated (as in PyTorch): ``assert_close`` with tensors made of numbers or arrays, dtypes
    not checked, NaN equal to NaN by default, and default tolerances of its own: float16
    ``(1e-3, 1e-3)``, float32 ``(1e-4, 1e-5)``, float64 ``(1e-5, 1e-8)`` (rtol first), others exact."""
    warnings.warn(
        "torch.testing.assert_allclose() is deprecated: use glassgrad.testing.assert_close() instead",
        FutureWarning,
        stacklevel=user_stacklevel(),
    )
    from glassgrad.factories import as_tensor

    actual = actual if isinstance(actual, Tensor) else as_tensor(actual)
    expected = expected if isinstance(expected, Tensor) else as_tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:  # its own, looser defaults (PyTorch's; other dtypes exact)
        loose = {dtypes.float16: (1e-3, 1e-3), dtypes.float32: (1e-4, 1e-5), dtypes.float64: (1e-5, 1e-8)}
        rtol, atol = default_tolerances(actual, expected, dtype_precisions=loose)
    assert_close(
        actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True, check_dtype=False,
        check_stride=False, msg=msg or None,
    )  # fmt: skip


def make_tensor(
    *shape: Any,
    dtype: Any,
    device: Any = None,
    low: float | None = None,
    high: float | None = None,
    requires_grad: bool = False,
    noncontiguous: bool = False,
    exclude_zero: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """A tensor of random values for tests: floats uniform in ``[low, high)`` (default ``[-9, 9)``),
    integers in ``[low, high)`` (default ``[-9, 10)``, ``[0, 10)`` unsigned), bools at random;
    complex numbers take both parts so. Drawn from glassgrad's generator (``manual_seed``).

    Shape:
        ``shape`` as ints or one sequence; ``noncontiguous=True`` gives a strided view of the same
        values, ``exclude_zero=True`` replaces zeros (by 1, or the dtype's smallest normal number).
    """
    from glassgrad.random import get_generator

    if len(shape) == 1 and isinstance(shape[0], Sequence):
        shape = tuple(shape[0])
    npd = dtypes.to_np_dtype(dtype)
    if noncontiguous and memory_format is not None:
        raise ValueError(
            "make_tensor: the parameters `noncontiguous` and `memory_format` are mutually exclusive, "
            f"but got noncontiguous={noncontiguous} and memory_format={memory_format}"
        )
    if requires_grad and npd.kind in "biu":
        raise ValueError(
            f"make_tensor: requires_grad=True needs a floating point or complex dtype, got {dtype}"
        )
    rng = get_generator()
    if npd.kind == "b":  # a given interval must meet [0, 2), as PyTorch's (low=2 gave bools at random)
        lo, hi = 0 if low is None else low, 2 if high is None else high
        if not lo < hi or hi < 0 or lo >= 2:
            raise ValueError(
                f"make_tensor: the value interval specified by `low` and `high` is [{lo}, {hi}), "
                f"but {dtype} only supports [0, 2)"
            )
        lo, hi = int(np.ceil(max(lo, 0))), int(np.ceil(min(hi, 2)))
        data = rng.integers(lo, hi, size=shape).astype(bool)
    elif npd.kind in "iu":
        info = np.iinfo(npd)
        lo = (
            max(info.min, -9 if low is None else int(np.ceil(low)))
            if npd.kind == "i"
            else max(0, 0 if low is None else int(np.ceil(low)))
        )
        hi = min(info.max + 1, 10 if high is None else int(np.ceil(high)))
        if hi <= lo:
            raise ValueError(
                f"make_tensor: expected low < high for {dtype}, got low={lo}, high={hi} (defaults -9, 10)"
            )
        data = rng.integers(lo, hi, size=shape).astype(npd)
    else:
        lo, hi = -9.0 if low is None else float(low), 9.0 if high is None else float(high)
        if not lo <= hi:
            raise ValueError(f"make_tensor: expected low <= high, got low={lo}, high={hi} (defaults -9, 9)")
        # clamped to the dtype's finite range, so float16 draws never overflow to inf
        fin = np.finfo(npd)
        lo, hi = max(lo, float(fin.min)), min(hi, float(fin.max))
        data = rng.uniform(lo, hi, size=shape)
        if npd.kind == "c":  # both parts drawn in the range
            data = data + 1j * rng.uniform(lo, hi, size=shape)
        data = data.astype(npd)
    if exclude_zero:
        data[data == 0] = 1 if npd.kind in "biu" else np.finfo(npd).tiny
    if noncontiguous and data.size > 1:
        wide = np.repeat(data[..., None], 2, axis=-1)  # every value twice along a new last dim
        data = wide[..., 0]
    out = Tensor(np.asarray(data), _wrap=True)
    if memory_format is not None:
        out = out.contiguous(memory_format=memory_format)
    if requires_grad:
        out.requires_grad_(True)
    return out


# PyTorch's private ``torch.testing._comparison`` (its tolerance helpers), importable by that name
from glassgrad import testing_comparison as _comparison  # noqa: E402

sys.modules[__name__ + "._comparison"] = _comparison
