"""ops/indexing.py: PyTorch parity for indexing, masked_fill, gather, index_select, scatter_add,
topk, sort; setitem's graph rules."""

from __future__ import annotations

import re

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, GraphError, ShapeError
from glassgrad.ops import indexing as I


def rand(*shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def both(x):
    torch = pytest.importorskip("torch")
    return gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def check(g_out, t_out, g_in, t_in, atol=1e-12):
    """Same values; same gradient of sum(out * u) for a random u."""
    torch = pytest.importorskip("torch")
    assert g_out.shape == tuple(t_out.shape)
    np.testing.assert_allclose(g_out._data, t_out.detach().numpy(), atol=atol)
    u = np.random.default_rng(3).standard_normal(g_out.shape).astype(g_out._data.dtype)
    g_out.backward(u)
    t_out.backward(torch.tensor(u))
    np.testing.assert_allclose(g_in.grad._data, t_in.grad.numpy(), atol=atol)


# ------------------------------------------------------------------ getitem
IDX = np.array([2, 0, 2, 2])  # repeated on purpose: backward must add, not overwrite
KEYS = {
    "int": lambda c: 1,
    "neg_int": lambda c: -1,
    "slice": lambda c: slice(1, None),
    "slice_step": lambda c: (slice(None), slice(None, None, 2)),
    "ellipsis": lambda c: (Ellipsis, 0),
    "none": lambda c: (None, 1, None),
    "none_mid": lambda c: (slice(None), None, 0),
    "list_repeated": lambda c: [0, 0, 2],
    "tensor_repeated": lambda c: c(IDX),
    "negative_indices": lambda c: c(np.array([-1, 0, -1])),
    "two_arrays": lambda c: (c(np.array([0, 1, 1])), c(np.array([3, 3, 0]))),
    "broadcast_arrays": lambda c: (c(np.array([[0], [2], [2]])), c(np.array([[1, 1]]))),
    "slice_and_array": lambda c: (slice(None), c(np.array([3, 0, 3]))),
    "split_arrays": lambda c: (c(np.array([0, 2])), slice(None), c(np.array([1, 1]))),
    "array_2d": lambda c: c(np.array([[0, 2], [2, 2]])),
    "mask_full": lambda c: c(rand(3, 4, 2, seed=1) > 0),
    "mask_rows": lambda c: c(np.array([True, False, True])),
    "mask_and_slice": lambda c: (c(np.array([True, True, False])), slice(1, 3)),
    "int_and_array": lambda c: (1, c(np.array([0, 0, 3]))),
    "zero_d_tensor": lambda c: c(np.array(2)),
}


@pytest.mark.parametrize("name", sorted(KEYS))
def test_getitem_parity(torch, name):
    g, t = both(rand(3, 4, 2))
    g_out = g[KEYS[name](gg.tensor)]
    t_out = t[KEYS[name](torch.tensor)]
    check(g_out, t_out, g, t)


def test_getitem_lists_and_arrays_index_like_tensors():
    x = gg.tensor(rand(3, 4))
    np.testing.assert_array_equal(x[[0, 0, 2]]._data, x[gg.tensor([0, 0, 2])]._data)
    np.testing.assert_array_equal(x[np.array([0, 0, 2])]._data, x._data[[0, 0, 2]])
    assert x[[]].shape == (0, 4)


def test_getitem_negative_steps_refused_as_torch(torch):
    g, t = both(rand(5, 4))
    with pytest.raises(ValueError, match="step must be greater than zero"):
        t[::-2, 1:]
    with pytest.raises(
        ValueError, match=r"getitem: expected slice steps greater than zero.*shape \(5, 4\).*torch.flip"
    ):
        g[::-2, 1:]
    check(g.flip(0)[::2, 1:], t.flip(0)[::2, 1:], g, t)  # the way PyTorch spells it


def test_getitem_repeated_index_gradient_counts_every_read():
    x = gg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 0, 2]].backward(np.ones(4, dtype=np.float32))
    np.testing.assert_array_equal(x.grad._data, [3.0, 0.0, 1.0])


def test_getitem_empty_and_size_one_dims():
    g, t = both(rand(0, 3))
    check(g[:, 1:], t[:, 1:], g, t)
    g, t = both(rand(1, 3))
    check(g[0, [2, 2]], t[0, [2, 2]], g, t)


