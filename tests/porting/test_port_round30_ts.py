"""Porting round 30, time series and tabular (Informer2020, Autoformer, LTSF-Linear, rtdl):
distilled repros of what the ported programs needed."""

from __future__ import annotations

import numpy as np

import glassgrad as gg


def _bin_edges(module, x, n_bins):
    """rtdl's ``compute_quantile_bin_edges`` (rtdl/data.py) on a tensor: per column, the unique
    quantiles at ``linspace(0, 1, n_bins + 1)``, sorted."""
    edges = []
    for column in x.T:
        quantiles = module.linspace(0.0, 1.0, n_bins + 1)
        edges.append(module.sort(module.unique(module.quantile(column, quantiles))).values)
    return edges


def test_rtdl_quantile_bin_edges_match_pytorch(torch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 3)).astype(np.float32)
    x[:, 2] = np.round(x[:, 2])  # few distinct values: repeated quantiles collapse
    got, want = _bin_edges(gg, gg.tensor(x), 8), _bin_edges(torch, torch.tensor(x), 8)
    assert [tuple(e.shape) for e in got] == [tuple(e.shape) for e in want]
    for g, w in zip(got, want, strict=True):
        assert g.dtype == gg.float32
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-6, atol=1e-7)


def test_quantile_along_time_keeps_q_first(torch):
    """A forecasting metric's quantiles over the time dim of (batch, time, channels)."""
    rng = np.random.default_rng(1)
    y = rng.standard_normal((2, 24, 3))
    q = np.array([0.1, 0.5, 0.9])
    got = gg.tensor(y).quantile(gg.tensor(q), dim=1, keepdim=True)
    want = torch.tensor(y).quantile(torch.tensor(q), dim=1, keepdim=True)
    assert tuple(got.shape) == tuple(want.shape) == (3, 2, 1, 3)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=0, atol=1e-12)
