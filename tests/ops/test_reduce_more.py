"""ops/reduce_more.py and ops/cumulative.py against PyTorch: values, indices, dtypes and input
gradients in float32 and float64, with ties, NaNs, infinities, size-1 and empty dims, negative
dims and keepdim; integer dtypes; the function and method forms; error messages."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, IndexOutOfRangeError, ShapeError

TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-10)}
DTYPES = [np.float32, np.float64]
nan, inf = np.nan, np.inf

_rng = np.random.default_rng(0)
TIES = _rng.integers(0, 4, (3, 5, 6)).astype(np.float64)  # many ties along every dim
DISTINCT = _rng.standard_normal((3, 5, 6))
NANS = np.where(_rng.random((3, 5, 6)) < 0.25, nan, TIES)
NANS[0, :, 0] = nan  # an all-NaN slice along dim 1
ONE_NAN = np.where(np.arange(6) == 2, nan, DISTINCT)  # one NaN in each slice along dim -1
ZEROS = np.where(_rng.random((3, 5, 6)) < 0.2, 0.0, _rng.uniform(0.5, 1.5, (3, 5, 6)))
EXTREME = np.array(
    [[-1000.0, 0.0, 1000.0, -inf, 2.0], [-inf, -inf, 1.0, 700.0, 700.0], [inf, 1.0, inf, 3.0, -inf]]
)


def _parts(out) -> list:
    return list(out) if isinstance(out, tuple) else [out]


def _parity(fn, x: np.ndarray, dtype, grad: bool = True) -> None:
    """fn(module, tensor) in glassgrad and PyTorch: same values, indices, dtypes and gradients."""
    import torch

    x = np.asarray(x).astype(dtype)
    a, t = gg.tensor(x, requires_grad=grad), torch.tensor(x, requires_grad=grad)
    ours, theirs = fn(gg, a), fn(torch, t)
    if hasattr(theirs, "_fields"):  # torch.return_types.median ... : same name and fields
        assert type(ours).__name__ == type(theirs).__name__ and ours._fields == tuple(theirs._fields)
    outs, refs = _parts(ours), _parts(theirs)
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs):
        assert o.shape == tuple(r.shape) and str(o.dtype).split(".")[-1] == str(r.dtype).split(".")[-1]
        np.testing.assert_allclose(o.detach().numpy(), r.detach().numpy(), **TOL.get(dtype, {}))
    if not grad:
        return
    floats = [(o, r) for o, r in zip(outs, refs) if r.requires_grad]
    assert [o.requires_grad for o in outs] == [r.requires_grad for r in refs]
    ups = [np.random.default_rng(1).standard_normal(o.shape).astype(dtype) for o, _ in floats]
    for (o, r), u in zip(floats, ups):  # gradients of several outputs add up, in both
        o.backward(gg.tensor(u), retain_graph=True)
        r.backward(torch.tensor(u), retain_graph=True)
    expected = t.grad.numpy() if t.grad is not None else np.zeros_like(x)
    assert a.grad.dtype == a.dtype
    np.testing.assert_allclose(a.grad.numpy(), expected, **TOL[dtype])


# (call on module m and tensor a, input): each runs the same code on glassgrad and on PyTorch
CASES = [
    (lambda m, a: m.median(a), TIES),
    (lambda m, a: a.median(), DISTINCT),
    (lambda m, a: a.median(), NANS),
    (lambda m, a: m.median(a, 1), TIES),
    (lambda m, a: a.median(-1, True), TIES),
    (lambda m, a: a.median(0, keepdim=True), NANS),
    (lambda m, a: m.median(a, -2), NANS),
    (lambda m, a: a.median(1), DISTINCT),
    (lambda m, a: m.nanmedian(a), NANS),
    (lambda m, a: a.nanmedian(), TIES),
    (lambda m, a: m.nanmedian(a, 2), NANS),
    (lambda m, a: a.nanmedian(-1, True), NANS),
    (lambda m, a: a.nanmedian(0), TIES),
    (lambda m, a: m.kthvalue(a, 2), DISTINCT),
    (lambda m, a: a.kthvalue(5, 1, True), DISTINCT),
    (lambda m, a: a.kthvalue(1, -3), DISTINCT),
    (lambda m, a: m.kthvalue(a, 6, dim=-1), ONE_NAN),  # NaN counts as the largest
    (lambda m, a: a.kthvalue(5, -1, True), ONE_NAN),
    (lambda m, a: m.mode(a), TIES),
    (lambda m, a: a.mode(1, True), TIES),
    (lambda m, a: m.mode(a, -3), TIES),
    (lambda m, a: a.mode(0), DISTINCT),
    (lambda m, a: m.nansum(a), NANS),
    (lambda m, a: a.nansum(1), NANS),
    (lambda m, a: m.nansum(a, (0, -1), True), NANS),
    (lambda m, a: a.nansum((), dtype=m.float64), NANS),
    (lambda m, a: m.nanmean(a), NANS),
    (lambda m, a: a.nanmean(1), NANS),  # the all-NaN slice: NaN value and NaN gradient
    (lambda m, a: m.nanmean(a, (0, 2), keepdim=True), NANS),
    (lambda m, a: a.nanmean(dtype=m.float64), DISTINCT),
    (lambda m, a: m.cumprod(a, 0), ZEROS),
    (lambda m, a: a.cumprod(-1), ZEROS),
    (lambda m, a: a.cumprod(1), DISTINCT),
    (lambda m, a: m.cumprod(a, dim=2, dtype=m.float64), ZEROS),
    (lambda m, a: m.cummax(a, 2), TIES),
    (lambda m, a: a.cummax(-2), NANS),
    (lambda m, a: m.cummin(a, 0), NANS),
    (lambda m, a: a.cummin(-1), TIES),
    (lambda m, a: m.logcumsumexp(a, 1), DISTINCT),
    (lambda m, a: a.logcumsumexp(-1), DISTINCT * 300),
    (lambda m, a: m.logcumsumexp(a, 0), EXTREME),  # inf - inf and -inf - -inf: nan, as PyTorch
    (lambda m, a: a.logcumsumexp(1), EXTREME),
    (lambda m, a: a.cumprod(1), EXTREME / 100),  # 0 * inf after a zero: left out, as PyTorch
    (lambda m, a: a.cumprod(0), np.where(EXTREME == 700, 0, EXTREME / 100)),
    (lambda m, a: a.cummax(0), EXTREME),
    (lambda m, a: m.var_mean(a), DISTINCT),
    (lambda m, a: m.var_mean(a, 1), DISTINCT),
    (lambda m, a: m.var_mean(a, (0, 2), keepdim=True, correction=0), DISTINCT),
    (lambda m, a: m.var_mean(a, -1, False, True), DISTINCT),
    (lambda m, a: m.var_mean(a, False), DISTINCT),
    (lambda m, a: m.std_mean(a), DISTINCT),
    (lambda m, a: m.std_mean(a, -2, correction=2), DISTINCT),
    (lambda m, a: m.std_mean(a, (1,), unbiased=False), DISTINCT),
    (lambda m, a: m.aminmax(a), TIES),
    (lambda m, a: a.aminmax(dim=1), TIES),
    (lambda m, a: m.aminmax(a, dim=-1, keepdim=True), TIES),
    (lambda m, a: m.aminmax(a, keepdim=True), DISTINCT),
    (lambda m, a: a.aminmax(dim=0), NANS),
    (lambda m, a: m.msort(a), NANS),
    (lambda m, a: a.msort(), DISTINCT[0]),
]


# size-1, 0-d and empty inputs where PyTorch accepts them
EDGES = [
    (lambda m, a: a.median(0), np.array(3.0)),
    (lambda m, a: a.median(-1, True), np.array(3.0)),
    (lambda m, a: a.median(), np.zeros((2, 0))),
    (lambda m, a: a.median(0), np.zeros((3, 0))),
    (lambda m, a: a.median(1), TIES[:, :1]),
    (lambda m, a: a.nanmedian(), np.zeros(0)),
    (lambda m, a: a.nanmedian(), np.full(3, nan)),
    (lambda m, a: a.nanmedian(0), np.zeros((2, 0))),
    (lambda m, a: m.kthvalue(a, 1), np.array(2.0)),
    (lambda m, a: m.kthvalue(a, 1, 1), np.zeros((0, 3))),
    (lambda m, a: a.mode(), np.array(2.0)),
    (lambda m, a: a.mode(1), np.zeros((0, 3))),
    (lambda m, a: a.mode(), TIES[0, 0, :1]),
    (lambda m, a: a.nansum(0), np.zeros((0, 2))),
    (lambda m, a: a.nanmean(0), np.zeros((0, 2))),
    (lambda m, a: a.cumprod(0), np.array(2.0)),
    (lambda m, a: a.cumprod(0), np.zeros((0, 2))),
    (lambda m, a: a.cumprod(1), np.array([[0.0], [2.0]])),
    (lambda m, a: a.cumprod(0), np.array([0.0, 0.0, 3.0])),
    (lambda m, a: a.cummax(0), np.array(2.0)),
    (lambda m, a: a.cummin(-1), np.zeros((2, 0))),
    (lambda m, a: a.logcumsumexp(0), np.array(2.0)),
    (lambda m, a: a.logcumsumexp(0), np.zeros((0, 2))),
    (lambda m, a: a.logcumsumexp(0), np.array([-inf, -inf, 1.0])),
    (lambda m, a: a.aminmax(dim=0), np.array(1.0)),
    (lambda m, a: a.aminmax(dim=1), np.zeros((0, 2))),
    (lambda m, a: a.msort(), np.array(3.0)),
    (lambda m, a: a.msort(), np.zeros((0, 2))),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("fn", "x"),
    [pytest.param(*case, id=f"case{i}") for i, case in enumerate(CASES)]
    + [pytest.param(*case, id=f"edge{i}") for i, case in enumerate(EDGES)],
)
def test_parity(torch, fn, x, dtype):
    _parity(fn, x, dtype)


INTEGER_CASES = [
    lambda m, a: a.median(),
    lambda m, a: m.median(a, 1),
    lambda m, a: a.nanmedian(0, True),
    lambda m, a: m.kthvalue(a.flatten(), 3),  # distinct values (among ties the index is unspecified)
    lambda m, a: a.mode(1),
    lambda m, a: a.nansum(),
    lambda m, a: m.nansum(a, 1, dtype=m.int32),
    lambda m, a: a.cumprod(1),
    lambda m, a: m.cumprod(a, 0, dtype=m.int32),
    lambda m, a: a.cummax(1),
    lambda m, a: m.cummin(a, 0),
    lambda m, a: m.aminmax(a, dim=1),
    lambda m, a: a.msort(),
]


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
@pytest.mark.parametrize("i", range(len(INTEGER_CASES)))
def test_integer_parity(torch, i, dtype):
    x = TIES[0] - 1 if i != 3 else np.random.default_rng(0).permutation(30).reshape(5, 6)
    _parity(INTEGER_CASES[i], x, dtype, grad=False)


@pytest.mark.parametrize(
    "fn",
    [lambda m, a: a.mode(0), lambda m, a: a.cummax(0), lambda m, a: m.cummin(a, 0), lambda m, a: a.nansum()],
)
def test_bool_parity(torch, fn):
    _parity(fn, np.array([True, False, True, True, False]), np.bool_, grad=False)


def test_random_ties_match_pytorch_indices(torch):
    """Stable order: median/nanmedian pick PyTorch's index among ties, at any size; mode (whose
    PyTorch index comes from an unstable sort past 16 elements) up to 16, without NaN (PyTorch's
    sort is undefined with NaN there); cummax/cummin always."""
    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 5, 8, 16, 33, 100):
        x = rng.integers(0, 4, (6, n)).astype(np.float64)
        x[rng.random(x.shape) < 0.2] = nan if n % 2 else 0.0
        fns = [lambda m, a: a.median(1), lambda m, a: a.nanmedian(1), lambda m, a: a.cummax(1)]
        fns += [lambda m, a: a.cummin(1)] + ([lambda m, a: a.mode(1)] if n <= 16 and not n % 2 else [])
        for fn in fns:
            if n > 3 and fn is fns[1]:
                x[np.isnan(x).all(1)] = 1.0  # all-NaN slices: see test_deliberate_differences
            _parity(fn, x, np.float64)


def test_kthvalue_and_large_mode_ties_give_a_valid_index(torch):
    x = np.random.default_rng(3).integers(0, 3, (4, 40)).astype(np.float64)
    for ours, theirs in [
        (gg.tensor(x).kthvalue(17, 1), torch.tensor(x).kthvalue(17, 1)),
        (gg.tensor(x).mode(1), torch.tensor(x).mode(1)),
    ]:
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(
            np.take_along_axis(x, ours.indices.numpy()[:, None], 1)[:, 0], ours.values.numpy()
        )
    # mode: the last occurrence of the smallest most frequent value, whatever the size
    v, i = gg.tensor([2.0, 7, 7, 2, 5] * 10).mode()
    assert (v.item(), i.item()) == (2.0, 48)


def test_deliberate_differences():
    """An all-NaN slice in nanmedian: NaN at index 0 (PyTorch's index depends on the length)."""
    v, i = gg.tensor(np.full((2, 6), nan)).nanmedian(1)
    assert np.isnan(v.numpy()).all() and i.tolist() == [0, 0]


def test_results_read_like_torch_return_types():
    x = gg.tensor([[1.0, 5.0, 2.0], [4.0, 4.0, 0.0]])
    assert x.median(1)._fields == ("values", "indices")
    lo, hi = gg.aminmax(x)
    assert (lo.item(), hi.item()) == (0.0, 5.0) and gg.aminmax(x)._fields == ("min", "max")
    assert type(gg.var_mean(x)) is tuple and type(gg.std_mean(x, 1)) is tuple
    assert x.cummin(1).indices.dtype == gg.int64 and x.kthvalue(1).indices.dtype == gg.int64
    idx = x.median(1).indices
    idx[0] = 2  # the indices are the caller's: changing them leaves the gradient alone
    x.requires_grad_()
    x.median(1).values.sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]