def test_getitem_errors():
    x = gg.tensor(rand(3, 4))
    with pytest.raises(IndexError, match=re.escape("getitem: expected a key that fits shape (3, 4)")):
        x[3]
    with pytest.raises(ShapeError, match="getitem"):
        x[[0, 5]]
    with pytest.raises(DTypeError, match="getitem: expected integer or bool index arrays, got float32"):
        x[gg.tensor([0.0, 1.0])]
    with pytest.raises(DTypeError, match="getitem: expected ints, slices"):
        x["a"]


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")  # PyTorch reads "a" as a sequence
def test_float_index_raises_index_error_like_torch(torch):
    # caption.py's beam search (sgrvinod) indexes with `top_k_words / vocab_size`, a float tensor
    # since PyTorch 1.5: PyTorch raises IndexError (TypeError for a str key), so must glassgrad
    for lib in (torch, gg):
        x = lib.arange(6.0)
        for bad in (lambda: x[lib.tensor([1.0, 2.0])], lambda: x[lib.tensor(1.0)], lambda: x[1.5]):
            with pytest.raises(IndexError):
                bad()
        with pytest.raises(IndexError):
            x[lib.tensor([1.0])] = 0.0
        with pytest.raises(TypeError):
            x["a"]


# ------------------------------------------------------------------ setitem
def test_setitem_on_leaf_requiring_grad_raises_in_grad_mode_but_works_under_no_grad():
    x = gg.tensor(rand(3, 4), requires_grad=True)
    with pytest.raises(GraphError, match=r"__setitem__: in-place change of a leaf tensor that requires grad"):
        x[0] = 1.0
    v = x._version
    with gg.no_grad():
        x[0] = 1.0
        x[:, [1, 3]] = gg.tensor([5.0, 6.0], dtype=gg.float64)
    assert x._version == v + 2
    np.testing.assert_array_equal(x._data[0], [1.0, 5.0, 1.0, 6.0])
    np.testing.assert_array_equal(x._data[1:, 1], [5.0, 5.0])


def test_setitem_on_recorded_tensor_is_recorded_and_detach_works():
    x = gg.tensor(rand(3), requires_grad=True)
    y = x * 2.0
    y[0] = 0.0  # recorded (tests/autograd/test_setitem_recorded.py): the kept entries keep their gradient
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 2.0, 2.0])
    d = (x * 2.0).detach()
    d[0] = 0.0
    assert d._data[0] == 0.0


def test_setitem_parity_on_plain_tensors(torch):
    a = rand(3, 4)
    g, t = gg.tensor(a.copy()), torch.tensor(a.copy())
    for key, value in [
        ((0,), 7.0),
        ((slice(None), 1), np.array([1.0, 2.0, 3.0])),
        ((rand(3, 4, seed=2) > 0,), -1.0),
        ((np.array([0, 2]), slice(None)), np.array([9.0, 8.0, 7.0, 6.0])),
        ((Ellipsis, -1), 0.5),
    ]:
        g[key] = gg.tensor(value) if isinstance(value, np.ndarray) else value
        tkey = tuple(torch.tensor(k) if isinstance(k, np.ndarray) else k for k in key)
        t[tkey] = torch.tensor(value) if isinstance(value, np.ndarray) else value
    np.testing.assert_array_equal(g._data, t.numpy())


def test_setitem_value_requiring_grad_is_recorded_not_silently_dropped():
    x = gg.zeros(3, dtype=gg.float64)
    v = gg.tensor(1.0, dtype=gg.float64, requires_grad=True)
    x[0] = v  # recorded: x now depends on v
    (x * 3).sum().backward()
    assert v.grad.item() == 3.0
    x = gg.zeros(3, dtype=gg.float64)
    with gg.no_grad():
        x[0] = v
    assert x._data[0] == 1.0


def test_setitem_shape_error():
    x = gg.zeros(3, 4)
    with pytest.raises(
        ShapeError,
        match=re.escape(
            "__setitem__: expected a value broadcastable to x[key] (shape (4,)) of x with shape (3, 4), got shape (3,)"
        ),
    ):
        x[0] = np.ones(3)


# ------------------------------------------------------------------ masked_fill
@pytest.mark.parametrize(
    "xshape, mshape, value",
    [((3, 4), (3, 4), 0.0), ((2, 3, 4), (1, 4), float("-inf")), ((3, 4), (4,), 2.5), ((4,), (2, 4), 1.0)],
)
def test_masked_fill_parity(torch, xshape, mshape, value):
    mask = rand(*mshape, seed=5) > 0
    g, t = both(rand(*xshape))
    check(g.masked_fill(gg.tensor(mask), value), t.masked_fill(torch.tensor(mask), value), g, t)


