"""Reflect / replicate / circular padding's backward: the padded positions and the unpadded middle
added as slabs in the order ``add.at`` (and PyTorch's loop) adds them, so the sums round alike."""

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.ops.padding import _scatter_add_along


@pytest.mark.parametrize("seed", range(40))
def test_slab_adds_equal_add_at_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    n_in = int(rng.integers(1, 12))
    if seed % 2:  # any sources at all: runs of one, repeats, gaps
        idx = rng.integers(0, n_in, int(rng.integers(0, 40)))
    else:  # a padded shape: a few sources, the middle run, a few more
        idx = np.r_[rng.integers(0, n_in, 3), np.arange(n_in), rng.integers(0, n_in, 2)]
    d = seed % 3
    shape = [2, 3, 4]
    shape[d] = idx.size
    g = rng.standard_normal(shape).astype(np.float32)
    out_shape = list(shape)
    out_shape[d] = n_in
    want = np.zeros(out_shape, np.float32)
    np.add.at(want, (slice(None),) * d + (idx,), g)
    got = np.zeros(out_shape, np.float32)
    _scatter_add_along(got, idx, g, d)
    assert np.array_equal(got, want)


def test_many_scattered_positions_take_add_at():
    idx = np.tile(np.arange(3), 20)  # 60 positions, the longest run 3: 57 outside it
    g = np.arange(60.0)
    got = np.zeros(3)
    _scatter_add_along(got, idx, g, 0)
    assert got.tolist() == [sum(range(0, 60, 3)), sum(range(1, 60, 3)), sum(range(2, 60, 3))]


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
@pytest.mark.parametrize("pads", [(2, 3, 1, 2), (3, 0, 0, 3), (-1, 2, 2, -2)])
def test_gradients_equal_pytorchs(torch, mode, pads):
    a = np.random.default_rng(5).standard_normal((2, 3, 9, 11)).astype(np.float32)
    x, tx = gg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, tout = gg.nn.functional.pad(x, pads, mode=mode), torch.nn.functional.pad(tx, pads, mode=mode)
    g = np.random.default_rng(6).standard_normal(tuple(tout.shape)).astype(np.float32)
    out.backward(gg.tensor(g))
    tout.backward(torch.tensor(g))
    # not bit for bit: a corner receives up to (pad + 1)^2 terms, which PyTorch adds in one
    # pass over the output and glassgrad dim by dim, so the sums group differently
    np.testing.assert_allclose(x.grad._data, tx.grad.numpy(), rtol=1e-6, atol=1e-6)
