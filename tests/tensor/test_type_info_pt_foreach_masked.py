"""``finfo``/``iinfo`` against PyTorch's ``test/test_type_info.py`` (round 67): the attributes of every
dtype both have, the default dtype's ``finfo()``, and PyTorch's TypeError for a non-dtype argument
(``None``, a tensor), which glassgrad read as the default dtype or refused with NumPy's ValueError."""

from __future__ import annotations

import pytest

import glassgrad as gg

FLOATS = [
    "float16",
    "float32",
    "float64",
    "bfloat16",
    "complex64",
    "complex128",
    "float8_e5m2",
    "float8_e4m3fn",
]
INTS = ["int64", "int32", "int16", "int8", "uint8"]


@pytest.mark.parametrize("name", FLOATS)
def test_finfo_attributes_as_pytorch(torch, name):
    got, want = gg.finfo(getattr(gg, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "max", "min", "eps", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(got, attr) == getattr(want, attr), attr


@pytest.mark.parametrize("name", INTS)
def test_iinfo_attributes_as_pytorch(torch, name):
    got, want = gg.iinfo(getattr(gg, name)), torch.iinfo(getattr(torch, name))
    for attr in ("bits", "max", "min", "dtype"):
        assert getattr(got, attr) == getattr(want, attr), attr


@pytest.mark.parametrize("name", ["float64", "float16"])
def test_finfo_without_argument_is_the_default_dtype(torch, name):
    old = gg.get_default_dtype()
    gg.set_default_dtype(getattr(gg, name))
    try:
        assert gg.finfo() == gg.finfo(getattr(gg, name))
        assert gg.finfo().bits == torch.finfo(getattr(torch, name)).bits
    finally:
        gg.set_default_dtype(old)


@pytest.mark.parametrize("make", [lambda lib: None, lambda lib: lib.zeros(1)], ids=["None", "tensor"])
def test_finfo_of_a_non_dtype_raises_type_error_as_pytorch(torch, make):
    with pytest.raises(TypeError):
        torch.finfo(make(torch))
    with pytest.raises(TypeError):
        gg.finfo(make(gg))


@pytest.mark.parametrize("name", ["int64", "int8", "uint8", "bool"])
def test_finfo_of_an_integer_and_iinfo_of_a_float_raise_type_error(torch, name):
    with pytest.raises(TypeError):
        torch.finfo(getattr(torch, name))
    with pytest.raises(TypeError):
        gg.finfo(getattr(gg, name))
    with pytest.raises(TypeError):
        gg.iinfo(gg.float32)
    with pytest.raises(TypeError):
        gg.iinfo(gg.zeros(1))
