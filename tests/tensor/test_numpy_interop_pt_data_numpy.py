"""Round 67 (pt_data_numpy): PyTorch's ``test_numpy_interop.py`` and a differential probe of NumPy
interop (numbers, arrays, sharing, indexing) against glassgrad, what they found.

- A NumPy integer or float scalar written into a tensor (``full``, ``fill_``, setitem,
  ``masked_fill``) is checked as the Python number it holds: ``np.int64(2**40)`` into an int32
  tensor wrote 0 and ``np.uint32(2**31)`` wrote -2**31 silently (NumPy's cast wraps), where a
  Python int raised, and PyTorch raises for both.
- ``numpy()`` and ``np.asarray`` of a sparse tensor raise PyTorch's ``TypeError``, with or without
  ``force=True``.
- ``where(c, x, y)`` of two NumPy scalars has PyTorch's dtype (np.float64 read as a Python float gives
  float32; it kept float64, float16, int8).
- ``Tensor(ndarray)`` and the typed legacy constructors share an array of their own dtype, as
  PyTorch's (they copied it).
- ``tensor()`` of a ragged nested list (of lists or arrays) names the first length that differs,
  at its dim, as PyTorch's ``ValueError`` does; a number where a sequence belongs is its
  ``TypeError`` ("not a sequence"), no longer a ``ValueError``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

# (value, dtype name): NumPy scalars whose number lies outside an integer or float16 dtype
OUTSIDE = [
    (np.int64(2**40), "int32"),
    (np.uint32(2**31), "int32"),
    (np.int16(300), "uint8"),
    (np.int32(-129), "int8"),
    (np.float64(3e9), "int32"),
    (np.float32(1e5), "float16"),
]


def _setitem(t, value):
    t[0] = value
    return t


def _writes(lib, value, dtype):
    """The ways a Scalar reaches a tensor of ``dtype``; each must refuse a number it cannot hold.
    (PyTorch's setitem refuses any NumPy float scalar into float16 with a TypeError, so setitem
    is asked of the integer dtypes only.)"""
    dt = getattr(lib, dtype)
    yield lambda: lib.full((2,), value, dtype=dt)
    yield lambda: lib.zeros(2, dtype=dt).fill_(value)
    yield lambda: lib.zeros(2, dtype=dt).masked_fill(lib.tensor([True, False]), value)
    if dtype != "float16":
        yield lambda: _setitem(lib.zeros(2, dtype=dt), value)


@pytest.mark.parametrize(("value", "dtype"), OUTSIDE, ids=lambda v: repr(v))
def test_numpy_scalar_outside_the_dtype_is_refused(torch, value, dtype):
    for lib in (gg, torch):
        for write in _writes(lib, value, dtype):
            with pytest.raises(RuntimeError, match="without overflow"):
                write()


@pytest.mark.parametrize(
    ("value", "dtype"),
    [(np.int64(7), "int32"), (np.uint8(255), "uint8"), (np.int64(-1), "uint8"), (np.float32(2.5), "float16")],
    ids=lambda v: repr(v),
)
def test_numpy_scalar_inside_the_dtype_is_written_as_pytorch(torch, value, dtype):
    for write_g, write_t in zip(_writes(gg, value, dtype), _writes(torch, value, dtype), strict=True):
        g, t = write_g(), write_t()
        assert g.tolist() == t.tolist() and str(g.dtype).split(".")[1] == str(t.dtype).split(".")[1]


def test_numpy_uint64_past_int64_is_refused():
    # PyTorch refuses any np.uint64 here (TypeError, "an integer is required"); glassgrad takes one
    # that fits, and refuses one past int64 rather than wrapping it to -2**63
    with pytest.raises(OverflowError, match="without overflow"):
        gg.full((1,), np.uint64(2**63))
    assert gg.full((1,), np.uint64(3)).tolist() == [3]


@pytest.mark.parametrize("force", [False, True])
def test_numpy_of_a_sparse_tensor_is_a_type_error(torch, force):
    for lib in (gg, torch):
        s = lib.ones(2).to_sparse()
        with pytest.raises(TypeError, match=r"Use Tensor\.to_dense\(\) first"):
            s.numpy(force=force)
        with pytest.raises(TypeError, match="Sparse layout"):
            np.asarray(s)


RAGGED = [
    (
        lambda: [np.zeros((3, 3)), np.zeros((3, 0))],
        ValueError,
        "expected sequence of length 3 at dim 2 \\(got 0\\)",
    ),
    (
        lambda: [[np.zeros((3, 3)), np.zeros((3, 2))]],
        ValueError,
        "expected sequence of length 3 at dim 3 \\(got 2\\)",
    ),
    (lambda: [[1, 2, 3], np.zeros(2)], ValueError, "expected sequence of length 3 at dim 1 \\(got 2\\)"),
    (lambda: [[1, 2], [3]], ValueError, "expected sequence of length 2 at dim 1 \\(got 1\\)"),
    (lambda: [[np.zeros(3), np.float64(0.5)]], TypeError, "not a sequence"),
    (lambda: [[1.0, 2.0], 3.0], TypeError, "not a sequence"),
]


@pytest.mark.parametrize(("data", "error", "words"), RAGGED)
def test_ragged_nested_data_is_refused_as_pytorch(torch, data, error, words):
    # the tensor() of a list mixing ndarrays warns once per process in either library
    for lib in (gg, torch):
        with pytest.raises(error, match=words), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lib.tensor(data())


@pytest.mark.parametrize(
    ("ctor", "np_dtype"),
    [
        ("Tensor", np.float32),
        ("FloatTensor", np.float32),
        ("DoubleTensor", np.float64),
        ("LongTensor", np.int64),
    ],
)
def test_legacy_constructor_shares_an_array_of_its_dtype(torch, ctor, np_dtype):
    # PyTorch's Tensor(ndarray) is a view of the array when the dtypes agree; glassgrad copied it,
    # so a program refilling one buffer saw other values than under PyTorch
    for lib in (gg, torch):
        a = np.zeros(3, np_dtype)
        t = getattr(lib, ctor)(a)
        a[0] = 7
        t[2] = 5
        assert t.tolist() == [7, 0, 5] and a.tolist() == [7, 0, 5]
        with pytest.raises(RuntimeError, match="not resizable"):
            t.resize_(10)


def test_legacy_constructor_converts_an_array_of_another_dtype(torch):
    for lib in (gg, torch):
        a = np.zeros(3)  # float64 into the default float32
        t = lib.Tensor(a)
        a[0] = 7
        assert t.tolist() == [0, 0, 0] and t.dtype == lib.float32


@pytest.mark.parametrize(
    ("x", "y"),
    [
        (np.float64(1.5), np.float64(2.5)),
        (np.float16(1.5), np.float16(2.5)),
        (np.int8(1), np.int16(2)),
        (np.int64(1), 2.5),
        (np.bool_(True), np.bool_(False)),
    ],
    ids=repr,
)
def test_where_of_two_numpy_scalars_has_pytorchs_dtype(torch, x, y):
    # both values numbers: PyTorch reads a NumPy scalar as a Python number (np.float64 gives the
    # default float32); glassgrad kept the scalars' own dtype (float64, float16, int8)
    got = gg.where(gg.tensor([True, False]), x, y)
    want = torch.where(torch.tensor([True, False]), x, y)
    assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1] and got.tolist() == want.tolist()