def test_masked_fill_value_tensor_gets_gradient_like_torch(torch):
    mask = rand(3, 4, seed=5) > 0
    g, t = both(rand(3, 4))
    gv, tv = both(np.array(2.0))
    out_g, out_t = g.masked_fill(gg.tensor(mask), gv), t.masked_fill(torch.tensor(mask), tv)
    check(out_g, out_t, g, t)
    np.testing.assert_allclose(gv.grad._data, tv.grad.numpy())


def test_masked_fill_keeps_dtype_and_rejects_non_bool_masks():
    x = gg.tensor(rand(2, 3, dtype=np.float32))
    assert x.masked_fill(gg.tensor(rand(2, 3) > 0), -1e9).dtype == gg.float32
    with pytest.raises(TypeError, match="masked_fill: expected a bool mask, got int64"):
        x.masked_fill(gg.tensor([[1, 0, 1]]), 0.0)
    with pytest.raises(ShapeError, match="masked_fill"):
        x.masked_fill(gg.tensor(np.ones((2, 2), dtype=bool)), 0.0)


# ------------------------------------------------------------------ gather / index_select / scatter_add
GATHER = [
    (1, np.array([[0, 0, 3], [1, 2, 2]])),  # index smaller than x in dim 0, repeats
    (-1, np.array([[3], [3], [0]])),
    (0, np.array([[2, 2, 0, 1], [0, 0, 0, 0]])),
    (1, np.zeros((3, 0), dtype=np.int64)),
]


@pytest.mark.parametrize("dim, index", GATHER)
def test_gather_parity(torch, dim, index):
    g, t = both(rand(3, 4))
    check(g.gather(dim, gg.tensor(index)), t.gather(dim, torch.tensor(index)), g, t)


@pytest.mark.parametrize("dim, index", [(0, [2, 2, 0]), (-2, [3, 0, 3, 3]), (1, []), (-1, [1])])
def test_index_select_parity(torch, dim, index):
    g, t = both(rand(3, 4, 2))
    idx = np.array(index, dtype=np.int64)
    check(g.index_select(dim, gg.tensor(idx)), t.index_select(dim, torch.tensor(idx)), g, t)


def test_index_select_takes_pytorch_keyword_names(torch):
    # torch.index_select(input=..., index=..., dim=0), as uvadlc tutorial 7's GAT layer calls it
    g, t = both(rand(5, 3))
    idx = np.array([4, 0, 4], dtype=np.int64)
    out_g = gg.index_select(input=g, index=gg.tensor(idx), dim=0)
    out_t = torch.index_select(input=t, index=torch.tensor(idx), dim=0)
    check(out_g, out_t, g, t)
    with pytest.raises(TypeError):
        gg.index_select(x=g, index=gg.tensor(idx), dim=0)  # not a PyTorch name


@pytest.mark.parametrize("dim, index", [(0, [[2, 2, 0], [1, 2, 2]]), (-1, [[0, 0], [3, 1], [0, 0]])])
def test_scatter_add_parity(torch, dim, index):
    idx = np.array(index)
    g, t = both(rand(3, 4))
    gs, ts = both(rand(*idx.shape, seed=9))  # torch's backward mis-shapes src grads larger than index
    out_g = I.scatter_add(g, dim, gg.tensor(idx), gs)
    out_t = torch.scatter_add(t, dim, torch.tensor(idx), ts)
    check(out_g, out_t, g, t)
    np.testing.assert_allclose(gs.grad._data, ts.grad.numpy())


def test_gather_family_errors():
    x = gg.tensor(rand(3, 4))
    with pytest.raises(
        IndexError,
        match=re.escape(
            "gather: expected indices in [0, 4) along dim 1 of shape (3, 4), got values in [-1, 1]"
        ),
    ):
        x.gather(1, gg.tensor([[-1, 1]]))
    with pytest.raises(
        ShapeError, match=re.escape("gather: expected an index with 2 dims like input (3, 4), got (2,)")
    ):
        x.gather(1, gg.tensor([0, 1]))
    with pytest.raises(ShapeError, match="gather: expected index.size"):
        x.gather(1, gg.tensor(np.zeros((4, 1), dtype=np.int64)))
    with pytest.raises(DTypeError, match="gather: expected an integer index, got float32"):
        x.gather(1, gg.tensor([[0.0]]))
    with pytest.raises(IndexError, match="index_select: expected indices in"):
        x.index_select(0, gg.tensor([3]))
    with pytest.raises(DTypeError, match="scatter_add: expected src of dtype float64, got float32"):
        I.scatter_add(x, 0, gg.tensor([[0]]), gg.tensor([[1.0]]))


