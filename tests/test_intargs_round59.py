"""Round 59, integer and index arguments: the dtypes programs pass as indices, masks, dims and sizes.

A differential battery (about 1,500 calls: index tensors of int64/int32/int16/int8/uint8/bool/float,
0-d tensors, NumPy integers and arrays, Python bools) found these differences from PyTorch:

- an index given as data follows PyTorch's ``indexing_tensor_from_data``: a uint8 NumPy array (or
  a list of NumPy uint8s) is a mask, as a uint8 tensor is (NumPy read it as positions: another
  result, silently), and a float NumPy array is a long index truncated toward zero (refused);
- int8/int16 index tensors are PyTorch's IndexError in getitem/setitem, and its RuntimeError in
  gather, scatter, index_select ... (read as positions); take, take_along_dim, index_copy,
  index_fill, one_hot, multi_margin_loss and multilabel_margin_loss take int64 alone;
- ``x[m] = v`` with a uint8 mask ``m`` and one value is PyTorch's masked_fill_ RuntimeError;
- a 0-d integer tensor is a dim (``sum``, ``softmax``, ``kthvalue``, ``count_nonzero`` ...), a
  split size, ``F.interpolate``'s size, ``bincount``'s minlength and ``histc``'s bins, as PyTorch's
  parser reads it; ``count_nonzero`` takes a NumPy integer dim; ``F.interpolate`` refuses a float
  size (int() truncated it).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

X = np.random.RandomState(0).randn(4, 5)


def _x(lib, grad=False):
    return lib.tensor(X, requires_grad=grad)


def _same(a, b, torch):
    assert isinstance(a, gg.Tensor) and isinstance(b, torch.Tensor)
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12)


def _both(torch, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(gg), fn(torch)


# ---- getitem/setitem keys given as NumPy data --------------------------------------------------

_DATA_KEYS = {
    "uint8 array mask": lambda: np.array([0, 2, 1, 0], dtype=np.uint8),
    "uint8 array 0/1": lambda: np.array([1, 0, 1, 1], dtype=np.uint8),
    "list of np.uint8": lambda: [np.uint8(1), np.uint8(0), np.uint8(0), np.uint8(1)],
    "float array": lambda: np.array([0.7, 3.2, -0.5]),
    "linspace": lambda: np.linspace(0, 3, 3),
    "float array dim 1": lambda: (slice(None), np.array([1.5, 4.0])),
    "0-d float array": lambda: np.array(1.7),
    "int8 array": lambda: np.array([0, 1], dtype=np.int8),
    "uint8 with an int": lambda: (np.array([1, 0, 1, 0], dtype=np.uint8), 2),
}


@pytest.mark.parametrize("name", list(_DATA_KEYS))
def test_a_numpy_key_reads_as_pytorch_reads_it_with_its_gradient(torch, name):
    def run(lib):
        x = _x(lib, grad=True)
        y = x[_DATA_KEYS[name]()]
        (y * lib.arange(1.0, y.numel() + 1, dtype=lib.float64).reshape(y.shape)).sum().backward()
        return y, x.grad

    (y, gx), (ty, tgx) = _both(torch, run)
    _same(y, ty, torch)
    _same(gx, tgx, torch)


def test_a_uint8_numpy_key_warns_as_pytorch_does(torch):
    for lib in (gg, torch):
        with pytest.warns(UserWarning, match="uint8"):
            _x(lib)[np.array([1, 0, 1, 0], dtype=np.uint8)]


@pytest.mark.parametrize("name", ["float array", "uint8 array 0/1", "int8 array"])
def test_setitem_through_a_numpy_key_writes_where_pytorch_writes(torch, name):
    def run(lib):
        x = _x(lib)
        x[_DATA_KEYS[name]()] = lib.full((5,), -1.0, dtype=lib.float64)
        return x

    _same(*_both(torch, run), torch)


_BYTE_FILLS = {
    "tensor mask, number": lambda lib: (lib.tensor([1, 0, 1, 0], dtype=lib.uint8), 1.0),
    "tensor mask, 0-d tensor": lambda lib: (lib.tensor([1, 0, 1, 0], dtype=lib.uint8), lib.tensor(2.0)),
    "mask with an int": lambda lib: ((lib.tensor([1, 0, 1, 0], dtype=lib.uint8), 0), 1.0),
    "mask after None": lambda lib: ((None, lib.tensor([1, 0, 1, 0], dtype=lib.uint8)), 1.0),
    "NumPy mask": lambda lib: (np.array([1, 0, 1, 0], dtype=np.uint8), 1.0),
}


@pytest.mark.parametrize("name", list(_BYTE_FILLS))
@pytest.mark.parametrize("lib", ["glassgrad", "torch"])
def test_one_value_through_a_uint8_mask_is_refused(torch, lib, name):
    m = gg if lib == "glassgrad" else torch
    x = m.zeros(4, 5, dtype=m.float64)
    key, value = _BYTE_FILLS[name](m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="masked_fill_ only supports boolean masks"):
            x[key] = value


def test_many_values_through_a_uint8_mask_and_a_0d_uint8_key_still_write(torch):
    def run(lib):
        x = lib.zeros(4, 5, dtype=lib.float64)
        x[lib.tensor([1, 0, 1, 0], dtype=lib.uint8)] = lib.arange(5.0, dtype=lib.float64)
        x[lib.tensor([1, 0, 0, 1], dtype=lib.uint8), lib.tensor([0, 4])] = 7.0
        x[lib.tensor(1, dtype=lib.int16)] = 3.0  # 0-d: an int, whatever its integer dtype
        return x

    _same(*_both(torch, run), torch)


@pytest.mark.parametrize("dtype", ["int8", "int16"])
@pytest.mark.parametrize("op", ["get", "set", "get with an int"])
def test_int8_and_int16_index_tensors_are_refused_as_pytorch_refuses_them(torch, dtype, op):
    for lib in (gg, torch):
        x, i = _x(lib), lib.tensor([0, 1], dtype=getattr(lib, dtype))
        with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool"):
            if op == "get":
                x[i]
            elif op == "set":
                x[i] = 1.0
            else:
                x[i, 0]


# ---- index dtypes of the gather/scatter family, embedding and the class-index losses -----------


def _idx(lib, values, dtype):
    return lib.tensor(values, dtype=getattr(lib, dtype))


_INDEX_OPS = {
    "gather": (("int64", "int32"), lambda lib, d: _x(lib).gather(1, _idx(lib, [[0, 1]] * 4, d))),
    "scatter": (("int64", "int32"), lambda lib, d: _x(lib).scatter(1, _idx(lib, [[0, 1]] * 4, d), 0.0)),
    "scatter_add": (
        ("int64", "int32"),
        lambda lib, d: _x(lib).scatter_add(1, _idx(lib, [[0, 0]] * 4, d), _x(lib)[:, :2]),
    ),
    "scatter_reduce": (
        ("int64", "int32"),
        lambda lib, d: _x(lib).scatter_reduce(1, _idx(lib, [[0, 0]] * 4, d), _x(lib)[:, :2], "amax"),
    ),
    "index_select": (("int64", "int32"), lambda lib, d: _x(lib).index_select(1, _idx(lib, [4, 0], d))),
    "index_add": (
        ("int64", "int32"),
        lambda lib, d: _x(lib).index_add(1, _idx(lib, [4, 4], d), _x(lib)[:, :2]),
    ),
    "index_copy": (("int64",), lambda lib, d: _x(lib).index_copy(1, _idx(lib, [4, 0], d), _x(lib)[:, :2])),
    "index_fill": (("int64",), lambda lib, d: _x(lib).index_fill(1, _idx(lib, [4, 0], d), -1.0)),
    "take": (("int64",), lambda lib, d: _x(lib).take(_idx(lib, [0, 19, 7], d))),
    "take_along_dim": (("int64",), lambda lib, d: lib.take_along_dim(_x(lib), _idx(lib, [[1]] * 4, d), 1)),
    "one_hot": (("int64",), lambda lib, d: lib.nn.functional.one_hot(_idx(lib, [0, 2], d), 3)),
    "embedding": (
        ("int64", "int32"),
        lambda lib, d: lib.nn.functional.embedding(_idx(lib, [[0, 3]], d), _x(lib)),
    ),
    "multi_margin_loss": (
        ("int64",),
        lambda lib, d: lib.nn.functional.multi_margin_loss(_x(lib), _idx(lib, [0, 1, 2, 4], d)),
    ),
    "multilabel_margin_loss": (
        ("int64",),
        lambda lib, d: lib.nn.functional.multilabel_margin_loss(
            _x(lib), _idx(lib, [[0, 3, -1, 0, 0]] * 4, d)
        ),
    ),
}
_INDEX_CASES = [(op, d) for op in _INDEX_OPS for d in ("int64", "int32", "int16", "int8", "uint8")]


@pytest.mark.parametrize("op,dtype", _INDEX_CASES, ids=[f"{op}-{d}" for op, d in _INDEX_CASES])
def test_an_index_tensor_dtype_is_taken_or_refused_as_in_pytorch(torch, op, dtype):
    allowed, call = _INDEX_OPS[op]
    if dtype in allowed:
        _same(*_both(torch, lambda lib: call(lib, dtype)), torch)
        return
    for lib in (gg, torch):  # IndexError for index_fill there; RuntimeError for the others
        with pytest.raises(IndexError if op == "index_fill" else RuntimeError):
            call(lib, dtype)


@pytest.mark.parametrize("dtype", ["int64", "uint8"])
def test_nll_loss_takes_its_uint8_targets_with_the_gradient(torch, dtype):
    def run(lib):
        x = _x(lib, grad=True)
        loss = lib.nn.functional.nll_loss(x.log_softmax(1), _idx(lib, [0, 4, 2, 1], dtype))
        loss.backward()
        return loss, x.grad

    (a, ga), (b, gb) = _both(torch, run)
    _same(a, b, torch)
    _same(ga, gb, torch)
    for lib in (gg, torch):  # (Long or Byte only, in PyTorch's kernels)
        with pytest.raises(RuntimeError):
            lib.nn.functional.nll_loss(_x(lib), _idx(lib, [0, 4, 2, 1], "int32"))


# ---- 0-d integer tensors and NumPy integers as dims and sizes -----------------------------------

_DIMS = {
    "sum": lambda lib, t, d: t.sum(d),
    "mean keepdim": lambda lib, t, d: t.mean(d, keepdim=True),
    "sum over a tuple": lambda lib, t, d: t.sum((d, 0)),
    "cumsum": lambda lib, t, d: t.cumsum(d),
    "amax": lambda lib, t, d: t.amax(d),
    "argmax": lambda lib, t, d: t.argmax(d),
    "logsumexp": lambda lib, t, d: t.logsumexp(d),
    "softmax": lambda lib, t, d: t.softmax(d),
    "log_softmax": lambda lib, t, d: lib.nn.functional.log_softmax(t, d),
    "kthvalue": lambda lib, t, d: t.kthvalue(2, d).values,
    "median": lambda lib, t, d: t.median(d).values,
    "count_nonzero": lambda lib, t, d: lib.count_nonzero(t > 0, d),
}
_DIM_KINDS = {
    "0-d int64": lambda lib: lib.tensor(1),
    "0-d int32": lambda lib: lib.tensor(-1, dtype=lib.int32),
    "np.int64": lambda lib: np.int64(1),
    "np.int32": lambda lib: np.int32(-1),
}
_DIM_CASES = [(op, k) for op in _DIMS for k in _DIM_KINDS]


@pytest.mark.parametrize("op,kind", _DIM_CASES, ids=[f"{op}-{k}" for op, k in _DIM_CASES])
def test_a_dim_given_as_a_0d_tensor_or_numpy_integer(torch, op, kind):
    def run(lib):
        x = _x(lib, grad=True)
        y = _DIMS[op](lib, x, _DIM_KINDS[kind](lib))
        if y.dtype.is_floating_point:
            (y * y).sum().backward()
        return y, x.grad

    (y, gx), (ty, tgx) = _both(torch, run)
    _same(y, ty, torch)
    if tgx is not None:
        _same(gx, tgx, torch)


@pytest.mark.parametrize("lib", ["glassgrad", "torch"])
def test_a_float_dim_tensor_is_refused(torch, lib):
    m = gg if lib == "glassgrad" else torch
    for call in (lambda t: t.softmax(m.tensor(1.0)), lambda t: t.sum(m.tensor(1.0))):
        with pytest.raises(TypeError):
            call(_x(m))


@pytest.mark.parametrize("size", ["0-d tensor", "1-element tensor", "0-d float tensor"])
def test_split_reads_a_tensor_size_with_int(torch, size):
    def run(lib):
        s = {
            "0-d tensor": lib.tensor(2),
            "1-element tensor": lib.tensor([3]),
            "0-d float tensor": lib.tensor(2.5),
        }
        x = _x(lib, grad=True)
        pieces = x.split(s[size], dim=1)
        sum((p * (i + 1)).sum() for i, p in enumerate(pieces)).backward()
        return [p.shape[1] for p in pieces], x.grad

    (a, ga), (b, gb) = _both(torch, run)
    assert a == b
    _same(ga, gb, torch)


@pytest.mark.parametrize("lib", ["glassgrad", "torch"])
def test_split_refuses_a_numpy_integer_as_pytorch_does(torch, lib):
    m = gg if lib == "glassgrad" else torch
    with pytest.raises(TypeError):
        _x(m).split(np.int64(2), 1)


_SIZES = {
    "0-d tensor": lambda lib: lib.tensor(6),
    "tuple of a 0-d tensor and a NumPy int": lambda lib: (lib.tensor(6), np.int64(3)),
    "NumPy int": lambda lib: np.int64(6),
    "Size": lambda lib: lib.Size([6, 3]),
}


@pytest.mark.parametrize("size", list(_SIZES))
def test_interpolate_takes_integer_sizes_of_every_kind(torch, size):
    def run(lib):
        x = _x(lib, grad=True)
        y = lib.nn.functional.interpolate(x[None, None], size=_SIZES[size](lib), mode="bilinear")
        (y * y).sum().backward()
        return y, x.grad

    (y, gx), (ty, tgx) = _both(torch, run)
    _same(y, ty, torch)
    _same(gx, tgx, torch)


@pytest.mark.parametrize("size", ["float in a tuple", "float", "float tensor", "1-D tensor"])
@pytest.mark.parametrize("lib", ["glassgrad", "torch"])
def test_interpolate_refuses_a_float_size_that_int_truncated(torch, lib, size):
    m = gg if lib == "glassgrad" else torch
    s = {
        "float in a tuple": (6.5, 3),
        "float": 6.0,
        "float tensor": m.tensor(6.0),
        "1-D tensor": m.tensor([6, 3]),
    }
    with pytest.raises(TypeError):
        m.nn.functional.interpolate(_x(m)[None, None], size=s[size])


def test_bincount_and_histc_take_a_0d_integer_tensor_count(torch):
    def run(lib):
        y = lib.tensor([0, 1, 1, 3])
        n = lib.tensor(6)
        return lib.bincount(y, minlength=n), lib.histc(y.double(), bins=n, min=0, max=5)

    (a, b), (ta, tb) = _both(torch, run)
    _same(a, ta, torch)
    _same(b, tb, torch)
    for lib in (gg, torch):
        with pytest.raises(TypeError):
            lib.histc(lib.tensor([0.0, 1.0]), bins=lib.tensor(4.0))


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("value", ["0-d", "one element", "a row"])
def test_index_put_through_a_uint8_mask_as_pytorch(torch, accumulate, value):
    def run(lib):
        x = lib.zeros(4, 5, dtype=lib.float64)
        v = {"0-d": lib.tensor(2.0), "one element": lib.full((1,), 2.0), "a row": lib.arange(5.0)}[value]
        try:
            return x.index_put_(
                (lib.tensor([1, 0, 1, 0], dtype=lib.uint8),), v.double(), accumulate=accumulate
            )
        except RuntimeError as e:
            return type(e).__name__ if "masked_fill_ only supports boolean masks" in str(e) else e

    a, b = _both(torch, run)
    if isinstance(b, str):
        assert a == b
    else:
        _same(a, b, torch)


@pytest.mark.parametrize("index", ["int16", "int8", "0-d int16", "float"])
def test_index_put_refuses_the_index_dtypes_pytorch_refuses(torch, index):
    for lib in (gg, torch):
        i = {
            "int16": lib.tensor([0, 1], dtype=lib.int16),
            "int8": lib.tensor([0, 1], dtype=lib.int8),
            "0-d int16": lib.tensor(1, dtype=lib.int16),
            "float": lib.tensor([0.0]),
        }[index]
        with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool"):
            lib.zeros(4, 5).index_put_((i,), lib.tensor(1.0))


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "uint8", "bool", "float32"])
@pytest.mark.parametrize("form", ["repeats per row", "repeats alone", "0-d repeats"])
def test_repeat_interleave_takes_the_repeat_dtypes_of_pytorch_kernel(torch, dtype, form):
    def call(lib):
        r = lib.tensor([1, 0, 2, 1] if form != "0-d repeats" else 2, dtype=getattr(lib, dtype))
        return lib.repeat_interleave(r) if form == "repeats alone" else _x(lib).repeat_interleave(r, dim=0)

    if dtype in ("int64", "int32"):
        _same(*_both(torch, call), torch)
        return
    for lib in (gg, torch):
        with pytest.raises(NotImplementedError, match="repeat_interleave_cpu"):
            call(lib)