def test_cumprod_in_place_and_float16():
    y = gg.tensor([[1.0, 2.0, 3.0], [0.0, 4.0, 5.0]])
    assert y.cumprod_(1) is y and y.tolist() == [[1.0, 2.0, 6.0], [0.0, 0.0, 0.0]]
    h = gg.ones(60_000, dtype=gg.float16)  # past 2048, float16 running sums stop growing
    assert h.nansum().item() == 60_000.0 and h.nanmean().item() == 1.0
    assert gg.tensor([1.0, 2.0], dtype=gg.float16).logcumsumexp(0).dtype == gg.float16


def test_logcumsumexp_is_stable():
    x = gg.tensor([-1000.0, 0.0, 1000.0, 1000.0], dtype=gg.float64, requires_grad=True)
    out = x.logcumsumexp(0)
    np.testing.assert_allclose(out.detach().numpy(), [-1000.0, 0.0, 1000.0, 1000.0 + np.log(2.0)])
    out.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


@pytest.mark.parametrize("shape", [(4, 0), (0, 3), (2, 0, 3)])
def test_scans_and_msort_backpropagate_through_empty_tensors(shape):
    """IndexAlong's backward once reshaped the indices with reshape(0, -1), which NumPy refuses."""
    for dim in range(len(shape)):
        for op in (gg.cummax, gg.cummin):
            x = gg.zeros(shape, requires_grad=True)
            op(x, dim).values.sum().backward()
            assert x.grad.shape == shape
    x = gg.zeros(shape, requires_grad=True)
    gg.msort(x).sum().backward()
    assert x.grad.shape == shape


