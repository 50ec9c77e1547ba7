"""Round 66b (PyTorch's test_torch.py, TestTorch): ``int``/``float`` of a complex tensor,
``map_``/``map2_``/``apply_``'s argument checks, ``is_same_size``'s types and the ``generator=``
argument's type, as PyTorch."""

from __future__ import annotations

import pytest

import glassgrad as gg


def _numbers(lib):
    z = lib.tensor(1.5 + 0j)
    return [float(z), int(z), float(lib.tensor([[2.0 + 0j]]))]


def test_int_float_of_a_complex_tensor_with_zero_imaginary_part(torch):
    assert _numbers(gg) == _numbers(torch)


@pytest.mark.parametrize("convert", [int, float])
def test_int_float_of_a_complex_tensor_with_imaginary_part_raise(torch, convert):
    with pytest.raises(RuntimeError, match="cannot be converted"):
        convert(torch.tensor(1 + 2j))
    with pytest.raises(RuntimeError, match="cannot be converted"):
        convert(gg.tensor(1 + 2j))


def _map_errors(lib):
    """Each of PyTorch's refusals: (exception class, the call)."""
    f32, i64 = lib.arange(3.0), lib.ones(3, dtype=lib.int64)
    return [
        (TypeError, lambda: lib.arange(3).map_(lib.tensor([1.5, 2.5, 3.5]), lambda a, b: a * b)),
        (TypeError, lambda: f32.clone().map_(lib.ones(3, dtype=lib.float64), lambda a, b: a)),
        (TypeError, lambda: f32.clone().map_(3.0, lambda a, b: a)),
        (TypeError, lambda: f32.clone().map2_(lib.ones(3), i64, lambda a, b, c: a)),
        (TypeError, lambda: f32.clone().map2_(i64, lib.ones(3), lambda a, b, c: a)),
        (RuntimeError, lambda: f32.clone().map_(lib.ones(3, requires_grad=True), lambda a, b: a + b)),
        (TypeError, lambda: lib.zeros(2).apply_(lambda v: "a")),
    ]


@pytest.mark.parametrize("case", range(7))
def test_map_and_apply_refuse_as_torch(torch, case):
    cls, thunk = _map_errors(torch)[case]
    with pytest.raises(cls):
        thunk()
    cls_gg, thunk_gg = _map_errors(gg)[case]
    with pytest.raises(cls_gg):
        thunk_gg()


def _map_values(lib):
    x = lib.zeros(2, 3).map2_(lib.ones(3), lib.ones(2, 1) * 2, lambda a, b, c: a + b + c)
    y = lib.arange(6.0).view(2, 3).map_(lib.tensor([10.0, 20.0, 30.0]), lambda a, b: a + b)
    z = lib.arange(5).apply_(lambda v: v * 3)
    return [x.tolist(), y.tolist(), z.tolist(), z.dtype == lib.int64]


def test_map_and_apply_values_match_torch(torch):
    assert _map_values(gg) == _map_values(torch)


@pytest.mark.parametrize("other", [[2], (2,), 2])
def test_is_same_size_takes_tensors_only(torch, other):
    with pytest.raises(TypeError):
        torch.zeros(2).is_same_size(other)
    with pytest.raises(TypeError):
        gg.zeros(2).is_same_size(other)
    assert gg.zeros(2, 3).is_same_size(gg.ones(2, 3))
    assert not gg.zeros(2, 3).is_same_size(gg.ones(3, 2))


def _draws(lib):
    return [
        lambda: lib.rand(2, generator=0),  # a falsy non-generator: never the global stream
        lambda: lib.randn(2, generator="a"),
        lambda: lib.randperm(3, generator=5),
        lambda: lib.ones(3).uniform_(generator=5),
        lambda: lib.multinomial(lib.ones(3), 2, generator=False),
    ]


@pytest.mark.parametrize("case", range(5))
def test_a_generator_argument_of_another_type_is_a_type_error(torch, case):
    with pytest.raises(TypeError):
        _draws(torch)[case]()
    with pytest.raises(TypeError, match="Generator"):
        _draws(gg)[case]()


def test_generator_none_and_a_generator_still_draw():
    g1, g2 = gg.Generator().manual_seed(3), gg.Generator().manual_seed(3)
    assert gg.equal(gg.rand(4, generator=g1), gg.rand(4, generator=g2))
    gg.manual_seed(0)
    a = gg.rand(3, generator=None)
    gg.manual_seed(0)
    assert gg.equal(a, gg.rand(3))


_RETURNS = [
    ("int8", 300.0),
    ("int8", 300),
    ("int32", 1e10),
    ("uint8", -1.0),
    ("int64", float("nan")),
    ("int8", 127.9),  # truncation would fit; PyTorch checks the float against the range first
    ("int8", -128.5),
    ("uint8", 255.5),
]


@pytest.mark.parametrize(("dtype", "value"), _RETURNS)
def test_apply_refuses_a_value_out_of_an_integer_dtype_as_torch(torch, dtype, value):
    with pytest.raises(RuntimeError, match="without overflow"):
        torch.zeros(2, dtype=getattr(torch, dtype)).apply_(lambda x: value)
    with pytest.raises(RuntimeError, match="without overflow"):
        gg.zeros(2, dtype=getattr(gg, dtype)).apply_(lambda x: value)


@pytest.mark.parametrize(("dtype", "value"), [("float32", None), ("float32", 1j), ("int64", "3")])
def test_apply_refuses_a_non_real_return_as_torch(torch, dtype, value):
    with pytest.raises(TypeError):
        torch.zeros(2, dtype=getattr(torch, dtype)).apply_(lambda x: value)
    with pytest.raises(TypeError):
        gg.zeros(2, dtype=getattr(gg, dtype)).apply_(lambda x: value)


def _accepted(lib):
    out = []
    for dtype, value in [("uint8", -1), ("float32", 1e40), ("float16", 1e6), ("bool", 2), ("bool", 0.5),
                         ("int32", True), ("int64", -7.9), ("complex64", 1 + 1j), ("float64", 2**70)]:  # fmt: skip
        t = lib.zeros(2, dtype=getattr(lib, dtype)).apply_(lambda x, v=value: v)
        out.append((dtype, t.tolist()))
    return out


def test_apply_values_it_accepts_match_torch(torch):
    assert _accepted(gg) == _accepted(torch)
