"""Indexing errors in PyTorch's classes and words (round 66, PyTorch's test_indexing.py run against
glassgrad): a complex number given to ``index_fill`` of a real tensor (a bool tensor took it as True),
``unravel_index``'s shape checks, ``take_along_dim``'s index dtype, ``del x[i]``, slice bounds that
are no integers, out-of-range keys, and a setitem value of the wrong shape and dtype."""

from __future__ import annotations

import re

import pytest

import glassgrad as gg


def _raises(torch, lib_call, torch_call):
    """Both libraries raise, glassgrad's error is an instance of PyTorch's class and its message holds
    PyTorch's own words (the text after the op's name and before a detail in brackets)."""
    with pytest.raises(Exception) as want:
        torch_call(torch)
    with pytest.raises(type(want.value)) as got:
        lib_call(gg)
    return str(want.value), str(got.value)


@pytest.mark.parametrize("dtype", ["bool", "int64", "float32", "float64", "uint8"])
@pytest.mark.parametrize("value", [1 + 1j, 1 + 0j, complex(0, 0)])
def test_index_fill_refuses_a_complex_number_for_a_real_tensor(torch, dtype, value):
    def call(lib):
        x = lib.tensor([[1, 0], [0, 1]], dtype=getattr(lib, dtype))
        return x.index_fill_(1, lib.tensor([0]), value)

    want, got = _raises(torch, call, call)
    assert "Converting complex Scalar to non-complex type is not supported" in want
    assert "Converting complex Scalar to non-complex type is not supported" in got


def test_index_fill_complex_tensor_takes_a_complex_number(torch):
    x = gg.zeros(2, 2, dtype=gg.complex64).index_fill(1, gg.tensor([1]), 1 + 2j)
    t = torch.zeros(2, 2, dtype=torch.complex64).index_fill(1, torch.tensor([1]), 1 + 2j)
    assert x.tolist() == t.tolist()


@pytest.mark.parametrize(
    "args, words",
    [
        (lambda lib: (lib.tensor(0.5), (2, 2)), "expected 'indices' to be integer dtype"),
        (lambda lib: (lib.tensor([]), (10, 3, 5)), "expected 'indices' to be integer dtype"),
        (
            lambda lib: (lib.tensor([1]), lib.tensor([1, 2, 3])),
            "expected 'shape' to be int or sequence of ints",
        ),
        (lambda lib: (lib.tensor([1]), (1, 2, 2.0)), "expected 'shape' sequence to only contain ints"),
        (lambda lib: (lib.tensor(0), (2, -3)), r"'shape' cannot have negative values, but got (2, -3)"),
    ],
)
def test_unravel_index_refusals(torch, args, words):
    want, got = _raises(
        torch, lambda lib: lib.unravel_index(*args(lib)), lambda lib: lib.unravel_index(*args(lib))
    )
    assert words in want and words in got


def test_unravel_index_values_unchanged(torch):
    for shape in [(2, 3, 4), 24, [4, 6], (5, 0, 2)]:
        idx = [0, 5, 23] if shape != (5, 0, 2) else []
        got = gg.unravel_index(gg.tensor(idx, dtype=gg.int64), shape)
        want = torch.unravel_index(torch.tensor(idx, dtype=torch.int64), shape)
        assert [g.tolist() for g in got] == [w.tolist() for w in want]


@pytest.mark.parametrize("dtype", ["bool", "float32", "int32"])
def test_take_along_dim_wants_a_long_index(torch, dtype):
    def call(lib):
        t = lib.zeros(2, 3)
        return lib.take_along_dim(t, lib.zeros(2, 3, dtype=getattr(lib, dtype)), dim=0)

    want, got = _raises(torch, call, call)
    words = "dtype of indices should be Long but got"
    assert words in want and words in got


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda lib: lib.take_along_dim(lib.zeros(2, 3), lib.zeros(3, dtype=lib.int64), dim=0),
         "input and indices should have the same number of dimensions"),
        (lambda lib: lib.take_along_dim(lib.zeros(2, 3), lib.zeros(2, 3, dtype=lib.int64), dim=-7),
         "Dimension out of range"),
        (lambda lib: lib.zeros(2, 3).gather(2, lib.zeros(2, 3, dtype=lib.int64)), "Dimension out of range"),
    ],
)  # fmt: skip
def test_take_along_dim_shape_and_dim_words(torch, call, words):
    want, got = _raises(torch, call, call)
    assert words in want and words in got


def test_del_item_is_a_type_error(torch):
    def call(lib):
        x = lib.arange(4.0)
        del x[0]

    _raises(torch, call, call)


@pytest.mark.parametrize("key", [slice("0", "1"), slice(0.0, 2.0), slice(0, 2, "a")])
def test_slice_bounds_that_are_no_integers(torch, key):
    def call(lib):
        return lib.arange(16).view(4, 4)[key]

    want, got = _raises(torch, call, call)
    words = "slice indices must be integers or None or have an __index__ method"
    assert words in want and words in got


def test_slice_with_tensor_bounds_still_reads_them(torch):
    i, j = gg.tensor([1, 3], dtype=gg.int32)
    ti, tj = torch.tensor([1, 3], dtype=torch.int32)
    assert gg.arange(6)[i:j].tolist() == torch.arange(6)[ti:tj].tolist()


