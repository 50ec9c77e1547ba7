"""Round 58's differential hunt on tensor creation, pinned against PyTorch: logspace with a complex
endpoint, heaviside at NaN, the legacy constructor's refusal of a lone number, scalar_tensor's
conversion checks, and the error classes of the factories' refusals (PyTorch raises RuntimeError,
or ValueError for a Python int past int64, where glassgrad raised ValueError or OverflowError)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg


def _same(out, ref):
    assert str(out.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    assert tuple(out.shape) == tuple(ref.shape)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6, atol=0)


# ------------------------------------------------------------------ logspace: complex endpoints
@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((0, 1j, 3), {}),
        ((0, 1j, 5), {"base": 2.0}),
        ((1j, 2, 4), {"base": 2}),
        ((0, 1j, 3), {"dtype": "complex128"}),
        ((0.5, 1 + 1j, 1), {}),
        ((0, 1j, 0), {}),
    ],
)
def test_logspace_of_a_complex_endpoint_is_complex(torch, args, kwargs):
    # was float32: NumPy's complex logspace cast to the real default dtype dropped the imaginary part
    out = gg.logspace(*args, **{k: getattr(gg, v) if k == "dtype" else v for k, v in kwargs.items()})
    ref = torch.logspace(*args, **{k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()})
    _same(out, ref)


def test_logspace_of_a_complex_tensor_endpoint_under_float64(torch):
    for lib in (gg, torch):
        lib.set_default_dtype(lib.float64)
    try:
        out = gg.logspace(gg.tensor(0.5j), 1, 4)
        ref = torch.logspace(torch.tensor(0.5j), 1, 4)
    finally:
        for lib in (gg, torch):
            lib.set_default_dtype(lib.float32)
    assert out.dtype == gg.complex128 and ref.dtype == torch.complex128
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-14)


@pytest.mark.parametrize("op", ["linspace", "logspace"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_complex_endpoint_with_a_real_dtype_is_refused(torch, op, dtype):
    # PyTorch: "inferred dtype c10::complex<float> can't be safely cast to passed dtype Float"
    with pytest.raises(RuntimeError, match="can't be safely cast"):
        getattr(torch, op)(0, 1j, 3, dtype=getattr(torch, dtype))
    with pytest.raises(
        RuntimeError, match=f"torch.{op}\\(\\): inferred dtype glassgrad.complex64 can't be safely cast"
    ):
        getattr(gg, op)(0, 1j, 3, dtype=getattr(gg, dtype))


def test_real_logspace_still_matches(torch):
    for args, kw in (
        ((0, 3, 4), {}),
        ((-1, 3, 5), {"base": 2.0}),
        ((0, 3, 4), {"base": -2}),
        ((0, 2, 3), {"dtype": "int64"}),
    ):
        out = gg.logspace(*args, **{k: getattr(gg, v) if k == "dtype" else v for k, v in kw.items()})
        ref = torch.logspace(*args, **{k: getattr(torch, v) if k == "dtype" else v for k, v in kw.items()})
        _same(out, ref)


# ------------------------------------------------------------------ heaviside at NaN
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_heaviside_of_nan_is_zero(torch, dtype):
    # PyTorch's kernel is x == 0 ? values : x > 0, so NaN steps to 0; NumPy's heaviside gave NaN
    x = [-1.5, -0.0, 0.0, float("nan"), 2.0, float("inf"), -float("inf")]
    for values in ([0.5], [float("nan")]):
        ref = torch.heaviside(
            torch.tensor(x, dtype=getattr(torch, dtype)), torch.tensor(values, dtype=getattr(torch, dtype))
        )
        out = gg.heaviside(
            gg.tensor(x, dtype=getattr(gg, dtype)), gg.tensor(values, dtype=getattr(gg, dtype))
        )
        assert out.dtype == getattr(gg, dtype)
        np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_heaviside_integer_and_bool_inputs_broadcast(torch):
    xi, vi = [[-2, 0, 3], [0, 1, -1]], [[7], [9]]
    ref = torch.heaviside(torch.tensor(xi), torch.tensor(vi))
    out = gg.heaviside(gg.tensor(xi), gg.tensor(vi))
    assert out.dtype == gg.int64 and out.tolist() == ref.tolist()
    ref = torch.heaviside(torch.tensor([True, False]), torch.tensor([True]))
    out = gg.heaviside(gg.tensor([True, False]), gg.tensor([True]))
    assert out.dtype == gg.bool and out.tolist() == ref.tolist()


# ------------------------------------------------------------------ the legacy constructor
@pytest.mark.parametrize("name", ["Tensor", "FloatTensor", "LongTensor", "DoubleTensor", "BoolTensor"])
@pytest.mark.parametrize("data", [3.0, 1 + 2j, True, None, np.float64(2.0), np.bool_(True)], ids=repr)
def test_legacy_constructor_refuses_one_number(torch, name, data):
    # Tensor(3.0) was tensor(3.), Tensor(None) tensor(nan): PyTorch's size-or-sequence parser refuses
    with pytest.raises(TypeError, match="data must be a sequence"):
        getattr(torch, name)(data)
    with pytest.raises(TypeError, match="data must be a sequence"):
        getattr(gg, name)(data)


@pytest.mark.parametrize(
    "data", ["3", "[3]", "np.array(2.5)", "np.array([1.5, 2.5])", "[]", "np.int64(2)", "(2, 3)"]
)
def test_legacy_constructor_sizes_and_data_still_read(torch, data):
    for lib in (torch, gg):
        t = lib.Tensor(eval(data))
        if lib is torch:
            shape, dtype, ref = tuple(t.shape), str(t.dtype), t.tolist()
        else:
            assert (tuple(t.shape), str(t.dtype).replace("glassgrad", "torch")) == (shape, dtype)
            if data.startswith(("[", "np.array")):  # data, not sizes: the values too
                assert t.tolist() == ref


# ------------------------------------------------------------------ scalar_tensor
@pytest.mark.parametrize(
    "s, dtype",
    [(300, "uint8"), (float("nan"), "int64"), (2**40, "int32"), (1j, None), (1e300, "float32")],
    ids=str,
)
def test_scalar_tensor_refuses_what_its_dtype_cannot_hold(torch, s, dtype):
    # NumPy raised its own OverflowError or ValueError ("cannot convert float NaN to integer")
    with pytest.raises(RuntimeError, match="cannot be converted"):
        torch.scalar_tensor(s, dtype=dtype and getattr(torch, dtype))
    with pytest.raises(RuntimeError, match="cannot be converted"):
        gg.scalar_tensor(s, dtype=dtype and getattr(gg, dtype))


@pytest.mark.parametrize(
    "s, dtype", [(-1, "uint8"), (2.7, "int64"), (True, "int64"), (1.5, "float16"), (2, None)], ids=str
)
def test_scalar_tensor_converts_as_pytorch(torch, s, dtype):
    ref = torch.scalar_tensor(s, dtype=dtype and getattr(torch, dtype))
    out = gg.scalar_tensor(s, dtype=dtype and getattr(gg, dtype))
    assert out.shape == () and str(out.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    assert out.item() == ref.item()
    out = gg.scalar_tensor(gg.tensor(3), dtype=gg.float64)
    assert out.shape == () and out.dtype == gg.float64 and out.item() == 3.0


def test_scalar_tensor_refuses_a_tensor_with_dims(torch):
    with pytest.raises(TypeError, match="must be Number"):
        torch.scalar_tensor(torch.tensor([2.5]))
    with pytest.raises(TypeError, match="must be Number"):
        gg.scalar_tensor(gg.tensor([2.5]))  # was a tensor of shape (1,)


# ------------------------------------------------------------------ error classes of the refusals
_REFUSED = {
    "arange(0, 5, 0)": "step must be nonzero",
    "arange(0.0, 5, 0.0)": "step must be nonzero",
    "arange(5, 0)": "upper bound and lower bound inconsistent with step sign",
    "arange(-3)": "upper bound and lower bound inconsistent with step sign",
    "arange(0, 3, -1)": "upper bound and lower bound inconsistent with step sign",
    "arange(1.0, 0.9999999999)": "upper bound and lower bound inconsistent with step sign",
    "arange(0, float('inf'))": "unsupported range",
    "arange(float('nan'))": "unsupported range",
    "arange(0, float('inf'), dtype=L.int64)": "unsupported range",
    "linspace(0, 1, -1)": "steps",
    "logspace(0, 1, -1)": "steps",
    "logspace(0, 3, -2, base=2)": "steps",
    "eye(-1)": "non-negative integer sizes",
    "eye(3, -1)": "non-negative integer sizes",
    "meshgrid(L.ones(2), L.ones(3), indexing='ab')": "indexing",
    "combinations(L.ones(3), -1)": "non-negative",
    "tensor(300, dtype=L.uint8)": "without overflow",
    "tensor([1.7, -0.5], dtype=L.uint8)": "without overflow",
    "tensor(float('nan'), dtype=L.int64)": "without overflow",
    "tensor(2**31, dtype=L.int32)": "without overflow",
    "ByteTensor([300])": "without overflow",
    "full((2,), 300, dtype=L.uint8)": "without overflow",
    "full((2,), float('nan'), dtype=L.int32)": "without overflow",
    "full((2,), 2**63)": "without overflow",
}


@pytest.mark.parametrize("call", list(_REFUSED))
def test_factory_refusals_are_runtime_errors(torch, call):
    # PyTorch raises RuntimeError for each; glassgrad raised ValueError or OverflowError, which a
    # script's `except RuntimeError` does not catch
    with pytest.raises(RuntimeError):
        eval(f"L.{call}", {"L": torch})
    with pytest.raises(RuntimeError, match=_REFUSED[call]):
        eval(f"L.{call}", {"L": gg})


@pytest.mark.parametrize("data", ["2**63", "[2**63]", "-(2**63) - 1", "[1, 2**70]", "[2**64]"])
def test_python_ints_past_int64_are_value_errors(torch, data):
    # PyTorch: ValueError "Overflow when unpacking long long"; glassgrad's stays an OverflowError too
    with pytest.raises(ValueError):
        torch.tensor(eval(data))
    with pytest.raises(ValueError, match="fit int64") as info:
        gg.tensor(eval(data))
    assert isinstance(info.value, OverflowError | RuntimeError)


def test_arange_step_truncated_to_zero_is_a_value_error(torch):
    # an integer dtype truncates the step first: 0.5 is 0 (PyTorch's ValueError here)
    with pytest.raises(ValueError, match="step must be nonzero"):
        torch.arange(0, 5, 0.5, dtype=torch.int64)
    with pytest.raises(ValueError, match="step must be nonzero"):
        gg.arange(0, 5, 0.5, dtype=gg.int64)


@pytest.mark.parametrize(
    "call",
    [
        "arange(5, 5)",
        "arange(0.5, 0.5, -1)",
        "arange(3, 3, dtype=L.int32)",
        "arange(-3, 0)",
        "arange(1, 0, -0.25)",
    ],
)
def test_arange_ranges_that_pass_the_checks(torch, call):
    ref = eval(f"L.{call}", {"L": torch})
    out = eval(f"L.{call}", {"L": gg})
    _same(out, ref)


def test_arange_float_length_is_ceil_in_double(torch):
    for start, end, step in (
        (0, 1, 0.1),
        (0, 0.9, 0.3),
        (1, 2.5, 0.5),
        (0, 1, 1 / 3),
        (-1, 1, 0.2),
        (10, 0, -0.5),
    ):
        for dt in ("float32", "float64"):
            ref = torch.arange(start, end, step, dtype=getattr(torch, dt))
            out = gg.arange(start, end, step, dtype=getattr(gg, dt))
            assert out.shape[0] == ref.shape[0] == max(math.ceil((end - start) / step), 0)
            np.testing.assert_array_equal(out.numpy(), ref.numpy())


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "uint32", "uint64"])
@pytest.mark.parametrize("data", ["-1", "[-1, 2]"])
def test_negative_ints_into_unsigned_dtypes(torch, dtype, data):
    # uint8/16/32 wrap -1 to their max; uint64 refuses it (it wrapped to 2**64 - 1 in glassgrad)
    if dtype == "uint64":
        with pytest.raises(OverflowError):
            torch.tensor(eval(data), dtype=torch.uint64)
        with pytest.raises(OverflowError, match="without overflow"):
            gg.tensor(eval(data), dtype=gg.uint64)
        return
    ref = torch.tensor(eval(data), dtype=getattr(torch, dtype))
    out = gg.tensor(eval(data), dtype=getattr(gg, dtype))
    assert out.tolist() == ref.tolist() and str(out.dtype).split(".")[-1] == dtype


# ------------------------------------------------------------------ Tensor(t) of a tensor that requires grad
def test_legacy_alias_of_a_grad_tensor_is_refused_not_cut_from_the_graph(torch):
    # PyTorch records the alias (AliasBackward0): gradients through it reach t
    t = torch.ones(3, requires_grad=True)
    (torch.Tensor(t) * 2).sum().backward()
    assert t.grad.tolist() == [2.0, 2.0, 2.0]
    with torch.no_grad():  # a view made in no_grad mode: True there, False here (design.md)
        assert torch.Tensor(t).requires_grad is True
    # glassgrad cannot record it from a constructor: refused, where an alias without grad would
    # silently drop every gradient through it
    g = gg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        gg.Tensor(g)
    with gg.no_grad():  # as glassgrad's other views made in no_grad mode (a deliberate difference)
        assert gg.Tensor(g).requires_grad is False
    a = gg.Tensor(g.detach())
    a[0] = 5.0  # still an alias of the memory
    assert g.detach().tolist() == [5.0, 1.0, 1.0]
