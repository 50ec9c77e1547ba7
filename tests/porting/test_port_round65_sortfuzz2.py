"""Round 65's differential fuzz of the ordering ops (sort, topk, kthvalue, median, quantile,
unique, searchsorted, histograms ...) over ties, NaN, +-inf, -0.0, integers, bool and empty or
size-1 dims, against PyTorch 2.13:

- ``unique_consecutive(x, dim=d)`` raised NumPy's reshape error when ``x`` had one slice along
  ``d`` (a batch of one); ``unique``/``unique_consecutive`` with a dim ran where PyTorch refuses
  (a 0-d input: IndexError; a zero-sized dim other than ``d``: RuntimeError);
- ``nanquantile`` with a tensor ``q``: at ``q = 0`` an all-NaN slice sends NaN to ``q``'s gradient
  in PyTorch (its ``masked_fill(ranks < 0, 0)`` keeps the rank -0.0); glassgrad cut it;
- ``searchsorted(sorter=)`` took an int32, short or out-of-range ``sorter`` (a negative index
  searched another sequence silently); ``side`` errors were ValueError, not RuntimeError;
- ``median``/``nanmedian``/``kthvalue`` of a bool tensor empty along ``dim`` raised the dtype
  error where PyTorch's emptiness check comes first (IndexError).
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

NAN = float("nan")


def _libs(torch):
    return [("torch", torch), ("glassgrad", gg)]


def _np(t):
    return None if t is None else t.detach().numpy()


def _same(want, have):
    assert want.dtype == have.dtype and want.shape == have.shape
    np.testing.assert_allclose(have, want, rtol=1e-12, atol=1e-15, equal_nan=True)


# ---- unique_consecutive / unique along a dim ----------------------------------------------------


@pytest.mark.parametrize(
    "shape, dim",
    [
        ((1, 4), 0),
        ((4, 1), 1),
        ((1,), 0),
        ((1, 1), -1),
        ((2, 1, 3), 1),
        ((3, 0), 1),
        ((0, 3), 0),
        ((2, 0, 3), 1),
    ],
    ids=["1x4-d0", "4x1-d1", "1-d0", "1x1-d-1", "2x1x3-d1", "3x0-d1", "0x3-d0", "2x0x3-d1"],
)
@pytest.mark.parametrize("op", ["unique_consecutive", "unique"])
def test_unique_along_a_dim_of_one_or_no_slices(torch, op, shape, dim):
    x_np = np.arange(float(np.prod(shape))).reshape(shape) % 2  # repeated values where there are any
    got = {}
    for name, lib in _libs(torch):
        out = getattr(lib, op)(lib.tensor(x_np), dim=dim, return_inverse=True, return_counts=True)
        got[name] = [_np(t) for t in out]
    for want, have in zip(got["torch"], got["glassgrad"]):
        _same(want, have)


def test_unique_consecutive_collapses_runs_of_equal_rows(torch):
    # the pattern of a grouped batch (DINO's crops by resolution): runs of equal rows, one row alone last
    x_np = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 2.0], [1.0, 2.0]])
    got = {}
    for name, lib in _libs(torch):
        out = lib.unique_consecutive(lib.tensor(x_np), dim=0, return_inverse=True, return_counts=True)
        got[name] = [_np(t) for t in out]
    for want, have in zip(got["torch"], got["glassgrad"]):
        _same(want, have)


@pytest.mark.parametrize(
    "shape, dim",
    [((), 0), ((), -1), ((3, 0), 0), ((2, 0, 3), 2), ((0, 0), 0)],
    ids=["0d", "0d-neg", "3x0-d0", "2x0x3-d2", "0x0"],
)
@pytest.mark.parametrize("op", ["unique_consecutive", "unique"])
def test_unique_along_a_dim_refuses_as_pytorch(torch, op, shape, dim):
    x_np = np.zeros(shape)
    with pytest.raises(Exception) as want:
        getattr(torch, op)(torch.tensor(x_np), dim=dim)
    with pytest.raises(type(want.value)):
        getattr(gg, op)(gg.tensor(x_np), dim=dim)


def test_unique_along_dim_0_of_a_1d_tensor_keeps_each_nan_apart(torch):
    # PyTorch's order with NaN is unspecified there, but NaN != NaN: as many NaN as in the input
    x_np = np.array([1.0, NAN, 1.0, NAN, 2.0])
    values, counts = gg.unique(gg.tensor(x_np), dim=0, return_counts=True)
    want = torch.unique(torch.tensor(x_np), dim=0)
    assert int(np.isnan(_np(values)).sum()) == int(torch.isnan(want).sum()) == 2
    assert _np(counts).sum() == 5


# ---- nanquantile: q's gradient from an all-NaN slice --------------------------------------------


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_nanquantile_gradients_with_an_all_nan_slice(torch, interpolation):
    x_np = np.array([[0.0, -1.0, np.inf, -1.0, 2.0], [NAN] * 5, [2.0, NAN, -1.0, -2.0, -2.0]])
    q_np = np.array([0.0, 0.1, 0.5, 0.75, 1.0])
    w_np = np.arange(15.0).reshape(5, 3) - 7.0
    got = {}
    for name, lib in _libs(torch):
        x = lib.tensor(x_np, requires_grad=True)
        q = lib.tensor(q_np, requires_grad=True)
        y = lib.nanquantile(x, q, dim=1, interpolation=interpolation)
        gx, gq = lib.autograd.grad((y * lib.tensor(w_np)).sum(), [x, q], allow_unused=True)
        got[name] = (_np(y), _np(gx), _np(gq))
    for want, have in zip(got["torch"], got["glassgrad"]):
        if want is None or have is None:  # no interpolation weight: q gets no gradient
            assert want is None and (have is None or not have.any())
        else:
            _same(want, have)
    if interpolation == "linear":  # the case that differed: NaN from the all-NaN slice at q = 0
        assert np.isnan(got["glassgrad"][2][0])


def test_quantile_and_nanquantile_gradients_to_q_without_nan(torch):
    x_np = np.array([[1.0, 3.0, 3.0, 0.0, 2.0, 3.0], [2.0, 2.0, -1.0, 5.0, 2.0, 0.0]])
    q_np = np.array([0.0, 0.3, 0.5, 1.0])
    got = {}
    for name, lib in _libs(torch):
        x = lib.tensor(x_np, requires_grad=True)
        q = lib.tensor(q_np, requires_grad=True)
        y = lib.quantile(x, q, dim=1, keepdim=True) + lib.nanquantile(x, q, dim=1, keepdim=True) ** 2
        gx, gq = lib.autograd.grad((y * lib.tensor(np.arange(8.0).reshape(4, 2, 1))).sum(), [x, q])
        got[name] = (_np(y), _np(gx), _np(gq))
    for want, have in zip(got["torch"], got["glassgrad"]):
        _same(want, have)


# ---- searchsorted: sorter and side checks -------------------------------------------------------


def _sorter_cases(lib):
    s, v = lib.tensor([1.0, 3.0, 2.0]), lib.tensor([2.0, 0.5, 3.0])
    return {
        "int32": lambda: lib.searchsorted(s, v, sorter=lib.tensor([0, 2, 1], dtype=lib.int32)),
        "float": lambda: lib.searchsorted(s, v, sorter=lib.tensor([0.0, 2.0, 1.0])),
        "short": lambda: lib.searchsorted(s, v, sorter=lib.tensor([0, 2])),
        "2d": lambda: lib.searchsorted(s, v, sorter=lib.tensor([[0, 2, 1]])),
        "past-end": lambda: lib.searchsorted(s, v, sorter=lib.tensor([0, 2, 3])),
        "negative": lambda: lib.searchsorted(s, v, sorter=lib.tensor([0, 2, -1])),
        "side": lambda: lib.searchsorted(s, v, side="middle"),
        "side-right": lambda: lib.searchsorted(s, v, right=True, side="left"),
    }


@pytest.mark.parametrize("case", list(_sorter_cases(gg)))
def test_searchsorted_refuses_a_bad_sorter_or_side_as_pytorch(torch, case):
    with pytest.raises(Exception) as want:
        _sorter_cases(torch)[case]()
    assert type(want.value) is RuntimeError
    with pytest.raises(RuntimeError):
        _sorter_cases(gg)[case]()


@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted_with_a_sorter_over_ties(torch, side):
    seq_np = np.array([[2.0, 0.0, 2.0, 1.0, NAN, 2.0], [5.0, -1.0, -1.0, 0.0, 5.0, 3.0]])
    order_np = np.argsort(seq_np, axis=-1, kind="stable")
    values_np = np.array([[2.0, 0.0, NAN, 3.0], [-1.0, 5.0, 4.0, -2.0]])
    got = {}
    for name, lib in _libs(torch):
        found = lib.searchsorted(
            lib.tensor(seq_np), lib.tensor(values_np), side=side, sorter=lib.tensor(order_np)
        )
        got[name] = _np(found)
    np.testing.assert_array_equal(got["glassgrad"], got["torch"])


# ---- median / kthvalue: emptiness before the dtype ----------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.median(x, 0),
        lambda lib, x: lib.nanmedian(x, -1),
        lambda lib, x: lib.kthvalue(x, 1, 0),
        lambda lib, x: lib.median(x.reshape(3, 0), 1),  # empty along the dim: IndexError
        lambda lib, x: lib.median(x.reshape(3, 0), 0),  # not empty along it: the dtype's error
        lambda lib, x: lib.kthvalue(x.reshape(3, 0), 1, 0),
    ],
    ids=["median", "nanmedian", "kthvalue", "median-2d-empty-dim", "median-2d-full-dim", "kthvalue-2d"],
)
def test_order_statistics_of_an_empty_bool_tensor_raise_as_pytorch(torch, call):
    with pytest.raises(Exception) as want:
        call(torch, torch.zeros(0, dtype=torch.bool))
    with pytest.raises(type(want.value)):
        call(gg, gg.zeros(0, dtype=gg.bool))


# ---- clamp of a bool tensor: PyTorch's kernels have no bool code --------------------------------


def _bool_clamps(lib):
    b, f, z = lib.tensor([True, False, True]), lib.tensor([False, True, False]), lib.zeros(3, dtype=lib.int64)
    return {
        "bool-tensor-bounds": lambda: lib.clamp(b, f, f),
        "method": lambda: b.clamp(f, f),
        "clip": lambda: lib.clip(b, min=f, max=f),
        "inplace": lambda: b.clone().clamp_(f, f),
        "0d-bound-and-bool": lambda: lib.clamp(b, f[0], True),
        "bool-numbers": lambda: lib.clamp(b, False, True),
        "bool-min": lambda: lib.clamp(b, min=False),
        "bool-max": lambda: b.clamp(max=True),
        "clamp_min-bool": lambda: lib.clamp_min(b, False),
        # these promote, or take one tensor bound (PyTorch's maximum/minimum), and run
        "int-bound": lambda: lib.clamp(b, f, z),
        "int-number": lambda: lib.clamp(b, min=0, max=True),
        "tensor-min-only": lambda: lib.clamp(b, min=f),
        "tensor-max-only": lambda: lib.clamp(b, max=f),
        "float-number": lambda: lib.clamp(b, min=0.5),
    }


@pytest.mark.parametrize("case", list(_bool_clamps(gg)))
def test_clamp_of_a_bool_tensor_as_pytorch(torch, case):
    try:
        want = _bool_clamps(torch)[case]()
    except NotImplementedError:
        with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
            _bool_clamps(gg)[case]()
        return
    have = _bool_clamps(gg)[case]()
    assert str(have.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(have.numpy(), want.numpy())
