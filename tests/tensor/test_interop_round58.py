"""Round 58, Python protocols and NumPy interop (a differential hunt against PyTorch).

- An ndarray operand of a Tensor operator is NumPy's to compute, as in PyTorch, whose operators
  decline it: ``t * a`` is NumPy's product handed back as a tensor (so a float32 tensor times an
  int64 or 0-d float64 array is float64), ``a * t`` and ``t < a`` raise, ``t += a`` rebinds ``t``
  to a new tensor and leaves the old memory unchanged, and a tensor that requires grad raises.
  glassgrad computed these itself, with torch's dtype rules and in place.
- ``tensor``/``as_tensor``/``from_numpy``/``asarray``/``Tensor``/``new_tensor`` refuse an ndarray
  no tensor can hold, with PyTorch's errors: object, str, longdouble or record dtypes, negative
  strides (``a[::-1]``), strides of no whole element, bytes not in native order. glassgrad made an
  object (or ``>f8``) tensor, or took the reversed view.
- ``repr`` of ``RNN(..., nonlinearity='relu')`` and ``RNNCell``: PyTorch's text.
"""

from __future__ import annotations

import operator
import warnings

import numpy as np
import pytest

import glassgrad as gg

LIBS = ["glassgrad", "torch"]

# PyTorch's own __array_wrap__ still has NumPy 1's signature (glassgrad's takes NumPy 2's)
pytestmark = pytest.mark.filterwarnings("ignore:__array_wrap__ must accept context:DeprecationWarning")


def _lib(name, torch):
    return gg if name == "glassgrad" else torch


def _dtype(t) -> str:
    return str(t.dtype).split(".")[-1]


# ---- an ndarray operand goes to NumPy -----------------------------------------------------------
ARITH = ["add", "sub", "mul", "truediv", "floordiv", "mod", "pow"]
ARRAYS = {
    "int64": lambda: np.array([1, 2]),
    "float64": lambda: np.array([0.5, 2.0]),
    "float32": lambda: np.array([0.5, 2.0], dtype=np.float32),
    "0-d float64": lambda: np.array(1.5),
    "0-d int64": lambda: np.array(3),
}


@pytest.mark.parametrize("array", list(ARRAYS))
@pytest.mark.parametrize("op", ARITH)
def test_tensor_op_ndarray_is_numpys_result(torch, op, array):
    fn = getattr(operator, op)
    got = fn(gg.tensor([3.0, 4.5]), ARRAYS[array]())
    want = fn(torch.tensor([3.0, 4.5]), ARRAYS[array]())
    assert type(got) is gg.Tensor and _dtype(got) == _dtype(want)
    assert not got.requires_grad and got.grad_fn is None
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("lib_name", LIBS)
def test_int_tensor_op_ndarray_and_matmul(torch, lib_name):
    lib = _lib(lib_name, torch)
    assert _dtype(lib.tensor([1, 2], dtype=lib.int32) * np.array([2, 3])) == "int64"
    assert _dtype(lib.tensor([1, 2]) / np.array([2, 4])) == "float64"
    out = lib.tensor([[1.0, 2.0]]) @ np.array([[1.0], [0.5]])
    assert type(out) is lib.Tensor and _dtype(out) == "float64" and out.tolist() == [[2.0]]
    # a bool result comes back as uint8, PyTorch's __array_wrap__ rule
    mask = lib.tensor([True, False]) & np.array([True, True])
    assert _dtype(mask) == "uint8" and mask.tolist() == [1, 0]


@pytest.mark.parametrize("lib_name", LIBS)
@pytest.mark.parametrize(
    "op", ["add", "sub", "mul", "floordiv", "mod", "pow", "matmul", "lt", "le", "gt", "ge"]
)
def test_ndarray_op_tensor_and_ordering_raise(torch, lib_name, op):
    lib = _lib(lib_name, torch)
    fn = getattr(operator, op)
    with pytest.raises(TypeError):
        fn(np.array([1.0, 2.0]), lib.tensor([3.0, 4.0]))
    if op in ("lt", "le", "gt", "ge"):
        with pytest.raises(TypeError, match="not supported between instances of 'Tensor'"):
            fn(lib.tensor([3.0, 4.0]), np.array([1.0, 2.0]))


