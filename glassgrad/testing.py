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

import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.errors import ArgumentError
from glassgrad.sparse_tensor import strided
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["assert_allclose", "assert_close", "make_tensor"]

# (rtol, atol) by dtype name; anything else (integers, booleans) compares exactly
_TOLERANCES = {
    "float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7),
}  # fmt: skip
_NUMBER = (bool, int, float, complex)


class _MismatchError(Exception):
    """A failed comparison on one leaf: ``kind`` is the exception class to raise; ``placed`` once
    the item path is in the text (the innermost ``_walk`` adds it)."""

    placed = False
    structural = False  # a length or key mismatch of the containers: ``msg`` leaves it, as PyTorch's

    def __init__(self, kind: type, text: str) -> None:
        super().__init__(text)
        self.kind, self.text = kind, text


def _both_or_neither(rtol: Any, atol: Any) -> None:
    if (rtol is None) != (atol is None):
        missing = "rtol" if rtol is None else "atol"
        raise ValueError(f"assert_close: give both rtol and atol or neither; {missing} is missing")
    if rtol is not None and (rtol < 0 or atol < 0):
        raise ArgumentError(f"assert_close: expected rtol and atol >= 0, got rtol={rtol}, atol={atol}")


def _tolerances(dts: tuple, rtol: Any, atol: Any) -> tuple[float, float]:
    if rtol is not None:
        return float(rtol), float(atol)
    pairs = [_TOLERANCES.get(np.dtype(d).name, (0.0, 0.0)) for d in dts]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _num(v: Any) -> str:
    return repr(v.item() if isinstance(v, np.generic) else v)


def _compare_arrays(a: np.ndarray, e: np.ndarray, scalar: bool, names: tuple, opts: dict) -> None:
    """Raise _MismatchError where the arrays differ in shape, dtype or (beyond tolerance) values."""
    if a.shape != e.shape:
        raise _MismatchError(
            AssertionError, f"assert_close: shapes differ: actual {names[0]}, expected {names[1]}"
        )
    if opts["check_dtype"] and a.dtype != e.dtype:
        raise _MismatchError(
            AssertionError, f"assert_close: dtypes differ: actual {names[2]}, expected {names[3]}"
        )
    rtol, atol = _tolerances((a.dtype, e.dtype), opts["rtol"], opts["atol"])
    common = np.result_type(a.dtype, e.dtype)
    if common.kind in "biu" and common != np.uint64:
        common = np.dtype(np.int64)  # differences of narrow integers (uint8 0 - 255) must not wrap
    a, e = a.astype(common, copy=False), e.astype(common, copy=False)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        diff = np.abs(a - e)
        ok = (a == e) | (np.isfinite(diff) & (diff <= atol + rtol * np.abs(e)))
        if opts["equal_nan"]:
            ok |= np.isnan(a) & np.isnan(e)
        if ok.all():
            return
        rel = diff / np.abs(e).astype(np.result_type(diff.dtype, np.float32))
    exact = rtol == 0 and atol == 0
    word = "equal" if exact else "close"
    allow_abs = "" if exact else f" (allowed: {atol:g})"
    allow_rel = "" if exact else f" (allowed: {rtol:g})"
    if scalar:
        text = (
            f"Scalars are not {word}: got {_num(a.reshape(-1)[0])}, expected {_num(e.reshape(-1)[0])}; "
            f"absolute difference {_num(diff.reshape(-1)[0])}{allow_abs}, "
            f"relative difference {_num(rel.reshape(-1)[0])}{allow_rel}"
        )
        raise _MismatchError(AssertionError, text)

    def worst(d: np.ndarray) -> str:
        flat = d.reshape(-1)
        nans = np.flatnonzero(np.isnan(flat))
        i = int(nans[0]) if nans.size else int(np.argmax(flat))
        return f"{_num(flat[i])} at index {tuple(int(j) for j in np.unravel_index(i, d.shape))}"

    # as PyTorch's: only the mismatched elements count (matched 0 against 0 is no NaN ratio)
    diff, rel = np.where(ok, 0, diff), np.where(ok, 0, rel)
    bad = int((~ok).sum())
    text = (
        f"Tensor-likes are not {word}: {bad} of {ok.size} elements differ ({100.0 * bad / ok.size:.1f}%); "
        f"largest absolute difference {worst(diff)}{allow_abs}; "
        f"largest relative difference {worst(rel)}{allow_rel}"
    )
    raise _MismatchError(AssertionError, text)


def _tensor_arrays(actual: Tensor, expected: Tensor, opts: dict) -> tuple[np.ndarray, np.ndarray]:
    """The values to compare, after the layout, device and stride checks asked for: sparse tensors
    by their dense form, meta tensors (no data) by zeros of their shape."""
    for what, check, get in (
        ("layouts", "check_layout", lambda t: t.layout),
        ("devices", "check_device", lambda t: t.device),
    ):
        if opts[check] and get(actual) != get(expected):
            raise _MismatchError(
                AssertionError, f"assert_close: {what} differ: actual {get(actual)}, expected {get(expected)}"
            )
    dense = [t.to_dense() if t.layout is not strided else t for t in (actual, expected)]
    if opts["check_stride"] and actual.layout is strided and dense[0].stride() != dense[1].stride():
        raise _MismatchError(
            AssertionError,
            f"assert_close: strides differ: actual {dense[0].stride()}, expected {dense[1].stride()}",
        )
    # the arrays read without a call that a subclass's __torch_function__ would see: PyTorch's
    # comparison asks only for attributes and isclose, all that torchlie's LieTensor allows
    return tuple(np.zeros(t.shape, t.dtype.np) if t.device.type == "meta" else t._data for t in dense)


