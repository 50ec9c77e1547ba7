"""Round 62, scientific and forecasting models: neuraloperator/neuraloperator (93d3f063),
microsoft/aurora (7fa85ff) and unit8co/darts (2be8e43fb).

neuraloperator's FNO/UNO (1-3 D, real and complex data) and Aurora agreed with PyTorch in float64.
darts' DLinear stopped in its series decomposition: a moving average over a permuted ``(N, L, C)``
batch (``AvgPool1d`` on ``x.permute(0, 2, 1)``, permuted back) and then ``trend.view(batch, -1)``.
PyTorch runs 1-D pooling through its 2-D kernel on ``input.unsqueeze(-2)``, which answers
channels-last for an input whose channel stride is 1, so the permuted-back result is contiguous
and ``view`` works; glassgrad's was not (ShapeError). The tests are fresh programs of that pattern.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

_R = np.random.default_rng(62)


def _both(torch, a, requires_grad=False):
    return (
        torch.tensor(a, requires_grad=requires_grad),
        gg.tensor(a, requires_grad=requires_grad),
    )


def _decomp(lib, x, k):
    """DLinear's moving-average decomposition of ``(N, L, C)``: edge-padded, pooled over L."""
    front = x[:, 0:1, :].repeat(1, (k - 1) // 2, 1)
    end = x[:, -1:, :].repeat(1, (k - 1) // 2, 1)
    trend = lib.nn.AvgPool1d(k, stride=1)(lib.cat([front, x, end], 1).permute(0, 2, 1)).permute(0, 2, 1)
    return x - trend, trend


def test_dlinear_decomposition_views_the_pooled_trend(torch):
    a = _R.standard_normal((4, 8, 5))
    (xt, xg) = _both(torch, a, requires_grad=True)
    wt = torch.tensor(_R.standard_normal((3, 40)))
    wg = gg.tensor(wt.numpy())
    outs = []
    for lib, x, w in ((torch, xt, wt), (gg, xg, wg)):
        res, trend = _decomp(lib, x, 5)
        y = res.view(4, -1) @ w.T + trend.view(4, -1) @ w.T
        y.square().sum().backward()
        outs.append((y.detach().numpy(), x.grad.numpy(), tuple(trend.stride()), trend.is_contiguous()))
    np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=1e-13, atol=1e-13)
    assert outs[1][2:] == outs[0][2:]


_POOLS = {
    "avg": lambda F, x: F.avg_pool1d(x, 3, 1),
    "avg_s2_pad": lambda F, x: F.avg_pool1d(x, 2, padding=1, count_include_pad=False),
    "max": lambda F, x: F.max_pool1d(x, 3, 1),
    "max_idx": lambda F, x: F.max_pool1d(x, 2, return_indices=True),
    "lp": lambda F, x: F.lp_pool1d(x, 2, 3),
}
# N == 1 or C == 1 are left out: there PyTorch's channels-last guess reads the strides of size-1
# dims, and glassgrad's unsqueeze gives those dims other strides than PyTorch's (not fixed yet)
_SHAPES = {"N_L_C": (2, 7, 3), "long": (3, 11, 4), "unbatched": (7, 3)}


@pytest.mark.parametrize("grad", [False, True], ids=["nograd", "grad"])
@pytest.mark.parametrize("shape", list(_SHAPES), ids=list(_SHAPES))
@pytest.mark.parametrize("pool", list(_POOLS), ids=list(_POOLS))
def test_1d_pooling_of_a_permuted_input_keeps_pytorchs_layout(torch, pool, shape, grad):
    a = _R.standard_normal(_SHAPES[shape])
    got = []
    for lib in (torch, gg):
        x = lib.tensor(a, requires_grad=grad)
        xp = x.transpose(-1, -2)  # channel stride 1
        out = _POOLS[pool](lib.nn.functional, xp)
        outs = out if isinstance(out, tuple) else (out,)
        got.append([(o.detach().numpy().copy(), tuple(o.stride())) for o in outs])
        if grad:
            outs[0].sum().backward()
            got[-1].append((x.grad.numpy(), ()))
    for (vt, st), (vg, sg) in zip(got[0], got[1]):
        np.testing.assert_allclose(vg, vt, rtol=1e-14, atol=1e-14)
        assert sg == st


def test_1d_pooling_of_a_contiguous_input_stays_contiguous():
    x = gg.randn(2, 3, 7, requires_grad=True)
    for out in (gg.nn.functional.avg_pool1d(x, 3, 1), gg.nn.functional.max_pool1d(x, 3, 1)):
        assert out.is_contiguous()
        assert type(out.grad_fn).__name__ == "SqueezeBackward1"
