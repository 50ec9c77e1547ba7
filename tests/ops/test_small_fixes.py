"""PyTorch parity for small fixes: activation gradients at NaN, ``positive``, ``square`` of bools,
and the sorting / gather / scatter family on 0-d tensors (PyTorch's one element)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as gnn
import glassgrad.nn.functional as GF
from glassgrad.errors import DTypeError, ShapeError

SPECIAL = [float("nan"), -1.0, 0.0, 0.5, 1.0, 6.0, 7.0, float("inf"), float("-inf")]


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t._data)


def _same(g, t):
    """Same values (NaN where NaN), shape and dtype."""
    gv, tv = np.asarray(g._data), t.detach().numpy()
    assert gv.shape == tv.shape, (gv.shape, tv.shape)
    assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (g.dtype, t.dtype)
    np.testing.assert_allclose(gv.astype(np.float64), tv.astype(np.float64), rtol=1e-6, atol=0)


def _values_and_grad(lib, fn, data, dtype="float32"):
    x = lib.tensor(data, dtype=getattr(lib, dtype), requires_grad=True)
    y = fn(lib, x)
    y.backward(lib.ones(y.shape, dtype=y.dtype) if y.shape else lib.tensor(1.0, dtype=y.dtype))
    return y, x.grad


# ------------------------------------------------------------------ activations at NaN
ACTIVATIONS = {
    "relu": lambda L, x: L.relu(x),
    "F.relu": lambda L, x: (GF if L is gg else L.nn.functional).relu(x),
    "nn.ReLU": lambda L, x: (gnn if L is gg else L.nn).ReLU()(x),
    "relu_": lambda L, x: (x * 1).relu_(),
    "relu6": lambda L, x: (GF if L is gg else L.nn.functional).relu6(x),
    "hardtanh": lambda L, x: (GF if L is gg else L.nn.functional).hardtanh(x, -0.5, 2.0),
    "leaky_relu": lambda L, x: (GF if L is gg else L.nn.functional).leaky_relu(x, 0.2),
    "elu": lambda L, x: (GF if L is gg else L.nn.functional).elu(x, 1.5),
    "selu": lambda L, x: (GF if L is gg else L.nn.functional).selu(x),
    "threshold": lambda L, x: (GF if L is gg else L.nn.functional).threshold(x, 0.5, -2.0),
}


NAN_PASSES = ["relu", "F.relu", "nn.ReLU", "relu_", "leaky_relu", "threshold"]  # one rule in PyTorch


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activation_values_and_gradients_at_nan_inf_and_kinks_match_torch(torch, name, dtype):
    """At NaN PyTorch's hardtanh/elu kernels differ between the vectorised body and the scalar
    path of small tensors (0 or NaN there, g here), so those are compared at NaN on a tensor long
    enough for the vectorised body, below; relu, leaky_relu and threshold have one rule."""
    fn = ACTIVATIONS[name]
    data = SPECIAL if name in NAN_PASSES else SPECIAL[1:]
    with np.errstate(invalid="ignore", over="ignore"):
        gy, gx = _values_and_grad(gg, fn, data, dtype)
    ty, tx = _values_and_grad(torch, fn, data, dtype)
    _same(gy, ty)
    _same(gx, tx)


@pytest.mark.parametrize("name", ["relu6", "hardtanh", "elu", "selu"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_hardtanh_and_elu_gradients_at_nan_match_torchs_vectorised_kernel(torch, name, dtype):
    fn = ACTIVATIONS[name]
    with np.errstate(invalid="ignore"):
        _, gx = _values_and_grad(gg, fn, [float("nan")] * 64, dtype)
    _, tx = _values_and_grad(torch, fn, [float("nan")] * 64, dtype)
    _same(gx[:1], tx[:1])  # the first element is in the vectorised body whatever the SIMD width


def test_relu_gradient_at_nan_is_the_upstream_gradient():
    x = gg.tensor([float("nan"), -1.0, 0.0, 2.0], requires_grad=True)
    gg.relu(x).backward(gg.tensor([3.0, 3.0, 3.0, 3.0]))
    assert x.grad.tolist() == [3.0, 0.0, 0.0, 3.0]


def test_relu_without_grad_and_of_integers_still_computes():
    with gg.no_grad():
        y = gg.relu(gg.tensor([float("nan"), -1.0, 2.0], requires_grad=True))
    assert not y.requires_grad and np.isnan(y._data[0]) and y.tolist()[1:] == [0.0, 2.0]
    assert gg.relu(gg.tensor([-2, 3])).tolist() == [0, 3]


@pytest.mark.parametrize("name", ["relu", "F.relu", "relu6", "hardtanh"])
def test_activations_refuse_bool_as_torch(torch, name):
    fn = ACTIVATIONS[name]
    with pytest.raises(RuntimeError):
        fn(torch, torch.tensor([True, False]))
    with pytest.raises(DTypeError, match="expected a numeric tensor, got bool"):
        fn(gg, gg.tensor([True, False]))


# ------------------------------------------------------------------ positive, square
def test_positive_returns_the_input_itself(torch):
    for lib in (gg, torch):
        x = lib.tensor([1.5, -2.0], requires_grad=True)
        assert lib.positive(x) is x and x.positive() is x
        i = lib.tensor([1, -2])
        assert lib.positive(i) is i and i.positive().tolist() == [1, -2]


def test_positive_of_bool_raises_as_torch(torch):
    with pytest.raises(RuntimeError):
        torch.positive(torch.tensor([True]))
    with pytest.raises(DTypeError, match="positive: expected a numeric tensor, got bool"):
        gg.positive(gg.tensor([True]))
    with pytest.raises(DTypeError, match="positive"):
        gg.tensor(True).positive()


def test_top_level_square_of_bool_is_int64_as_torch(torch):
    for data in ([True, False], True):
        _same(gg.square(gg.tensor(data)), torch.square(torch.tensor(data)))
    _same(gg.square(gg.tensor([2, -3], dtype=gg.int8)), torch.square(torch.tensor([2, -3], dtype=torch.int8)))
    x = gg.tensor([1.0, -2.0], requires_grad=True)
    gg.square(x).sum().backward()
    assert x.grad.tolist() == [2.0, -4.0]


# ------------------------------------------------------------------ 0-d tensors: sort family
def _results(lib, fn, value, dtype):
    """fn's outputs on a 0-d tensor, and the input's gradient (None for integer dtypes)."""
    floating = dtype.startswith("float")
    x = lib.tensor(value, dtype=getattr(lib, dtype), requires_grad=floating)
    out = fn(lib, x)
    outs = tuple(out) if isinstance(out, tuple) else (out,)
    if floating and outs[0].requires_grad:
        (outs[0] * 2).sum().backward()
    return outs, x.grad if floating else None


def _compare(torch, fn, value=3.0, dtype="float32"):
    gouts, ggrad = _results(gg, fn, value, dtype)
    touts, tgrad = _results(torch, fn, value, dtype)
    assert len(gouts) == len(touts)
    for g, t in zip(gouts, touts):
        _same(g, t)
    assert (ggrad is None) == (tgrad is None)
    if tgrad is not None:
        _same(ggrad, tgrad)


SORTS_0D = {
    "sort": lambda L, x: L.sort(x),
    "sort dim 0 descending": lambda L, x: x.sort(0, descending=True),
    "sort dim -1 stable": lambda L, x: L.sort(x, dim=-1, stable=True),
    "argsort": lambda L, x: L.argsort(x),
    "argsort method": lambda L, x: x.argsort(0, descending=True),
    "msort": lambda L, x: L.msort(x),
    "topk 1": lambda L, x: L.topk(x, 1),
    "topk 0": lambda L, x: x.topk(0, dim=0),
    "topk smallest": lambda L, x: L.topk(x, 1, largest=False),
    "kthvalue": lambda L, x: L.kthvalue(x, 1),
    "kthvalue keepdim": lambda L, x: x.kthvalue(1, 0, True),
}


@pytest.mark.parametrize("name", list(SORTS_0D))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_sort_family_on_a_0d_tensor_matches_torch(torch, name, dtype):
    _compare(torch, SORTS_0D[name], 3.0 if dtype.startswith("float") else 3, dtype)


@pytest.mark.parametrize("name", ["sort", "argsort", "msort", "kthvalue"])
def test_sort_family_on_a_0d_bool_and_nan_matches_torch(torch, name):
    _compare(torch, SORTS_0D[name], True, "bool")
    _compare(torch, SORTS_0D[name], float("nan"))


def test_sort_family_0d_errors_as_torch(torch):
    x = gg.tensor(3.0)
    for call in (lambda: x.sort(1), lambda: x.topk(1, dim=1), lambda: x.argsort(-2)):
        with pytest.raises(IndexError, match="expected dim in"):
            call()
    with pytest.raises(RuntimeError):
        torch.tensor(3.0).topk(2)
    with pytest.raises(ShapeError, match="topk: expected 0 <= k <= 1"):
        x.topk(2)
    with pytest.raises(ShapeError, match="kthvalue: expected 1 <= k <= 1"):
        gg.tensor(True).kthvalue(2)
    with pytest.raises(NotImplementedError):
        torch.tensor([True, False]).kthvalue(1)
    with pytest.raises(DTypeError, match="kthvalue: expected a numeric dtype, got bool"):
        gg.tensor([True, False]).kthvalue(1)


def test_sort_of_a_0d_tensor_returns_indices_free_of_the_graph():
    x = gg.tensor(2.0, requires_grad=True)
    values, indices = x.sort()
    indices.add_(0)  # the indices are the caller's: changing them leaves the saved ones alone
    values.backward()
    assert x.grad.item() == 1.0 and indices.item() == 0


# ------------------------------------------------------------------ 0-d tensors: gather family
def _idx(L, v):
    return L.tensor(v, dtype=L.int64)


def _src(L, v):
    return L.tensor(v, requires_grad=True)


GATHERS_0D = {
    "gather": lambda L, x: L.gather(x, 0, _idx(L, 0)),
    "gather -1 1-D index": lambda L, x: x.gather(-1, _idx(L, [0, 0, 0])),
    "gather empty index": lambda L, x: L.gather(x, 0, _idx(L, [])),
    "index_select": lambda L, x: L.index_select(x, 0, _idx(L, 0)),
    "index_select [0]": lambda L, x: x.index_select(-1, _idx(L, [0])),
    "scatter": lambda L, x: L.scatter(x, 0, _idx(L, 0), _src(L, 5.0)),
    "scatter value": lambda L, x: x.scatter(0, _idx(L, [0]), 5.0),
    "scatter 1-D src": lambda L, x: L.scatter(x, 0, _idx(L, 0), L.tensor([5.0, 6.0])),  # torch: no src grad
    "scatter_add": lambda L, x: L.scatter_add(x, 0, _idx(L, 0), _src(L, 5.0)),
    "scatter_add repeats": lambda L, x: x.scatter_add(0, _idx(L, [0, 0]), _src(L, [5.0, 6.0])),
    "scatter_add 1-D index": lambda L, x: L.scatter_add(x, 0, _idx(L, [0]), _src(L, 5.0)),
    "scatter_reduce sum": lambda L, x: x.scatter_reduce(0, _idx(L, 0), _src(L, 5.0), "sum"),
    "scatter_reduce amax": lambda L, x: L.scatter_reduce(x, 0, _idx(L, [0]), _src(L, [5.0]), "amax"),
    "scatter_reduce prod": lambda L, x: x.scatter_reduce(0, _idx(L, 0), _src(L, 5.0), "prod"),
    "take_along_dim None": lambda L, x: L.take_along_dim(x, _idx(L, 0)),
}


@pytest.mark.parametrize("name", list(GATHERS_0D))
def test_gather_family_on_a_0d_tensor_matches_torch(torch, name):
    _compare(torch, GATHERS_0D[name])


def test_scatter_src_gradient_on_a_0d_tensor_matches_torch(torch):
    grads = []
    for L in (gg, torch):
        x, src = L.tensor(3.0, requires_grad=True), L.tensor(5.0, requires_grad=True)
        (L.scatter(x, 0, _idx(L, 0), src) * 2 + L.scatter_add(x, 0, _idx(L, 0), src) * 3).backward()
        grads.append((x.grad.item(), src.grad.item(), tuple(src.grad.shape)))
    assert grads[0] == grads[1] == (3.0, 5.0, ())


ONE_D_WITH_0D_INDEX = {
    "gather": lambda L: L.gather(_src(L, [1.0, 2.0]), 0, _idx(L, 1)),
    "index_select": lambda L: L.index_select(_src(L, [1.0, 2.0]), 0, _idx(L, 1)),
    "scatter": lambda L: L.scatter(_src(L, [1.0, 2.0]), 0, _idx(L, 1), _src(L, 5.0)),
    "scatter_add": lambda L: L.scatter_add(_src(L, [1.0, 2.0]), 0, _idx(L, 1), _src(L, 5.0)),
    "scatter_reduce": lambda L: L.scatter_reduce(_src(L, [1.0, 2.0]), 0, _idx(L, 1), _src(L, 5.0), "sum"),
}


@pytest.mark.parametrize("name", list(ONE_D_WITH_0D_INDEX))
def test_a_0d_index_or_src_counts_as_one_element_with_a_1d_input(torch, name):
    _same(ONE_D_WITH_0D_INDEX[name](gg), ONE_D_WITH_0D_INDEX[name](torch))


def test_gather_family_0d_errors_as_torch(torch):
    x, tx = gg.tensor(3.0), torch.tensor(3.0)
    bad = [
        (lambda L, x: L.gather(x, 0, _idx(L, 1)), IndexError, "gather: expected indices in"),
        (lambda L, x: L.gather(x, 0, _idx(L, [[0]])), ShapeError, "gather: expected an index with 1 dims"),
        (lambda L, x: L.gather(x, 1, _idx(L, 0)), IndexError, "gather: expected dim in"),
        (
            lambda L, x: L.scatter_add(x, 0, _idx(L, -1), L.tensor(1.0)),
            IndexError,
            "scatter_add: expected indices",
        ),
        (
            lambda L, x: L.scatter(x, 0, _idx(L, [0, 0]), L.tensor([1.0])),
            ShapeError,
            "scatter: expected index sizes",
        ),
        (lambda L, x: L.index_select(x, 0, _idx(L, [0, 0])), ShapeError, "index_select: expected one index"),
        (lambda L, x: L.index_select(x, 0, _idx(L, [])), ShapeError, "index_select: expected one index"),
        (lambda L, x: L.index_select(x, 0, _idx(L, 1)), IndexError, "index_select: expected indices in"),
        (
            lambda L, x: L.index_select(x, 0, _idx(L, [[0]])),
            ShapeError,
            "index_select: expected a 0-d or 1-D",
        ),
        (
            lambda L, x: L.index_select(L.ones(2), 0, _idx(L, [[0]])),
            ShapeError,
            "index_select: expected a 0-d",
        ),
        (lambda L, x: L.take_along_dim(x, _idx(L, 0), 0), ShapeError, "take_along_dim"),
    ]
    for fn, err, msg in bad:
        with pytest.raises((RuntimeError, IndexError)):
            fn(torch, tx)
        with pytest.raises(err, match=msg):
            fn(gg, x)


def test_unary_plus_of_a_bool_tensor_raises_as_pytorch(torch):
    # was: +t returned a bool tensor unchanged
    with pytest.raises(RuntimeError):
        +torch.tensor([True])
    with pytest.raises(DTypeError, match="positive: expected a numeric tensor, got bool"):
        +gg.tensor([True])
    x = gg.tensor([1.0, -2.0])
    assert +x is x


def test_hardswish_gradient_at_infinities_and_nan_as_pytorch(torch):
    # was: x * relu6(x + 3) / 6 as a composite gave NaN gradients at +-inf (inf * 0)
    v = [float("-inf"), -4.0, -3.0, -1.0, 0.0, 3.0, 4.0, float("inf"), float("nan"), 2.9999999999999996]
    v = v * 32  # 320 elements, all in PyTorch's vectorised loop: NaN's gradient is NaN there (round 49)
    out = []
    for lib, F in ((gg, GF), (torch, torch.nn.functional)):
        x = lib.tensor(v, dtype=lib.float64, requires_grad=True)
        y = F.hardswish(x)
        y.sum().backward()
        out.append((y.detach().numpy(), x.grad.numpy()))
    for ours, theirs in zip(*out):
        np.testing.assert_array_equal(ours, theirs)