def test_ndarray_divided_by_tensor_is_reciprocal_times_array(torch):
    # PyTorch's a / t is t.reciprocal() * a: float32 reciprocal, then NumPy's float64 product
    a = np.array([1.0, 2.0, 7.3])
    got, want = a / gg.tensor([3.0, 4.0, 0.7]), a / torch.tensor([3.0, 4.0, 0.7])
    assert type(got) is gg.Tensor and _dtype(got) == _dtype(want) == "float64"
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("lib_name", LIBS)
def test_equality_with_an_ndarray_is_elementwise(torch, lib_name):
    lib = _lib(lib_name, torch)
    for out in (
        lib.tensor([1.0, 2.0]) == np.array([1.0, 3.0]),
        np.array([1.0, 3.0]) == lib.tensor([1.0, 2.0]),
    ):
        assert type(out) is lib.Tensor and out.tolist() == [True, False]


@pytest.mark.parametrize("lib_name", LIBS)
@pytest.mark.parametrize("op", ["iadd", "isub", "imul", "itruediv"])
def test_inplace_operator_with_ndarray_rebinds(torch, lib_name, op):
    lib = _lib(lib_name, torch)
    x = lib.tensor([3.0, 4.0])
    alias = x
    x = getattr(operator, op)(x, np.array([1.0, 2.0]))
    assert x is not alias and _dtype(x) == "float64" and _dtype(alias) == "float32"
    assert alias.tolist() == [3.0, 4.0]  # the old memory is untouched, as in PyTorch
    y = lib.tensor([3, 4])
    y *= np.array(2.5)  # no cast error: NumPy's product is a new float64 tensor
    assert _dtype(y) == "float64" and y.tolist() == [7.5, 10.0]


@pytest.mark.parametrize("lib_name", LIBS)
def test_ndarray_operand_of_a_tensor_requiring_grad(torch, lib_name):
    lib = _lib(lib_name, torch)
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        w * np.array([2.0, 2.0])
    with lib.no_grad():
        out = w * np.array([2.0, 2.0])
    assert _dtype(out) == "float64" and not out.requires_grad and out.tolist() == [2.0, 4.0]
    # NumPy scalars stay numbers: recorded, the tensor's dtype kept
    out = w * np.float64(2.0) + np.int64(1)
    assert _dtype(out) == "float32" and out.grad_fn is not None


def test_glassgrad_error_for_ndarray_operand_of_a_graph_tensor():
    with pytest.raises(
        gg.errors.GraphError, match=r"__array__: expected a tensor that does not require grad"
    ):
        gg.ones(2, requires_grad=True) + np.ones(2)


# ---- arrays no tensor can hold ------------------------------------------------------------------
_RECORD = np.zeros(3, dtype=[("a", "f8"), ("b", "f4")])
BAD_ARRAYS = {
    "reversed": lambda: np.arange(6.0)[::-1],
    "reversed columns": lambda: np.arange(6.0).reshape(2, 3)[:, ::-1],
    "reversed one element": lambda: np.arange(1.0)[::-1],
    "object": lambda: np.array([1.5, 2.0], dtype=object),
    "str": lambda: np.array(["1.5"]),
    "0-d object": lambda: np.array(1.5, dtype=object),
    "longdouble": lambda: np.ones(2, dtype=np.longdouble),
    "datetime": lambda: np.array(["2020-01-01"], dtype="datetime64[D]"),
    "record": lambda: _RECORD.copy(),
    "record field": lambda: _RECORD["a"],
    "big-endian": lambda: np.array([1.0, 2.0], dtype=">f8"),
}
MAKERS = {
    "tensor": lambda lib, a: lib.tensor(a),
    "tensor with dtype": lambda lib, a: lib.tensor(a, dtype=lib.float32),
    "as_tensor": lambda lib, a: lib.as_tensor(a),
    "from_numpy": lambda lib, a: lib.from_numpy(a),
    "asarray": lambda lib, a: lib.asarray(a),
    "Tensor": lambda lib, a: lib.Tensor(a),
    "new_tensor": lambda lib, a: lib.zeros(1).new_tensor(a),
}


def _error(fn):
    with pytest.raises((TypeError, ValueError)) as info:
        fn()
    return info.type, str(info.value)


