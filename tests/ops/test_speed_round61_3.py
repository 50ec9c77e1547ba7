"""Round 61, second speed hunt: the ops rewritten for speed give PyTorch's values and gradients.

``erfinv`` is Wichura's rational start and one Newton step (was Giles' start and four Halley
steps on every element, 60 times PyTorch); ``add.at`` through the flat positions of an advanced
key (``grid_positions.add_at``: getitem's backward, ``take``'s and ``index_put(accumulate=True)``)
and ``index_select`` past dim 0 by NumPy's ``take``; ``cdist`` with p = 2 by PyTorch's
matrix-product form where PyTorch takes it (``compute_mode``, more than 25 rows) and ``pdist`` from
its pairs alone.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.ops.grid_positions as gp
from glassgrad.ops.special_series import erfinv_array

DTYPES = [np.float64, np.float32]
TOL = {np.float64: 1e-12, np.float32: 1e-5}


def _close(ours, theirs, dtype, tol=None):
    tol = TOL[dtype] if tol is None else tol
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=tol, atol=tol)


# ------------------------------------------------------------------ erfinv
def _erfinv_points():
    rng = np.random.default_rng(0)
    tails = 1 - np.logspace(-16, -1, 120)
    edges = [
        0.49,
        np.nextafter(0.49, 1),
        0.5,
        np.nextafter(0.5, 0),
        0.85,
        np.nextafter(0.85, 1),
        1e-300,
        5e-324,
    ]
    y = np.concatenate([rng.uniform(-1, 1, 400), tails, -tails, edges, rng.uniform(-1e-3, 1e-3, 40)])
    return y


def test_erfinv_is_within_three_ulps_of_the_exact_value():
    mpmath = pytest.importorskip("mpmath")
    y = _erfinv_points()
    with mpmath.workdps(40):
        exact = np.array([float(mpmath.erfinv(mpmath.mpf(float(v)))) for v in y])
    ulps = np.abs(erfinv_array(y) - exact) / np.spacing(np.abs(exact))
    assert ulps.max() <= 3, (ulps.max(), y[ulps.argmax()])


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_erfinv_values_and_gradient_match_torch(torch, dtype):
    y = _erfinv_points().astype(dtype)
    y = y[np.abs(y) < 1]  # float32 rounds the last tails to 1
    special = np.array([0.0, -0.0, 1.0, -1.0, 1.5, -2.0, math.nan, math.inf], dtype=dtype)
    a = np.concatenate([y, special])
    ours, theirs = gg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    zo, zt = gg.erfinv(ours), torch.erfinv(theirs)
    # float64: PyTorch's kernel is within one ulp and ours within three
    tol = 4 * np.finfo(np.float64).eps if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(zo.detach().numpy(), zt.detach().numpy(), rtol=tol, atol=0, equal_nan=True)
    number = ~np.isnan(zt.detach().numpy())  # (a NaN's sign is no value's)
    assert np.array_equal(np.signbit(zo.detach().numpy()[number]), np.signbit(zt.detach().numpy()[number]))
    zo.sum().backward()
    zt.sum().backward()
    # the slope e^(z^2) sqrt(pi) / 2 multiplies z's relative error by 2 z^2 (128 at the last tail)
    gtol = 1e-13 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=gtol, atol=0, equal_nan=True)


def test_erfinv_keeps_shapes_and_layouts():
    assert erfinv_array(np.array(0.3)).shape == ()
    assert erfinv_array(np.zeros((2, 0))).shape == (2, 0)
    x = np.linspace(-0.9, 0.9, 12).reshape(3, 4)
    np.testing.assert_array_equal(erfinv_array(x.T), erfinv_array(x).T)


# ------------------------------------------------------------------ add.at through flat positions
def _keys(rng):
    i, j = rng.integers(-5, 5, 300), rng.integers(0, 7, 300)
    return [
        ((5, 7), (i, j)),
        ((5, 7), (i,)),
        ((5, 7, 3), (i[:, None], j[None, :20])),
        ((5, 7, 3), (slice(None), j)),
        ((5, 7, 3), (slice(1, None, 2), j, slice(None))),
        ((5, 7, 3), (slice(None, None, -2), j, np.array(-1))),
        ((5, 7, 3), (Ellipsis, rng.integers(0, 3, 50))),
        ((5, 7, 3), (rng.random((5, 7)) < 0.5,)),
        ((5, 7, 3), (slice(None), rng.random((7, 3)) < 0.5)),
        ((4,), (rng.integers(0, 4, (2, 3)),)),
        ((0, 3), (np.zeros(0, np.int64),)),
        ((5, 7, 3), (i, slice(None), rng.integers(0, 3, 300))),  # split by a slice: add.at's own
        ((5, 7, 3), (None, i, Ellipsis)),
    ]


@pytest.mark.parametrize("case", range(13))
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64], ids=["f64", "f32", "i64"])
def test_add_at_is_add_at_bit_for_bit(monkeypatch, case, dtype):
    """Repeated places are summed in add.at's order: the same rounding, whatever the key."""
    monkeypatch.setattr(gp, "_AT_LEAST", 0)  # the positions even for small keys
    shape, key = _keys(np.random.default_rng(case))[case]
    target = np.zeros(shape)[key].shape
    values = (np.random.default_rng(9).standard_normal(target) * 100).astype(dtype)
    ref, ours = np.zeros(shape, dtype), np.zeros(shape, dtype)
    np.add.at(ref, key, values)
    gp.add_at(ours, key, values)
    assert np.array_equal(ref.reshape(-1).view(np.uint8), ours.reshape(-1).view(np.uint8))
    pos = gp.key_positions(key, shape)
    assert pos is None or pos.shape == target


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_index_put_accumulate_matches_torch(torch, dtype):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((40, 64)).astype(dtype)
    i, j = rng.integers(-40, 40, 5000), rng.integers(0, 64, 5000)
    v = rng.standard_normal(5000).astype(dtype)
    res = []
    for lib in (gg, torch):
        x, s = lib.tensor(a, requires_grad=True), lib.tensor(v, requires_grad=True)
        out = x.index_put((lib.tensor(i), lib.tensor(j)), s, accumulate=True)
        (out * lib.tensor(a)).sum().backward()
        res.append((out.detach().numpy(), x.grad.numpy(), s.grad.numpy()))
    for o, t in zip(*res):
        _close(o, t, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("form", ["take 1-d", "take 2-d", "getitem dim 1", "getitem two", "index_select 1"])
def test_advanced_reads_and_their_gradients_match_torch(torch, form, dtype):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((16, 64, 8)).astype(dtype)
    flat = rng.integers(-a.size, a.size, 6000)
    flat2 = rng.integers(0, a.size, (60, 70))
    cols, rows = rng.integers(-64, 64, 3000), rng.integers(0, 16, 3000)
    ops = {
        "take 1-d": lambda lib, x: lib.take(x, lib.tensor(flat)),
        "take 2-d": lambda lib, x: lib.take(x, lib.tensor(flat2)),
        "getitem dim 1": lambda lib, x: x[:, lib.tensor(cols)],
        "getitem two": lambda lib, x: x[lib.tensor(rows), lib.tensor(cols)],
        "index_select 1": lambda lib, x: lib.index_select(x, 1, lib.tensor(cols % 64)),
    }
    res, w = [], None
    for lib in (gg, torch):
        x = lib.tensor(a, requires_grad=True)
        out = ops[form](lib, x)
        w = rng.standard_normal(tuple(out.shape)).astype(dtype) if w is None else w
        (out * lib.tensor(w)).sum().backward()
        res.append((out.detach().numpy(), x.grad.numpy()))
        assert out.is_contiguous()
    for o, t in zip(*res):
        _close(o, t, dtype)


def test_index_select_past_dim_0_keeps_the_out_of_range_error():
    with pytest.raises(IndexError, match="fits shape"):
        gg.zeros(4, 5)[:, gg.tensor([5])]


# ------------------------------------------------------------------ cdist and pdist
def _cdist_pair(torch, x, y, dtype, **kw):
    res = []
    w = np.random.default_rng(5).standard_normal((*x.shape[:-1], y.shape[-2])).astype(dtype)
    for lib in (gg, torch):
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
        out = lib.cdist(a, b, **kw)
        (out * lib.tensor(w)).sum().backward()
        res.append((out.detach().numpy(), a.grad.numpy(), b.grad.numpy()))
    return res


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize(
    ("p_rows", "r_rows", "mode"),
    [(30, 20, None), (20, 26, None), (20, 20, None), (8, 7, "use_mm_for_euclid_dist"),
     (40, 40, "donot_use_mm_for_euclid_dist"), (26, 3, "use_mm_for_euclid_dist_if_necessary")],
)  # fmt: skip
def test_cdist_p2_values_and_gradients_match_torch(torch, dtype, p_rows, r_rows, mode):
    rng = np.random.default_rng(p_rows + r_rows)
    x = rng.standard_normal((3, p_rows, 6)).astype(dtype)
    y = rng.standard_normal((r_rows, 6)).astype(dtype)  # batch dims broadcast
    kw = {} if mode is None else {"compute_mode": mode}
    ours, theirs = _cdist_pair(torch, x, y, dtype, **kw)
    tol = 1e-12 if dtype == np.float64 else 2e-5
    for o, t in zip(ours, theirs):
        _close(o, t, dtype, tol)


@pytest.mark.parametrize("mode", [None, "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"])
def test_cdist_takes_the_matrix_product_where_torch_does(torch, mode):
    """The mm form rounds a far-from-origin pair's tiny distance away; the differences keep it."""
    x = np.array([[1e8, 0.0], [1e8, 1e-3]] + [[float(k), 0.0] for k in range(30)])
    kw = {} if mode is None else {"compute_mode": mode}
    for rows in (2, 32):  # PyTorch's default takes the matrix product past 25 rows
        ours = gg.cdist(gg.tensor(x[:rows]), gg.tensor(x[:rows]), **kw).numpy()[0, 1]
        theirs = torch.cdist(torch.tensor(x[:rows]), torch.tensor(x[:rows]), **kw).numpy()[0, 1]
        assert (ours == 1e-3) == (theirs == 1e-3), (rows, ours, theirs)
        assert abs(ours - theirs) <= 1e-9


def test_cdist_mm_gradient_is_zero_at_zero_distance(torch):
    x = np.random.default_rng(3).standard_normal((30, 4))
    for lib in (gg, torch):
        a = lib.tensor(x, requires_grad=True)
        out = lib.cdist(a, lib.tensor(np.zeros((1, 4))), compute_mode="use_mm_for_euclid_dist")
        (out.sum() + lib.cdist(a[:1] * 0, a[:1] * 0, compute_mode="use_mm_for_euclid_dist").sum()).backward()
        assert np.isfinite(a.grad.numpy()).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("p", [2.0, 1.0, math.inf, 0.5, 3.0, 0.0])
def test_pdist_values_and_gradients_match_torch(torch, dtype, p):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((30, 5)).astype(dtype)
    x[3] = x[1]  # a zero distance: its gradient is 0
    w = rng.standard_normal(30 * 29 // 2).astype(dtype)
    res = []
    for lib in (gg, torch):
        a = lib.tensor(x, requires_grad=True)
        out = lib.nn.functional.pdist(a, p)
        (out * lib.tensor(w)).sum().backward()
        res.append((out.detach().numpy(), a.grad.numpy()))
    for o, t in zip(*res):
        _close(o, t, dtype, 1e-11 if dtype == np.float64 else 2e-5)


# ------------------------------------------------------------------ cummax / cummin
@pytest.mark.parametrize("op", ["cummax", "cummin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("transposed", [False, True], ids=["contiguous", "transposed"])
def test_cumulative_extremes_read_their_values_through_positions(torch, op, dim, transposed):
    """Ties move the index to the later one, a NaN stays; values, indices and gradients."""
    rng = np.random.default_rng(7)
    x = rng.integers(0, 4, (9, 8)).astype(np.float64)  # many ties
    x[4, 2], x[1, 6] = math.nan, -0.0
    w = rng.standard_normal((9, 8))
    res = []
    for lib in (gg, torch):
        a = lib.tensor(x.T.copy(), requires_grad=True) if transposed else lib.tensor(x, requires_grad=True)
        v = a.t() if transposed else a
        out = getattr(lib, op)(v, dim)
        (out.values.nan_to_num() * lib.tensor(w)).sum().backward()
        assert out.values.is_contiguous()
        res.append((out.values.detach().numpy(), out.indices.numpy(), a.grad.numpy()))
    (vo, io, go), (vt, it, gt) = res
    assert np.array_equal(vo, vt, equal_nan=True) and np.array_equal(np.signbit(vo), np.signbit(vt))
    assert np.array_equal(io, it)
    _close(go, gt, np.float64)


@pytest.mark.parametrize(
    "arr",
    [np.arange(63).reshape(7, 9) % 5, (np.arange(63).reshape(7, 9) % 3) == 1, np.zeros((0, 4)), np.zeros((4, 0)),
     (np.arange(10000) * 7919 % 50).reshape(2, 5000).astype(np.float32), np.ones((3, 1))],
    ids=["int64", "bool", "empty-0", "empty-1", "long-axis", "one"],
)  # fmt: skip
def test_cumulative_extremes_of_other_dtypes_and_sizes_match_torch(torch, arr):
    for dim in range(arr.ndim):
        for op in ("cummax", "cummin"):
            ours, theirs = getattr(gg, op)(gg.tensor(arr), dim), getattr(torch, op)(torch.tensor(arr), dim)
            assert np.array_equal(ours.values.numpy(), theirs.values.numpy())
            assert np.array_equal(ours.indices.numpy(), theirs.indices.numpy())
            assert ours.values.numpy().dtype == theirs.values.numpy().dtype
