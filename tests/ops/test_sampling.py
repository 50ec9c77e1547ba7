"""ops/sampling.py: PyTorch parity for nonzero and one_hot; multinomial's reproducibility and
statistics."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.ops import sampling as S


# ------------------------------------------------------------------ nonzero / one_hot
def test_nonzero_parity(torch):
    a = np.array([[0, 1, 0], [2, 0, 3]])
    np.testing.assert_array_equal(gg.tensor(a).nonzero()._data, torch.tensor(a).nonzero().numpy())
    assert gg.tensor(a).nonzero().dtype == gg.int64
    assert gg.tensor(np.zeros((0, 3))).nonzero().shape == (0, 2)
    rows, cols = S.nonzero(gg.tensor(a), as_tuple=True)
    np.testing.assert_array_equal(rows._data, [0, 1, 1])
    np.testing.assert_array_equal(cols._data, [1, 0, 2])


def test_one_hot_parity_and_errors(torch):
    idx = np.array([[0, 3], [1, 1]])
    got = S.one_hot(gg.tensor(idx))
    want = torch.nn.functional.one_hot(torch.tensor(idx))
    np.testing.assert_array_equal(got._data, want.numpy())
    assert got.dtype == gg.int64
    np.testing.assert_array_equal(
        S.one_hot(gg.tensor(idx), 6)._data, torch.nn.functional.one_hot(torch.tensor(idx), 6)
    )
    with pytest.raises(IndexError, match="one_hot: expected indices in"):
        S.one_hot(gg.tensor([0, 4]), 3)
    with pytest.raises(DTypeError, match="one_hot: expected an integer index"):
        S.one_hot(gg.tensor([0.0]))


# ------------------------------------------------------------------ multinomial
P = np.array([0.1, 0.2, 0.0, 0.3, 0.4])


def test_multinomial_is_reproducible_under_manual_seed_and_generators():
    probs = gg.tensor(P)
    gg.manual_seed(7)
    a = probs.multinomial(50, replacement=True)
    gg.manual_seed(7)
    b = probs.multinomial(50, replacement=True)
    c = probs.multinomial(50, replacement=True)
    np.testing.assert_array_equal(a._data, b._data)
    assert not np.array_equal(b._data, c._data)
    g1, g2 = gg.Generator(3), gg.Generator(3)
    np.testing.assert_array_equal(
        S.multinomial(probs, 4, generator=g1)._data, S.multinomial(probs, 4, generator=g2)._data
    )
    assert a.dtype == gg.int64 and a.shape == (50,)


def _within_sigma(counts, p, n, k=5.0):
    sigma = np.sqrt(n * p * (1 - p)) + 1e-12
    return np.all(np.abs(counts - n * p) <= k * sigma)


def test_multinomial_with_replacement_frequencies():
    n = 40000
    draws = gg.tensor(P * 3.0).multinomial(n, replacement=True)._data  # unnormalised is fine
    counts = np.bincount(draws, minlength=5)
    assert counts[2] == 0  # zero probability never drawn
    assert _within_sigma(counts, P, n)
    rows = gg.tensor(np.array([[0.9, 0.1, 0.0], [0.0, 0.5, 0.5]], dtype=np.float32))
    d2 = rows.multinomial(20000, replacement=True)._data
    assert d2.shape == (2, 20000)
    assert _within_sigma(np.bincount(d2[0], minlength=3), np.array([0.9, 0.1, 0.0]), 20000)
    assert _within_sigma(np.bincount(d2[1], minlength=3), np.array([0.0, 0.5, 0.5]), 20000)


def test_multinomial_without_replacement_distinct_and_sequentially_distributed():
    rows = 20000
    probs = gg.tensor(np.tile(P, (rows, 1)))
    draws = probs.multinomial(3)._data
    assert draws.shape == (rows, 3)
    assert np.all(np.sort(draws, axis=1)[:, 1:] != np.sort(draws, axis=1)[:, :-1])  # distinct per row
    assert _within_sigma(np.bincount(draws[:, 0], minlength=5), P, rows)
    # the second draw: P(j) = sum_i p_i p_j / (1 - p_i), i != j
    second = np.array([sum(P[i] * P[j] / (1 - P[i]) for i in range(5) if i != j) for j in range(5)])
    assert _within_sigma(np.bincount(draws[:, 1], minlength=5), second, rows)
    everything = gg.tensor(P).multinomial(5)._data
    assert sorted(everything.tolist()) == [0, 1, 2, 3, 4] and everything[-1] == 2  # zero mass comes last


def test_multinomial_errors():
    with pytest.raises(ValueError, match="multinomial: expected non-negative finite probabilities"):
        gg.tensor([0.5, -0.1]).multinomial(1)
    with pytest.raises(ValueError, match="multinomial: expected non-negative finite probabilities"):
        gg.tensor([0.5, float("inf")]).multinomial(1)
    with pytest.raises(ValueError, match="positive sum"):
        gg.tensor([[0.5, 0.5], [0.0, 0.0]]).multinomial(1)
    with pytest.raises(
        ShapeError, match="multinomial: expected num_samples <= 2 categories without replacement, got 3"
    ):
        gg.tensor([0.5, 0.5]).multinomial(3)
    with pytest.raises(ShapeError, match="multinomial: expected probs with 1 or 2 dims"):
        gg.tensor(np.ones((2, 2, 2))).multinomial(1)
    with pytest.raises(DTypeError, match="multinomial: expected floating probs, got int64"):
        gg.tensor([1, 2]).multinomial(1)
    with pytest.raises(ShapeError, match="num_samples > 0"):
        gg.tensor([0.5, 0.5]).multinomial(0, replacement=True)


def test_nonzero_method_as_tuple_keyword(torch):
    # GAT layers call adj.nonzero(as_tuple=False) (uvadlc tutorial 7); keyword-only as in PyTorch
    a = np.array([[0, 1, 0], [2, 0, 3]])
    for as_tuple in (False, True):
        g, t = gg.tensor(a).nonzero(as_tuple=as_tuple), torch.tensor(a).nonzero(as_tuple=as_tuple)
        if not as_tuple:
            np.testing.assert_array_equal(g.numpy(), t.numpy())
            continue
        assert isinstance(g, tuple) and len(g) == len(t) == 2
        for gi, ti in zip(g, t):
            np.testing.assert_array_equal(gi.numpy(), ti.numpy())
            assert gi.dtype == gg.int64
    with pytest.raises(TypeError):
        gg.tensor(a).nonzero(True)


@pytest.mark.parametrize("value", [5, 0])
def test_nonzero_as_tuple_of_a_scalar_counts_it_as_1d(torch, value):
    g = gg.nonzero(gg.tensor(value), as_tuple=True)
    t = torch.nonzero(torch.tensor(value), as_tuple=True)
    assert len(g) == len(t) == 1
    np.testing.assert_array_equal(g[0].numpy(), t[0].numpy())
    assert g[0].dtype == gg.int64
    assert gg.tensor(value).nonzero().shape == tuple(torch.tensor(value).nonzero().shape)


@pytest.mark.parametrize(
    "cond",
    [
        np.array([[True, False], [False, True]]),
        np.array([0, 1, 2]),
        np.array(True),
        np.zeros((2, 0, 3), bool),
    ],
)
def test_where_of_a_condition_alone_is_nonzero_as_tuple(torch, cond):
    # torch.where(orig != reconst) (uvadlc tutorial 11)
    g, t = gg.where(gg.tensor(cond)), torch.where(torch.tensor(cond))
    assert isinstance(g, tuple) and len(g) == len(t)
    for gi, ti in zip(g, t):
        np.testing.assert_array_equal(gi.numpy(), ti.numpy())
        assert gi.dtype == gg.int64


def test_where_with_two_arguments_is_a_type_error(torch):
    with pytest.raises(TypeError):
        torch.where(torch.tensor([True]), torch.tensor([1.0]))
    with pytest.raises(TypeError):
        gg.where(gg.tensor([True]), gg.tensor([1.0]))
    out = gg.where(gg.tensor([True, False]), gg.tensor([1.0, 2.0]), 0.0)  # the 3-argument form unchanged
    np.testing.assert_array_equal(out.numpy(), [1.0, 0.0])