# ------------------------------------------------------------------ topk / sort
@pytest.mark.parametrize(
    "k, dim, largest", [(2, -1, True), (3, 0, False), (4, 1, True), (0, -1, True), (1, 0, True)]
)
def test_topk_parity(k, dim, largest):
    g, t = both(rand(4, 5, seed=4))
    gv, gi = g.topk(k, dim, largest=largest)
    tv, ti = t.topk(k, dim, largest=largest)
    np.testing.assert_array_equal(gi._data, ti.numpy())
    assert gi.dtype == gg.int64
    check(gv, tv, g, t)


@pytest.mark.parametrize("dim, descending", [(-1, False), (0, True), (1, True)])
def test_sort_parity(dim, descending):
    g, t = both(rand(4, 5, seed=4))
    res = g.sort(dim, descending)
    tres = t.sort(dim, descending)
    np.testing.assert_array_equal(res.indices._data, tres.indices.numpy())
    np.testing.assert_array_equal(g.argsort(dim, descending)._data, tres.indices.numpy())
    check(res.values, tres.values, g, t)


def test_sort_is_stable_and_puts_nan_where_torch_does(torch):
    a = np.array([1.0, np.nan, 3.0, 1.0, np.inf, 3.0, -np.inf])
    for descending in (False, True):
        res = gg.tensor(a).sort(descending=descending)
        tres = torch.tensor(a).sort(descending=descending, stable=True)
        np.testing.assert_array_equal(res.values._data, tres.values.numpy())
        np.testing.assert_array_equal(res.indices._data, tres.indices.numpy())
    ints = np.array([3, 1, 3, 2, 1])
    res = gg.tensor(ints).sort(descending=True)
    np.testing.assert_array_equal(
        res.indices._data, torch.tensor(ints).sort(descending=True, stable=True).indices
    )


def test_topk_errors():
    x = gg.tensor(rand(3, 5))
    with pytest.raises(
        ShapeError,
        match=re.escape("topk: expected 0 <= k <= 5 (the size of dim -1 of shape (3, 5)), got k=6"),
    ):
        x.topk(6)
    with pytest.raises(IndexError, match="topk: expected dim in"):
        x.topk(1, dim=2)


def test_scatter_add_src_larger_than_index_uses_its_leading_box_like_torch(torch):
    idx = np.array([[2, 2, 0], [1, 2, 2]])
    x, src = rand(3, 4), rand(3, 5, seed=9)
    got = I.scatter_add(gg.tensor(x), 1, gg.tensor(idx), gg.tensor(src))
    want = torch.scatter_add(torch.tensor(x), 1, torch.tensor(idx), torch.tensor(src))
    np.testing.assert_allclose(got._data, want.numpy(), atol=1e-12)


def test_all_int_key_gives_a_0d_array_not_a_numpy_scalar():
    x = gg.tensor(rand(3, 4), requires_grad=True)
    y = x[1, 2]
    assert isinstance(y._data, np.ndarray) and y.shape == ()
    y.backward()
    assert x.grad._data[1, 2] == 1.0 and x.grad._data.sum() == 1.0


def test_row_gather_backward_adds_repeated_and_negative_rows_like_add_at():
    """x[idx] with a 1-D integer idx (embedding lookups) scatters its gradient by sort + reduceat."""
    rng = np.random.default_rng(0)
    idx = np.array([3, -1, 0, 3, 4, 3, 0, -5])  # -1 is row 4 and -5 is row 0 of 5 rows
    x = gg.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    g = rng.standard_normal((8, 3))
    x[gg.tensor(idx)].backward(gg.tensor(g))
    expected = np.zeros((5, 3))
    np.add.at(expected, idx, g)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)
    y = gg.tensor(rng.standard_normal((5, 2)), requires_grad=True)
    y[gg.tensor(np.array([], dtype=np.int64))].sum().backward()
    assert not y.grad.numpy().any()