def _leaf(actual: Any, expected: Any, opts: dict) -> None:
    if actual is None or expected is None:
        if actual is not expected:
            raise _MismatchError(
                AssertionError, f"assert_close: one side is None: got {actual!r}, expected {expected!r}"
            )
        return
    # NumPy scalars compare as the Python numbers they hold (np.float32(1) matches 1.0)
    actual, expected = (v.item() if isinstance(v, np.generic) else v for v in (actual, expected))
    for kind in (Tensor, np.ndarray):
        if isinstance(actual, kind) or isinstance(expected, kind):
            if not (isinstance(actual, kind) and isinstance(expected, kind)):
                raise _MismatchError(
                    TypeError,
                    f"assert_close: cannot compare {type(actual).__name__} with {type(expected).__name__}; "
                    "give two tensors, two NumPy arrays or two numbers",
                )
            if kind is Tensor:
                a, e = _tensor_arrays(actual, expected, opts)
                names = (actual.shape, expected.shape, actual.dtype, expected.dtype)
            else:
                a, e = actual, expected
                names = (a.shape, e.shape, a.dtype, e.dtype)
            _compare_arrays(np.asarray(a), np.asarray(e), a.ndim == 0, names, opts)
            return
    if isinstance(actual, _NUMBER) and isinstance(expected, _NUMBER):
        if isinstance(actual, bool) and isinstance(expected, bool):
            if actual is not expected:
                raise _MismatchError(AssertionError, f"Booleans differ: got {actual}, expected {expected}")
            return
        if opts["check_dtype"] and type(actual) is not type(expected):
            raise _MismatchError(
                AssertionError,
                f"assert_close: number types differ: {type(actual).__name__} and {type(expected).__name__}",
            )

        def arr(v: Any) -> np.ndarray:
            return np.asarray(v, dtype=np.complex128 if isinstance(v, complex) else None)

        _compare_arrays(arr(actual), arr(expected), True, ((), (), None, None), opts)
        return
    raise _MismatchError(
        TypeError,
        f"assert_close: cannot compare {type(actual).__name__} with {type(expected).__name__}; "
        "give tensors, NumPy arrays, numbers, or sequences and mappings of them",
    )


def _structural(text: str) -> _MismatchError:
    err = _MismatchError(AssertionError, text)
    err.structural = True
    return err


def _walk(actual: Any, expected: Any, path: str, opts: dict) -> None:
    def seq(v: Any) -> bool:
        return isinstance(v, Sequence) and not isinstance(v, str | bytes)

    try:
        if seq(actual) and seq(expected):
            if len(actual) != len(expected):
                raise _structural(f"assert_close: sequence lengths differ: {len(actual)} and {len(expected)}")
            for i, (x, y) in enumerate(zip(actual, expected, strict=True)):
                _walk(x, y, f"{path}[{i}]", opts)
            return
        if isinstance(actual, Mapping) and isinstance(expected, Mapping):
            if set(actual) != set(expected):
                missing = sorted(set(expected) - set(actual), key=repr)
                extra = sorted(set(actual) - set(expected), key=repr)
                raise _structural(
                    f"assert_close: mapping keys differ: missing from actual {missing}, extra in actual {extra}"
                )
            for k in expected:
                _walk(actual[k], expected[k], f"{path}[{k!r}]", opts)
            return
        _leaf(actual, expected, opts)
    except _MismatchError as m:
        if path and not m.placed:
            m.text += f" (at item {path})"
            m.placed = True
        raise


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
    compared raise ``TypeError``. ``msg`` replaces the message, or, if callable, maps it.
    ``check_layout``/``check_device``/``check_stride`` compare those attributes first (sparse
    tensors compare by their dense values, meta tensors by shape and dtype alone)."""
    opts = {
        "rtol": rtol, "atol": atol, "equal_nan": equal_nan, "check_dtype": check_dtype,
        "check_device": check_device, "check_layout": check_layout, "check_stride": check_stride,
    }  # fmt: skip
    _both_or_neither(rtol, atol)
    try:
        _walk(actual, expected, "", opts)
    except _MismatchError as m:
        text = m.text
        if msg is not None and m.kind is AssertionError and not m.structural:  # as PyTorch's
            text = msg(text) if callable(msg) else msg
        raise m.kind(text) from None


def assert_allclose(
    actual: Any,
    expected: Any,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = True,
    msg: str = "",
) -> None:
    """Deprecated (as in PyTorch): ``assert_close`` with tensors made of numbers or arrays, dtypes
    not checked and NaN equal to NaN by default."""
    warnings.warn(
        "torch.testing.assert_allclose() is deprecated: use glassgrad.testing.assert_close() instead",
        FutureWarning,
        stacklevel=user_stacklevel(),
    )
    from glassgrad.factories import as_tensor

    actual = actual if isinstance(actual, Tensor) else as_tensor(actual)
    expected = expected if isinstance(expected, Tensor) else as_tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = _tolerances((actual.dtype.np, expected.dtype.np), None, None)
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
    if requires_grad and npd.kind in "biu":
        raise ValueError(
            f"make_tensor: requires_grad=True needs a floating point or complex dtype, got {dtype}"
        )
    rng = get_generator()
    if npd.kind == "b":
        data = rng.integers(0, 2, size=shape).astype(bool)
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
