"""Round 63, dtype refusals: every public function and Tensor method glassgrad shares with PyTorch,
run on small tensors of each dtype against PyTorch (a battery outside the repository). Pinned
here, written fresh: the refusals PyTorch raises as a missing kernel's ``NotImplementedError``
("\"gcd_cpu\" not implemented for 'Bool'"), where glassgrad raised a plain ``DTypeError`` (a
script's ``except NotImplementedError`` missed it); the ones PyTorch raises as a plain
``RuntimeError`` (sort, argmax, max along a dim, maximum of complex tensors), which stay no
``NotImplementedError``; the inputs glassgrad ran on where PyTorch refuses them (abs and trace of
bools, in-place abs of complex numbers, isin of bools, searchsorted of complex numbers, hardshrink
of complex numbers, the deprecated cholesky/triangular_solve of integers, cov and trapezoid of
bools, ``layer_norm``'s int normalized_shape, ``FloatTensor`` of a str or bytes); and the neighbouring
inputs that still run, at PyTorch's values and dtypes.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, KernelDTypeError

X = np.array([[2, 1, 0], [1, 3, 1], [0, 1, 4]], dtype=np.float64)
Y = np.array([[1, 2, 1], [2, 1, 2], [3, 1, 1]], dtype=np.float64)


def _libs(torch):
    return [("torch", torch), ("glassgrad", gg)]


def _make(lib, a, dtype):
    arr = a != 0 if dtype == "bool" else a.astype(dtype)
    return lib.tensor(arr.tolist(), dtype=getattr(lib, dtype))


def _raised(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecated cholesky / triangular_solve warn
        try:
            fn()
        except Exception as e:
            return e
    return None


def _call(case, lib, dtype):
    x, y = _make(lib, X, dtype), _make(lib, Y, dtype)
    return _raised(lambda: case(lib, x, y))


# ---- PyTorch's NotImplementedError: no kernel for the dtype --------------------------------------
_KERNEL = {
    "lerp_int64": (lambda lib, x, y: x.lerp(y, 0.5), "int64"),
    "lerp_bool": (lambda lib, x, y: lib.lerp(x, y, 0.5), "bool"),
    "lerp_uint8_tensor_weight": (lambda lib, x, y: x.lerp(y, y), "uint8"),
    "gcd_bool": (lambda lib, x, y: lib.gcd(x, y), "bool"),
    "gcd_float16": (lambda lib, x, y: lib.gcd(x, y), "float16"),
    "lcm_float32": (lambda lib, x, y: x.lcm(y), "float32"),
    "bitwise_and_float16": (lambda lib, x, y: lib.bitwise_and(x, y), "float16"),
    "and_operator_float32": (lambda lib, x, y: x & y, "float32"),
    "bitwise_not_float64": (lambda lib, x, y: lib.bitwise_not(x), "float64"),
    "lshift_float16": (lambda lib, x, y: x << y, "float16"),
    "rshift_two_bools": (lambda lib, x, y: lib.bitwise_right_shift(x, y), "bool"),
    "logcumsumexp_bool": (lambda lib, x, y: x.logcumsumexp(0), "bool"),
    "logcumsumexp_int8": (lambda lib, x, y: lib.logcumsumexp(x, 1), "int8"),
    "logcumsumexp_uint8": (lambda lib, x, y: lib.logcumsumexp(x, 0), "uint8"),
    "floordiv_two_bools": (lambda lib, x, y: x // y, "bool"),
    "remainder_two_bools": (lambda lib, x, y: x % y, "bool"),
    "fmod_two_bools": (lambda lib, x, y: lib.fmod(x, y), "bool"),
    "pow_two_bools": (lambda lib, x, y: x**y, "bool"),
    "hypot_int64": (lambda lib, x, y: lib.hypot(x, y), "int64"),
    "logaddexp_int32": (lambda lib, x, y: x.logaddexp(y), "int32"),
    "nextafter_bool": (lambda lib, x, y: lib.nextafter(x, y), "bool"),
    "igamma_int64": (lambda lib, x, y: lib.igamma(x, y), "int64"),
    "abs_bool": (lambda lib, x, y: x.abs(), "bool"),
    "abs_operator_bool": (lambda lib, x, y: abs(x), "bool"),
    "absolute_bool": (lambda lib, x, y: lib.absolute(x), "bool"),
    "trace_bool": (lambda lib, x, y: x.trace(), "bool"),
    "searchsorted_two_bools": (lambda lib, x, y: lib.searchsorted(x[0], y), "bool"),
    "searchsorted_complex": (lambda lib, x, y: lib.searchsorted(x[0], y), "complex64"),
    "bucketize_complex": (lambda lib, x, y: lib.bucketize(x, y[0]), "complex128"),
    "hardshrink_complex": (lambda lib, x, y: lib.nn.functional.hardshrink(x), "complex64"),
    "softshrink_complex": (lambda lib, x, y: lib.nn.functional.softshrink(x), "complex128"),
    "cholesky_int64": (lambda lib, x, y: lib.cholesky(x), "int64"),
    "cholesky_float16": (lambda lib, x, y: lib.cholesky(x), "float16"),
    "triangular_solve_int32": (lambda lib, x, y: lib.triangular_solve(y, x.triu()), "int32"),
    "solve_triangular_int64": (lambda lib, x, y: lib.linalg.solve_triangular(x, y, upper=True), "int64"),
    "linalg_cholesky_float16": (lambda lib, x, y: lib.linalg.cholesky(x), "float16"),
    # complex numbers: no kernel (the complex gate, and the ops that need an order)
    "erf_complex": (lambda lib, x, y: lib.erf(x), "complex64"),
    "atan2_complex": (lambda lib, x, y: lib.atan2(x, y), "complex128"),
    "amax_complex": (lambda lib, x, y: x.amax(), "complex64"),
    "clamp_complex": (lambda lib, x, y: x.clamp(y, y), "complex64"),
    "relu_complex": (lambda lib, x, y: lib.relu(x), "complex128"),
    "softmax_complex": (lambda lib, x, y: x.softmax(0), "complex64"),
    "max_all_complex": (lambda lib, x, y: x.max(), "complex64"),
    "floor_complex": (lambda lib, x, y: x.floor(), "complex64"),
    "trunc_complex": (lambda lib, x, y: lib.trunc(x), "complex128"),
    "lt_complex": (lambda lib, x, y: x < y, "complex64"),
    "ge_complex": (lambda lib, x, y: lib.ge(x, y), "complex128"),
    "cummax_complex": (lambda lib, x, y: x.cummax(0), "complex64"),
    "floor_divide_complex": (lambda lib, x, y: x // y, "complex64"),
    "fmod_complex": (lambda lib, x, y: lib.fmod(x, y), "complex128"),
    "sign_complex": (lambda lib, x, y: x.sign(), "complex64"),
    "unique_complex": (lambda lib, x, y: lib.unique(x), "complex64"),
    "mvlgamma_complex": (lambda lib, x, y: x.mvlgamma(1), "complex64"),
}


@pytest.mark.parametrize("case", sorted(_KERNEL))
def test_a_missing_kernel_is_not_implemented_error_as_in_pytorch(torch, case):
    fn, dtype = _KERNEL[case]
    for name, lib in _libs(torch):
        e = _call(fn, lib, dtype)
        assert isinstance(e, NotImplementedError), (name, e)
    e = _call(fn, gg, dtype)
    assert isinstance(e, DTypeError | KernelDTypeError) and isinstance(e, RuntimeError), e


# ---- PyTorch's plain RuntimeError (a check of its own): no NotImplementedError here --------------
_PLAIN = {
    "sort_complex": (lambda lib, x, y: x.sort(), "complex64"),
    "argsort_complex": (lambda lib, x, y: x.argsort(), "complex128"),
    "msort_complex": (lambda lib, x, y: lib.msort(x), "complex64"),
    "topk_complex": (lambda lib, x, y: x.topk(1), "complex64"),
    "argmax_complex": (lambda lib, x, y: x.argmax(), "complex64"),
    "max_dim_complex": (lambda lib, x, y: x.max(0), "complex64"),
    "min_dim_complex": (lambda lib, x, y: lib.min(x, 1), "complex128"),
    "maximum_complex": (lambda lib, x, y: lib.maximum(x, y), "complex64"),
    "fmin_complex": (lambda lib, x, y: lib.fmin(x, y), "complex128"),
    "abs_inplace_complex": (lambda lib, x, y: x.abs_(), "complex64"),
    "absolute_inplace_complex": (lambda lib, x, y: x.absolute_(), "complex128"),
    "isin_bool": (lambda lib, x, y: lib.isin(x, y), "bool"),
    "isin_complex": (lambda lib, x, y: lib.isin(x, y), "complex64"),
    "cov_bool": (lambda lib, x, y: lib.cov(x), "bool"),
    "corrcoef_bool": (lambda lib, x, y: x.corrcoef(), "bool"),
    "trapezoid_bool": (lambda lib, x, y: lib.trapezoid(x), "bool"),
    "trapezoid_bool_sample_points": (lambda lib, x, y: lib.trapezoid(x, y[0].bool()), "float64"),
    "cumulative_trapezoid_bool": (lambda lib, x, y: lib.cumulative_trapezoid(x), "bool"),
    "linalg_cholesky_int64": (lambda lib, x, y: lib.linalg.cholesky(x), "int64"),
}


@pytest.mark.parametrize("case", sorted(_PLAIN))
def test_a_check_of_pytorchs_own_is_a_plain_runtime_error(torch, case):
    fn, dtype = _PLAIN[case]
    for name, lib in _libs(torch):
        e = _call(fn, lib, dtype)
        assert isinstance(e, RuntimeError) and not isinstance(e, NotImplementedError), (name, e)


# ---- TypeError: an argument of the wrong kind ------------------------------------------------------
_TYPE = {
    "layer_norm_int_shape": lambda lib: lib.nn.functional.layer_norm(lib.ones(2, 3), 3),
    "layer_norm_float_in_shape": lambda lib: lib.nn.functional.layer_norm(lib.ones(2, 3), (3.0,)),
    "layer_norm_bool_in_shape": lambda lib: lib.nn.functional.layer_norm(lib.ones(2, 3), [True]),
    "layer_norm_tensor_shape": lambda lib: lib.nn.functional.layer_norm(lib.ones(2, 3), lib.tensor([3])),
    "torch_layer_norm_int_shape": lambda lib: lib.layer_norm(lib.ones(2, 3), 3),
    "rms_norm_int_shape": lambda lib: lib.nn.functional.rms_norm(lib.ones(2, 3), 3),
    "float_tensor_str": lambda lib: lib.FloatTensor("ab"),
    "float_tensor_bytes": lambda lib: lib.FloatTensor(b"ab"),
    "long_tensor_dict": lambda lib: lib.LongTensor({1: 2}),
    "float_tensor_set": lambda lib: lib.FloatTensor({1.0}),
    "invert_float": lambda lib: ~lib.ones(2),
}


@pytest.mark.parametrize("case", sorted(_TYPE))
def test_an_argument_of_the_wrong_kind_is_a_type_error(torch, case):
    for name, lib in _libs(torch):
        e = _raised(lambda: _TYPE[case](lib))
        assert isinstance(e, TypeError), (name, e)


# ---- the neighbouring inputs still run, as PyTorch's -------------------------------------------
def _same(ours, theirs):
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=0)


_RUNS = {
    "abs_int8": (lambda lib, x, y: (-x).abs(), "int8"),
    "abs_complex": (lambda lib, x, y: (x * 1j).abs(), "complex128"),
    "abs_inplace_float64": (lambda lib, x, y: (-x).abs_(), "float64"),
    "trace_int8": (lambda lib, x, y: x.trace(), "int8"),
    "trace_float64": (lambda lib, x, y: lib.trace(x), "float64"),
    "isin_int64": (lambda lib, x, y: lib.isin(x, y), "int64"),
    "isin_float16": (lambda lib, x, y: lib.isin(x, y), "float16"),
    "searchsorted_bool_sequence_int_values": (
        lambda lib, x, y: lib.searchsorted(x[0].bool(), y.long()),
        "int64",
    ),
    "searchsorted_int_sequence_bool_values": (lambda lib, x, y: lib.searchsorted(x[2], y.bool()), "int64"),
    "bucketize_float64": (lambda lib, x, y: lib.bucketize(x, y[1].sort().values), "float64"),
    "hardshrink_float64": (lambda lib, x, y: lib.nn.functional.hardshrink(x - 1.5), "float64"),
    "cov_int64": (lambda lib, x, y: lib.cov(x), "int64"),
    "trapezoid_int64": (lambda lib, x, y: lib.trapezoid(x, dx=2), "int64"),
    "gcd_int16_and_bool": (lambda lib, x, y: lib.gcd(x, y.bool()), "int16"),
    "shift_bool_by_int": (lambda lib, x, y: x.bool() << 1, "int64"),
    "cholesky_float64": (lambda lib, x, y: lib.linalg.cholesky(x + 2 * lib.eye(3, dtype=x.dtype)), "float64"),
    "solve_triangular_float64": (
        lambda lib, x, y: lib.linalg.solve_triangular(x.triu(), y, upper=True),
        "float64",
    ),
    "layer_norm_list_shape": (lambda lib, x, y: lib.nn.functional.layer_norm(x, [3]), "float64"),
    "layer_norm_size_shape": (lambda lib, x, y: lib.nn.functional.layer_norm(x, x.shape[-1:]), "float64"),
    "layer_norm_module_int": (lambda lib, x, y: lib.nn.LayerNorm(3, dtype=x.dtype)(x), "float64"),
    "rms_norm_tuple_shape": (lambda lib, x, y: lib.nn.functional.rms_norm(x, (3, 3), eps=1e-6), "float64"),
}


@pytest.mark.parametrize("case", sorted(_RUNS))
def test_the_neighbouring_inputs_run_at_pytorchs_values(torch, case):
    fn, dtype = _RUNS[case]
    ours = fn(gg, _make(gg, X, dtype), _make(gg, Y, dtype))
    theirs = fn(torch, _make(torch, X, dtype), _make(torch, Y, dtype))
    _same(ours, theirs)


def test_float_tensor_of_numbers_still_runs(torch):
    for values in ([1, 2], (1.5, 2.5), [[1, 2], [3, 4]]):
        _same(gg.FloatTensor(values), torch.FloatTensor(values))


def test_layer_norm_shape_error_names_the_tuple():
    """An int tuple that does not fit stays glassgrad's ShapeError (a RuntimeError, as PyTorch's)."""
    with pytest.raises(RuntimeError, match=r"layer_norm: expected input of shape \(\*, 4\)"):
        gg.nn.functional.layer_norm(gg.ones(2, 3), (4,))
    with pytest.raises(TypeError, match="must be tuple of ints, not int"):
        gg.nn.functional.layer_norm(gg.ones(2, 3), 3)
    with pytest.raises(TypeError, match="found element of type float at pos 1"):
        gg.nn.functional.layer_norm(gg.ones(2, 3), (2, 3.0))


def test_kernel_messages_name_pytorchs_kernel():
    with pytest.raises(KernelDTypeError, match="\"abs_cpu\" not implemented for 'Bool'"):
        gg.tensor([True]).abs()
    with pytest.raises(KernelDTypeError, match="\"trace\" not implemented for 'Bool'"):
        gg.tensor([[True]]).trace()
    with pytest.raises(KernelDTypeError, match="\"triangular_solve_cpu\" not implemented for 'Long'"):
        gg.linalg.solve_triangular(gg.tensor([[1]]), gg.tensor([[1]]), upper=True)
    with pytest.raises(KernelDTypeError, match="\"searchsorted_out_cpu\" not implemented for 'ComplexFloat'"):
        gg.searchsorted(gg.tensor([1.0]), gg.tensor([1j]))
