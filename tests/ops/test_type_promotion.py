"""``promote_types``, ``result_type`` and ``can_cast`` against PyTorch over every dtype pair, and
``tensor()``'s dtype for a list holding NumPy scalars or arrays (their own dtypes count)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import glassgrad as gg

NAMES = [
    "bool",
    "uint8",
    "int8",
    "int16",
    "int32",
    "int64",
    "float16",
    "float32",
    "float64",
    "complex64",
    "complex128",
]


def _name(dt):
    return str(dt).split(".")[-1]


def test_promote_types_and_can_cast_match_pytorch(torch):
    for a, b in itertools.product(NAMES, NAMES):
        ta, tb, ga, gb = getattr(torch, a), getattr(torch, b), getattr(gg, a), getattr(gg, b)
        assert _name(gg.promote_types(ga, gb)) == _name(torch.promote_types(ta, tb)), (a, b)
        assert gg.can_cast(ga, gb) == torch.can_cast(ta, tb), (a, b)
    assert gg.promote_types(gg.int64, gg.float16) is gg.float16  # not NumPy's float64
    for bad in ("float32", 3, np.float32):
        with pytest.raises(TypeError, match="promote_types: expected glassgrad dtypes"):
            gg.promote_types(gg.float32, bad)
        with pytest.raises(TypeError, match="can_cast: expected glassgrad dtypes"):
            gg.can_cast(bad, gg.float32)


def _make(lib, name, shape):
    return lib.ones(shape, dtype=getattr(lib, name)) if shape else lib.tensor(1, dtype=getattr(lib, name))


@pytest.mark.parametrize("shapes", [((2,), (2,)), ((2,), ()), ((), (2,)), ((), ())])
def test_result_type_of_tensors_matches_pytorch(torch, shapes):
    for a, b in itertools.product(NAMES, NAMES):
        if "float16" in (a, b) and ("complex64" in (a, b) or "complex128" in (a, b)):
            continue  # PyTorch gives complex32 in some of these: NumPy has no such type
        want = torch.result_type(_make(torch, a, shapes[0]), _make(torch, b, shapes[1]))
        got = gg.result_type(_make(gg, a, shapes[0]), _make(gg, b, shapes[1]))
        assert _name(got) == _name(want), (a, b, shapes)


def test_result_type_with_python_numbers_matches_pytorch(torch):
    for name, v, shape in itertools.product(NAMES, [True, 3, 2.5, 1j], [(2,), ()]):
        if name == "float16" and isinstance(v, complex):
            continue  # complex32 in PyTorch
        want = torch.result_type(_make(torch, name, shape), v)
        assert _name(gg.result_type(_make(gg, name, shape), v)) == _name(want), (name, v, shape)
        assert _name(gg.result_type(v, _make(gg, name, shape))) == _name(want), (name, v, shape)
    for x, y in itertools.product([True, 3, 2.5], repeat=2):
        assert _name(gg.result_type(x, y)) == _name(torch.result_type(x, y)), (x, y)
    with pytest.raises(TypeError, match="result_type"):
        gg.result_type(gg.ones(2), "a")


def test_result_type_reads_numpy_scalars_as_pytorch_does(torch):
    # integers as Python ints; np.bool_ and floats through float() (so bool with an int tensor is float32)
    for name in ["bool", "uint8", "int32", "int64", "float16", "float64"]:
        for v in [np.int64(1), np.uint8(1), np.float64(1.0), np.float32(1.0), np.bool_(True)]:
            want = torch.result_type(torch.ones(2, dtype=getattr(torch, name)), v)
            assert _name(gg.result_type(gg.ones(2, dtype=getattr(gg, name)), v)) == _name(want), (name, v)
    assert _name(gg.result_type(np.int64(1), np.float32(1.0))) == _name(
        torch.result_type(np.int64(1), np.float32(1.0))
    )


LISTS = [
    lambda: [np.float64(1.0), 2.0],
    lambda: [np.float64(1.0)],
    lambda: [np.float32(1.0), 2],
    lambda: [np.int32(1), 2],
    lambda: [np.int32(1)],
    lambda: [np.array([1.5])],
    lambda: [np.array([1], dtype=np.int32)],
    lambda: [np.array([1], dtype=np.int32), [2]],
    lambda: [np.array([1], dtype=np.int32), [2.5]],
    lambda: [np.float16(1)],
    lambda: [np.uint8(1), 2],
    lambda: [[np.int16(1)], [np.float32(2)]],
    lambda: [np.int64(1), 2.5],
    lambda: [np.array([1, 2], dtype=np.uint8)],
    lambda: [np.complex128(1)],
    lambda: [1.5, 2],
    lambda: [[1, 2], [3, 4]],
]


@pytest.mark.parametrize("make", LISTS)
def test_tensor_of_a_list_with_numpy_values_takes_their_dtypes(torch, make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the once-per-process ndarray-list warning
        want, got = torch.tensor(make()), gg.tensor(make())
    assert _name(got.dtype) == _name(want.dtype)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_a_given_dtype_and_the_default_dtype_still_rule(torch):
    assert gg.tensor([np.float64(1.0)], dtype=gg.float32).dtype is gg.float32
    assert gg.Tensor([np.float64(1.0)]).dtype is gg.float32  # the legacy constructor's own dtype
    cases = [[np.float32(1.0), 2.0], [np.float32(1.0)], [np.int64(1), 2.5]]
    torch.set_default_dtype(torch.float64)
    try:
        want = [_name(torch.tensor(c).dtype) for c in cases]
    finally:
        torch.set_default_dtype(torch.float32)
    gg.set_default_dtype(gg.float64)
    try:
        got = [_name(gg.tensor(c).dtype) for c in cases]
    finally:
        gg.set_default_dtype(gg.float32)
    assert got == want  # float32 meeting a Python float under the default float64 is float64


# (lib, values): a 0-d tensor of each library for ("T", dtype name, value)
TENSOR_LISTS = [
    [("T", "complex64", 1 + 2j), np.int8(3)],  # was int8 [1, 3]: the imaginary part dropped
    [("T", "float32", 1.5), np.int64(2)],  # was int64 [1, 2]: 1.5 truncated
    [("T", "float64", 1.0), np.int16(1)],
    [np.uint8(3), ("T", "float16", 1.0), True],
    [7, ("T", "float64", 1.0)],  # (no NumPy value: a tensor's dtype counts too)
    [("T", "int64", 1), ("T", "float16", 1.0)],  # all tensors: PyTorch's promotion, not NumPy's float64
    [[("T", "int32", 1), 1], [("T", "float64", 1.0), False]],
    [[("T", "complex128", 1j), ("T", "float64", 1.0)], [("T", "bool", True), np.float32(1.0)]],
]


def _with_tensors(lib, data):
    if isinstance(data, tuple):
        return lib.tensor(data[2], dtype=getattr(lib, data[1]))
    return [_with_tensors(lib, d) for d in data] if isinstance(data, list) else data


@pytest.mark.parametrize("data", TENSOR_LISTS)
def test_tensor_of_a_list_holding_tensors_takes_their_dtypes(torch, data):
    want, got = torch.tensor(_with_tensors(torch, data)), gg.tensor(_with_tensors(gg, data))
    assert _name(got.dtype) == _name(want.dtype)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_a_list_of_float16_values_gives_no_overflow_warning(torch):
    # was: RuntimeWarning "overflow encountered in cast" (the int64 range check compared float16 with 2**63)
    for lib in (torch, gg):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = [lib.tensor([np.float16(1.5)]), lib.tensor([lib.tensor(2.5, dtype=lib.float16)])]
        assert [_name(t.dtype) for t in got] == ["float16", "float16"]