@pytest.mark.parametrize(
    "key",
    [(0, 5), (4, 5), (0, 1, 15), (slice(None), slice(None), 12), ([7],), (slice(None), [0, 7])],
)
def test_out_of_range_keys_name_the_dimension(torch, key):
    def call(lib):
        return lib.arange(100).view(2, 5, 10)[key]

    want, got = _raises(torch, call, call)
    number = re.search(r"index (\d+) is out of bounds for dimension \d+ with size \d+", want)
    assert number is not None
    assert re.search(rf"index {number.group(1)} is out of bounds for dimension \d+ with size \d+", got)


def test_index_into_a_zero_size_dim_and_a_0d_tensor(torch):
    want, got = _raises(
        torch, lambda lib: lib.empty(10, 0)[:, [0, 1]], lambda lib: lib.empty(10, 0)[:, [0, 1]]
    )
    assert "for dimension with size 0" in want and "for dimension with size 0" in got
    want, got = _raises(torch, lambda lib: lib.tensor(10)[0], lambda lib: lib.tensor(10)[0])
    assert "invalid index of a 0-dim tensor" in want and "invalid index of a 0-dim tensor" in got


@pytest.mark.parametrize(
    "value",
    [lambda lib: lib.tensor([]), lambda lib: lib.tensor([1.0, 2.0, 3.0]), lambda lib: lib.tensor([1, 2, 3])],
)
def test_setitem_through_a_mask_checks_the_shape_before_the_dtype(torch, value):
    def call(lib):
        a = lib.arange(0, 4)
        a[a > -1] = value(lib)

    want, got = _raises(torch, call, call)
    assert "shape mismatch" in want and "shape mismatch" in got


def test_setitem_of_another_dtype_that_fits_is_still_refused(torch):
    def call(lib):
        a = lib.arange(0, 4)
        a[a > 1] = lib.tensor([1.5, 2.5])

    want, got = _raises(torch, call, call)
    assert "dtypes match" in want and "dtypes match" in got


def _empty(lib, shape=(0,)):
    return lib.zeros(shape, dtype=lib.int64)


EMPTY_INDEX_CALLS = [
    ("scatter", lambda lib, x, s, i: x.scatter(0, i, s)),
    ("scatter value", lambda lib, x, s, i: x.scatter(1, i, 2.5)),
    ("scatter_ in place", lambda lib, x, s, i: x.clone().scatter_(0, i, s)),
    ("scatter_add", lambda lib, x, s, i: x.scatter_add(-1, i, s)),
    ("scatter_add_ in place", lambda lib, x, s, i: x.clone().scatter_add_(0, i, s)),
    ("scatter_reduce amax", lambda lib, x, s, i: x.scatter_reduce(0, i, s, "amax", include_self=False)),
    ("scatter_reduce mean", lambda lib, x, s, i: x.scatter_reduce(1, i, s, "mean")),
    ("scatter src 1-D", lambda lib, x, s, i: x.scatter(0, i, s.reshape(-1)[:3])),
]


@pytest.mark.parametrize("call", [c for _, c in EMPTY_INDEX_CALLS], ids=[n for n, _ in EMPTY_INDEX_CALLS])
@pytest.mark.parametrize("index_shape", [(0,), (0, 1, 1), (0, 5), (3, 0)])
def test_scatter_with_an_empty_index_of_any_shape_writes_nothing(torch, call, index_shape):
    # PyTorch skips its shape checks for an index without elements (test_scatter_gather_ops.py)
    x = [[1.0, -2.0], [3.0, 4.5]]
    src = [[5.0, 6.0], [7.0, 8.0]]
    got = call(gg, gg.tensor(x), gg.tensor(src), _empty(gg, index_shape))
    want = call(torch, torch.tensor(x), torch.tensor(src), _empty(torch, index_shape))
    assert got.dtype == gg.float32 and got.tolist() == want.tolist()


@pytest.mark.parametrize("index_shape, dim", [((0,), 0), ((0,), 1), ((0, 1, 1), 0), ((0, 7), 1)])
def test_gather_with_an_empty_index_of_any_shape(torch, index_shape, dim):
    x = gg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=gg.float64, requires_grad=True)
    t = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=torch.float64, requires_grad=True)
    got, want = x.gather(dim, _empty(gg, index_shape)), t.gather(dim, _empty(torch, index_shape))
    assert tuple(got.shape) == tuple(want.shape) and got.dtype == gg.float64
    got.sum().backward()
    want.sum().backward()
    assert x.grad.tolist() == t.grad.tolist()


def test_scatter_with_an_empty_index_still_checks_dtype_and_dim(torch):
    for call in [
        lambda lib: lib.zeros(2, 2).scatter(0, _empty(lib), lib.ones(2, 2, dtype=lib.float64)),
        lambda lib: lib.zeros(2, 2).scatter_add(5, _empty(lib), lib.ones(2, 2)),
        lambda lib: lib.zeros(2, 2).gather(-3, _empty(lib)),
    ]:
        _raises(torch, call, call)


def test_scatter_with_an_empty_index_passes_the_gradient_of_self(torch):
    # (PyTorch's backward raises here when src requires grad, an invalid gradient shape of its own;
    # glassgrad gives src the zeros it contributed)
    x = gg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=gg.float64, requires_grad=True)
    s = gg.ones(2, 2, dtype=gg.float64, requires_grad=True)
    w = gg.tensor([[1.0, -1.0], [2.0, 0.5]], dtype=gg.float64)
    for op in ("scatter", "scatter_add"):
        x.grad = s.grad = None
        (getattr(x, op)(0, _empty(gg), s) * w).sum().backward()
        assert x.grad.tolist() == w.tolist()
        assert s.grad is None or s.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]