def test_var_mean_of_infinities_is_nan_without_a_warning(torch):
    x = np.array([[np.inf, -np.inf, 1.0], [1.0, 2.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = [gg.var_mean(gg.tensor(x), 1), gg.std_mean(gg.tensor(x))]
    theirs = [torch.var_mean(torch.tensor(x), 1), torch.std_mean(torch.tensor(x))]
    for pair, ref in zip(ours, theirs):
        for a, b in zip(pair, ref):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_cumprod_gradient_with_zeros_is_exact():
    x = gg.tensor([2.0, 0.0, 3.0, 0.0, 4.0], dtype=gg.float64, requires_grad=True)
    x.cumprod(0).backward(gg.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=gg.float64))
    assert x.grad.tolist() == [1.0, 22.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda a: a.median(2),
            IndexOutOfRangeError,
            r"median: expected dim in range \[-2, 1\] for shape \(2, 3\), got 2",
        ),
        (lambda a: gg.nanmedian(a, -3), IndexOutOfRangeError, r"nanmedian: expected dim in range \[-2, 1\]"),
        (lambda a: a.mode((0,)), DTypeError, r"mode: expected dim to be an int, got \(0,\)"),
        (
            lambda a: a.kthvalue(4),
            ShapeError,
            r"kthvalue: expected 1 <= k <= 3 \(the size of dim -1 of shape \(2, 3\)\), got k=4",
        ),
        (lambda a: a.kthvalue(0, 0), ShapeError, r"kthvalue: expected 1 <= k <= 2"),
        (lambda a: a.kthvalue(1.5), DTypeError, r"kthvalue: expected k to be an int, got 1.5"),
        (
            lambda a: a.cumprod(2),
            IndexOutOfRangeError,
            r"cumprod: expected dim in range \[-2, 1\] for shape \(2, 3\)",
        ),
        (lambda a: a.cummax(-3), IndexOutOfRangeError, r"cummax: expected dim"),
        (lambda a: a.logcumsumexp(None), DTypeError, r"logcumsumexp: expected dim to be an int, got None"),
        (lambda a: a.median(keepdim=True), TypeError, r"median\(\) got keepdim without dim"),
        (lambda a: a.aminmax(dim=(0, 1)), DTypeError, r"aminmax: expected dim to be an int"),
        (lambda a: gg.var_mean(a, 5), ShapeError, r"var_mean: expected dim in range"),
        (
            lambda a: gg.std_mean(a, 0, True, correction=1),
            TypeError,
            r"std_mean: expected unbiased or correction",
        ),
        (lambda a: a.nansum((0, 0)), ShapeError, r"nansum: expected each dim at most once"),
    ],
)
def test_errors_name_the_op_and_shape(call, error, message):
    with pytest.raises(error, match=message):
        call(gg.zeros(2, 3))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: gg.zeros(2, 0).median(1),
            ShapeError,
            r"median: expected the reduced dim 1 to be non-empty, got shape \(2, 0\)",
        ),
        (lambda: gg.zeros(0, 3).mode(0), ShapeError, r"mode: expected the reduced dim 0 to be non-empty"),
        (
            lambda: gg.zeros(0, 3).kthvalue(1, 0),
            ShapeError,
            r"kthvalue: expected the reduced dim 0 to be non-empty",
        ),
        (lambda: gg.zeros(0).aminmax(), ShapeError, r"aminmax: expected a non-empty tensor"),
        (
            lambda: gg.zeros(0, 2).aminmax(dim=0),
            ShapeError,
            r"aminmax: expected the reduced dim 0 to be non-empty",
        ),
        (
            lambda: gg.tensor([], dtype=gg.int64).median(),
            ShapeError,
            r"median: expected a non-empty tensor for an integer dtype",
        ),
        (lambda: gg.tensor([1, 2]).nanmean(), DTypeError, r"nanmean: expected a floating dtype, got int64"),
        (
            lambda: gg.tensor([1, 2]).logcumsumexp(0),
            DTypeError,  # (a KernelDTypeError: PyTorch's NotImplementedError)
            r"logcumsumexp: \"logcumsumexp_out_cpu\" not implemented for 'Long'",
        ),
        (lambda: gg.var_mean(gg.tensor([1, 2])), DTypeError, r"var_mean: expected a floating dtype"),
        (lambda: gg.tensor([True]).median(), DTypeError, r"median: expected a numeric dtype, got bool"),
        (lambda: gg.tensor([True]).kthvalue(1), DTypeError, r"kthvalue: expected a numeric dtype, got bool"),
    ],
)
def test_refused_inputs(call, error, message):
    with pytest.raises(error, match=message):
        call()
