"""ops/indexing_more.py and take/take_along_dim: PyTorch parity of values, dtypes and every input
gradient (float64 and float32, negative dims, repeated indices, empty and size-1 dims, broadcasting);
the in-place variants; index tensors changed after the op; error messages."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, GraphError, IndexOutOfRangeError, ShapeError


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _np(t, torch):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t._data


def parity(torch, fn, arrays, dtype=np.float64, atol=None):
    """fn(lib, c, *xs) on glassgrad and on torch (c makes a constant tensor): same values, dtypes
    and gradients of sum(out * u) for every float input."""
    atol = atol or (1e-10 if dtype == np.float64 else 2e-4)
    outs, grads = [], []
    for lib in (gg, torch):
        xs = [lib.tensor(np.asarray(a, dtype=dtype), requires_grad=True) for a in arrays]
        out = fn(lib, lib.tensor, *xs)
        out = list(out) if isinstance(out, tuple | list) else [out]
        loss = None
        for k, o in enumerate(out):
            if o.requires_grad:
                u = lib.tensor(np.random.default_rng(k + 7).standard_normal(tuple(o.shape)).astype(dtype))
                term = (o * u).sum()
                loss = term if loss is None else loss + term
        if loss is not None:
            loss.backward()
        outs.append(out)
        grads.append([None if x.grad is None else _np(x.grad, torch) for x in xs])
    assert len(outs[0]) == len(outs[1])
    for g, t in zip(*outs):
        assert tuple(g.shape) == tuple(t.shape), (g.shape, t.shape)
        assert str(g._data.dtype) == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(g._data, t.detach().numpy(), atol=atol, rtol=atol)
    for a, (g, t) in enumerate(zip(*grads)):
        if t is None:
            assert g is None or not np.any(g), f"input {a}"
        else:
            assert g is not None, f"input {a} got no gradient"
            np.testing.assert_allclose(g, t, atol=atol, rtol=atol, err_msg=f"gradient of input {a}")


DTYPES = [np.float64, np.float32]
IDX = np.array([2, 0, 2, 2, 1])  # repeated on purpose


# ------------------------------------------------------------------ index_add / index_copy
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1, -2])
def test_index_add_matches_pytorch(torch, dtype, dim):
    shape = [3, 4]
    shape[dim] = 3
    src = list(shape)
    src[dim] = len(IDX)
    parity(
        torch,
        lambda L, c, x, s: L.index_add(x, dim, c(IDX), s, alpha=2.5),
        [rand(*shape), rand(*src, seed=1)],
        dtype,
    )
    parity(torch, lambda L, c, x, s: x.index_add(dim, c(IDX), s), [rand(*shape), rand(*src, seed=1)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_index_copy_matches_pytorch(torch, dtype):
    idx = np.array([3, 0, 1])
    parity(torch, lambda L, c, x, s: L.index_copy(x, -1, c(idx), s), [rand(2, 4), rand(2, 3, seed=1)], dtype)
    parity(torch, lambda L, c, x, s: x.index_copy(0, c(idx[:2]), s), [rand(4, 2), rand(2, 2, seed=1)], dtype)


def test_index_copy_repeated_index_gradient_matches_pytorch(torch):
    src = rand(4, 3, seed=1)
    src[1] = src[3]  # the duplicates write the same values, so the forward is defined
    parity(torch, lambda L, c, x, s: x.index_copy(0, c(np.array([0, 2, 1, 2])), s), [rand(3, 3), src])


def test_index_add_edges_match_pytorch(torch):
    parity(torch, lambda L, c, x, s: x.index_add(0, c(np.zeros(0, np.int64)), s), [rand(3, 2), rand(0, 2)])
    parity(torch, lambda L, c, x, s: x.index_add(0, c(np.array(0)), s), [rand(), rand()])
    parity(torch, lambda L, c, x, s: x.index_add(1, c(np.array([0, 0])), s), [rand(2, 1), rand(2, 2)])
    a = np.arange(6).reshape(2, 3)
    for lib in (gg, torch):
        out = lib.tensor(a).index_add(1, lib.tensor([2, 2]), lib.tensor(a[:, :2]), alpha=3)
        assert out.tolist() == [[0, 1, 2 + 3 * 1], [3, 4, 5 + 3 * 7]]


# ------------------------------------------------------------------ index_put
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put_matches_pytorch(torch, dtype, accumulate):
    i0, i1 = np.array([0, 2, 0, -1]), np.array([1, 1, 1, 0])  # (0, 1) three times
    same = rand(4, seed=2)
    same[2] = same[0]  # repeated positions write equal values unless accumulating
    parity(torch, lambda L, c, x, v: x.index_put((c(i0), c(i1)), v, accumulate), [rand(3, 2), same], dtype)
    parity(torch, lambda L, c, x, v: L.index_put(x, (c(np.array([1, 1])),), v, accumulate),
           [rand(3, 4), rand(4, seed=3)], dtype)  # fmt: skip
    mask = rand(3, 4, seed=5) > 0
    parity(
        torch, lambda L, c, x, v: x.index_put((c(mask),), v, accumulate), [rand(3, 4), rand(1, seed=3)], dtype
    )
    parity(torch, lambda L, c, x, v: x.index_put((c(np.array([[0], [2]])), c(np.array([[1, 3]]))), v, accumulate),
           [rand(3, 4, 2), rand(2, 1, 2, seed=3)], dtype)  # fmt: skip


def test_index_put_repeated_indices_gradient(torch):
    # accumulate=False with repeated indices: every values entry gets the gradient of its position
    parity(torch, lambda L, c, x, v: x.index_put((c(np.array([1, 1, 1])),), v), [rand(3), np.ones(3)])


# ------------------------------------------------------------------ masked_scatter
@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_scatter_matches_pytorch(torch, dtype):
    mask = rand(3, 4, seed=4) > 0
    parity(torch, lambda L, c, x, s: x.masked_scatter(c(mask), s), [rand(3, 4), rand(20, seed=1)], dtype)
    parity(
        torch, lambda L, c, x, s: L.masked_scatter(x, c(mask[:1]), s), [rand(3, 4), rand(3, 5, seed=1)], dtype
    )
    parity(
        torch, lambda L, c, x, s: x.masked_scatter(c(mask[:, :1]), s), [rand(3, 4), rand(12, seed=1)], dtype
    )
    parity(
        torch, lambda L, c, x, s: x.masked_scatter(c(np.zeros((0, 4), bool)), s), [rand(0, 4), rand(2)], dtype
    )
    parity(torch, lambda L, c, x, s: x.masked_scatter(c(np.array(True)), s), [rand(), rand(2)], dtype)
    parity(
        torch, lambda L, c, x, s: x.masked_scatter(c(np.array([True, False])), s), [rand(), rand(2)], dtype
    )


# ------------------------------------------------------------------ scatter_reduce
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_matches_pytorch(torch, dtype, reduce, include_self):
    idx = np.array([[0, 2, 0, 0], [1, 1, 3, 1]])  # repeats in each row; position 1 of row 0 untouched
    src = np.round(rand(2, 4, seed=1) * 2) / 2  # ties on purpose
    src[0, 0] = src[0, 2] = src[0, 3] = 1.5
    x = np.round(rand(2, 4) * 2) / 2
    x[0, 0] = 1.5  # self ties with src
    if reduce == "prod":
        src[1, 1] = 0.0
        x[1, 3] = 0.0

    def fn(L, c, a, s):
        return a.scatter_reduce(-1, c(idx), s, reduce, include_self=include_self)

    parity(torch, fn, [x, src], dtype)
    parity(torch, lambda L, c, a, s: L.scatter_reduce(a, 0, c(idx[:, :3] % 2), s, reduce, include_self=include_self),
           [x, src[:, :3]], dtype)  # fmt: skip


def test_scatter_reduce_reads_only_the_index_box_of_src(torch):
    # PyTorch's backward fails for a src larger than the index ("invalid gradient"); the forward
    # reads index's box of src only, so the entries outside it get zero gradient here.
    x, src = gg.tensor(rand(3), requires_grad=True), gg.tensor(rand(4, seed=1), requires_grad=True)
    out = x.scatter_reduce(0, gg.tensor([1, 1]), src, "sum")
    t = torch.tensor(rand(3)).scatter_reduce(0, torch.tensor([1, 1]), torch.tensor(rand(4, seed=1)), "sum")
    np.testing.assert_allclose(out._data, t.numpy())
    out.sum().backward()
    assert src.grad.tolist() == [1.0, 1.0, 0.0, 0.0] and x.grad.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("reduce", ["prod", "amax", "amin"])
def test_scatter_reduce_zeros_and_ties_match_pytorch(torch, reduce):
    x, src, idx = np.array([0.0, 2, 3]), np.array([0.0, 4, 0, 5, 0, 0]), np.array([0, 1, 1, 2, 2, 2])
    for inc in (True, False):
        parity(torch, lambda L, c, a, s: a.scatter_reduce(0, c(idx), s, reduce, include_self=inc), [x, src])
        parity(torch, lambda L, c, a, s: a.scatter_reduce(0, c(idx), s, reduce, include_self=inc), [x, -src])


def test_scatter_reduce_integers_match_pytorch(torch):
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for inc in (True, False):
            outs = [
                L.tensor([1, 7, 3]).scatter_reduce(
                    0, L.tensor([0, 0, 2]), L.tensor([2, 4, -5]), reduce, include_self=inc
                )
                for L in (gg, torch)
            ]
            assert outs[0].tolist() == outs[1].tolist() and str(outs[0].dtype).endswith("int64"), reduce


# ------------------------------------------------------------------ take / take_along_dim
@pytest.mark.parametrize("dtype", DTYPES)
def test_take_matches_pytorch(torch, dtype):
    parity(torch, lambda L, c, x: L.take(x, c(np.array([[0, -1], [5, 5]]))), [rand(2, 3)], dtype)
    parity(torch, lambda L, c, x: x.take(c(np.zeros((0,), np.int64))), [rand(2, 3)], dtype)
    parity(torch, lambda L, c, x: x.take(c(np.array([0, 0]))), [rand()], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_take_along_dim_matches_pytorch(torch, dtype):
    x = rand(3, 4)
    idx = np.argsort(x, axis=1)
    parity(torch, lambda L, c, a: L.take_along_dim(a, c(idx), dim=1), [x], dtype)
    parity(
        torch, lambda L, c, a: a.take_along_dim(c(np.array([[0, -1, 0]])), -1), [x], dtype
    )  # broadcast rows
    parity(torch, lambda L, c, a: a.take_along_dim(c(np.array([[1], [0], [1]])), 0), [rand(2, 1)], dtype)
    parity(torch, lambda L, c, a: L.take_along_dim(a, c(np.array([11, 0, 0]))), [x], dtype)  # dim None


# ------------------------------------------------------------------ in place
def _inplace_cases():
    return {
        "index_add_": lambda t, c: t.index_add_(0, c([1, 1]), c(np.ones((2, 3))), alpha=2.0),
        "index_copy_": lambda t, c: t.index_copy_(1, c([2, 0]), c(np.ones((2, 2)))),
        "index_put_": lambda t, c: t.index_put_((c([0, 0]), c([1, 1])), c(np.array(3.0)), accumulate=True),
        "masked_scatter_": lambda t, c: t.masked_scatter_(
            c(np.array([True, False, True])), c(np.arange(6.0))
        ),
        "scatter_reduce_": lambda t, c: t.scatter_reduce_(1, c([[0, 0], [2, 2]]), c(np.ones((2, 2))), "amax"),
    }


@pytest.mark.parametrize("name", sorted(_inplace_cases()))
def test_inplace_variants_match_pytorch_and_refuse_leaves(torch, name):
    op = _inplace_cases()[name]
    x = rand(2, 3)
    w_g, w_t = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_g, y_t = w_g * 1.0, w_t * 1.0
    assert op(y_g, gg.tensor) is y_g and op(y_t, torch.tensor) is y_t
    np.testing.assert_allclose(y_g._data, y_t.detach().numpy())
    (y_g * gg.tensor(x)).sum().backward()
    (y_t * torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(w_g.grad._data, w_t.grad.numpy())
    with pytest.raises(GraphError, match=f"{name}: in-place change of a leaf tensor that requires grad"):
        op(gg.tensor(x, requires_grad=True), gg.tensor)
    plain = gg.tensor(x)
    with gg.no_grad():
        op(gg.tensor(x, requires_grad=True), gg.tensor)
    assert op(plain, gg.tensor) is plain and np.allclose(plain._data, y_t.detach().numpy())


def test_index_changed_after_the_op_does_not_move_the_gradient():
    for make in (
        lambda x, i: x.index_add(0, i, gg.ones(3, 2, dtype=gg.float64)),
        lambda x, i: x.index_copy(0, i[:2], gg.ones(2, 2, dtype=gg.float64)),
        lambda x, i: x.index_put((i,), gg.tensor(5.0, dtype=gg.float64), accumulate=False),
        lambda x, i: x.scatter_reduce(
            0, i.reshape(3, 1).expand(3, 2).clone(), gg.ones(3, 2, dtype=gg.float64), "amin"
        ),
        lambda x, i: x.take(i),
        lambda x, i: x.take_along_dim(i.reshape(3, 1), 0),
    ):
        grads = []
        for mutate in (False, True):
            x = gg.tensor(rand(3, 2), requires_grad=True)
            i = gg.tensor([0, 2, 2])
            out = make(x, i)
            if mutate:
                i.fill_(1)
            (out * gg.tensor(rand(*out.shape, seed=9))).sum().backward()
            grads.append(x.grad._data.copy())
        np.testing.assert_array_equal(*grads)
    x, m = gg.tensor(rand(3), requires_grad=True), gg.tensor([True, False, True])
    out = x.masked_scatter(m, gg.zeros(3, dtype=gg.float64))
    m.fill_(False)
    out.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


# ------------------------------------------------------------------ errors
def test_bad_input_gets_clear_errors():
    x = gg.zeros(3, 4)
    cases = [
        (ShapeError, r"index_add: expected source of shape \(3, 2\)", lambda: x.index_add(1, gg.tensor([0, 1]), gg.ones(2, 3))),
        (IndexOutOfRangeError, r"index_add: expected indices in \[0, 4\)", lambda: x.index_add(1, gg.tensor([4]), gg.ones(3, 1))),
        (DTypeError, "index_add: expected source of the input's dtype", lambda: x.index_add(0, gg.tensor([0]), gg.ones(1, 4, dtype=gg.float64))),
        (DTypeError, "index_copy: expected an integer index, got float32", lambda: x.index_copy(0, gg.tensor([0.0]), gg.ones(1, 4))),
        (ShapeError, "index_copy: expected a 0-d or 1-D index", lambda: x.index_copy(0, gg.tensor([[0]]), gg.ones(1, 4))),
        (IndexOutOfRangeError, "index_put: expected indices that fit shape", lambda: x.index_put((gg.tensor([3]),), gg.tensor(1.0))),
        (ShapeError, r"index_put: expected values broadcastable to x\[indices\] of shape \(2, 4\)", lambda: x.index_put((gg.tensor([0, 1]),), gg.ones(3))),
        (DTypeError, "index_put: expected indices as a tuple of tensors", lambda: x.index_put(gg.tensor([0]), gg.tensor(1.0))),
        (DTypeError, "masked_scatter: expected a bool mask", lambda: x.masked_scatter(gg.ones(3, 4), gg.ones(12))),
        (ShapeError, "masked_scatter: expected source with at least 12 elements", lambda: x.masked_scatter(gg.ones(3, 4).bool(), gg.ones(5))),
        (ShapeError, "masked_scatter: expected a mask broadcastable", lambda: x.masked_scatter(gg.ones(2).bool(), gg.ones(5))),
        (ValueError, "scatter_reduce: expected reduce to be one of", lambda: x.scatter_reduce(0, gg.zeros(1, 1).long(), x, "max")),
        (ShapeError, "scatter_reduce: expected index sizes <= src sizes", lambda: x.scatter_reduce(0, gg.zeros(3, 4).long(), gg.ones(2, 4), "sum")),
        (DTypeError, "scatter_reduce: expected src to be a Tensor", lambda: x.scatter_reduce(0, gg.zeros(3, 4).long(), 1.0, "sum")),
        (IndexOutOfRangeError, r"take: expected indices in \[-12, 12\)", lambda: x.take(gg.tensor([12]))),
        (ShapeError, "take_along_dim: expected input and indices with the same number of dims", lambda: x.take_along_dim(gg.tensor([0]), 1)),
        (ShapeError, "take_along_dim: expected input .* broadcastable outside dim", lambda: x.take_along_dim(gg.zeros(2, 1).long(), 1)),
    ]  # fmt: skip
    for kind, message, call in cases:
        with pytest.raises(kind, match=message):
            call()


# ------------------------------------------------------------------ review regressions
def test_index_put_reads_a_uint8_index_as_a_mask_as_pytorch(torch):
    # was: read as the integer positions [1, 0, 1], silently writing other entries than PyTorch
    with pytest.warns(UserWarning, match="index_put: a uint8 index is read as a mask"):
        out = gg.zeros(3).index_put((gg.tensor([1, 0, 1], dtype=gg.uint8),), gg.tensor([5.0, 6.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's deprecation warning
        t = torch.zeros(3).index_put((torch.tensor([1, 0, 1], dtype=torch.uint8),), torch.tensor([5.0, 6.0]))
    assert out.tolist() == t.tolist() == [5.0, 0.0, 6.0]


def test_index_put_refuses_a_mask_of_the_wrong_shape():
    # was: a short mask went through nonzero() as positions (a silent write), a 0-d one raised NumPy's error
    x = gg.zeros(3, 4)
    for mask in (gg.tensor([True, False]), gg.ones(3, 3).bool(), gg.tensor(True)):
        with pytest.raises(IndexOutOfRangeError, match=r"index_put: expected a mask of the sizes \(3"):
            x.index_put((mask,), gg.tensor(1.0))
    with pytest.raises(IndexOutOfRangeError, match=r"mask of the sizes \(4,\) at dim 1 .* got shape \(3,\)"):
        x.index_put((gg.tensor([0]), gg.tensor([True, False, True])), gg.tensor(1.0))
    with pytest.raises(IndexOutOfRangeError, match="index_put: expected a mask"):
        gg.tensor(1.0).index_put((gg.tensor(True),), gg.tensor(2.0))


@pytest.mark.parametrize("dtype", ["int8", "int32", "uint8", "bool"])
def test_scatter_reduce_keeps_integer_dtypes_and_their_extremes(torch, dtype):
    # was: 'mean' returned int64 for int32 / uint8; amax without self started from -max (int8: -127
    # where src held -128) and raised for uint8 (OverflowError) and bool
    lo = False if dtype == "bool" else np.iinfo(dtype).min
    x, src, idx = np.array([1, 7, 3]).astype(dtype), np.array([lo, 5, 2, 0]).astype(dtype), [0, 2, 2, 1]
    for reduce in ("sum", "prod", "amax", "amin") + (() if dtype == "bool" else ("mean",)):
        for inc in (True, False):
            g, t = (
                L.tensor(x).scatter_reduce(0, L.tensor(idx), L.tensor(src), reduce, include_self=inc)
                for L in (gg, torch)
            )
            assert g.tolist() == t.tolist(), (reduce, inc)
            assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1] == dtype, (reduce, inc)


def test_non_finite_values_give_no_numpy_warning(torch):
    # was: RuntimeWarning from add.at / multiply.at for inf + -inf, an overflowing alpha or product
    x, src, idx = np.array([1.0, 2.0, 3.0]), np.array([np.inf, -np.inf, 1e300, 1e300]), np.array([0, 0, 1, 1])
    cases = [
        lambda L, a, s: a.index_add(0, L.tensor(idx), s),
        lambda L, a, s: a.index_add(0, L.tensor(idx[:2]), s[2:], alpha=1e300),
        lambda L, a, s: a.index_put((L.tensor(idx),), s, accumulate=True),
        *(
            lambda L, a, s, r=r: a.scatter_reduce(0, L.tensor(idx), s, r)
            for r in ("sum", "mean", "prod", "amax")
        ),
    ]
    for fn in cases:
        res = []
        for L in (gg, torch):
            a, s = L.tensor(x, requires_grad=True), L.tensor(src, requires_grad=True)
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                out = fn(L, a, s)
                out.backward(L.ones_like(out))
            res.append(
                [np.asarray(t.detach().numpy() if L is torch else t._data) for t in (out, a.grad, s.grad)]
            )
        for g, t in zip(*res):
            np.testing.assert_allclose(g, t)


def test_take_along_dim_of_a_0d_input_with_a_dim_is_a_clear_error():
    # was: a bare IndexError ("tuple index out of range"); PyTorch's IndexError and words since round 67
    with pytest.raises(
        IndexOutOfRangeError, match="take_along_dim: Dimension specified as 0 but tensor has no dim"
    ):
        gg.tensor(1.0).take_along_dim(gg.tensor(0), 0)
    assert gg.tensor(2.0).take_along_dim(gg.tensor(0)).tolist() == [2.0]  # dim=None, as PyTorch


def test_masked_scatter_and_take_along_dim_go_through_the_array_module(monkeypatch):
    # was: np.broadcast_to on the mask / index arrays, around the backend seam
    from glassgrad.ops import indexing_more, movement_more

    asked = []

    class Recorder:
        def __getattr__(self, name):
            asked.append(name)
            return getattr(np, name)

    for mod in (indexing_more, movement_more):
        monkeypatch.setattr(mod, "array_module", lambda *a: Recorder())
    gg.zeros(2, 3).masked_scatter(gg.tensor([True, False, True]), gg.ones(6))
    gg.zeros(2, 3).take_along_dim(gg.tensor([[0]]), 1)
    assert asked.count("broadcast_to") == 2
