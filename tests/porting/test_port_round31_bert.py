"""Round 31, BERT-pytorch and two Transformer translations: distilled repros.

codertimo/BERT-pytorch normalises with its own LayerNorm, ``a_2 * (x - mean) / (x.std(-1) + eps)``,
and hyunwoongko/transformer with ``x.var(-1, unbiased=False)``. PyTorch's CPU var/std accumulate a
float32 input in float64 and round once; glassgrad's float32 sum of squares used to land an ulp off
that in about half the rows, so float32 runs drifted from the first LayerNorm on.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _rows(seed: int = 0) -> np.ndarray:
    rs = np.random.RandomState(seed)
    return (rs.randn(6, 9, 48) * 3 + 1).astype(np.float32)


def test_float32_var_is_the_once_rounded_value():
    x = gg.tensor([1.0, 2.0, 4.0])  # var (population) = 14/9 exactly
    assert x.var(-1, unbiased=False).item() == float(np.float32(14 / 9))
    assert x.std(-1).item() == float(np.float32(np.sqrt(7 / 3)))


@pytest.mark.parametrize("dim", [-1, 0, (0, 2), None])
def test_float32_std_var_bitwise_as_torch(torch, dim):
    x = _rows()
    g, t = gg.tensor(x), torch.tensor(x)
    kw = {} if dim is None else {"dim": dim, "keepdim": True}
    np.testing.assert_array_equal(g.std(**kw).numpy(), t.std(**kw).numpy())
    np.testing.assert_array_equal(g.var(unbiased=False, **kw).numpy(), t.var(unbiased=False, **kw).numpy())
    gv, gm = gg.var_mean(g, **kw)
    tv, _ = torch.var_mean(t, **kw)
    np.testing.assert_array_equal(gv.numpy(), tv.numpy())
    assert gv.dtype == gg.float32 and gm.dtype == gg.float32


def test_bert_layernorm_float32_as_torch(torch):
    """The program's LayerNorm, forward and backward, in float32 from the same input."""
    x = _rows(1)
    a, b = np.linspace(0.5, 1.5, 48, dtype=np.float32), np.linspace(-0.1, 0.1, 48, dtype=np.float32)

    def run(lib):
        xt = lib.tensor(x, requires_grad=True)
        mean, std = xt.mean(-1, keepdim=True), xt.std(-1, keepdim=True)
        y = lib.tensor(a) * (xt - mean) / (std + 1e-6) + lib.tensor(b)
        (y * y).sum().backward()
        return std.detach().numpy(), y.detach().numpy(), xt.grad.numpy()

    (gs, gy, gx), (ts, ty, tx) = run(gg), run(torch)
    np.testing.assert_array_equal(gs, ts)
    np.testing.assert_allclose(gy, ty, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(gx, tx, rtol=1e-5, atol=1e-5)


def test_float16_and_float64_unchanged(torch):
    x = _rows(2)[:2, :3]
    for dt in ("float16", "float64"):
        g, t = gg.tensor(x).to(getattr(gg, dt)), torch.tensor(x).to(getattr(torch, dt))
        assert g.std(-1).dtype == getattr(gg, dt)
        np.testing.assert_allclose(
            g.std(-1).numpy().astype(np.float64),
            t.std(-1).numpy().astype(np.float64),
            rtol=1e-3 if dt == "float16" else 1e-15,
        )
