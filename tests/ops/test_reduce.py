"""ops/reduce.py, ops/extremes.py and ops/statistics.py against PyTorch (outputs and gradients,
float32 and float64), plus edge cases: ties, empty and 0-d inputs, integer dtypes, error messages."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.ops import extremes as EXT
from glassgrad.ops import reduce as R
from glassgrad.ops import statistics as S

TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-10)}
DTYPES = [np.float32, np.float64]


def _parity(gg_fn, torch_fn, x: np.ndarray, dtype) -> None:
    """Same output, and same gradient for a random upstream gradient, in glassgrad and PyTorch."""
    torch = pytest.importorskip("torch")
    x = x.astype(dtype)
    a, t = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = gg_fn(a), torch_fn(t)
    assert out._data.dtype == dtype
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out._data, ref.detach().numpy(), **TOL[dtype])
    up = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    out.backward(up)
    ref.backward(torch.tensor(up))
    if t.grad is None:  # no gradient at all (norm with p = 0): .grad stays unset in both
        assert a.grad is None
        return
    assert a.grad._data.dtype == dtype
    np.testing.assert_allclose(a.grad._data, t.grad.numpy(), **TOL[dtype])


X = np.random.default_rng(0).standard_normal((3, 4, 5))

# (glassgrad method call, torch call) pairs: the same lambda works on both, since the names match.
REDUCTIONS = [
    lambda a: a.sum(),
    lambda a: a.sum(1),
    lambda a: a.sum(-1, keepdim=True),
    lambda a: a.sum((0, 2)),
    lambda a: a.sum((-1, 0), keepdim=True),
    lambda a: a.sum(()),
    lambda a: a.mean(),
    lambda a: a.mean(-2),
    lambda a: a.mean((0, 2), keepdim=True),
    lambda a: a.var(),
    lambda a: a.var(1),
    lambda a: a.var((0, 2), keepdim=True),
    lambda a: a.var(1, False),
    lambda a: a.var(-1, correction=0),
    lambda a: a.var(0, correction=2),
    lambda a: a.var(False),
    lambda a: a.std(),
    lambda a: a.std(2, keepdim=True),
    lambda a: a.std((0, 1), correction=0),
    lambda a: a.std(0, unbiased=False),
    lambda a: a.prod(),
    lambda a: a.prod(1),
    lambda a: a.prod(-1, keepdim=True),
    lambda a: a.max(),
    lambda a: a.min(),
    lambda a: a.max(1).values,
    lambda a: a.max(-1, keepdim=True)[0],
    lambda a: a.min(0).values,
    lambda a: a.min(2, True).values,
    lambda a: a.amax(),
    lambda a: a.amax(1),
    lambda a: a.amax((0, 2), keepdim=True),
    lambda a: a.amin((-1, 1)),
    lambda a: a.logsumexp(1),
    lambda a: a.logsumexp((0, 2), keepdim=True),
    lambda a: a.logsumexp(-1),
    lambda a: a.norm(),
    lambda a: a.norm(1),
    lambda a: a.norm(3, dim=1),
    lambda a: a.norm(0.5, dim=(0, 2), keepdim=True),
    lambda a: a.norm(float("inf"), dim=-1),
    lambda a: a.norm(float("-inf")),
    lambda a: a.norm(0, dim=1),
    lambda a: a.norm("fro", dim=(1, 2)),
    lambda a: a.cumsum(0),
    lambda a: a.cumsum(-1),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", range(len(REDUCTIONS)))
def test_parity(k, dtype):
    _parity(REDUCTIONS[k], REDUCTIONS[k], X, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_parity_functions_and_indices(torch, dtype):
    x = X.astype(dtype)
    a, t = gg.tensor(x), torch.tensor(x)
    for ours, theirs in [
        (EXT.max(a, 1), torch.max(t, 1)),
        (EXT.min(a, -1, True), torch.min(t, -1, True)),
    ]:
        np.testing.assert_array_equal(ours.values._data, theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices._data, theirs.indices.numpy())
        assert ours.indices.dtype == gg.int64
        values, indices = ours  # unpacks like torch.return_types.max
        assert values is ours.values and indices is ours.indices
    for dim, keep in [(None, False), (None, True), (1, False), (-1, True), (0, False)]:
        for name in ["argmax", "argmin"]:
            ours = getattr(EXT, name)(a, dim, keep)
            theirs = getattr(torch, name)(t, dim, keep)
            assert ours.dtype == gg.int64 and not ours.requires_grad
            np.testing.assert_array_equal(ours._data, theirs.numpy())


def test_all_any_parity(torch):
    x = np.random.default_rng(2).standard_normal((3, 4, 5)) > -0.8
    a, t = gg.tensor(x), torch.tensor(x)
    for dim, keep in [(None, False), (1, False), (-1, True), ((0, 2), False), ((), False)]:
        for name in ["all", "any"]:
            ours, theirs = getattr(a, name)(dim, keep), getattr(t, name)(dim, keep)
            assert ours.dtype == gg.bool
            np.testing.assert_array_equal(ours._data, theirs.numpy())
    assert gg.tensor([1.0, 0.0]).any().item() and not gg.tensor([1.0, 0.0]).all().item()


def test_elementwise_max_min_with_a_tensor(torch):
    a = gg.tensor([1.0, 5.0, 3.0], requires_grad=True)
    b = gg.tensor([2.0, 4.0, 3.0], requires_grad=True)
    out = EXT.max(a, b) + EXT.min(a, b) * 10
    out.sum().backward()
    ta = torch.tensor([1.0, 5.0, 3.0], requires_grad=True)
    tb = torch.tensor([2.0, 4.0, 3.0], requires_grad=True)
    (torch.max(ta, tb) + torch.min(ta, tb) * 10).sum().backward()
    np.testing.assert_allclose(out._data, (torch.max(ta, tb) + torch.min(ta, tb) * 10).detach().numpy())
    np.testing.assert_allclose(a.grad._data, ta.grad.numpy())
    np.testing.assert_allclose(b.grad._data, tb.grad.numpy())


# ------------------------------------------------------------------ ties
TIED = np.array([[1.0, 3.0, 3.0, 2.0], [0.5, 0.5, -1.0, 0.5]])


@pytest.mark.parametrize(
    "fn",
    [
        lambda a: a.max(),
        lambda a: a.min(),
        lambda a: a.amax(1),
        lambda a: a.amin(-1, keepdim=True),
        lambda a: a.amax((0, 1)),
        lambda a: a.max(1).values,
        lambda a: a.min(0).values,
        lambda a: a.norm(float("inf"), dim=1),
    ],
)
def test_ties_match_pytorch(fn):
    _parity(fn, fn, TIED, np.float64)


def test_tie_rules_explicitly():
    a = gg.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    a.max().backward()
    np.testing.assert_array_equal(a.grad._data, [0.0, 0.5, 0.5, 0.0])  # full max: split evenly
    b = gg.tensor([[1.0, 3.0, 3.0, 2.0]], requires_grad=True)
    values, indices = b.max(1)
    values.sum().backward()
    assert indices.item() == 1  # the first maximum
    np.testing.assert_array_equal(b.grad._data, [[0.0, 1.0, 0.0, 0.0]])  # routed to that index


# ------------------------------------------------------------------ edge cases
@pytest.mark.parametrize("dtype", DTYPES)
def test_zeros_in_prod_and_norm_and_std_of_constants(dtype):
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, 5.0]])
    for fn in [
        lambda a: a.prod(1),
        lambda a: a.prod(),
        lambda a: a.prod(0, keepdim=True),
        lambda a: a.norm(dim=0),
        lambda a: a.norm(0.5, dim=1),
        lambda a: a.norm(1),
    ]:
        _parity(fn, fn, x, dtype)
    z = gg.zeros(3, dtype=dtype, requires_grad=True)
    z.norm().backward()
    np.testing.assert_array_equal(z.grad._data, [0.0, 0.0, 0.0])  # 0, not nan
    c = gg.ones(2, 3, dtype=dtype, requires_grad=True)
    c.std(1).sum().backward()
    np.testing.assert_array_equal(c.grad._data, np.zeros((2, 3)))  # 0, not nan


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_large_magnitudes(dtype):
    x = np.array([[1e4, 1e4, -1e4], [-1e4, -1e4, -1e4], [1e4, 0.0, -1e4]])
    fn = lambda a: a.logsumexp(1)  # noqa: E731
    _parity(fn, fn, x, dtype)
    out = gg.tensor(x.astype(dtype)).logsumexp(1)
    assert np.all(np.isfinite(out._data))
    np.testing.assert_allclose(out._data[:2], [1e4 + math.log(2), -1e4 + math.log(3)], rtol=1e-6)


def test_empty_reductions(torch):
    e = np.zeros((0, 3))
    a, t = gg.tensor(e), torch.tensor(e)
    pairs = [
        (a.sum(), t.sum()),
        (a.sum(0), t.sum(0)),
        (a.sum(1), t.sum(1)),
        (a.mean(), t.mean()),
        (a.mean(0), t.mean(0)),
        (a.prod(0), t.prod(0)),
        (a.logsumexp(0), t.logsumexp(0)),
        (a.norm(), t.norm()),
        (a.amax(1), t.amax(1)),
        (a.max(1).values, t.max(1).values),
        (a.cumsum(0), t.cumsum(0)),
        (a.all(), t.all()),
        (a.any(), t.any()),
    ]
    for ours, theirs in pairs:
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours._data, theirs.numpy())
    with pytest.warns(UserWarning):  # torch warns about zero degrees of freedom
        np.testing.assert_array_equal(a.var()._data, t.var().numpy())
    assert a.sum().item() == 0.0 and math.isnan(a.mean().item())
    g = gg.zeros(0, 3, dtype=gg.float64, requires_grad=True)
    g.mean(0).sum().backward()
    assert g.grad.shape == (0, 3)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda a: a.max(), r"max: expected a non-empty tensor .*got shape \(0, 3\)"),
        (lambda a: a.amax(0), r"amax: expected the reduced dim 0 to be non-empty, got shape \(0, 3\)"),
        (lambda a: a.max(0), r"max: expected the reduced dim 0 to be non-empty, got shape \(0, 3\)"),
        (lambda a: a.argmax(), r"argmax: expected a non-empty tensor .*got shape \(0, 3\)"),
        (lambda a: a.norm(float("inf")), r"norm: expected a non-empty tensor .*got shape \(0, 3\)"),
    ],
)
def test_empty_max_like_reductions_raise(call, message):
    with pytest.raises(ShapeError, match=message):
        call(gg.zeros(0, 3))


def test_zero_dim_inputs_match_pytorch(torch):
    a, t = gg.tensor(2.5, dtype=gg.float64, requires_grad=True), torch.tensor(2.5, dtype=torch.float64)
    for name, args in [("sum", (0,)), ("mean", (-1,)), ("prod", (0,)), ("amax", (0,)), ("logsumexp", (0,))]:
        ours, theirs = getattr(a, name)(*args), getattr(t, name)(*args)
        assert ours.shape == () and ours.item() == theirs.item()
    values, indices = a.max(0)
    assert values.item() == 2.5 and indices.item() == 0 and indices.dtype == gg.int64
    assert a.argmax(0).item() == 0 and a.cumsum(0).item() == 2.5
    values.backward()
    assert a.grad.item() == 1.0


def test_integer_inputs(torch):
    i = gg.tensor([[1, 2, 3], [4, 5, 6]])
    assert i.sum().dtype == gg.int64 and i.sum().item() == 21 and not i.sum().requires_grad
    assert gg.tensor([1, 2], dtype=gg.int32).sum().dtype == gg.int64
    assert gg.tensor([True, False, True]).sum().dtype == gg.int64
    assert gg.tensor([True, False, True]).sum().item() == 2
    assert all(isinstance(t._data, np.ndarray) for t in [i.sum(), i.prod(), i.all(), i.any(), i.argmax()])
    assert i.prod(1).dtype == gg.int64 and i.prod(1).tolist() == [6, 120]
    assert i.cumsum(1).dtype == gg.int64 and i.cumsum(1).tolist() == [[1, 3, 6], [4, 9, 15]]
    assert i.max().item() == 6 and i.max(1).indices.tolist() == [2, 2]
    assert i.logsumexp(1).dtype == gg.float32  # promoted, as torch
    np.testing.assert_allclose(i.logsumexp(1)._data, torch.tensor([[1, 2, 3], [4, 5, 6]]).logsumexp(1), 1e-6)
    assert R.sum(i, 1, dtype=gg.float32).dtype == gg.float32
    with pytest.raises(DTypeError, match="mean: expected a floating dtype, got int64"):
        i.mean()
    with pytest.raises(DTypeError, match="var: expected a floating dtype, got int64"):
        i.var()
    with pytest.raises(DTypeError, match="std: expected a floating dtype, got int64"):
        i.std(1)
    with pytest.raises(DTypeError, match="norm: expected a floating dtype, got int64"):
        i.norm()
    assert R.mean(i, dtype=gg.float64).item() == 3.5


def test_dtype_argument_and_float32_preservation():
    a = gg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)  # float32
    s = R.sum(a, dtype=gg.float64)
    assert s.dtype == gg.float64
    s.backward()
    assert a.grad.dtype == gg.float32
    for fn in [
        lambda x: x.sum(0),
        lambda x: x.mean(),
        lambda x: x.var(1),
        lambda x: x.norm(),
        lambda x: x.max(),
    ]:
        assert fn(a).dtype == gg.float32
    assert R.cumsum(gg.tensor([1, 2, 3]), 0, dtype=gg.float32).dtype == gg.float32


def test_prod_backward_over_an_empty_dim(torch):
    for shape, dim in [((2, 0, 3), 1), ((2, 0, 3), None), ((0, 3), 0), ((2, 0, 3), 2)]:
        x = np.zeros(shape)
        a, t = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ours, theirs = (a.prod(), t.prod()) if dim is None else (a.prod(dim), t.prod(dim))
        np.testing.assert_array_equal(ours._data, theirs.detach().numpy())
        ours.sum().backward()
        theirs.sum().backward()
        assert a.grad.shape == shape
        np.testing.assert_array_equal(a.grad._data, t.grad.numpy())


@pytest.mark.parametrize("method", ["var", "std"])
def test_backward_without_degrees_of_freedom_gives_nan_not_an_exception(torch, method):
    # N - correction = 0: PyTorch's gradient is nan (0 / 0); glassgrad must not raise ZeroDivisionError
    for x, kwargs in [(np.array([[1.0, 2.0, 3.0]]), dict(dim=0)), (np.array(2.0), {})]:
        a, t = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        getattr(a, method)(**kwargs).sum().backward()
        with pytest.warns(UserWarning):  # torch warns about zero degrees of freedom
            getattr(t, method)(**kwargs).sum().backward()
        np.testing.assert_array_equal(a.grad._data, t.grad.numpy())
    a = gg.tensor([1.0, 2.0, 4.0], dtype=gg.float64, requires_grad=True)
    t = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64, requires_grad=True)
    a.var(correction=3).backward()  # N - correction = 0 over every element: +inf, whatever the sign
    with pytest.warns(UserWarning):
        t.var(correction=3).backward()
    np.testing.assert_array_equal(a.grad._data, t.grad.numpy())


def test_var_correction_edge_cases_match_pytorch(torch):
    x = np.array([1.0, 2.0, 4.0])
    a, t = gg.tensor(x), torch.tensor(x)
    with pytest.warns(UserWarning):
        for c in [3, 5]:
            np.testing.assert_array_equal(a.var(correction=c)._data, t.var(correction=c).numpy())
    np.testing.assert_array_equal(gg.tensor([2.0]).var()._data, np.nan)  # one element, correction 1
    np.testing.assert_allclose(a.var(correction=0.5)._data, t.var(correction=0.5).numpy(), rtol=1e-12)
    with pytest.raises(TypeError, match="var: expected unbiased or correction, got both"):
        S.var(a, 0, True, correction=1)


# ------------------------------------------------------------------ dims and errors
@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda a: a.sum(5), ShapeError, r"sum: expected dim in range \[-2, 1\], got 5"),
        (lambda a: a.mean(-3), ShapeError, r"mean: expected dim in range \[-2, 1\], got -3"),
        (lambda a: a.sum((0, -2)), ShapeError, r"sum: expected each dim at most once, got \(0, -2\)"),
        (lambda a: a.amax((0, 2)), ShapeError, r"amax: expected dim in range \[-2, 1\], got 2"),
        (lambda a: a.max(2), ShapeError, r"max: expected dim in range \[-2, 1\], got 2"),
        (lambda a: a.max((0, 1)), DTypeError, r"max: expected dim to be an int"),
        (lambda a: a.max(keepdim=True), TypeError, r"max\(\) got keepdim without dim"),
        (lambda a: a.argmax((0, 1)), DTypeError, r"argmax: expected dim to be None or an int"),
        (lambda a: a.sum(1.0), DTypeError, r"sum: expected dim to be None, an int or a tuple of ints"),
        (lambda a: a.cumsum(None), DTypeError, r"cumsum: expected dim to be an int, got None"),
        (lambda a: a.cumsum(2), ShapeError, r"cumsum: expected dim in range \[-2, 1\], got 2"),
        (lambda a: a.logsumexp(9), ShapeError, r"logsumexp: expected dim in range \[-2, 1\], got 9"),
        (lambda a: a.norm("max"), ValueError, r"norm: expected p to be a number, inf, -inf or 'fro'"),
        (lambda a: a.all(3), ShapeError, r"all: expected dim in range \[-2, 1\], got 3"),
        (lambda a: gg.tensor(1.0).sum(1), ShapeError, r"sum: expected dim in range \[-1, 0\], got 1"),
    ],
)
def test_errors(call, error, message):
    with pytest.raises(error, match=message):
        call(gg.ones(2, 3))


def test_normalize_dims():
    assert R.normalize_dims("op", 3, None) is None
    assert R.normalize_dims("op", 3, -1) == (2,)
    assert R.normalize_dims("op", 3, [2, -3]) == (0, 2)
    assert R.normalize_dims("op", 3, ()) is None
    assert R.normalize_dims("op", 3, (), empty_means_all=False) == ()
    assert R.normalize_dims("op", 0, -1) == ()
    assert R.normalize_dims("op", 2, np.int64(1)) == (1,)