@pytest.mark.parametrize("maker", list(MAKERS))
@pytest.mark.parametrize("array", list(BAD_ARRAYS))
def test_array_no_tensor_holds_is_refused_as_pytorch(torch, array, maker):
    make = MAKERS[maker]
    got = _error(lambda: make(gg, BAD_ARRAYS[array]()))
    want = _error(lambda: make(torch, BAD_ARRAYS[array]()))
    assert got == want


@pytest.mark.parametrize("lib_name", LIBS)
def test_arrays_tensors_hold_still_convert(torch, lib_name):
    lib = _lib(lib_name, torch)
    a = np.arange(12.0).reshape(3, 4)
    assert lib.from_numpy(np.arange(0.0)[::-1]).shape == (0,)  # no element: a stride of 0
    assert lib.tensor(a[::-1].copy()).tolist() == a[::-1].tolist()
    t = lib.from_numpy(a[:, ::2])  # positive strides share, whatever their step
    a[0, 0] = 7.0
    assert t[0, 0].item() == 7.0 and t.stride() == (4, 2)
    with warnings.catch_warnings():  # (each library's once-per-process list-of-ndarrays warning)
        warnings.simplefilter("ignore", UserWarning)
        rows = lib.tensor([a[0, ::-1], a[1, ::-1]])  # a list of reversed rows is read row by row
    assert rows.tolist() == [a[0, ::-1].tolist(), a[1, ::-1].tolist()]
    for dt in (np.longlong, np.intc, np.uint16, np.float16, np.complex64, np.bool_):
        assert lib.as_tensor(np.zeros(2, dtype=dt)).shape == (2,)
    assert lib.tensor(np.float64(2.5)).item() == 2.5


def test_from_numpy_of_no_ndarray_names_the_op():
    with pytest.raises(TypeError, match="from_numpy: expected an ndarray, got float64"):
        gg.from_numpy(np.float64(1.0))
    with pytest.raises(TypeError, match="from_numpy: expected an ndarray, got list"):
        gg.from_numpy([1.0])


# ---- recurrent layers' repr ---------------------------------------------------------------------
RNN_LAYERS = [
    "RNN(3, 4, nonlinearity='relu')",
    "RNN(3, 4, num_layers=2, nonlinearity='relu', batch_first=True, bidirectional=True)",
    "RNN(3, 4, 2, bias=False, dropout=0.25)",
    "RNNCell(3, 4, nonlinearity='relu')",
    "RNNCell(3, 4, bias=False)",
    "GRUCell(3, 4)",
    "LSTM(3, 4, proj_size=2)",
]


@pytest.mark.parametrize("layer", RNN_LAYERS)
def test_recurrent_layer_repr_as_pytorch(torch, layer):
    assert repr(eval(f"gg.nn.{layer}")) == repr(eval(f"torch.nn.{layer}"))


# ---- tensor(ndarray) lays its copy out as PyTorch's clone ---------------------------------------
_A = np.arange(12.0).reshape(3, 4)
LAYOUTS = {
    "broadcast rows": lambda: np.broadcast_to(np.arange(3.0), (2, 3)),
    "broadcast middle": lambda: np.broadcast_to(_A.T[:, None], (4, 2, 3)),
    "every other column": lambda: _A[:, ::2],
    "transposed": lambda: _A.T,
    "transposed rows": lambda: _A.T[::2],
    "every other row, transposed": lambda: _A[::2].T,
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_tensor_of_an_ndarray_has_pytorchs_strides(torch, layout):
    got, want = gg.tensor(LAYOUTS[layout]()), torch.tensor(LAYOUTS[layout]())
    assert got.stride() == want.stride() and got.is_contiguous() == want.is_contiguous()
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert not np.shares_memory(got.numpy(), LAYOUTS[layout]())


@pytest.mark.parametrize("lib_name", LIBS)
def test_tensor_of_a_broadcast_array_views_flat(torch, lib_name):
    lib = _lib(lib_name, torch)
    t = lib.tensor(np.broadcast_to(np.arange(3.0), (2, 3)))
    assert t.view(-1).tolist() == [0.0, 1.0, 2.0] * 2
    t[0, 0] = 5.0  # its own memory: one element changes
    assert t.tolist() == [[5.0, 1.0, 2.0], [0.0, 1.0, 2.0]]
