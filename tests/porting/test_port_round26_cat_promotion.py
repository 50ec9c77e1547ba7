"""cat/stack of two float dtypes promote as PyTorch's (DINO's MultiCropWrapper joins float64 rows
onto an empty float32 ``torch.empty(0)`` accumulator, porting round 26): the wider dtype, each
input's gradient back in its own dtype."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


@pytest.mark.parametrize(
    ("op", "dtypes"),
    [
        ("cat", ("float32", "float64")),
        ("cat", ("float16", "float32", "float16")),
        ("stack", ("float64", "float32")),
    ],
)
def test_float_dtypes_promote_with_gradients_in_their_own_dtype(torch, op, dtypes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((2, 3)).astype(d) for d in dtypes]
    outs = []
    for lib in (gg, torch):
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        y = getattr(lib, op)(xs)
        (y * y).sum().backward()
        outs.append((str(y.dtype).split(".")[-1], [str(x.grad.dtype).split(".")[-1] for x in xs], y, xs))
    (gd, ggrad, gy, gxs), (td, tgrad, ty, txs) = outs
    assert (gd, ggrad) == (td, tgrad)
    np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy(), rtol=1e-3)
    for gx, tx in zip(gxs, txs):
        np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-3)


def test_an_empty_float32_accumulator_takes_float64_rows(torch):
    rows = np.ones((2, 3))
    for lib in (gg, torch):
        out = lib.cat((lib.empty(0), lib.tensor(rows)))
        assert str(out.dtype).endswith("float64") and tuple(out.shape) == (2, 3)
