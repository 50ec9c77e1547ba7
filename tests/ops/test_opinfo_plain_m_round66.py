"""Round 66, PyTorch's OpInfo database (the plain ops m-z and the reductions) run against glassgrad.

Found and pinned here: ``tensordot`` with a contracted dim of size 1 on one side and n on the
other raised a ShapeError; PyTorch broadcasts it (the other side is summed over that dim first),
as its OpInfo sample ``(1, 1, 1) x (2, 1, 2), dims=([0, 1], [2, 0])`` does.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import ShapeError

_BROADCAST_CASES = [
    ((1, 1, 1), (2, 1, 2), ([0, 1], [2, 0])),
    ((2, 3), (3, 1), ([0], [1])),
    ((1, 4), (3, 4), ([0, 1], [0, 1])),
    ((2, 1, 3), (5, 4, 3), ([1, 2], [1, 2])),
]


@pytest.mark.parametrize(("sa", "sb", "dims"), _BROADCAST_CASES)
def test_tensordot_broadcasts_a_size_one_contracted_dim_as_torch(torch, sa, sb, dims):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    cot = None
    grads = {}
    for lib in (torch, gg):
        x = lib.tensor(a, requires_grad=True)
        y = lib.tensor(b, requires_grad=True)
        out = lib.tensordot(x, y, dims)
        if cot is None:
            cot = rng.standard_normal(tuple(out.shape))
        out.backward(lib.tensor(cot))
        grads[lib] = (out.detach().numpy(), x.grad.numpy(), y.grad.numpy())
    for t, g in zip(grads[torch], grads[gg]):
        assert t.shape == g.shape
        np.testing.assert_allclose(g, t, rtol=1e-12, atol=1e-12)


def test_tensordot_integer_broadcast_keeps_the_dtype(torch):
    a = np.arange(3).reshape(1, 3)
    b = np.arange(6).reshape(2, 3)
    t = torch.tensordot(torch.tensor(a), torch.tensor(b), ([0, 1], [0, 1]))
    g = gg.tensordot(gg.tensor(a), gg.tensor(b), ([0, 1], [0, 1]))
    assert str(g.dtype).split(".")[1] == str(t.dtype).split(".")[1]
    np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_tensordot_still_refuses_unequal_contracted_dims(torch):
    for lib, err in ((torch, RuntimeError), (gg, ShapeError)):
        with pytest.raises(err, match="contracted dim"):
            lib.tensordot(lib.ones(2, 3), lib.ones(4, 3), ([0], [0]))


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64"])
def test_unravel_index_of_a_narrow_integer_dtype_as_torch(torch, dtype):
    # the OpInfo samples: a uint8 255 in a (6, 7, 8, 9) grid, int32 indices in a 2**32-element one
    for values, shape in (([100], (6, 7, 8, 9)), ([[3, 8, 13], [0, 5, 10]], (4, 1073741824))):
        t = torch.unravel_index(torch.tensor(values, dtype=getattr(torch, dtype)), shape)
        g = gg.unravel_index(gg.tensor(values, dtype=getattr(gg, dtype)), shape)
        assert len(g) == len(t)
        for a, b in zip(t, g):
            assert str(b.dtype).split(".")[1] == str(a.dtype).split(".")[1]
            np.testing.assert_array_equal(b.numpy(), a.numpy())


_SCATTERS = [
    ("select_scatter", (3, 4), (4,), (0, 1)),
    ("slice_scatter", (5, 4), (5, 2), (1, 1, 4, 2)),
    ("diagonal_scatter", (3, 4), (3,), (1, 0, 1)),
    ("as_strided_scatter", (3, 4), (2, 2), ((2, 2), (1, 4), 1)),
]


@pytest.mark.parametrize(("name", "shape", "src_shape", "args"), _SCATTERS)
@pytest.mark.parametrize("dual", ["input", "src", "both"])
def test_view_scatters_under_forward_ad_as_torch(torch, name, shape, src_shape, args, dual):
    # they were an in-place copy into a view of a clone, which forward AD refused to follow
    rng = np.random.default_rng(1)
    x, s = rng.standard_normal(shape), rng.standard_normal(src_shape)
    tx, ts = rng.standard_normal(shape), rng.standard_normal(src_shape)
    res = {}
    for lib in (torch, gg):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            a, b = lib.tensor(x), lib.tensor(s)
            if dual in ("input", "both"):
                a = fw.make_dual(a, lib.tensor(tx))
            if dual in ("src", "both"):
                b = fw.make_dual(b, lib.tensor(ts))
            primal, tangent = fw.unpack_dual(getattr(lib, name)(a, b, *args))
            res[lib] = (primal.numpy().copy(), tangent.numpy().copy())
    for t, g in zip(res[torch], res[gg]):
        np.testing.assert_allclose(g, t, rtol=1e-12, atol=1e-12)
